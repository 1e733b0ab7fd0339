// `callbackd db copy`: a 100k-callback SQLite database into a real PostgreSQL (test/lab/postgres.sh):
// same counts and content hashes, checked also by plain SQL aggregates on both sides; a tampered
// row is reported by table; a non-empty target refused; an interrupted copy resumed.
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCallbacks } from '../../bench/generate.js';
import { isCode } from '../../src/errors.js';
import { applyImport, parseImport } from '../../src/import.js';
import { openDb } from '../../src/store/db.js';
import { copySqliteToPg, verifyCopy } from '../../src/store/pg/copy.js';
import { inCi, pgForSuite, type PgLab } from '../lab/postgres.js';

const start = pgForSuite();
let lab: PgLab;
const clients: pg.Client[] = [];
const N = 100_000;
const NOW = Date.parse('2026-11-20T12:00:00Z');
let sourceFile: string;
let source: Database.Database;

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  clients.push(c);
  return c;
}

/** The directory of bench/scale.ts, 100k callbacks from bench/generate.ts, and rows of every other kind. */
async function buildSource(file: string): Promise<void> {
  const db = openDb(file);
  const campaigns = ['C1', 'C2', 'C3', 'C4'];
  await applyImport(
    db,
    parseImport(
      JSON.stringify({
        trunks: [{ id: 'carrier', max_channels: 4, calls_per_second: 2.5 }],
        numbers: [{ number: '+15550100001', trunk: 'carrier' }],
        campaigns: campaigns.map((id) => ({ id, name: `Campagne ${id} — été`, time_zone: 'America/New_York', outbound_number: '+15550100001' })),
        lists: campaigns.map((c) => ({ id: `L-${c}`, campaign: c })),
        agents: Array.from({ length: 50 }, (_, i) => ({ id: `a${i}`, name: `Agent ${i} 🙂`, campaigns: [campaigns[i % 4]!] })),
        phones: Array.from({ length: 50 }, (_, i) => ({ endpoint: `agent${1000 + i}`, agent: `a${i}` })),
        users: [{ id: 'root', role: 'admin' }],
      }),
      'test',
    ),
    NOW,
  );
  generateCallbacks(db, N, { campaigns, agents: Array.from({ length: 50 }, (_, i) => `a${i}`), now: NOW });
  const c = db.$client;
  // Rows of the other tables, written as the store writes them (plain SQL: the shape, not the rules, matters here).
  const attempt = c.prepare(
    `INSERT INTO call_attempts (callback_id, seq, customer_attempt, dial_order, agent_id, phone_endpoint, caller_id, customer_number, trunk_id,
       agent_channel_id, customer_channel_id, bridge_id, lease_token, started_at, ended_at, outcome, cause, sip_code, duration_ms, detail)
     VALUES (?, 1, 1, 'AGENT_FIRST', 'a1', 'agent1001', '+15550100001', '+15551230001', 'carrier', ?, ?, ?, 'tok', ?, ?, ?, ?, ?, ?, ?)`,
  );
  // Audit rows at their own instants: at NOW, events_actor would look through the 100k events the
  // generator wrote at NOW (SQLite picks the events_at index for it), one audit row at a time.
  const audit = c.prepare("INSERT INTO audit (at, actor, action, callback_id, before, after, reason) VALUES (?, 'manager', 'edit', ?, ?, ?, ?)");
  c.transaction(() => {
    for (let id = 2; id <= 20_000; id += 2) {
      const answered = id % 6 === 0;
      attempt.run(id, `ach-${id}`, `cch-${id}`, `br-${id}`, NOW - id * 1000, NOW - id * 1000 + 30_000, answered ? 'ANSWERED' : 'BUSY', answered ? 16 : 17, answered ? 200 : 486, answered ? 25_123 : null, id % 10 === 0 ? 'line "1"\nline 2' : null);
      if (id % 4 === 0) audit.run(NOW + id, id, JSON.stringify({ notes: null }), JSON.stringify({ notes: `n°${id}` }), id % 8 === 0 ? null : 'asked by the customer');
    }
    // A replaced callback points at its newer replacement (a forward reference within the table).
    c.prepare("UPDATE callbacks SET state = 'CANCELLED', replaced_by = ?, fail_reason = 'replaced', updated_at = ? WHERE id = 3").run(N, NOW);
    c.prepare("UPDATE callbacks SET notes = 'tab\there, quote '' and \"double\", backslash \\ and null-ish NULL', context = ? WHERE id = 5").run('{"turns":[{"who":"caller","text":"rappelez-moi à 17 h"}]}');
    c.prepare("INSERT INTO dnc (phone_e164, campaign_id, created_at) VALUES ('+15559990000', '', ?), ('+15559990001', 'C1', ?)").run(NOW, NOW);
    c.prepare("INSERT INTO phone_presence (endpoint, registered, reachable, contact_uri, device_state, in_use, changed_at, written_at) VALUES ('agent1001', 1, 1, 'sip:agent1001@127.0.0.1:5070', 'NOT_INUSE', 0, ?, ?)").run(NOW, NOW);
    c.prepare("INSERT INTO api_tokens (user_id, name, hash, created_at) VALUES ('root', 'ci', 'sha256-of-something', ?)").run(NOW);
    c.prepare("INSERT INTO event_cursors (consumer, last_id) VALUES ('email', 1234)").run();
    // Retention emptied the newest events: AUTOINCREMENT's high mark stays above max(id).
    c.prepare('DELETE FROM events WHERE id > (SELECT max(id) - 3 FROM events)').run();
  })();
  c.pragma('wal_checkpoint(TRUNCATE)');
  c.close();
}

