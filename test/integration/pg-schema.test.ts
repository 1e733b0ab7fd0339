// sql/pg/ against sql/ on a real PostgreSQL (test/lab/postgres.sh): the same migrations, the same
// tables, columns, keys, indexes and trigger names (one generic comparison), and triggers that write
// the same events for the same changes.
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCode } from '../../src/errors.js';
import { listMigrations, migrate } from '../../src/store/db.js';
import { compareShapes } from '../../src/store/pg/compare-shape.js';
import { listPgMigrations, migratePg } from '../../src/store/pg/migrate.js';
import { pgShape, sqliteShape } from '../../src/store/pg/shape.js';
import { inCi, pgForSuite, type PgLab } from '../lab/postgres.js';

const start = pgForSuite();
let lab: PgLab;
const clients: pg.Client[] = [];

// int8 as a number here, so rows compare with SQLite's (the values in these tests are small).
const numericInt8 = { getTypeParser: ((oid: number, format?: string) => (oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser };

async function freshPg(url?: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url ?? (await lab.createDatabase()), types: numericInt8 });
  await c.connect();
  clients.push(c);
  return c;
}

function freshSqlite(): Database.Database {
  const d = new Database(':memory:');
  d.pragma('foreign_keys = ON');
  migrate(d);
  return d;
}

beforeAll(() => {
  if (start.ok) lab = start.lab;
});
afterAll(async () => {
  for (const c of clients) await c.end().catch(() => undefined);
  if (start.ok) start.lab.stop();
});

describe.skipIf(!start.ok && !inCi)('PostgreSQL schema mirrors the SQLite one', () => {
  it('has one PostgreSQL migration per SQLite migration, same number and name', () => {
    const s = listMigrations().map((m) => m.name);
    expect(s.length).toBeGreaterThanOrEqual(10);
    expect(listPgMigrations().map((m) => m.name)).toEqual(s);
  });

  it('after all migrations, every table, column, key, index and trigger of SQLite exists in PostgreSQL with a compatible type', async () => {
    const c = await freshPg();
    expect(await migratePg(c)).toEqual(listPgMigrations().map((m) => m.name));
    const s = sqliteShape(freshSqlite());
    const p = await pgShape(c);
    expect(s.map((t) => t.name)).toContain('callbacks');
    expect(s.flatMap((t) => t.columns).length).toBeGreaterThan(100);
    expect(compareShapes(s, p)).toEqual([]);
    // Only the objects PG_ONLY names (0023: the outbox horizon, the NOTIFY trigger) are let through.
    expect(compareShapes(s, p, { columns: [], triggers: [] })).toEqual([
      'column events.xid exists only in PostgreSQL',
      'table events: triggers [] in SQLite, [events_notify] in PostgreSQL',
    ]);
    // And the comparison does notice a difference: a narrowed time, a lost trigger, a lost column.
    await c.query('ALTER TABLE phone_presence ALTER COLUMN changed_at TYPE integer');
    await c.query('DROP TRIGGER events_actor ON audit');
    await c.query('ALTER TABLE leads DROP COLUMN time_zone');
    await c.query('ALTER TABLE trunks ALTER COLUMN max_channels SET DEFAULT 5');
    const diff = compareShapes(s, await pgShape(c));
    expect(diff).toEqual([
      'table audit: triggers [events_actor] in SQLite, [] in PostgreSQL',
      'column leads.time_zone is missing in PostgreSQL',
      'column phone_presence.changed_at: INTEGER (INTEGER) needs int8, found int4',
      'column trunks.max_channels: default 0 in SQLite, 5 in PostgreSQL',
    ]);
  });

  it('applies each migration once, in a transaction, and takes turns when two run at once', async () => {
    const url = await lab.createDatabase();
    const c = await freshPg(url);
    const d = await freshPg(url);
    const [a, b] = await Promise.all([migratePg(c), migratePg(d)]);
    expect([...a, ...b].sort()).toEqual(listPgMigrations().map((m) => m.name).sort());
    expect(await migratePg(c)).toEqual([]);
    const n = await c.query('SELECT count(*)::int AS n FROM schema_migrations');
    expect(n.rows[0].n).toBe(listPgMigrations().length);

    // 0023 on a database that already has events: they get the migrating transaction's id, new rows their own.
    const old = await freshPg();
    await migratePg(old, listPgMigrations().filter((m) => m.version < 23));
    await old.query("INSERT INTO events (at, type, callback_id, version, campaign_id, callback_type, data) VALUES (1, 'callback.live', 1, 1, 'C', 'ANYONE', '{}')");
    expect(await migratePg(old, listPgMigrations().filter((m) => m.version <= 23))).toEqual(['0023_cluster.sql']); // later migrations are not this check's
    await old.query("INSERT INTO events (at, type, callback_id, version, campaign_id, callback_type, data) VALUES (2, 'callback.live', 1, 2, 'C', 'ANYONE', '{}')");
    const xids = (await old.query<{ x: string }>('SELECT xid::text AS x FROM events ORDER BY id')).rows.map((r) => BigInt(r.x));
    expect(xids).toHaveLength(2);
    expect(xids[0]! < xids[1]!).toBe(true);

    const bad = [{ version: 9001, name: '9001_half.sql', sql: 'CREATE TABLE half_done (x int); SELECT no_such_function();' }];
    const err = await migratePg(c, bad).catch((e: unknown) => e);
    expect(isCode(err, 'DB_MIGRATION')).toBe(true);
    expect((await c.query("SELECT to_regclass('half_done') AS t")).rows[0].t).toBeNull();
    expect((await c.query('SELECT count(*)::int AS n FROM schema_migrations WHERE version = 9001')).rows[0].n).toBe(0);
  });
});

