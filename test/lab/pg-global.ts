// vitest globalSetup of the `pg` project (vitest.config.ts): ONE throwaway PostgreSQL per run
// (test/lab/postgres.sh), a template database `callbackd_tpl` migrated by migratePg, so that every test
// copies a migrated database in milliseconds (CREATE DATABASE … TEMPLATE, test/integration/engine.ts).
// With CI=true a cluster that cannot start fails the run; elsewhere the pg project's tests are
// skipped, loudly (test/lab/pg-skip.ts reads the reason provided here).
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { listPgMigrations, migratePg } from '../../src/store/pg/migrate.js';
import { inCi, startPostgres } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The cluster's superuser URL (database `postgres`); '' when no cluster. */
    pgAdminUrl: string;
    /** Why the pg project is skipped (outside CI only); '' when it runs. */
    pgSkipReason: string;
  }
}

export const TEMPLATE_DB = 'callbackd_tpl';

export default async function setup(project: TestProject): Promise<() => void> {
  const s = startPostgres();
  if (!s.ok) {
    if (inCi) throw new Error(`PostgreSQL could not start (CI=true, so the pg project fails): ${s.reason}`);
    console.warn(`\n*** pg project SKIPPED: ${s.reason}\n*** (with CI=true this is a failure)\n`);
    project.provide('pgAdminUrl', '');
    project.provide('pgSkipReason', s.reason);
    return () => undefined;
  }
  const lab = s.lab;
  try {
    const admin = new pg.Client({ connectionString: lab.url });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${TEMPLATE_DB}`);
    } finally {
      await admin.end();
    }
    const u = new URL(lab.url);
    u.pathname = `/${TEMPLATE_DB}`;
    const tpl = new pg.Client({ connectionString: u.toString() });
    await tpl.connect();
    try {
      const applied = await migratePg(tpl);
      if (applied.length !== listPgMigrations().length) throw new Error(`the template got ${applied.length} migrations, expected ${listPgMigrations().length}`);
    } finally {
      // A template must have no connection open while it is copied.
      await tpl.end();
    }
  } catch (err) {
    lab.stop();
    throw err;
  }
  project.provide('pgAdminUrl', lab.url);
  project.provide('pgSkipReason', '');
  return () => lab.stop();
}
