import Database from 'better-sqlite3';
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import type pg from 'pg';
import { CallbackdError, ErrorCodes } from '../errors.js';
import type { TableCheck } from '../store/pg/copy.js';
import { examples, positiveInt } from './shared.js';

// `callbackd db copy|verify --from sqlite:FILE --to postgres://…`: moves a center's SQLite database
// into PostgreSQL (src/store/pg/copy.ts) and checks the two hold the same rows. `callbackd migrate
// --from sqlite:FILE --to postgres://…` is the same copy under issue 16's name.

const FROM_HELP = 'the SQLite database: sqlite:FILE or FILE';
const TO_HELP = 'the PostgreSQL database: postgres://USER@HOST:PORT/DB (default: $CALLBACKD_DATABASE_URL); the password from the URL or $PGPASSWORD';

function sqlitePath(from: string): string {
  const path = from.startsWith('sqlite:') ? from.slice('sqlite:'.length) : from;
  if (!existsSync(path)) throw new CallbackdError(ErrorCodes.INPUT_INVALID, `no SQLite database at ${path}`);
  return path;
}

function pgUrl(to: string | undefined): string {
  const url = to ?? process.env.CALLBACKD_DATABASE_URL;
  if (!url || !/^postgres(ql)?:\/\//.test(url)) throw new CallbackdError(ErrorCodes.INPUT_INVALID, 'give the target as --to postgres://… (or set CALLBACKD_DATABASE_URL)');
  return url;
}

/** The URL as it may be printed: never the password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

async function withBoth<T>(o: { from: string; to?: string }, f: (db: Database.Database, client: pg.Client, target: string) => Promise<T>): Promise<T> {
  const db = new Database(sqlitePath(o.from), { readonly: true, fileMustExist: true });
  const url = pgUrl(o.to);
  // pg and the copy code are loaded by these commands only, not by every start of the CLI (the daemon's too).
  const { default: driver } = await import('pg');
  const client = new driver.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (err) {
    db.close();
    throw new CallbackdError(ErrorCodes.INPUT_INVALID, `cannot connect to ${redactUrl(url)}: ${(err as Error).message}`);
  }
  try {
    return await f(db, client, redactUrl(url));
  } finally {
    await client.end().catch(() => undefined);
    db.close();
  }
}

function printChecks(checks: TableCheck[]): boolean {
  const rows = [['TABLE', 'SQLITE ROWS', 'POSTGRES ROWS', 'CONTENT HASH (sqlite / postgres, first 16)', 'CHECK']];
  for (const c of checks)
    rows.push([c.table, String(c.sourceRows), String(c.targetRows), `${c.sourceDigest.slice(0, 16)} / ${c.targetDigest.slice(0, 16)}`, c.same ? 'same' : 'DIFFERENT']);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd());
  const bad = checks.filter((c) => !c.same);
  if (bad.length > 0) console.log(`DIFFERENT: ${bad.map((c) => c.table).join(', ')}`);
  return bad.length === 0;
}

export interface CopyOptions {
  from: string;
  to?: string;
  resume?: boolean;
  batch: number;
}

/** `db copy`, also `migrate --from sqlite:FILE --to postgres://…` (issue 16's name for it). */
export async function copyCommand(o: CopyOptions): Promise<void> {
  await withBoth(o, async (src, client, target) => {
    console.error(`copying ${o.from} into ${target}`);
    const { copySqliteToPg } = await import('../store/pg/copy.js');
    const checks = await copySqliteToPg(src, client, { batchRows: o.batch, resume: o.resume, progress: (l) => console.error(`  ${l}`) });
    if (!printChecks(checks)) throw new CallbackdError(ErrorCodes.DB_MIGRATION, 'the copy differs from the source (see DIFFERENT); was the source written to during the copy?');
    console.log(`copied: ${checks.length} tables, ${checks.reduce((n, c) => n + c.targetRows, 0)} rows, every count and content hash the same`);
  });
}

export function dbCommands(program: Command): void {
  const db = program.command('db').description('move the database between engines: copy SQLite into PostgreSQL, verify the two hold the same rows');
  examples(
    db.command('copy').description('copy every table of a SQLite database into a new PostgreSQL database (migrated first), then compare counts and content hashes table by table; stop the daemon first'),
    ['callbackd db copy --from sqlite:/var/lib/callbackd/callbackd.db --to postgres://callbackd@db1:5432/callbackd', 'CALLBACKD_DATABASE_URL=postgres://… callbackd db copy --from callbackd.db --resume'],
  )
    .requiredOption('--from <sqlite>', FROM_HELP)
    .option('--to <url>', TO_HELP)
    .option('--resume', 'continue a copy that stopped: keep the tables already identical to the source, copy the empty ones')
    .option('--batch <rows>', 'rows per INSERT (memory stays bounded by this)', positiveInt, 2000)
    .action(copyCommand);
  examples(
    db.command('verify').description('compare a SQLite database and a PostgreSQL database table by table (row count and content hash); exit 1 when any table differs'),
    ['callbackd db verify --from callbackd.db --to postgres://callbackd@db1:5432/callbackd'],
  )
    .requiredOption('--from <sqlite>', FROM_HELP)
    .option('--to <url>', TO_HELP)
    .action(async (o: { from: string; to?: string }) => {
      await withBoth(o, async (src, client) => {
        const { verifyCopy } = await import('../store/pg/copy.js');
        if (!printChecks(await verifyCopy(src, client))) throw new CallbackdError(ErrorCodes.DB_MIGRATION, 'the databases differ');
      });
    });
}
