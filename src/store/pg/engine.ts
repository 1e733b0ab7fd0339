// The PostgreSQL engine (issue 16; /work/notes/async-store-plan.md §2, §4): a pg.Pool seen through
// drizzle as the store contract's `Conn` (src/store/conn.ts), our own transactions (READ COMMITTED,
// one pooled client each, SAVEPOINTs when nested), and a LISTEN client for other daemons' changes.
import pg from 'pg';
import { createTableRelationsHelpers, extractTablesRelationalConfig, type RelationalSchemaConfig, type TablesRelationalConfig } from 'drizzle-orm';
import { drizzle, NodePgDatabase, NodePgSession } from 'drizzle-orm/node-postgres';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Conn, Engine, Q, Tables } from '../conn.js';
import { storeErrorKind, type TxOptions } from '../engine.js';
import { isUnreachable } from '../unreachable.js';
import type { Change, WatchLog } from '../engine-watch.js';
import { dropSocket, linkConfig, PG_DEFAULT_CONNECT_TIMEOUT_MS, PG_DEFAULT_KEEPALIVE_MS, QUERY_GRACE_MS, type PgLinkOptions } from './link.js';
import { PgListener } from './listener.js';
import { migratePg } from './migrate.js';
import * as schema from './schema.js';

import { pgWhere } from './where.js';

export { pgWhere };

export interface PgEngineOptions {
  /** Pooled connections (the plan: scheduler 4, API 8). */
  poolSize?: number;
  /** Fail a statement that waits this long for a row lock (55P03), instead of queueing behind it: the API answers 503. */
  lockTimeoutMs?: number;
  /** Fail a statement that runs this long (57014). */
  statementTimeoutMs?: number;
  /** Apply sql/pg/ migrations at open (default true). */
  migrate?: boolean;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
  /** The LISTEN client's reconnect backoff (config.reconnect). */
  reconnect?: { initialDelayMs: number; maxDelayMs: number };
  /** Every connection (pooled, LISTEN, migration) is made within this, or fails unreachable (default 10000). */
  connectTimeoutMs?: number;
  /** TCP keepalive on every connection: idle time before the first probe (default 10000). */
  keepAliveMs?: number;
  /**
   * A bound on one statement of the pooled connections: the server cancels it after this
   * (statement_timeout, 57014: busy) and a statement with no answer at all QUERY_GRACE_MS later is
   * given up on the client and its connection dropped (unreachable: a black hole). Off by default:
   * the CLI's imports and exports run as long as they need; the daemon sets it (daemon-db.ts).
   */
  queryTimeoutMs?: number;
  /** How often the LISTEN connection is pinged when queryTimeoutMs is set (default 10000; tests shorten it). */
  listenerPingMs?: number;
  log?: WatchLog;
}

/** A pg connection: the engine (pool) or an open transaction. `transaction()` nests as a SAVEPOINT. */
export interface PgConn extends Conn {
  readonly kind: 'pg';
  transaction<T>(fn: (tx: PgConn) => Promise<T>, o?: TxOptions): Promise<T>;
}

export interface PgEngine extends Engine, PgConn {
  readonly kind: 'pg';
  /** The pool itself, for what drizzle does not do (COPY, cursors). */
  readonly pool: pg.Pool;
  /**
   * A connection of its own (not connected yet) for what lives in a session (store/leader.ts: an
   * advisory lock), with the pool's bounds: connect timeout, keepalive, and the query timeout if set.
   */
  sessionClient(applicationName: string): pg.Client;
  /**
   * Calls onChange on every notification on channel `callbackd`, and on every (re)connect of the
   * listener; while the listener is down, on a commit seen by polling every `pollMs` (pg/listener.ts).
   */
  watch(onChange: (what: Change) => void, pollMs?: number): () => void;
}

const MAX_INT8_AS_NUMBER = BigInt(Number.MAX_SAFE_INTEGER);

/** int8 as a JS number; a value a number cannot hold exactly is an error, never a silent rounding. */
export function parseInt8(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) {
    const b = BigInt(v);
    if (b > MAX_INT8_AS_NUMBER || b < -MAX_INT8_AS_NUMBER) throw new RangeError(`int8 value ${v} is beyond Number.MAX_SAFE_INTEGER: callbackd keeps ids, times and counts as JS numbers`);
  }
  return n;
}

