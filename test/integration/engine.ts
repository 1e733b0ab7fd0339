// The engine a conformance test runs on (vitest.config.ts: the `sqlite` and `pg` projects set
// CALLBACKD_TEST_ENGINE). Tests are written once against the store contract (src/store/conn.ts) and get
// their database here:
//   sqlite: a migrated temp file per call (openDb), as the tests always had;
//   pg:     a copy of the run's migrated template (test/lab/pg-global.ts), opened by openPgEngine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterEach, beforeEach, inject } from 'vitest';
import type { Conn, Engine } from '../../src/store/conn.js';
import { openDb, type Db } from '../../src/store/db.js';
import { openPgEngine, type PgEngine, type PgEngineOptions } from '../../src/store/pg/engine.js';
import { TEMPLATE_DB } from '../lab/pg-global.js';

export type EngineName = 'sqlite' | 'pg';

export const TEST_ENGINE: EngineName = process.env.CALLBACKD_TEST_ENGINE === 'pg' ? 'pg' : 'sqlite';

export interface TestEngine extends Engine {
  /** The SQLite file, or the PostgreSQL URL of this test's own database. */
  readonly location: string;
  /** Closes this engine and (for the first connection) removes its database. Safe to call twice. */
  cleanup(): Promise<void>;
}

const open: TestEngine[] = [];

function withCleanup<E extends Engine>(e: E, location: string, drop: () => Promise<void>): E & TestEngine {
  let done = false;
  const te = Object.assign(e, {
    location,
    async cleanup() {
      if (done) return;
      done = true;
      await e.close();
      await drop();
    },
  });
  open.push(te);
  return te;
}

function sqliteEngine(file: string, dir: string | null): Db & TestEngine {
  const db = openDb(file, { migrate: dir !== null });
  // The transitional Db (src/store/db.ts) is the store contract's Engine too.
  return withCleanup(db, file, async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
}

async function adminQuery(text: string): Promise<void> {
  const c = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

async function pgEngine(url: string, owner: boolean, o: PgEngineOptions): Promise<PgEngine & TestEngine> {
  const e = await openPgEngine(url, o);
  const name = new URL(url).pathname.slice(1);
  return withCleanup(e, url, async () => {
    if (owner) await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
}

/** A new, migrated, empty database on this run's engine, and an engine open on it. */
export async function freshEngine(o: PgEngineOptions = {}): Promise<TestEngine> {
  if (TEST_ENGINE === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'cbd-engine-'));
    return sqliteEngine(join(dir, 'callbackd.db'), dir);
  }
  const admin = inject('pgAdminUrl');
  if (!admin) throw new Error(`no PostgreSQL for this run: ${inject('pgSkipReason') || 'test/lab/pg-global.ts is not this project\'s globalSetup'}`);
  const name = `t_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`);
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return pgEngine(u.toString(), true, o);
}

/** Another engine on the same database (another daemon, the CLI): its own connections, its own transactions. */
export async function secondConnection(e: TestEngine, o: PgEngineOptions = {}): Promise<TestEngine> {
  return e.kind === 'sqlite' ? sqliteEngine(e.location, null) : pgEngine(e.location, false, o);
}

/** Closes every engine freshEngine/secondConnection opened (second connections first). For afterEach/afterAll. */
export async function cleanupEngines(): Promise<void> {
  for (const e of open.splice(0).reverse()) await e.cleanup();
}

export interface ExecResult {
  rows: Record<string, unknown>[];
  /** Rows changed by an INSERT/UPDATE/DELETE (SQLite `changes`, pg `rowCount`). */
  changes: number;
}

/**
 * Raw SQL on either engine, for tests that set up or time-travel what the store functions do not
 * (`UPDATE callbacks SET due_at = ? …`). Write `?` for each parameter (never inside a string literal):
 * it becomes $1, $2 … on PostgreSQL. Runs on `c`, so inside a transaction when `c` is its tx.
 */
export async function dbExec(c: Conn, text: string, params: unknown[] = []): Promise<ExecResult> {
  if (c.kind === 'sqlite') {
    const client = (c as unknown as Db).$client;
    const st = client.prepare(text);
    if (st.reader) return { rows: st.all(...params) as Record<string, unknown>[], changes: 0 };
    return { rows: [], changes: st.run(...params).changes };
  }
  const parts = text.split('?');
  if (parts.length - 1 !== params.length) throw new Error(`dbExec: ${parts.length - 1} placeholders, ${params.length} parameters`);
  const query = sql.join(parts.flatMap((p, i) => (i === 0 ? [sql.raw(p)] : [sql`${params[i - 1]}`, sql.raw(p)])));
  const r = (await c.q.execute(query)) as unknown as pg.QueryResult<Record<string, unknown>>;
  return { rows: r.rows, changes: r.command === 'SELECT' ? 0 : (r.rowCount ?? 0) };
}

/**
 * A fresh, migrated database for each test of the file, handed to `use` (and seeded by `seed`);
 * closed and dropped after the test. The conformance files' one setup.
 */
export function freshEngineEachTest(use: (e: TestEngine) => void, seed?: (e: TestEngine) => Promise<void>): void {
  beforeEach(async () => {
    const e = await freshEngine();
    use(e);
    await seed?.(e);
  });
  afterEach(async () => {
    await cleanupEngines();
  });
}
