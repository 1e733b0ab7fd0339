import { storeErrorKind } from './engine.js';

// Another process (the CLI, a backup, the sqlite3 shell; on PostgreSQL another daemon holding a row
// lock past lock_timeout) holding what a write needs. better-sqlite3 waits for it synchronously, on the
// event loop: the scheduler's and dialer's own connection waits only DIAL_BUSY_TIMEOUT_MS, and its
// callers treat "busy" as "try again soon" instead of freezing ARI events, AGI and the API for up to
// the default 5 s.

/**
 * The scheduler's and dialer's busy_timeout. Measured on the lab machine (2 cores, other tests
 * running): one write transaction of another connection (insertCallback, as `callbackd callback
 * add` does) holds the lock 0.75 ms at the median, 49 ms at p99 (a WAL checkpoint), 66 ms at most
 * in 300. 20 ms lets the usual write through without a retry; a longer one costs a retry 250 ms
 * later, and a lock held for seconds costs the loop at most 20 ms per try.
 */
export const DIAL_BUSY_TIMEOUT_MS = 20;

/**
 * Busy on either engine (store/engine.ts storeErrorKind: SQLITE_BUSY, pg 55P03/57014), and SQLITE_LOCKED
 * (a shared-cache or same-connection table lock, which storeErrorKind leaves out), also when drizzle
 * wraps the driver's error.
 */
export function isBusy(err: unknown): boolean {
  if (storeErrorKind(err) === 'busy') return true;
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : '';
  return /^SQLITE_LOCKED/.test(code);
}
