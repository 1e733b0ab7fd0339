// Transactions, store-call wrapping, result helpers and driver error mapping for both engines
// (issue 16; /work/notes/async-store-plan.md §1-2). Store functions are `op(name, async (c: Conn, …) => …)`
// and open transactions with `transaction(c, async (tx) => …)`.
//
// SQLite: drizzle's better-sqlite3 `transaction()` is synchronous (an async body commits at its first
// await and a later throw rolls nothing back), so transactions are ours: an async mutex per root
// connection (one per openDb result), then BEGIN IMMEDIATE (the write lock first, so a read-await-write
// body cannot lose its snapshot upgrade to the CLI), COMMIT, or ROLLBACK. Because every statement of every
// flow runs on that one connection, a statement of another flow issued between BEGIN and COMMIT would
// join the transaction. Hence:
// - an op() on the root connection waits while another flow's transaction holds the mutex;
// - a transaction, once it holds the mutex, waits until the root ops already running in other flows have
//   finished (`inflight`) before BEGIN, so none of their later statements lands inside it;
// - a root call made inside the root's own open transaction would wait for itself: it throws.
// PostgreSQL: the pg engine (src/store/pg/engine.ts) implements `transaction(fn, o)` itself; here only the
// misuse guard is added around it.
import { AsyncLocalStorage } from 'node:async_hooks';
import type Database from 'better-sqlite3';
import type { SQL } from 'drizzle-orm';
import { CallbackdError, ErrorCodes } from '../errors.js';
import type { Conn } from './conn.js';

export interface TxOptions {
  /** pg: retry once on a serialization failure or deadlock (40001/40P01). SQLite has a single writer: ignored. */
  retry?: boolean;
}