let int8Installed = false;
/**
 * Global on purpose: drizzle's node-postgres session passes per-query `types` that fall back to
 * pg.types (drizzle-orm/node-postgres/session.js), so a Pool- or Client-level parser would be bypassed.
 */
export function installInt8Parser(): void {
  if (int8Installed) return;
  pg.types.setTypeParser(pg.types.builtins.INT8, parseInt8);
  int8Installed = true;
}

/** The pg error code, looking through drizzle's DrizzleQueryError (which keeps the driver's error as `cause`). */
export function pgCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
/** 40001/40P01: the body may run again ({ retry: true }; it must not have done anything outside the database). */
const isRetryable = (err: unknown) => storeErrorKind(err) === 'retry';

/**
 * The client as the transaction's drizzle sees it: once the transaction has ended (the client is back
 * in the pool, maybe in another transaction) a leaked `tx` fails loudly instead of writing there.
 */
function fencedClient(client: pg.PoolClient, ended: () => boolean): pg.PoolClient {
  return new Proxy(client, {
    get(target, prop) {
      if (prop === 'query' && ended()) {
        return () => Promise.reject(new Error('this transaction has ended: a store call used its tx after transaction() returned'));
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

let relational: RelationalSchemaConfig<TablesRelationalConfig> | undefined;
const dialect = new PgDialect();

/**
 * drizzle on one transaction's client. What drizzle(client, { schema }) builds, except the relational
 * config of the schema, built once here instead of per call: that is ~100 µs of the ~105 µs drizzle()
 * costs (measured, 2000 calls), and every transaction makes one.
 */
function drizzleOn(client: pg.PoolClient): Q {
  if (!relational) {
    const c = extractTablesRelationalConfig(schema, createTableRelationsHelpers);
    relational = { fullSchema: schema, schema: c.tables, tableNamesMap: c.tableNamesMap };
  }
  return new NodePgDatabase<Record<string, unknown>>(dialect, new NodePgSession(client, dialect, relational), relational) as unknown as Q;
}

function txConn(client: pg.PoolClient, t: Tables, ended: () => boolean): PgConn {
  const q = drizzleOn(fencedClient(client, ended));
  let savepoints = 0;
  const conn: PgConn = {
    kind: 'pg',
    q,
    t,
    inTx: true,
    async transaction(fn) {
      const name = `sp_${++savepoints}`;
      await client.query(`SAVEPOINT ${name}`);
      try {
        const r = await fn(conn);
        await client.query(`RELEASE SAVEPOINT ${name}`);
        return r;
      } catch (err) {
        // A failed ROLLBACK TO leaves the outer transaction aborted: its COMMIT then fails too.
        await client.query(`ROLLBACK TO SAVEPOINT ${name}`).catch(() => undefined);
        throw err;
      }
    },
  };
  return conn;
}

/** One transaction on its own pooled client: BEGIN, the body, COMMIT, or ROLLBACK and rethrow. */
async function runOnce<T>(pool: pg.Pool, t: Tables, fn: (tx: PgConn) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let ended = false;
  let broken: Error | undefined;
  // pg-pool listens for a client's 'error' only while it is idle: a connection lost during the
  // transaction would otherwise be an unhandled 'error' event, which ends the process. The queries
  // in flight fail on their own; the client must not go back to the pool.
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
  } catch (err) {
    client.removeListener('error', onError);
    client.release(err as Error);
    throw err;
  }
  try {
    const r = await fn(txConn(client, t, () => ended));
    await client.query('COMMIT');
    return r;
  } catch (err) {
    // A statement that got no answer (query timeout) or a cut connection: a ROLLBACK would wait
    // behind it on the same dead socket. The connection is dropped instead (the server rolls back).
    if (isUnreachable(err)) {
      broken ??= err as Error;
      throw err;
    }
    // After a failed COMMIT the transaction is already over: ROLLBACK only warns. If ROLLBACK itself
    // fails the connection is in an unknown state: release(err) destroys it rather than pool it.
    await client.query('ROLLBACK').catch((e: unknown) => {
      broken ??= e as Error;
    });
    throw err;
  } finally {
    ended = true;
    client.removeListener('error', onError);
    client.release(broken);
  }
}

export async function openPgEngine(url: string, o: PgEngineOptions = {}): Promise<PgEngine> {
  installInt8Parser();
  const link: PgLinkOptions = { connectTimeoutMs: o.connectTimeoutMs ?? PG_DEFAULT_CONNECT_TIMEOUT_MS, keepAliveMs: o.keepAliveMs ?? PG_DEFAULT_KEEPALIVE_MS };
  const statementTimeout = Math.min(o.statementTimeoutMs ?? Infinity, o.queryTimeoutMs ?? Infinity);
  // The connect timeout is the client's (BoundedClient), not pg-pool's: pg-pool's would also fail a
  // caller that waits longer than it for a busy pool's free client, a healthy database's queue.
  const connect = linkConfig(url, link);
  class BoundedClient extends pg.Client {
    constructor(config?: pg.ClientConfig) {
      super({ ...config, connectionTimeoutMillis: connect.connectionTimeoutMillis });
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    Client: BoundedClient,
    keepAlive: true,
    keepAliveInitialDelayMillis: link.keepAliveMs,
    max: o.poolSize ?? 4,
    application_name: o.applicationName ?? 'callbackd',
    ...(o.lockTimeoutMs !== undefined ? { lock_timeout: o.lockTimeoutMs } : {}),
    ...(Number.isFinite(statementTimeout) ? { statement_timeout: statementTimeout } : {}),
    ...(o.queryTimeoutMs !== undefined ? { query_timeout: o.queryTimeoutMs + QUERY_GRACE_MS } : {}),
  });
  // An idle pooled client whose server went away emits 'error' on the pool: without a listener that
  // would end the process. The next query gets a fresh connection.
  pool.on('error', (err) => o.log?.warn({ err: err.message }, 'PostgreSQL: an idle pooled connection failed'));
  // A client given back with an error is closed by the pool with end(), which waits for the server's
  // goodbye: after a query timeout (no answer) that is forever. Its socket goes at once instead.
  pool.on('release', (err: Error | undefined, client: pg.PoolClient) => {
    if (err) dropSocket(client);
  });
  try {
    if (o.migrate !== false) {
      // Its own connection, without the pool's statement bounds: a migration may build an index on
      // millions of rows.
      const c = new pg.Client({ ...connect, application_name: `${o.applicationName ?? 'callbackd'} migrate` });
      c.on('error', () => undefined); // a cut connection fails the migration's query; no unhandled 'error'
      try {
        await c.connect();
        await migratePg(c);
      } catch (err) {
        dropSocket(c);
        throw err;
      } finally {
        await c.end().catch(() => undefined);
      }
    } else {
      await pool.query('SELECT 1');
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  const t = schema as Tables;
  // While the LISTEN connection is down, a commit anywhere moves the snapshot's xmax (one past the
  // newest finished transaction id): read on the pool, it stands in for the lost notifications.
  const poll = async () => String((await pool.query<{ x: string }>('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS x')).rows[0]?.x);
  const listener = new PgListener(url, { reconnect: o.reconnect, log: o.log, applicationName: `${o.applicationName ?? 'callbackd'} listener`, poll, link, pingTimeoutMs: o.queryTimeoutMs, pingMs: o.listenerPingMs });
  let closed = false;
  const engine: PgEngine = {
    kind: 'pg',
    q: drizzle(pool, { schema }) as unknown as Q,
    t,
    inTx: false,
    pool,
    async transaction(fn, opts) {
      try {
        return await runOnce(pool, t, fn);
      } catch (err) {
        if (!opts?.retry || !isRetryable(err)) throw err;
        o.log?.debug?.({ code: pgCode(err) }, 'PostgreSQL: transaction retried once');
        return runOnce(pool, t, fn);
      }
    },
    watch: (onChange, pollMs) => listener.add(onChange, pollMs),
    sessionClient: (name) => new BoundedClient({ ...connect, application_name: name, ...(o.queryTimeoutMs !== undefined ? { query_timeout: o.queryTimeoutMs + QUERY_GRACE_MS } : {}) }),
    describe: () => ({ engine: 'pg', where: pgWhere(url) }),
    async close() {
      if (closed) return;
      closed = true;
      await listener.close();
      await pool.end();
    },
  };
  return engine;
}
