import Database from 'better-sqlite3';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { CallbackdError, ErrorCodes, messageOf } from '../errors.js';
import type { Engine, Q, Tables } from './conn.js';
import { attachSqliteRoot, cacheStatements, sqliteIdle } from './engine.js';
import { consoleSessions, userPasswords } from './people.js';
import * as schema from './schema.js';

/**
 * The SQLite database: drizzle's better-sqlite3 db (what the not-yet-async store functions take) that is also
 * an `Engine` (what the async ones take: `q` is the db itself, `t` its tables). A transaction's `tx` is the
 * same object with `inTx: true` (src/store/engine.ts), so both kinds of store function accept it.
 */
export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database } & Engine;

/** The SQLite tables under the pg tables' type (same keys and row types: src/store/pg/schema-twins.ts). */
const sqliteTables = { ...schema, userPasswords, consoleSessions } as unknown as Tables;

// sql/ sits at the package root; this file runs from src/store or dist/src/store.
export function sqlDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      if (readdirSync(join(dir, 'sql')).some((f) => f.endsWith('.sql'))) return join(dir, 'sql');
    } catch {
      /* keep walking up */
    }
    dir = dirname(dir);
  }
  throw new CallbackdError(ErrorCodes.DB_MIGRATION, 'cannot find the sql/ migrations folder next to callbackd');
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function listMigrations(dir = sqlDir()): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_.+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 4)), name: f, sql: readFileSync(join(dir, f), 'utf8') }));
}

/** Applies every migration not yet applied, each in its own transaction. Returns the names applied. */
export function migrate(client: Database.Database, migrations = listMigrations()): string[] {
  client.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const done = new Set(
    (client.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
  );
  const applied: string[] = [];
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    const apply = client.transaction(() => {
      client.exec(m.sql);
      client.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    });
    try {
      apply();
    } catch (err) {
      throw new CallbackdError(ErrorCodes.DB_MIGRATION, `migration ${m.name} failed: ${messageOf(err)}`);
    }
    applied.push(m.name);
  }
  return applied;
}

export interface OpenOptions {
  migrate?: boolean;
  readonly?: boolean;
  /** How long a write waits for another process's write lock (default 5000 ms). better-sqlite3 waits synchronously: the HTTP API uses a short one and answers 503. */
  busyTimeoutMs?: number;
}

/**
 * The database holds people's names, numbers and notes: a new file is created 0600 (owner only),
 * and SQLite gives the -wal and -shm files it makes next to it the same mode. An existing file
 * keeps the mode its admin gave it. False when the file was already there.
 */
export function createPrivateFile(path: string, ifExists: 'keep' | 'fail' = 'keep'): boolean {
  if (path === ':memory:' || path === '' || path.startsWith('file:')) return false;
  try {
    closeSync(openSync(path, 'wx', 0o600));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST' && ifExists === 'keep') return false;
    throw err;
  }
}

/** A consistent copy of the live database (SQLite online backup) into a new file, created 0600. */
export async function backupDb(db: Db, file: string): Promise<void> {
  createPrivateFile(file, 'fail');
  await db.$client.backup(file);
}

export function openDb(path: string, opts: OpenOptions = {}): Db {
  if (!opts.readonly) createPrivateFile(path);
  const client = new Database(path, { readonly: opts.readonly ?? false });
  // WAL lets the CLI read and write while the daemon runs; the busy timeout makes a competing
  // writer wait instead of failing with SQLITE_BUSY.
  if (!opts.readonly) client.pragma('journal_mode = WAL');
  client.pragma('foreign_keys = ON');
  client.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
  client.pragma('synchronous = NORMAL');
  if (opts.migrate !== false && !opts.readonly) migrate(client);
  const db = drizzle(client, { schema });
  attachSqliteRoot(db, client);
  cacheStatements(db, client);
  return Object.defineProperties(db, {
    kind: { value: 'sqlite', enumerable: true },
    q: { value: db as unknown as Q },
    t: { value: sqliteTables },
    inTx: { value: false, enumerable: true },
    describe: { value: () => ({ engine: 'sqlite' as const, where: client.name }) },
    close: {
      // Waits for a running transaction (its COMMIT) rather than cutting it off.
      value: async (): Promise<void> => {
        await sqliteIdle(db as unknown as Db);
        if (client.open) client.close();
      },
    },
  }) as unknown as Db;
}
