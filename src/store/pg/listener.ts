// The LISTEN side of sql/pg/0023's NOTIFY: one dedicated pg.Client (never a pooled one: a pooled
// client goes back to the pool and LISTEN with it; PgBouncer in transaction mode breaks it too).
// Notifications sent while it is down are lost, so every (re)connect is itself a change ('any'):
// the scheduler then looks at the database instead of trusting it missed nothing. While it is down
// (its connection cut, PostgreSQL restarting, a pooler that drops LISTEN) the watchers are not left
// to the scheduler's backstop poll: every `pollMs` the engine's `poll` reads a marker that moves
// with every commit, and a change of it (or the database answering again) is a change ('any').
import pg from 'pg';
import type { Change, WatchLog } from '../engine-watch.js';
import { dropSocket, linkConfig, PG_DEFAULT_CONNECT_TIMEOUT_MS, PG_DEFAULT_KEEPALIVE_MS, type PgLinkOptions } from './link.js';

export const CHANNEL = 'callbackd';

export interface ListenerOptions {
  reconnect?: { initialDelayMs: number; maxDelayMs: number };
  applicationName?: string;
  log?: WatchLog;
  /** Reads a marker that changes with every commit (pg/engine.ts: the snapshot's xmax), on another connection. */
  poll?: () => Promise<string>;
  /** Connect timeout and TCP keepalive (pg/engine.ts). */
  link?: PgLinkOptions;
  /**
   * While listening, a `SELECT 1` every `pingMs` (default 10000) must be answered within this, or the
   * connection is deemed gone and replaced (polling meanwhile). A LISTEN connection only receives:
   * without it a network black hole keeps it "listening" to nothing until the OS gives up (minutes).
   * Off when undefined.
   */
  pingTimeoutMs?: number;
  pingMs?: number;
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
  /** While not listening: the poll's timer, its period (the smallest a watcher asked for), the last marker (null: unknown). */
  private pollTimer: NodeJS.Timeout | null = null;
  private pollMs = Infinity;
  private marker: string | null = null;
  private polling = false;
  private pingTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly url: string,
    private readonly o: ListenerOptions = {},
  ) {
    this.delay = this.initialDelay;
  }

  private get initialDelay(): number {
    return this.o.reconnect?.initialDelayMs ?? 500;
  }

  /**
   * Starts listening with the first handler; returns the function that removes this one. `pollMs`:
   * how often to look for commits while the LISTEN connection is down (needs the `poll` option).
   */
  add(onChange: (what: Change) => void, pollMs?: number): () => void {
    this.handlers.add(onChange);
    if (pollMs !== undefined) this.pollMs = Math.min(this.pollMs, pollMs);
    if (!this.client && !this.connecting && !this.timer && !this.closed) this.connecting = this.connect();
    return () => {
      this.handlers.delete(onChange);
      if (this.handlers.size === 0) this.stopPolling();
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
    const link = this.o.link ?? { connectTimeoutMs: PG_DEFAULT_CONNECT_TIMEOUT_MS, keepAliveMs: PG_DEFAULT_KEEPALIVE_MS };
    const c = new pg.Client({ ...linkConfig(this.url, link), application_name: this.o.applicationName ?? 'callbackd listener' });
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
    this.startPing(c);
    this.stopPolling();
    this.delay = this.initialDelay;
    if (++this.connects > 1) this.o.log?.info?.({}, 'PostgreSQL listener: reconnected');
    this.fire('any');
  }

  private lost(c: pg.Client, err?: Error): void {
    if (this.client !== c) return;
    this.client = null;
    this.stopPing();
    c.end().catch(() => undefined);
    dropSocket(c); // end() alone waits for the server's goodbye: on one that does not answer, forever
    this.retry(err ?? new Error('connection ended'));
  }

  private startPing(c: pg.Client): void {
    const timeout = this.o.pingTimeoutMs;
    if (timeout === undefined) return;
    let inFlight = false;
    this.pingTimer = setInterval(() => {
      if (inFlight) return;
      inFlight = true;
      c.query({ text: 'SELECT 1', query_timeout: timeout } as pg.QueryConfig)
        .catch((err: Error) => this.lost(c, new Error(`no answer to a ping within ${timeout} ms: ${err.message}`)))
        .finally(() => (inFlight = false));
    }, this.o.pingMs ?? 10_000);
    this.pingTimer.unref();
  }

  private stopPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  private retry(err: Error): void {
    if (this.closed) return;
    const polling = this.startPolling();
    this.o.log?.warn({ err: err.message, retryInMs: this.delay, ...(polling ? { pollMs: this.pollMs } : {}) }, polling ? 'PostgreSQL listener: not listening; looking for other daemons\' commits by polling meanwhile' : 'PostgreSQL listener: not listening; other daemons\' changes wait for the backstop poll');
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.closed) this.connecting = this.connect();
    }, this.delay);
    this.timer.unref();
    this.delay = Math.min(this.delay * 2, this.o.reconnect?.maxDelayMs ?? 15_000);
  }

  /** Polls while not listening; false when it cannot (no poll function, or no watcher asked for a period). */
  private startPolling(): boolean {
    if (!this.o.poll || !Number.isFinite(this.pollMs)) return false;
    if (this.pollTimer) return true;
    this.pollTimer = setInterval(() => void this.pollOnce(), this.pollMs);
    this.pollTimer.unref();
    return true;
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.marker = null;
  }

  /** One look: a marker unlike the last one, or the first answer after none, is a change. */
  private async pollOnce(): Promise<void> {
    if (this.polling || !this.o.poll) return;
    this.polling = true;
    try {
      const m = await this.o.poll();
      const changed = m !== this.marker;
      this.marker = m;
      if (changed && this.pollTimer) this.fire('any');
    } catch {
      this.marker = null; // the database is not answering either: its next answer is a change
    } finally {
      this.polling = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopPolling();
    this.stopPing();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.connecting;
    const c = this.client;
    this.client = null;
    if (c) await c.end().catch(() => undefined);
  }
}
