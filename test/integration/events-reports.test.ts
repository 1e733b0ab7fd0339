import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { buildApi } from '../../src/api/server.js';
import { createToken } from '../../src/app/auth.js';
import { CSV_COLUMNS } from '../../src/app/export.js';
import { applyImport, parseImport } from '../../src/import.js';
import { openDb, type Db } from '../../src/store/db.js';

// GET /reports/callbacks (promises kept) and GET /export/callbacks.csv, on a call log written
// with known dial times.

const FILE = {
  trunks: [{ id: 'carrier' }],
  numbers: [{ number: '+15550100001', trunk: 'carrier' }],
  campaigns: [
    { id: 'C1', name: 'One', time_zone: 'America/New_York', outbound_number: '+15550100001', calling_windows: { 'mon-fri': '09:00-17:00' } },
    { id: 'C2', name: 'Two', time_zone: 'Europe/London', outbound_number: '+15550100001' },
  ],
  lists: [{ id: 'L1', campaign: 'C1' }, { id: 'L2', campaign: 'C2' }],
  agents: [{ id: 'a1', name: 'A1', campaigns: ['C1'] }, { id: 'a2', name: 'A2', campaigns: ['C1'] }],
  phones: [{ endpoint: 'p1', agent: 'a1' }, { endpoint: 'p2', agent: 'a2' }],
  leads: [1, 2, 3, 4, 5, 6].map((i) => ({ id: `n${i}`, list: 'L1', first_name: `F${i}`, phone: `+1212555010${i}` })).concat([{ id: 'u1', list: 'L2', first_name: 'U', phone: '+442079460018' }]),
  users: [{ id: 'root', role: 'admin' }, { id: 'mgr', role: 'manager', campaigns: ['C1'] }, { id: 'mgr2', role: 'manager', campaigns: ['C2'] }, { id: 'a1', role: 'agent' }],
};
const ny = (s: string) => Date.parse(`${s}-05:00`); // New York in November
const MON10 = ny('2026-11-23T10:00:00');

let db: Db;
let api: FastifyInstance;
const tok: Record<string, string> = {};

beforeEach(async () => {
  db = openDb(join(mkdtempSync(join(tmpdir(), 'cbd-reports-')), 'db.sqlite'));
  await applyImport(db, parseImport(YAML.stringify(FILE), 'fixture'), MON10 - 86_400_000);
  for (const u of FILE.users) tok[u.id] = (await createToken(db, u.id, 't', MON10)).token;
  api = await buildApi({ db, log: pino({ level: 'silent' }), now: () => MON10 + 7 * 86_400_000, nudge: () => {}, bodyLimit: 65536, ready: () => ({ ari: true, ami: true, presence: true }), consoleDir: null });
});
afterEach(async () => {
  await api.close();
  db.$client.close();
});

function cb(lead: string, o: { campaign?: string; type?: 'USERONLY' | 'ANYONE'; owner?: string | null; due: number; state: string; notes?: string; dials?: { agent: string; at: number }[] }): number {
  const c = db.$client;
  const id = Number(
    c.prepare('INSERT INTO callbacks (lead_id, campaign_id, type, owner_agent_id, due_at, due_zone, state, max_attempts, notes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 3, ?, ?, ?)')
      .run(lead, o.campaign ?? 'C1', o.type ?? 'USERONLY', o.type === 'ANYONE' ? null : (o.owner ?? 'a1'), o.due, 'America/New_York', o.state, o.notes ?? null, o.due - 86_400_000, o.due - 86_400_000).lastInsertRowid,
  );
  (o.dials ?? []).forEach((d, i) =>
    c.prepare(
      `INSERT INTO call_attempts (callback_id, seq, customer_attempt, dial_order, agent_id, caller_id, customer_number, trunk_id, agent_channel_id, customer_channel_id, bridge_id, lease_token, started_at, customer_dialed_at, ended_at, outcome)
       VALUES (?, ?, ?, 'AGENT_FIRST', ?, '+15550100001', '+12125550101', 'carrier', ?, ?, ?, 't', ?, ?, ?, 'NO_ANSWER')`,
    ).run(id, i + 1, i + 1, d.agent, `a${id}-${i}`, `c${id}-${i}`, `b${id}-${i}`, d.at - 5000, d.at, d.at + 30_000),
  );
  return id;
}
async function get(who: string, url: string) {
  const r = await api.inject({ method: 'GET', url, headers: { authorization: `Bearer ${tok[who]}` } });
  return { status: r.statusCode, body: r.body, type: r.headers['content-type'] };
}

