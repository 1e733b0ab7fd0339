import type { Logger } from '../log.js';
import { dbBusy } from '../metrics.js';
import { isBusy } from '../store/busy.js';
import { isUnreachable } from '../store/unreachable.js';

// One call's writes, in order and off the event loop's hot path. A write refused because another
// process holds the database's write lock (store/busy.ts), or because the database cannot be
// reached (PostgreSQL stopped or restarting: store/unreachable.ts), is retried with capped backoff
// on a timer, and the writes queued after it wait their turn: an answer time is never written
// after the attempt's end, and the end itself is never dropped. Each write keeps its own lease
// check (the store functions it calls are guarded by the lease token), so a retry after the lease
// moved on writes nothing. Any other error belongs to that write: logged, and the queue goes on.

/** Why a write may simply be tried again later; null: it failed for good. */
export function waitReason(err: unknown): 'busy' | 'unreachable' | null {
  return isBusy(err) ? 'busy' : isUnreachable(err) ? 'unreachable' : null;
}

const WAITING = {
  busy: 'another process holds the database write lock; the write waits and is retried',
  unreachable: 'the database cannot be reached; the write waits and is retried',
} as const;

export interface Backoff {
  firstMs: number;
  maxMs: number;
}

const BACKOFF: Backoff = { firstMs: 50, maxMs: 1000 };

export class WriteQueue {
  private readonly q: { what: string; write: () => unknown }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private draining = false;
  private refused = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly log: Logger,
    private readonly backoff: Backoff = BACKOFF,
  ) {}

  /** Writes now when nothing waits before it; otherwise after the writes before it. */
  push(what: string, write: () => unknown): void {
    this.q.push({ what, write });
    if (!this.timer && !this.draining) void this.drain();
  }

  /** Why the head write is waiting to be retried (busy or unreachable), or null when it is not. */
  waitingOn: 'busy' | 'unreachable' | null = null;

  /** Writes queued and not yet done. */
  get pending(): number {
    return this.q.length;
  }

  /** Resolves once every write queued so far is done. */
  idle(): Promise<void> {
    return this.q.length === 0 ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }

  // One drain at a time: a write is awaited before the next starts. On SQLite the first write
  // still runs inside push() (the store call runs up to its first await synchronously).
  private async drain(): Promise<void> {
    this.timer = null;
    this.draining = true;
    try {
      while (this.q.length > 0) {
        const head = this.q[0]!;
        try {
          await head.write();
        } catch (err) {
          const why = waitReason(err);
          if (why) return this.retryLater(head.what, why, err as Error);
          this.log.error({ err: (err as Error).message, write: head.what }, 'write failed');
        }
        if (this.refused > 0) this.log.info({ write: head.what, retries: this.refused }, 'the database took the delayed write');
        this.refused = 0;
        this.waitingOn = null;
        this.q.shift();
      }
      this.waiters.splice(0).forEach((w) => w());
    } finally {
      this.draining = false;
    }
  }

  private retryLater(what: string, why: 'busy' | 'unreachable', err: Error): void {
    this.refused++;
    this.waitingOn = why;
    if (why === 'busy') dbBusy.inc({ where: 'dialer' });
    if (this.refused === 1) this.log.warn({ write: what, pending: this.q.length, err: err.message }, WAITING[why]);
    this.timer = setTimeout(() => void this.drain(), retryDelay(this.refused, this.backoff));
  }
}

/** Doubles from firstMs up to maxMs. */
export function retryDelay(refused: number, b: Backoff): number {
  return Math.min(b.maxMs, b.firstMs * 2 ** Math.min(20, refused - 1));
}

/**
 * Runs a write whose answer the caller needs now (e.g. the attempt number before dialing the
 * customer), waiting between tries on a timer while the database is locked by another process or
 * cannot be reached. Gives up after `maxWaitMs` by throwing the last such error.
 */
export async function whenNotBusy<T>(log: Logger, what: string, write: () => T | Promise<T>, maxWaitMs: number, b: Backoff = BACKOFF): Promise<T> {
  const until = Date.now() + maxWaitMs;
  for (let refused = 1; ; refused++) {
    try {
      return await write();
    } catch (err) {
      const why = waitReason(err);
      if (!why || Date.now() >= until) throw err;
      if (why === 'busy') dbBusy.inc({ where: 'dialer' });
      if (refused === 1) log.warn({ write: what, err: (err as Error).message }, WAITING[why]);
      await new Promise((r) => setTimeout(r, retryDelay(refused, b)));
    }
  }
}
