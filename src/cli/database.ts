import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { loadConfig } from '../config.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import { importFile } from '../import.js';
import { backupDb, openDb } from '../store/db.js';
import { dbOptions, dbPath, examples, openDatabase, withDb, type DbOptions } from './shared.js';

// The database file: create/upgrade it, copy it, load the call center into it.

export function databaseCommands(program: Command): void {
  examples(
    dbOptions(program.command('backup <file>').description('write a consistent copy of the database while the daemon runs (SQLite online backup); the source must exist')),
    ['callbackd backup /var/backups/callbackd-$(date +%F).db -c /etc/callbackd/callbackd.yaml'],
  ).action(async (file: string, o: DbOptions) => {
    if (existsSync(file)) throw new CallbackdError(ErrorCodes.INPUT_INVALID, `${file} exists; give a new file name`);
    const where = dbPath(o);
    const db = openDatabase(where, { migrate: false });
    try {
      const t0 = Date.now();
      await backupDb(db, file);
      const copy = openDb(file, { migrate: false, readonly: true });
      const check = copy.$client.pragma('integrity_check', { simple: true });
      copy.$client.close();
      if (check !== 'ok') throw new CallbackdError(ErrorCodes.DB_MIGRATION, `the copy failed its integrity check: ${check}`);
      console.log(`backed up ${where.path} to ${file} in ${Date.now() - t0} ms (integrity_check ok)`);
    } finally {
      db.$client.close();
    }
  });

  examples(
    dbOptions(program.command('migrate').description('create or upgrade the database schema (the daemon also does this at start); the only command besides import that creates a database')),
    ['callbackd migrate --db /var/lib/callbackd/callbackd.db', 'callbackd migrate -c /etc/callbackd/callbackd.yaml'],
  ).action((o: DbOptions) => {
    // With -c the whole file is checked as `start` checks it: a typo is found before the daemon runs.
    const where = o.config && !o.db ? { path: loadConfig(o.config).database.path, from: `database.path in ${o.config}` } : dbPath(o);
    openDatabase(where, { create: true }).$client.close();
    console.log(`database ${where.path} is up to date`);
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
