import { InvalidArgumentError, type Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { DateTime } from 'luxon';
import YAML from 'yaml';
import { CallbackdError, ErrorCodes, messageOf } from '../errors.js';
import type { Conn, Engine } from '../store/conn.js';
import { openDb, type Db } from '../store/db.js';
import { databaseWhere, openEngine } from '../store/open-engine.js';

// What the command groups share: where the database is, opening it, and printing.

export interface DbOptions {
  db?: string;
  config?: string;
}

/** Which database a command means, and where that came from (named in errors). Never prints a password. */
export type DbTarget =
  | { engine: 'sqlite'; path: string; from: string }
  | { engine: 'pg'; url: string; where: string; from: string };

const isPgUrl = (v: unknown): v is string => typeof v === 'string' && /^postgres(ql)?:\/\//i.test(v);

function target(v: string, from: string): DbTarget {
  if (!isPgUrl(v)) return { engine: 'sqlite', path: v, from };
  try {
    return { engine: 'pg', url: v, where: databaseWhere({ url: v }, {}), from };
  } catch {
    throw new CallbackdError(ErrorCodes.INPUT_INVALID, `${from}: not a valid PostgreSQL URL (postgres://USER@HOST:PORT/DB)`);
  }
}

/**
 * The database of a command, as the daemon would pick it: --db (a SQLite file or a postgres:// URL), then
 * $CALLBACKD_DB (the same), then -c's database.url or database.path ($CALLBACKD_DATABASE_URL wins over a
 * path, as in `start`), then $CALLBACKD_DATABASE_URL, else ./callbackd.db. The config's secrets are not read.
 */
export function dbTarget(o: DbOptions, env: NodeJS.ProcessEnv = process.env): DbTarget {
  if (o.db) return target(o.db, '--db');
  if (env.CALLBACKD_DB) return target(env.CALLBACKD_DB, '$CALLBACKD_DB');
  if (o.config) {
    const raw = readConfigLoosely(o.config) as { database?: { path?: unknown; url?: unknown } } | null;
    if (isPgUrl(raw?.database?.url)) return target(raw.database.url, `database.url in ${o.config}`);
    if (env.CALLBACKD_DATABASE_URL) return target(env.CALLBACKD_DATABASE_URL, '$CALLBACKD_DATABASE_URL');
    if (typeof raw?.database?.path === 'string') return target(raw.database.path, `database.path in ${o.config}`);
  }
  if (env.CALLBACKD_DATABASE_URL) return target(env.CALLBACKD_DATABASE_URL, '$CALLBACKD_DATABASE_URL');
  return { engine: 'sqlite', path: './callbackd.db', from: 'the default database (give --db FILE or -c CONFIG)' };
}

/** The target as printed: the SQLite path, or "postgres host:port/db". */
export const targetName = (t: DbTarget): string => (t.engine === 'sqlite' ? t.path : t.where);

/** A command that only SQLite can do refuses a PostgreSQL target in one line saying what to use instead. */
export function sqliteOnly(t: DbTarget, what: string, instead: string): { path: string; from: string } {
  if (t.engine === 'pg') throw new CallbackdError(ErrorCodes.INPUT_INVALID, `${t.from} names PostgreSQL (${t.where}): ${what} works on a SQLite database only; ${instead}`);
  return t;
}

/** The SQLite database of a command that works on SQLite only (`what`): a PostgreSQL target is refused. */
export function dbPath(o: DbOptions, what = 'this command', instead = 'give --db FILE', env: NodeJS.ProcessEnv = process.env): { path: string; from: string } {
  return sqliteOnly(dbTarget(o, env), what, instead);
}

/** A config file's settings, unchecked: admin commands read one or two of them and need no secrets. */
export function readConfigLoosely(file: string): unknown {
  try {
    return YAML.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CallbackdError(ErrorCodes.CONFIG_INVALID, `-c ${file}: cannot read the config file: ${messageOf(err)}`);
  }
}

export interface OpenMode {
  /** Only `migrate` and `import` create a missing database; every other command refuses one. */
  create?: boolean;
  migrate?: boolean;
  readonly?: boolean;
}

/** Opens a SQLite database; a missing file, a directory or a file that is not SQLite is one line naming where the path came from. */
export function openDatabase(where: { path: string; from: string }, mode: OpenMode = {}): Db {
  const { path, from } = where;
  if (!mode.create && !existsSync(path)) {
    throw new CallbackdError(ErrorCodes.DB_UNAVAILABLE, `${from}: no database at ${path} (create one with \`callbackd migrate --db ${path}\`)`);
  }
  try {
    return openDb(path, { migrate: mode.migrate ?? true, readonly: mode.readonly });
  } catch (err) {
    if (err instanceof CallbackdError) throw err;
    throw new CallbackdError(ErrorCodes.DB_UNAVAILABLE, `${from}: cannot open the database ${path}: ${messageOf(err)}`);
  }
}

/**
 * Opens either engine. PostgreSQL: the database must exist (create it with createdb); its schema is
 * created or upgraded here unless `migrate: false` (then an unreachable server is the same one line).
 */
export async function openTarget(t: DbTarget, mode: OpenMode = {}): Promise<Engine> {
  if (t.engine === 'sqlite') return openDatabase(t, mode);
  try {
    return await openEngine({ url: t.url }, { migrate: mode.migrate ?? true, poolSize: 2 }, {});
  } catch (err) {
    if (err instanceof CallbackdError) throw err;
    // pg's messages name no password (the URL is never in them); the target is printed without one.
    throw new CallbackdError(ErrorCodes.DB_UNAVAILABLE, `${t.from}: cannot open the PostgreSQL database ${t.where}: ${messageOf(err)}`);
  }
}

/** Runs `f` on the command's database (either engine), then closes it. */
export async function withDb<T>(o: DbOptions, f: (db: Conn) => T | Promise<T>, mode: OpenMode = {}): Promise<T> {
  const engine = await openTarget(dbTarget(o), mode);
  try {
    return await f(engine);
  } finally {
    await engine.close();
  }
}

/** --db and -c, on every command that reads or writes the database. */
export function dbOptions(cmd: Command): Command {
  return cmd
    .option('--db <file|url>', 'SQLite database file or postgres:// URL (default: database.path/url from --config, $CALLBACKD_DB, $CALLBACKD_DATABASE_URL, or ./callbackd.db)')
    .option('-c, --config <file>', 'read database.path or database.url from this config file');
}

export function examples(cmd: Command, lines: string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
}

export const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of 1 or more');
  return n;
};

export const fmt = (ms: number | null, zone: string): string => (ms === null ? '-' : DateTime.fromMillis(ms, { zone }).toFormat('yyyy-LL-dd HH:mm:ss ZZZZ'));

/** An ISO instant shown on a zone's clock, '-' when absent. */
export const at = (iso: string | null | undefined, zone: string): string => (iso ? fmt(Date.parse(iso), zone) : '-');

export function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) console.log(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
}

export const printJson = (v: unknown): void => console.log(JSON.stringify(v, null, 2));