describe('GET /reports/callbacks', () => {
  beforeEach(() => {
    cb('n1', { due: MON10, state: 'COMPLETED', dials: [{ agent: 'a1', at: MON10 + 20_000 }] }); // kept, 20 s late
    cb('n2', { due: MON10, state: 'NO_ANSWER', dials: [{ agent: 'a1', at: MON10 + 300_000 }, { agent: 'a1', at: MON10 + 900_000 }] }); // 300 s late
    cb('n3', { due: ny('2026-11-23T07:00:00'), state: 'BUSY', dials: [{ agent: 'a1', at: ny('2026-11-23T09:00:30') }] }); // before the window: 30 s after it opened
    cb('n4', { due: MON10, state: 'CANCELLED' });
    cb('n5', { type: 'ANYONE', due: MON10, state: 'FAILED', dials: [{ agent: 'a2', at: MON10 + 10_000 }] });
    cb('n6', { due: ny('2026-11-24T11:00:00'), state: 'ACTIVE' });
    cb('u1', { campaign: 'C2', type: 'ANYONE', due: MON10, state: 'COMPLETED', dials: [{ agent: 'a2', at: MON10 + 1000 }] });
  });

  it('per campaign, agent and due day: booked, dialed, kept on time (from due or the window opening), outcomes, median lateness', async () => {
    const r = await get('root', `/reports/callbacks?from=2026-11-23T00:00:00-05:00&to=2026-11-25T00:00:00-05:00&onTimeSec=60`);
    expect(r.status, r.body).toBe(200);
    const items = JSON.parse(r.body).items;
    const z = { completed: 0, noAnswer: 0, busy: 0, failed: 0, cancelled: 0, open: 0 };
    expect(items).toEqual([
      { campaign: 'C1', agent: 'a1', day: '2026-11-23', ...z, booked: 4, dialed: 3, keptOnTime: 2, completed: 1, noAnswer: 1, busy: 1, cancelled: 1, medianLatenessSec: 30 },
      { campaign: 'C1', agent: 'a1', day: '2026-11-24', ...z, booked: 1, dialed: 0, keptOnTime: 0, open: 1, medianLatenessSec: null },
      { campaign: 'C1', agent: 'a2', day: '2026-11-23', ...z, booked: 1, dialed: 1, keptOnTime: 1, failed: 1, medianLatenessSec: 10 },
      // London's day of 15:00 UTC is the same date; C2's callback is counted on its campaign's clock.
      { campaign: 'C2', agent: 'a2', day: '2026-11-23', ...z, booked: 1, dialed: 1, keptOnTime: 1, completed: 1, medianLatenessSec: 1 },
    ]);
    // Within 15 s, only n5 (10 s) and u1 (1 s) were kept; C1's lateness 10, 20, 30, 300 → median 25.
    const strict = JSON.parse((await get('root', '/reports/callbacks?from=2026-11-23T00:00:00-05:00&to=2026-11-25T00:00:00-05:00&onTimeSec=15&by=campaign')).body).items;
    expect(strict.map((x: { campaign: string; keptOnTime: number; booked: number; medianLatenessSec: number }) => [x.campaign, x.booked, x.keptOnTime, x.medianLatenessSec])).toEqual([
      ['C1', 6, 1, 25],
      ['C2', 1, 1, 1],
    ]);
  });

  it('a manager sees only their campaigns; agents are refused; bad input is a 400', async () => {
    const m = JSON.parse((await get('mgr2', '/reports/callbacks?from=2026-11-23&to=2026-11-30&by=campaign')).body).items;
    expect(m.map((x: { campaign: string }) => x.campaign)).toEqual(['C2']);
    expect((await get('a1', '/reports/callbacks')).status).toBe(403);
    expect((await get('root', '/reports/callbacks?by=week')).status).toBe(400);
    expect((await get('root', '/reports/callbacks?from=2026-11-30&to=2026-11-01')).status).toBe(400);
  });
});

describe('GET /export/callbacks.csv', () => {
  /** RFC 4180 as a spreadsheet reads it. */
  function parseCsv(text: string): string[][] {
    const rows: string[][] = [];
    let row: string[] = [];
    let cell = '';
    let quoted = false;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      if (quoted) {
        if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
        else if (ch === '"') quoted = false;
        else cell += ch;
      } else if (ch === '"') quoted = true;
      else if (ch === ',') row.push(cell), (cell = '');
      else if (ch === '\r' && text[i + 1] === '\n') row.push(cell), rows.push(row), (row = []), (cell = ''), i++;
      else cell += ch;
    }
    return rows;
  }

  it('streams the filtered listing with the view\'s columns, quoting commas, quotes and line breaks, and defusing formulas', async () => {
    for (let i = 0; i < 2500; i++) cb(`n${(i % 6) + 1}`, { due: MON10 + i * 1000, state: i % 2 ? 'COMPLETED' : 'CANCELLED', notes: i === 7 ? 'said "call me", then\nhung up' : i === 8 ? '=HYPERLINK("x")' : undefined });
    cb('u1', { campaign: 'C2', type: 'ANYONE', due: MON10, state: 'COMPLETED' });
    const r = await get('mgr', '/export/callbacks.csv?state=completed,cancelled&sort=due');
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/csv/);
    const rows = parseCsv(r.body);
    expect(rows[0]).toEqual(CSV_COLUMNS);
    expect(rows).toHaveLength(2501); // the manager's campaign only, across three keyset pages
    const col = (name: string) => CSV_COLUMNS.indexOf(name as (typeof CSV_COLUMNS)[number]);
    expect(new Set(rows.slice(1).map((x) => x[col('campaign')]))).toEqual(new Set(['C1']));
    const ids = rows.slice(1).map((x) => Number(x[col('id')]));
    expect(new Set(ids).size).toBe(2500);
    expect(rows[8]![col('notes')]).toBe('said "call me", then\nhung up');
    expect(rows[9]![col('notes')]).toBe(`'=HYPERLINK("x")`);
    const completed = parseCsv((await get('mgr', '/export/callbacks.csv?state=COMPLETED')).body);
    expect(completed).toHaveLength(1251);
    expect((await get('mgr', '/export/callbacks.csv?state=nope')).status).toBe(400);
  });
});
