// Which engine a configuration means (issue 16): a PostgreSQL URL (database.url, or the environment's
// CALLBACKD_DATABASE_URL) opens the PostgreSQL engine; otherwise the SQLite file at database.path.
import { DEFAULTS } from '../config.js';
import type { Engine } from './conn.js';
import { openDb } from './db.js';
import type { WatchLog } from './engine-watch.js';
import { pgWhere } from './pg/where.js';

export interface DatabaseSetting {
  path?: string;
  url?: string;
  /** PostgreSQL: a connection is made within this (default DEFAULTS.database.connectTimeoutMs). */
  connectTimeoutMs?: number;
  /** PostgreSQL: TCP keepalive's idle time (default DEFAULTS.database.keepAliveMs). */
  keepAliveMs?: number;
  /** PostgreSQL: the daemon's bound on one statement (pg/engine.ts queryTimeoutMs); used where the opener asks for it. */
  queryTimeoutMs?: number;
}

export interface OpenEngineOptions {
  /** Apply migrations at open (default true). */
  migrate?: boolean;
  /**
   * How long a write waits for another's lock before failing "busy": SQLite's busy_timeout (default 5000),
   * PostgreSQL's lock_timeout (default: none). The API uses a short one and answers 503.
   */
  busyTimeoutMs?: number;
  /** PostgreSQL: statement_timeout (57014 = busy); SQLite has none. */
  statementTimeoutMs?: number;
  /**
   * PostgreSQL: bound every statement by database.queryTimeoutMs (the daemon's pools). Not the CLI:
   * an import or export runs as long as it needs.
   */
  boundQueries?: boolean;
  /** PostgreSQL: pooled connections (default 4). */
  poolSize?: number;
  /** PostgreSQL: the LISTEN client's reconnect backoff. */
  reconnect?: { initialDelayMs: number; maxDelayMs: number };
  log?: WatchLog;
}

/** The PostgreSQL URL this setting (or the environment) names, or undefined for SQLite. */
export function databaseUrl(database: DatabaseSetting, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return database.url ?? (env.CALLBACKD_DATABASE_URL || undefined);
}

/** Where the database is, for logs and /readyz: the SQLite path, or host:port/db (never a user or password). */
export function databaseWhere(database: DatabaseSetting, env: NodeJS.ProcessEnv = process.env): string {
  const url = databaseUrl(database, env);
  return url ? `postgres ${pgWhere(url)}` : (database.path ?? DEFAULTS.database.path);
}

export async function openEngine(database: DatabaseSetting, o: OpenEngineOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<Engine> {
  const url = databaseUrl(database, env);
  if (url) {
    // Imported here, not at the top: a SQLite daemon never loads pg and drizzle's pg-core (about 2 MiB of heap).
    const { openPgEngine } = await import('./pg/engine.js');
    return await openPgEngine(url, {
      migrate: o.migrate,
      poolSize: o.poolSize,
      lockTimeoutMs: o.busyTimeoutMs,
      statementTimeoutMs: o.statementTimeoutMs,
      reconnect: o.reconnect,
      connectTimeoutMs: database.connectTimeoutMs ?? DEFAULTS.database.connectTimeoutMs,
      keepAliveMs: database.keepAliveMs ?? DEFAULTS.database.keepAliveMs,
      ...(o.boundQueries ? { queryTimeoutMs: database.queryTimeoutMs ?? DEFAULTS.database.queryTimeoutMs } : {}),
      log: o.log,
    });
  }
  // The transitional SQLite Db (src/store/db.ts) is the store contract's Engine too.
  return openDb(database.path ?? DEFAULTS.database.path, { migrate: o.migrate, busyTimeoutMs: o.busyTimeoutMs });
}
