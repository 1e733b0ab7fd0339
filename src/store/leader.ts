// Work only one daemon of a cluster may do (issue 16, plan §4): webhooks, email and retention read the
// outbox and send what it owes, and two daemons doing it would send every webhook twice (dueDeliveries
// claims nothing). PostgreSQL: the daemon holding `pg_try_advisory_lock(key)` on a session of its own
// leads; the lock goes with that session, so a daemon that dies (or loses its connection) frees it and
// another one takes over within `retryMs`. That session must be a direct connection: PgBouncer in
// transaction mode does not keep session locks. SQLite: one daemon per file, always the leader.
import type pg from 'pg';
import type { Conn } from './conn.js';
import { dropSocket } from './pg/link.js';

export type LeaderKind = 'events';

/** Advisory lock keys, one per kind ('cbkd' + a number), fixed so every daemon asks for the same one. */
const KEYS: Record<LeaderKind, number> = { events: 0x6362_6b64_0001 };

export interface LeaderLog {
  info(o: object, msg: string): void;
  warn(o: object, msg: string): void;
}

export interface Leadership {
  /** True while this process leads (it may stop being true: onChange(false) says so). */
  readonly held: boolean;
  /** Stops trying, and gives the lead up if held. */
  close(): Promise<void>;
}

export interface LeaderOptions {
  /** Called on every change of `held` (first with true when the lead is taken). */
  onChange: (held: boolean) => void;
  /** How often a follower tries to take the lead, and a leader checks that its session is alive. Default 5000. */
  retryMs?: number;
  log?: LeaderLog;
}

/** Campaigns for the lead of `kind` on this connection's database until close(). */
export function leader(c: Conn, kind: LeaderKind, o: LeaderOptions): Leadership {
  if (c.kind === 'sqlite') {
    o.onChange(true);
    return { held: true, close: async () => {} };
  }
  // A session of its own with the engine's connect timeout and query bound (pg/engine.ts): a database
  // that stops answering ends the lead instead of holding it forever on a dead connection.
  const sessionClient = (c as unknown as { sessionClient?: (name: string) => pg.Client }).sessionClient;
  if (!sessionClient) throw new Error('leader(): a PostgreSQL connection that is not the engine (pass the engine, not a transaction)');
  return new PgLeader(() => sessionClient(`callbackd lead ${kind}`), KEYS[kind], kind, o);
}

class PgLeader implements Leadership {
  held = false;
  private client: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly retryMs: number;

  constructor(
    private readonly newClient: () => pg.Client,
    private readonly key: number,
    private readonly kind: LeaderKind,
    private readonly o: LeaderOptions,
  ) {
    this.retryMs = o.retryMs ?? 5000;
    void this.step();
  }

  private set(held: boolean): void {
    if (held === this.held) return;
    this.held = held;
    this.o.log?.info({ lead: this.kind }, held ? 'this daemon now leads (webhooks, email, retention)' : 'this daemon no longer leads');
    this.o.onChange(held);
  }

  private lost(c: pg.Client, err?: Error): void {
    if (this.client !== c) return;
    this.client = null;
    c.end().catch(() => undefined);
    dropSocket(c); // end() alone waits for the server's goodbye: on one that does not answer, forever
    if (err && !this.closed) this.o.log?.warn({ lead: this.kind, err: err.message }, 'lead session lost');
    this.set(false);
  }

  /** One look: connect if needed, then try for the lock (follower) or check the session (leader). */
  private async step(): Promise<void> {
    this.timer = null;
    if (this.closed) return;
    try {
      if (!this.client) {
        const c = this.newClient();
        c.on('error', (err) => this.lost(c, err));
        c.on('end', () => this.lost(c));
        this.client = c;
        await c.connect();
      }
      const c = this.client;
      if (this.held) await c.query('SELECT 1');
      else {
        const r = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [this.key]);
        if (this.closed) return;
        this.set(r.rows[0]!.ok);
      }
    } catch (err) {
      if (this.client) this.lost(this.client, err as Error);
    }
    if (!this.closed) {
      this.timer = setTimeout(() => void this.step(), this.retryMs);
      this.timer.unref();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const c = this.client;
    this.client = null;
    this.held = false;
    // Ending the session frees its advisory locks.
    if (c) await c.end().catch(() => undefined);
  }
}