// The same writes, in portable SQL, on both engines; `?` becomes $n for PostgreSQL.
const T = 1_790_000_000_000;
const STEPS: [string, unknown[]][] = [
  ["INSERT INTO trunks (id, max_channels, calls_per_second, updated_at) VALUES ('carrier', 2, 1.5, ?)", [T]],
  ["INSERT INTO numbers (e164, trunk_id, updated_at) VALUES ('+15550100001', 'carrier', ?)", [T]],
  ["INSERT INTO campaigns (id, name, time_zone, outbound_number, updated_at) VALUES ('C', 'C', 'America/New_York', '+15550100001', ?)", [T]],
  ["INSERT INTO lists (id, campaign_id, name, updated_at) VALUES ('L', 'C', 'L', ?)", [T]],
  ["INSERT INTO leads (id, list_id, phone_e164, updated_at) VALUES ('lead1', 'L', '+15551230001', ?)", [T]],
  ["INSERT INTO agents (id, name, updated_at) VALUES ('a1', 'A', ?), ('a2', 'B', ?)", [T, T]],
  [
    "INSERT INTO callbacks (lead_id, campaign_id, type, owner_agent_id, due_at, due_zone, max_attempts, notes, created_by, created_at, updated_at) VALUES ('lead1', 'C', 'USERONLY', 'a1', ?, 'America/New_York', 3, 'call after 5 — «ok»', 'cli', ?, ?)",
    [T + 60_000, T, T],
  ],
  ["INSERT INTO audit (at, actor, action, callback_id) VALUES (?, 'cli', 'create', 1)", [T]],
  ["UPDATE callbacks SET state = 'LIVE', next_attempt_at = ?, updated_at = ? WHERE id = 1", [T + 60_000, T + 60_000]],
  ["UPDATE callbacks SET state = 'DIALING', dial_seq = 1, lease_token = 'tok', updated_at = ? WHERE id = 1", [T + 61_000]],
  [
    "INSERT INTO call_attempts (callback_id, seq, dial_order, agent_id, phone_endpoint, caller_id, customer_number, trunk_id, agent_channel_id, customer_channel_id, bridge_id, lease_token, started_at) VALUES (1, 1, 'AGENT_FIRST', 'a1', 'agent1001', '+15550100001', '+15551230001', 'carrier', 'ach', 'cch', 'br', 'tok', ?)",
    [T + 61_000],
  ],
  ["UPDATE call_attempts SET outcome = 'BUSY', cause = 17, sip_code = 486 WHERE id = 1", []],
  ["UPDATE callbacks SET state = 'LIVE', attempts = 1, last_outcome = 'BUSY', last_cause = 17, last_sip_code = 486, next_attempt_at = ?, updated_at = ? WHERE id = 1", [T + 400_000, T + 65_000]],
  ["UPDATE call_attempts SET ended_at = ?, customer_attempt = 1 WHERE id = 1", [T + 65_000]],
  ["UPDATE callbacks SET due_at = ?, updated_at = ? WHERE id = 1", [T + 900_000, T + 70_000]],
  ["UPDATE callbacks SET state = 'ACTIVE', owner_agent_id = 'a2', type = 'ANYONE', updated_at = ? WHERE id = 1", [T + 80_000]],
  ["INSERT INTO audit (at, actor, action, callback_id) VALUES (?, 'manager1', 'reassign', 1)", [T + 80_000]],
  ["UPDATE callbacks SET notes = 'no event, one version', updated_at = ? WHERE id = 1", [T + 90_000]],
  ["UPDATE callbacks SET version = 42, updated_at = ? WHERE id = 1", [T + 95_000]],
  ["UPDATE callbacks SET state = 'CANCELLED', fail_reason = 'by hand', updated_at = ? WHERE id = 1", [T + 99_000]],
];

const toPg = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

describe.skipIf(!start.ok && !inCi)('PL/pgSQL triggers write what the SQLite triggers write', () => {
  it('the same events (type, version, actor, payload) and versions for the same changes', async () => {
    const s = freshSqlite();
    const c = await freshPg();
    await migratePg(c);
    for (const [sql, params] of STEPS) {
      s.prepare(sql).run(...params);
      await c.query(toPg(sql), params);
    }
    const cols = 'id, at, type, callback_id, version, campaign_id, callback_type, owner_agent_id, actor, data';
    const norm = (rows: Record<string, unknown>[]): Record<string, unknown>[] => rows.map((r) => ({ ...r, data: JSON.parse(r.data as string) as unknown }));
    const sEvents = norm(s.prepare(`SELECT ${cols} FROM events ORDER BY id`).all() as Record<string, unknown>[]);
    const pEvents = norm((await c.query(`SELECT ${cols} FROM events ORDER BY id`)).rows);
    expect(sEvents.map((e) => e.type)).toEqual([
      'callback.created',
      'callback.live',
      'callback.dialing',
      'callback.live',
      'attempt.ended',
      'callback.rescheduled',
      'callback.reassigned',
      'callback.rescheduled',
      'callback.cancelled',
    ]);
    expect(pEvents).toEqual(sEvents);
    const version = 'SELECT version, notes FROM callbacks WHERE id = 1';
    expect((await c.query(version)).rows[0]).toEqual(s.prepare(version).get());
    expect((await c.query(version)).rows[0].version).toBe(43);
  });
});
