import { InvalidArgumentError, type Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { DateTime } from 'luxon';
import YAML from 'yaml';
import { CallbackdError, ErrorCodes, messageOf } from '../errors.js';
import { openDb, type Db } from '../store/db.js';

// What the command groups share: where the database is, opening it, and printing.

export interface DbOptions {
  db?: string;
  config?: string;
}

/** The database path and where it came from (named in errors), without the daemon's secrets. */
export function dbPath(o: DbOptions, env: NodeJS.ProcessEnv = process.env): { path: string; from: string } {
  if (o.db) return { path: o.db, from: '--db' };
  if (env.CALLBACKD_DB) return { path: env.CALLBACKD_DB, from: '$CALLBACKD_DB' };
  if (o.config) {
    const raw = readConfigLoosely(o.config) as { database?: { path?: unknown } } | null;
    if (typeof raw?.database?.path === 'string') return { path: raw.database.path, from: `database.path in ${o.config}` };
  }
  return { path: './callbackd.db', from: 'the default database (give --db FILE or -c CONFIG)' };
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

/** Opens the database; a missing file, a directory or a file that is not SQLite is one line naming where the path came from. */
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

export async function withDb<T>(o: DbOptions, f: (db: Db) => T | Promise<T>, mode: OpenMode = {}): Promise<T> {
  const db = openDatabase(dbPath(o), mode);
  try {
    return await f(db);
  } finally {
    db.$client.close();
  }
}

/** --db and -c, on every command that reads or writes the database. */
export function dbOptions(cmd: Command): Command {
  return cmd
    .option('--db <file>', 'SQLite database file (default: database.path from --config, $CALLBACKD_DB, or ./callbackd.db)')
    .option('-c, --config <file>', 'read database.path from this config file');
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
