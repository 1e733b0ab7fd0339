import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { loadConfig } from '../config.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import { importFile } from '../import.js';
import { backupDb, openDb } from '../store/db.js';
import { databaseUrl } from '../store/open-engine.js';
import { copyCommand, type CopyOptions } from './db.js';
import { dbOptions, dbPath, dbTarget, examples, openDatabase, openTarget, positiveInt, targetName, withDb, type DbOptions, type DbTarget } from './shared.js';

// The database: create/upgrade it (SQLite file or PostgreSQL), move it from SQLite to PostgreSQL, back
// it up (SQLite), load the call center into it.

type MigrateOptions = DbOptions & Partial<CopyOptions>;

export function databaseCommands(program: Command): void {
  examples(
    dbOptions(program.command('backup <file>').description('write a consistent copy of the database while the daemon runs (SQLite online backup); the source must exist')),
    ['callbackd backup /var/backups/callbackd-$(date +%F).db -c /etc/callbackd/callbackd.yaml'],
  ).action(async (file: string, o: DbOptions) => {
    if (existsSync(file)) throw new CallbackdError(ErrorCodes.INPUT_INVALID, `${file} exists; give a new file name`);
    const where = dbPath(o, 'backup (SQLite online backup)', 'back PostgreSQL up with pg_dump');
    const db = openDatabase(where, { migrate: false });
    try {
      const t0 = Date.now();
      await backupDb(db, file);
      const copy = openDb(file, { migrate: false, readonly: true });
      const check = copy.$client.pragma('integrity_check', { simple: true });
      await copy.close();
      if (check !== 'ok') throw new CallbackdError(ErrorCodes.DB_MIGRATION, `the copy failed its integrity check: ${check}`);
      console.log(`backed up ${where.path} to ${file} in ${Date.now() - t0} ms (integrity_check ok)`);
    } finally {
      await db.close();
    }
  });

  examples(
    dbOptions(
      program
        .command('migrate')
        .description(
          'create or upgrade the database schema, SQLite or PostgreSQL (the daemon also does this at start); the only command besides import that creates a SQLite database. With --from sqlite:FILE --to postgres://…: move a center from SQLite to PostgreSQL (`db copy`)',
        ),
    )
      .option('--from <sqlite>', 'move this SQLite database (sqlite:FILE or FILE) into --to: every row, then counts and content hashes compared; stop the daemon first')
      .option('--to <url>', 'the PostgreSQL database to move into: postgres://USER@HOST:PORT/DB (default: $CALLBACKD_DATABASE_URL)')
      .option('--resume', 'with --from: continue a move that stopped (keep tables already identical, copy the empty ones)')
      .option('--batch <rows>', 'with --from: rows per INSERT', positiveInt, 2000),
    [
      'callbackd migrate --db /var/lib/callbackd/callbackd.db',
      'callbackd migrate -c /etc/callbackd/callbackd.yaml',
      'callbackd migrate --db postgres://callbackd@db1:5432/callbackd',
      'callbackd migrate --from sqlite:/var/lib/callbackd/callbackd.db --to postgres://callbackd@db1:5432/callbackd',
    ],
  ).action(async (o: MigrateOptions) => {
    if (o.from !== undefined) {
      if (o.db || o.config) throw new CallbackdError(ErrorCodes.INPUT_INVALID, '--from moves a database into --to: give --to postgres://…, not --db or -c');
      return copyCommand({ from: o.from, to: o.to, resume: o.resume, batch: o.batch ?? 2000 });
    }
    if (o.to !== undefined || o.resume) throw new CallbackdError(ErrorCodes.INPUT_INVALID, '--to and --resume go with --from sqlite:FILE (moving a SQLite database into PostgreSQL)');
    // With -c the whole file is checked as `start` checks it: a typo is found before the daemon runs.
    const t: DbTarget = o.config && !o.db ? configTarget(o.config) : dbTarget(o);
    await (await openTarget(t, { create: true })).close();
    console.log(`database ${targetName(t)} is up to date`);
  });

  examples(
    dbOptions(
      program
        .command('import <file>')
        .description('load trunks, numbers, campaigns, lists, agents, phones, leads, users and DNC entries from one YAML/JSON file (all or nothing; re-importing is safe; creates the database if needed)'),
    ),
    ['callbackd import examples/callcenter.yaml --db callbackd.db', 'callbackd import leads.yaml -c /etc/callbackd/callbackd.yaml'],
  ).action(async (file: string, o: DbOptions) => {
    const counts = await withDb(o, async (db) => await importFile(db, file, Date.now()), { create: true });
    console.log(`imported ${file}: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}`);
  });
}

/** The database a config file names, read as `start` reads it (secrets and environment included). */
function configTarget(file: string): DbTarget {
  const config = loadConfig(file);
  const url = databaseUrl(config.database);
  return { ...dbTarget({ db: url ?? config.database.path }, {}), from: url ? `database.url in ${file}` : `database.path in ${file}` };
}
