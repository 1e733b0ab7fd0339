import { EventEmitter } from 'node:events';
import type { CallbackdError } from '../errors.js';
import { Reconnector } from './backoff.js';

// What the ARI and AMI clients share: the events they emit and a connection that is started,
// lost and re-made forever with capped backoff. Each client only says how to connect.

export declare interface AsteriskLink<E> {
  on(event: 'event', l: (e: E) => void): this;
  on(event: 'connected' | 'disconnected', l: () => void): this;
  on(event: 'authFailed', l: (err: CallbackdError) => void): this;
}

export abstract class AsteriskLink<E> extends EventEmitter {
  protected readonly retry = new Reconnector(() => this.connect());
  protected stopped = false;
  connected = false;
  reconnects = 0;

  constructor(private readonly backoff: { initialDelayMs: number; maxDelayMs: number }) {
    super();
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Opens one connection; a loss calls scheduleReconnect(). */
  protected abstract connect(): void;

  protected scheduleReconnect(): void {
    if (!this.stopped) this.retry.schedule(this.backoff);
  }
}
