import WebSocket from 'ws';
import { CallbackdError, ErrorCodes } from '../errors.js';
import type { Logger } from '../log.js';
import type { AriEvent } from './ari-events.js';
import { AsteriskLink } from './link.js';

// The ARI event socket: reconnects forever with capped backoff (link.ts), a wrong password is a
// reported error (authFailed), never an uncaught exception, and a dead socket is found by ping.

export interface AriSocketOptions {
  url: string;
  username: string;
  app: string;
  requestTimeoutMs: number;
  reconnect: { initialDelayMs: number; maxDelayMs: number };
  pingIntervalMs?: number;
  log: Logger;
}

/** Refusals with 404 tolerated while Asterisk starts (about 7 s with the default backoff: 0.5, 1, 2, 4 s) before it is logged as an error. */
const ARI_START_404_TRIES = 5;

export abstract class AriEventSocket extends AsteriskLink<AriEvent> {
  private ws: WebSocket | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private awaitingPong = false;

  constructor(private readonly so: AriSocketOptions, private readonly authHeader: string) {
    super(so.reconnect);
  }

  /** Called on every open, before 'connected' is emitted (the event filter is set here). */
  protected abstract opened(): void;

  stop(): void {
    this.stopped = true;
    this.retry.cancel();
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    this.ws?.removeAllListeners();
    this.ws?.on('error', () => {});
    this.ws?.terminate();
    this.ws = null;
    this.connected = false;
  }

  protected connect(): void {
    if (this.stopped) return;
    const u = new URL('/ari/events', this.so.url);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.searchParams.set('app', this.so.app);
    // Legs are originated into the hold dialplan, not into the app, so the app is not subscribed to
    // them from their creation; subscribing after the originate would miss a leg refused at once.
    u.searchParams.set('subscribeAll', 'true');
    const ws = new WebSocket(u, { headers: { Authorization: this.authHeader }, handshakeTimeout: this.so.requestTimeoutMs });
    this.ws = ws;
    let opened = false;
    let refused = false; // Asterisk answered with an HTTP error; already reported
    ws.on('open', () => {
      opened = true;
      if (this.retry.failures > 0 || this.reconnects > 0) this.so.log.info({ url: this.so.url }, 'ARI connected again');
      else this.so.log.info({ url: this.so.url, app: this.so.app }, 'ARI connected');
      this.retry.succeeded();
      this.connected = true;
      this.awaitingPong = false;
      this.pingTimer = setInterval(() => this.ping(), this.so.pingIntervalMs ?? 5000);
      this.opened();
      this.emit('connected');
    });
    ws.on('pong', () => (this.awaitingPong = false));
    ws.on('message', (data) => {
      let ev: AriEvent;
      try {
        ev = JSON.parse(data.toString()) as AriEvent;
      } catch {
        this.so.log.warn('ARI sent a message that is not JSON; ignored');
        return;
      }
      this.emit('event', ev);
    });
    ws.on('unexpected-response', (_req, res) => {
      refused = true;
      this.refusal(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', (err) => {
      if (this.stopped || refused) return; // our own shutdown, or a refusal already reported
      if (!opened) this.so.log.warn({ url: this.so.url, err: err.message, attempt: this.retry.failures + 1 }, 'ARI not reachable; will retry');
      else this.so.log.warn({ err: err.message }, 'ARI socket error');
    });
    ws.on('close', () => {
      if (this.pingTimer) clearInterval(this.pingTimer);
      this.pingTimer = null;
      const wasConnected = this.connected;
      this.connected = false;
      if (this.ws === ws) this.ws = null;
      if (wasConnected) {
        this.reconnects++;
        this.so.log.warn('ARI connection lost; reconnecting');
        this.emit('disconnected');
      }
      this.scheduleReconnect();
    });
  }

  /** Asterisk answered the socket's upgrade with an HTTP error. */
  private refusal(status: number): void {
    if (status === 401) {
      this.emit(
        'authFailed',
        new CallbackdError(
          ErrorCodes.ARI_AUTH,
          `ARI at ${this.so.url} rejected user "${this.so.username}" (HTTP 401): check ari.username and ari.password / CALLBACKD_ARI_PASSWORD against ari.conf`,
        ),
      );
    } else if (status === 503 || (status === 404 && this.retry.failures < ARI_START_404_TRIES)) {
      // Seen on Asterisk restarts: HTTP is up a moment before ARI is (503), or before res_ari has
      // registered its routes (404, seen on the lab now and then). Only a 404 that lasts is an admin's problem.
      this.so.log.warn({ status }, `ARI not ready yet (HTTP ${status} while Asterisk starts); will retry`);
    } else {
      this.so.log.error({ status }, `ARI event socket refused with HTTP ${status} (is the Stasis app name "${this.so.app}" valid and res_ari loaded?)`);
    }
  }

  private ping(): void {
    if (!this.ws) return;
    if (this.awaitingPong) {
      // No pong for a whole interval: the TCP connection is dead even if the kernel has not said so.
      this.so.log.warn('ARI did not answer a ping; dropping the connection');
      this.ws.terminate();
      return;
    }
    this.awaitingPong = true;
    try {
      this.ws.ping();
    } catch {
      this.ws.terminate();
    }
  }
}