beforeAll(async () => {
  if (!start.ok) return;
  lab = start.lab;
  sourceFile = join(mkdtempSync(join(tmpdir(), 'cbd-pgcopy-')), 'source.db');
  await buildSource(sourceFile);
  source = new Database(sourceFile, { readonly: true, fileMustExist: true });
}, 300_000);
afterAll(async () => {
  for (const c of clients) await c.end().catch(() => undefined);
  source?.close();
  if (start.ok) start.lab.stop();
});

// Independent of the tool's own hash: the same aggregates in SQL on both engines.
const AGGREGATES: [string, string][] = [
  ['callbacks', "SELECT count(*) AS n, sum(due_at) AS due, sum(CASE WHEN state = 'ACTIVE' THEN 1 ELSE 0 END) AS active, max(id) AS max_id, sum(length(coalesce(notes, ''))) AS notes FROM callbacks"],
  ['events', 'SELECT count(*) AS n, max(id) AS max_id, sum(length(data)) AS data FROM events'],
  ['call_attempts', 'SELECT count(*) AS n, sum(duration_ms) AS talk, sum(length(coalesce(detail, \'\'))) AS detail FROM call_attempts'],
  ['leads', 'SELECT count(*) AS n, min(phone_e164) AS lo, max(phone_e164) AS hi FROM leads'],
  ['trunks', 'SELECT sum(calls_per_second) AS cps FROM trunks'],
];

