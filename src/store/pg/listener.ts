// The LISTEN side of sql/pg/0023's NOTIFY: one dedicated pg.Client (never a pooled one: a pooled
// client goes back to the pool and LISTEN with it; PgBouncer in transaction mode breaks it too).
// Notifications sent while it is down are lost, so every (re)connect is itself a change ('any'):
// the scheduler then looks at the database instead of trusting it missed nothing.
import pg from 'pg';
import type { Change, WatchLog } from '../engine-watch.js';

export const CHANNEL = 'callbackd';

export interface ListenerOptions {
  reconnect?: { initialDelayMs: number; maxDelayMs: number };
  applicationName?: string;
  log?: WatchLog;
}

export class PgListener {
  private readonly handlers = new Set<(what: Change) => void>();
  private client: pg.Client | null = null;
  private connecting: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private delay: number;
  private closed = false;
  /** How many times LISTEN succeeded (1 = first connect). For tests and logs. */
  connects = 0;

  constructor(
    private readonly url: string,
    private readonly o: ListenerOptions = {},
  ) {
    this.delay = this.initialDelay;
  }

  private get initialDelay(): number {
    return this.o.reconnect?.initialDelayMs ?? 500;
  }

  /** Starts listening with the first handler; returns the function that removes this one. */
  add(onChange: (what: Change) => void): () => void {
    this.handlers.add(onChange);
    if (!this.client && !this.connecting && !this.timer && !this.closed) this.connecting = this.connect();
    return () => {
      this.handlers.delete(onChange);
    };
  }

  get listening(): boolean {
    return this.client !== null;
  }

  private fire(what: Change): void {
    for (const h of [...this.handlers]) {
      try {
        h(what);
      } catch (err) {
        this.o.log?.warn({ err: (err as Error).message }, 'PostgreSQL listener: a change handler threw');
      }
    }
  }

  private async connect(): Promise<void> {
    const c = new pg.Client({ connectionString: this.url, application_name: this.o.applicationName ?? 'callbackd listener', keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
    c.on('notification', (n) => {
      if (n.channel === CHANNEL) this.fire(n.payload === 'directory' ? 'directory' : 'events');
    });
    c.on('error', (err) => this.lost(c, err));
    c.on('end', () => this.lost(c));
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      this.connecting = null;
      await c.end().catch(() => undefined);
      this.retry(err as Error);
      return;
    }
    this.connecting = null;
    if (this.closed) {
      await c.end().catch(() => undefined);
      return;
    }
    this.client = c;
    this.delay = this.initialDelay;
    if (++this.connects > 1) this.o.log?.info?.({}, 'PostgreSQL listener: reconnected');
    this.fire('any');
  }

  private lost(c: pg.Client, err?: Error): void {
    if (this.client !== c) return;
    this.client = null;
    c.end().catch(() => undefined);
    this.retry(err ?? new Error('connection ended'));
  }

  private retry(err: Error): void {
    if (this.closed) return;
    this.o.log?.warn({ err: err.message, retryInMs: this.delay }, 'PostgreSQL listener: not listening; other daemons\' changes wait for the backstop poll');
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.closed) this.connecting = this.connect();
    }, this.delay);
    this.timer.unref();
    this.delay = Math.min(this.delay * 2, this.o.reconnect?.maxDelayMs ?? 15_000);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.connecting;
    const c = this.client;
    this.client = null;
    if (c) await c.end().catch(() => undefined);
  }
}
