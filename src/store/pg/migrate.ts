import { join } from 'node:path';
import type pg from 'pg';
import { CallbackdError, ErrorCodes } from '../../errors.js';
import { listMigrations, sqlDir, type Migration } from '../db.js';

// PostgreSQL's migrations live in sql/pg/, one per file of sql/ with the same number and name
// (test/integration/pg-schema.test.ts holds the two lists and the two schemas together).

export function listPgMigrations(): Migration[] {
  return listMigrations(join(sqlDir(), 'pg'));
}

// Any constant will do: it only has to be the same for every callbackd that migrates this database.
const MIGRATE_LOCK = 0x63626b64; // 'cbkd'

/**
 * Applies every migration not yet applied, each in its own transaction (PostgreSQL's DDL is
 * transactional), recorded in schema_migrations like SQLite's. An advisory lock makes daemons that
 * start together take turns instead of racing. Returns the names applied.
 */
export async function migratePg(client: pg.ClientBase, migrations = listPgMigrations()): Promise<string[]> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
    const done = new Set((await client.query<{ version: string }>('SELECT version FROM schema_migrations')).rows.map((r) => Number(r.version)));
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      try {
        await client.query('BEGIN');
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new CallbackdError(ErrorCodes.DB_MIGRATION, `PostgreSQL migration ${m.name} failed: ${(err as Error).message}`);
      }
      applied.push(m.name);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK]);
  }
}

/** The versions recorded in a PostgreSQL database's schema_migrations; empty when it has none. */
export async function pgSchemaVersions(client: pg.ClientBase): Promise<number[]> {
  const t = await client.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
  if (!t.rows[0]?.present) return [];
  return (await client.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => Number(r.version));
}