/** A waiting line that is not a queue: every waiter re-checks on release (ops and transactions alike). */
class Mutex {
  held = false;
  private waiters: (() => void)[] = [];
  /** Resolves once the mutex is free (it may be taken again before the waiter runs: re-check). */
  freed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  release(): void {
    this.held = false;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
}

/** What openDb attaches (under a symbol) to the root SQLite db; a transaction's `tx` inherits it. */
export interface SqliteRoot {
  readonly client: Database.Database;
  readonly lock: Mutex;
  /** Root ops running now, in any flow (ops parked on the mutex are not counted). */
  inflight: number;
  /** Set by the transaction holding the mutex while it waits for `inflight` to fall to its own count. */
  drained?: { target: number; resolve: () => void };
}

const ROOT = Symbol('callbackd.sqliteRoot');

/** Called by openDb: makes `db` a root SQLite connection (its own mutex). */
export function attachSqliteRoot(db: object, client: Database.Database): void {
  const root: SqliteRoot = { client, lock: new Mutex(), inflight: 0 };
  Object.defineProperty(db, ROOT, { value: root });
}

function sqliteRoot(c: Conn): SqliteRoot {
  const r = (c as unknown as { [ROOT]?: SqliteRoot })[ROOT];
  if (!r) throw new CallbackdError(ErrorCodes.DB_UNAVAILABLE, 'a SQLite connection not opened by openDb()');
  return r;
}

/**
 * How many distinct SQL texts keep their prepared statement. Each costs native memory (about 10 KiB for a
 * select on callbacks, measured), so not every query the store can send is kept: the scheduler's and the
 * calls' few dozen stay recent, a rare API listing is prepared again.
 */
export const STATEMENT_CACHE_SIZE = 200;

/**
 * Makes drizzle reuse better-sqlite3 statements by SQL text. drizzle's session prepares the SQL of every
 * call again; in a 500-callback burst that was 9 % of the daemon's busy CPU (bench/with-profile.ts, README
 * "Performance"). Only drizzle's own client is wrapped: `$client` and `sqliteClient()` stay the plain
 * client, so code that sets a statement's modes (pluck, safeIntegers) never gets a shared one.
 * A reused statement is handed back in its default mode (drizzle switches `raw()` on for typed selects,
 * and a raw `all()` of the same text must get objects); one still iterating is not shared.
 * SQLite itself re-prepares a cached statement when the schema changes (sqlite3_prepare_v2).
 */
export function cacheStatements(db: object, client: Database.Database, size = STATEMENT_CACHE_SIZE): void {
  const session = (db as { session?: { client?: unknown } }).session;
  // drizzle-orm's BetterSQLiteSession keeps the client as `session.client`: fail loudly if that changes.
  if (!session || session.client !== client) throw new Error('drizzle-orm changed: its better-sqlite3 session has no `client` to wrap');
  const cache = new Map<string, Database.Statement>();
  const prepare = (source: string): Database.Statement => {
    const hit = cache.get(source);
    if (hit && !hit.busy) {
      cache.delete(source); // least recently used goes first: re-insert at the end
      cache.set(source, hit);
      if (hit.reader) hit.raw(false);
      return hit;
    }
    const stmt = client.prepare(source);
    if (!hit) {
      cache.set(source, stmt);
      if (cache.size > size) cache.delete(cache.keys().next().value!);
    }
    return stmt;
  };
  // The client's other methods (transaction, exec...) through the prototype: better-sqlite3's wrappers read
  // the native handle from `this`, which the prototype chain provides.
  session.client = Object.create(client, { prepare: { value: prepare } });
}

/** The better-sqlite3 client behind a SQLite connection or transaction: for the few SQLite-only paths (prepared statements measured hot). */
export function sqliteClient(c: Conn): Database.Database {
  return sqliteRoot(c).client;
}

/** The async flow's open transactions and running ops, innermost first (AsyncLocalStorage). */
interface Frame {
  readonly root: object;
  readonly kind: 'tx' | 'op';
  readonly parent: Frame | undefined;
  /**
   * Closed when its transaction or op ends: work spawned inside (a promise nobody awaited, a timer) that
   * runs later is then on its own, neither refused as inside the transaction nor exempt from waiting.
   */
  open: boolean;
}
const flow = new AsyncLocalStorage<Frame>();

function inOpenTx(f: Frame | undefined, root: object): boolean {
  for (; f; f = f.parent) if (f.kind === 'tx' && f.open && f.root === root) return true;
  return false;
}
function opDepth(f: Frame | undefined, root: object): number {
  let n = 0;
  for (; f; f = f.parent) if (f.kind === 'op' && f.open && f.root === root) n++;
  return n;
}

function selfDeadlock(what: string): CallbackdError {
  return new CallbackdError(
    ErrorCodes.STORE_MISUSE,
    `${what} was called with the root database connection inside a transaction on it: pass the transaction's \`tx\` instead (the root call would wait for the transaction that waits for it)`,
  );
}

function uncount(r: SqliteRoot, n: number): void {
  r.inflight -= n;
  if (r.drained && r.inflight <= r.drained.target) r.drained.resolve();
}
function onSettle(r: SqliteRoot, frame: Frame): void {
  frame.open = false;
  uncount(r, 1);
}

function runCounted<A extends unknown[], R>(r: SqliteRoot, parent: Frame | undefined, f: (c: Conn, ...a: A) => Promise<R>, c: Conn, a: A): Promise<R> {
  r.inflight++;
  const frame: Frame = { root: r, kind: 'op', parent, open: true };
  let p: Promise<R>;
  try {
    p = flow.run(frame, f, c, ...a);
  } catch (err) {
    onSettle(r, frame);
    return Promise.reject(err);
  }
  return p.then(
    (v) => (onSettle(r, frame), v),
    (err: unknown) => {
      onSettle(r, frame);
      throw err;
    },
  );
}

async function waitThenRun<A extends unknown[], R>(r: SqliteRoot, parent: Frame | undefined, f: (c: Conn, ...a: A) => Promise<R>, c: Conn, a: A): Promise<R> {
  while (r.lock.held) await r.lock.freed();
  return runCounted(r, parent, f, c, a);
}

/**
 * Wraps a store function. On a root SQLite connection it waits while another flow's transaction holds the
 * connection, and is counted so a transaction starting meanwhile waits for it; when the connection is free
 * it runs at once (no tick beyond the async call itself). A root call inside that root's own transaction
 * throws STORE_MISUSE (both engines). A `tx` (inTx) goes straight through.
 *
 * Cost (bench/store-op.ts, `npm run bench:store-op`; 100k getCallback-like primary-key reads, Node 20, on a
 * shared 2-core machine at load ~15, so the absolute figures are inflated; medians of 10 chunks): drizzle sync
 * .get() 121-132 µs/op, the async body awaited 138-163 µs, through op() 140-165 µs. op() itself adds
 * 0.5-0.7 µs (measured on an empty async body: 0.2-0.4 → 0.9-1.0 µs): an AsyncLocalStorage frame and a count.
 * The sync→async gap (17-30 µs here, noisy) is there with or without op(): the awaited drizzle builder path.
 */
export function op<A extends unknown[], R>(name: string, f: (c: Conn, ...a: A) => Promise<R>): (c: Conn, ...a: A) => Promise<R> {
  const wrapped = (c: Conn, ...a: A): Promise<R> => {
    if (c.inTx) return f(c, ...a);
    const parent = flow.getStore();
    if (c.kind === 'pg') {
      if (parent && inOpenTx(parent, c)) return Promise.reject(selfDeadlock(name));
      return f(c, ...a);
    }
    const r = sqliteRoot(c);
    if (parent) {
      if (inOpenTx(parent, r)) return Promise.reject(selfDeadlock(name));
      // Nested in a root op of this flow: already counted, and must not wait (a transaction waiting for
      // the outer op to finish would wait forever).
      if (opDepth(parent, r) > 0) return f(c, ...a);
    }
    if (r.lock.held) return waitThenRun(r, parent, f, c, a);
    return runCounted(r, parent, f, c, a);
  };
  Object.defineProperty(wrapped, 'name', { value: name });
  return wrapped;
}

let savepoints = 0;

/**
 * Runs `fn` in a transaction and returns its result: COMMIT when it resolves, ROLLBACK (and rethrow) when it
 * throws. Inside one (`c.inTx`), a SAVEPOINT: its rollback keeps the outer transaction. Do not run two nested
 * transactions of one `tx` in parallel (Promise.all): their savepoints would interleave.
 */
// Generic over the connection type while the store is half flipped: a transaction on the transitional
// SQLite Db hands its body a Db (same connection inside BEGIN), which not-yet-async store functions accept.
export async function transaction<C extends Conn, T>(c: C, fn: (tx: C) => Promise<T>, o?: TxOptions): Promise<T> {
  const parent = flow.getStore();
  if (c.kind === 'pg') {
    const pg = c as unknown as { transaction(fn: (tx: C) => Promise<T>, o?: TxOptions): Promise<T> };
    if (c.inTx) return pg.transaction(fn, o);
    if (inOpenTx(parent, c)) throw selfDeadlock('transaction()');
    const frame: Frame = { root: c, kind: 'tx', parent, open: true };
    try {
      return await flow.run(frame, () => pg.transaction(fn, o));
    } finally {
      frame.open = false;
    }
  }
  const r = sqliteRoot(c);
  if (c.inTx) return savepoint(r.client, c, fn);
  if (inOpenTx(parent, r)) throw selfDeadlock('transaction()');
  // This flow's own running root ops (a transaction inside an op) are not waited for; while parked on the
  // mutex they are not counted either, so a transaction that holds it never waits for a flow that waits for it.
  const mine = opDepth(parent, r);
  if (r.lock.held) {
    uncount(r, mine);
    try {
      while (r.lock.held) await r.lock.freed();
    } finally {
      r.inflight += mine;
    }
  }
  r.lock.held = true;
  try {
    if (r.inflight > mine) {
      await new Promise<void>((resolve) => (r.drained = { target: mine, resolve }));
      r.drained = undefined;
    }
    r.client.exec('BEGIN IMMEDIATE');
    const tx = Object.create(c, { inTx: { value: true } }) as C;
    const frame: Frame = { root: r, kind: 'tx', parent, open: true };
    try {
      const out = await flow.run(frame, fn, tx);
      r.client.exec('COMMIT');
      return out;
    } catch (err) {
      if (r.client.inTransaction) r.client.exec('ROLLBACK');
      throw err;
    } finally {
      frame.open = false;
    }
  } finally {
    r.lock.release();
  }
}

async function savepoint<C extends Conn, T>(client: Database.Database, tx: C, fn: (tx: C) => Promise<T>): Promise<T> {
  const name = `cbd_sp${++savepoints}`;
  client.exec(`SAVEPOINT ${name}`);
  try {
    const out = await fn(tx);
    client.exec(`RELEASE ${name}`);
    return out;
  } catch (err) {
    if (client.inTransaction) client.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
    throw err;
  }
}

/** Waits until no transaction holds this root SQLite connection (engine close). */
export async function sqliteIdle(c: Conn): Promise<void> {
  const r = sqliteRoot(c);
  while (r.lock.held) await r.lock.freed();
}

/** The first row, or undefined (pg has no `.get()`). */
export function first<T>(rows: readonly T[]): T | undefined {
  return rows[0];
}

/** Rows changed by an INSERT/UPDATE/DELETE without RETURNING: better-sqlite3 `changes`, node-postgres `rowCount`. */
export function affected(result: unknown): number {
  const r = result as { changes?: number; rowCount?: number | null } | null | undefined;
  return Number(r?.changes ?? r?.rowCount ?? 0);
}

type SqliteRaw = { all(q: SQL): unknown[]; run(q: SQL): unknown };
type PgRaw = { execute(q: SQL): Promise<unknown> };

/** Raw SQL returning rows, on both engines (replaces `$client.prepare(…).all()` in the store). */
export async function all<T>(c: Conn, query: SQL): Promise<T[]> {
  if (c.kind === 'sqlite') return (c.q as unknown as SqliteRaw).all(query) as T[];
  const r = await (c.q as unknown as PgRaw).execute(query);
  return (Array.isArray(r) ? r : (r as { rows: T[] }).rows) as T[];
}

/** Raw SQL without rows, on both engines; the number of rows it changed. */
export async function run(c: Conn, query: SQL): Promise<number> {
  if (c.kind === 'sqlite') return affected((c.q as unknown as SqliteRaw).run(query));
  return affected(await (c.q as unknown as PgRaw).execute(query));
}

export type StoreErrorKind = 'busy' | 'fk' | 'unique' | 'retry';

/**
 * What a driver error means, for both engines (drizzle's DrizzleQueryError is looked through):
 * busy = another writer holds the lock (SQLITE_BUSY; pg lock_timeout 55P03, statement_timeout 57014),
 * fk = a foreign key refused it, unique = a unique/primary key refused it, retry = pg serialization
 * failure or deadlock (40001, 40P01).
 */
export function storeErrorKind(err: unknown): StoreErrorKind | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    const message = e instanceof Error ? e.message : '';
    if (typeof code !== 'string') continue;
    if (code.startsWith('SQLITE_BUSY') || code === '55P03' || code === '57014') return 'busy';
    if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503' || (code.startsWith('SQLITE_CONSTRAINT') && /FOREIGN KEY/.test(message)))
      return 'fk';
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505') return 'unique';
    if (code === '40001' || code === '40P01') return 'retry';
  }
  return undefined;
}
