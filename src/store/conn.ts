// The store contract (issue 16, /work/notes/async-store-plan.md §1): every store function becomes
// `async (c: Conn, …)`, one body for both engines, written against `c.q` (drizzle's async query surface,
// typed as pg) and `c.t` (the engine's tables, with the same row types: src/store/pg/schema-twins.ts).
// Transactions: `transaction(c, async (tx) => …)` from ./engine.ts.
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';

/** The table objects, one set per engine: pg's, or SQLite's (same keys, same row types) cast to them. */
export type Tables = typeof import('./pg/schema.js');

/**
 * drizzle's async surface. On SQLite this is the better-sqlite3 db (or a transaction on it) seen through the
 * pg types: SQLite builders are thenables, so `await select…` gives rows and `await update…` a RunResult
 * (use `affected()` from ./engine.js). pg-only calls (`.for()`, `distinctOn`) only inside `c.kind === 'pg'`.
 */
export type Q = PgDatabase<PgQueryResultHKT, Tables>;

export interface Conn {
  /** Not `dialect`: drizzle's db object already has a `dialect` field. */
  readonly kind: 'sqlite' | 'pg';
  readonly q: Q;
  readonly t: Tables;
  /** True inside `transaction()`: a nested one is a SAVEPOINT, and no lock is taken again. */
  readonly inTx: boolean;
}

export interface Engine extends Conn {
  /** What /readyz shows; never a password. */
  describe(): { engine: 'sqlite' | 'pg'; where: string };
  close(): Promise<void>;
}