describe.skipIf(!start.ok && !inCi)('callbackd db copy: SQLite into PostgreSQL', () => {
  it(`copies a ${N / 1000}k-callback database: same counts and content hashes, the same aggregates in SQL, sequences past the copied ids`, async () => {
    const target = await connect(await lab.createDatabase());
    const lines: string[] = [];
    const checks = await copySqliteToPg(source, target, { batchRows: 2000, progress: (l) => lines.push(l) });
    expect(checks.length).toBeGreaterThanOrEqual(19);
    expect(checks.filter((c) => !c.same)).toEqual([]);
    const byTable = new Map(checks.map((c) => [c.table, c]));
    expect(byTable.get('callbacks')!.targetRows).toBe(N);
    expect(byTable.get('leads')!.targetRows).toBe(N);
    expect(byTable.get('call_attempts')!.targetRows).toBe(10_000);
    expect(byTable.get('events')!.targetRows).toBe(N + 1 - 3); // N created, callback 3 cancelled, 3 removed
    expect(lines.some((l) => /^callbacks: 100000 rows/.test(l))).toBe(true);

    for (const [table, sql] of AGGREGATES) {
      const s = source.prepare(sql).safeIntegers(true).get() as Record<string, unknown>;
      const p = (await target.query(sql)).rows[0] as Record<string, unknown>;
      for (const k of Object.keys(s)) expect(String(p[k]), `${table}.${k}`).toBe(String(s[k]));
    }

    // The triggers are back on, and new ids continue after the copied ones (events: after the high mark).
    const high = Number(source.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").pluck().get());
    expect(high).toBeGreaterThan(Number((await target.query('SELECT max(id) AS m FROM events')).rows[0].m));
    const ins = await target.query(
      "INSERT INTO callbacks (lead_id, campaign_id, type, due_at, due_zone, max_attempts, created_at, updated_at) VALUES ('lead1', 'C2', 'ANYONE', $1, 'America/New_York', 3, $1, $1) RETURNING id",
      [NOW],
    );
    expect(Number(ins.rows[0].id)).toBe(N + 1);
    const ev = await target.query("SELECT id, type FROM events WHERE callback_id = $1", [ins.rows[0].id]);
    expect(ev.rows.map((r) => [Number(r.id), r.type])).toEqual([[high + 1, 'callback.created']]);
    const v = await target.query("UPDATE callbacks SET notes = 'x' WHERE id = 7 RETURNING version");
    expect(v.rows[0].version).toBe(2);

    // A tampered row: verify names its table and only it.
    await target.query("UPDATE leads SET first_name = 'Mallory' WHERE id = 'lead777'");
    await target.query('DELETE FROM dnc WHERE campaign_id = $1', ['C1']);
    const after = await verifyCopy(source, target);
    expect(after.filter((c) => !c.same).map((c) => c.table).sort()).toEqual(['callbacks', 'dnc', 'events', 'leads']);
    const leads = after.find((c) => c.table === 'leads')!;
    expect(leads.targetRows).toBe(leads.sourceRows);
    expect(leads.targetDigest).not.toBe(leads.sourceDigest);
    expect(after.find((c) => c.table === 'dnc')!.targetRows).toBe(1);

    // A non-empty target is refused, and nothing is written.
    const err = await copySqliteToPg(source, target).catch((e: unknown) => e);
    expect(isCode(err, 'CONFLICT')).toBe(true);
    expect((err as Error).message).toMatch(/not empty/);
    expect(Number((await target.query('SELECT count(*) AS n FROM callbacks')).rows[0].n)).toBe(N + 1);
  }, 300_000);

  it('resumes a copy that stopped between tables, and refuses to resume over foreign rows', async () => {
    const url = await lab.createDatabase();
    const target = await connect(url);
    let tables = 0;
    const stopped = await copySqliteToPg(source, target, {
      progress: (l) => {
        if (/ rows in /.test(l) && ++tables === 6) throw new Error('killed');
      },
    }).catch((e: unknown) => e);
    expect((stopped as Error).message).toBe('killed');
    const partial = await verifyCopy(source, target);
    const kept = partial.filter((c) => c.same && c.sourceRows > 0).length;
    expect(kept).toBeGreaterThanOrEqual(4);
    expect(partial.filter((c) => !c.same).length).toBeGreaterThan(0);
    expect(isCode(await copySqliteToPg(source, target).catch((e: unknown) => e), 'CONFLICT')).toBe(true);
    const lines: string[] = [];
    const done = await copySqliteToPg(source, target, { resume: true, progress: (l) => lines.push(l) });
    expect(done.filter((c) => !c.same)).toEqual([]);
    expect(lines.filter((l) => /already copied/.test(l)).length).toBe(kept);

    const other = await connect(await lab.createDatabase());
    await copySqliteToPg(source, other, { progress: (l) => { if (/^trunks:/.test(l)) throw new Error('killed'); } }).catch(() => undefined);
    await other.query('UPDATE trunks SET max_channels = 9');
    const refused = await copySqliteToPg(source, other, { resume: true }).catch((e: unknown) => e);
    expect(isCode(refused, 'CONFLICT')).toBe(true);
    expect((refused as Error).message).toMatch(/cannot resume: table trunks/);
  }, 300_000);

  it('through the built CLI: db copy prints every table the same, db verify exits 1 naming a changed table; no password printed', async () => {
    const CLI = join(import.meta.dirname, '../../dist/src/cli.js');
    const small = join(mkdtempSync(join(tmpdir(), 'cbd-pgcli-')), 'small.db');
    const d = openDb(small);
    await applyImport(d, parseImport(JSON.stringify({ trunks: [{ id: 't' }], users: [{ id: 'root', role: 'admin' }] }), 'test'), NOW);
    d.$client.close();
    const url = await lab.createDatabase();
    const password = new URL(url).password;
    const run = (...args: string[]) => spawnSync('node', [CLI, 'db', ...args], { encoding: 'utf8', env: { ...process.env, CALLBACKD_DATABASE_URL: url } });
    const copy = run('copy', '--from', `sqlite:${small}`);
    expect(copy.status, copy.stderr).toBe(0);
    expect(copy.stdout).toMatch(/^trunks\s+1\s+1\s+\S+ \/ \S+\s+same$/m);
    expect(copy.stdout).toMatch(/copied: \d+ tables, 2 rows, every count and content hash the same/);
    expect(copy.stdout + copy.stderr).not.toContain(password);
    expect(copy.stderr).toContain(':***@127.0.0.1');
    const again = run('copy', '--from', small);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/not empty/);
    const target = await connect(url);
    await target.query("UPDATE users SET role = 'agent'");
    const verify = run('verify', '--from', small);
    expect(verify.status).toBe(1);
    expect(verify.stdout).toMatch(/^users\s+1\s+1\s+.*DIFFERENT$/m);
    expect(verify.stdout).toMatch(/DIFFERENT: users$/m);
  }, 120_000);
});
