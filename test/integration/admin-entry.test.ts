import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImportSchema } from '../../src/import.js';
import type { Db } from '../../src/store/db.js';
import { agentCampaigns, leadPhones, numberTrunks } from '../../src/store/schema.js';
import { callCenter, importedDb, testApi, tokensFor } from './fixture.js';

// GET /admin/{entity}/{id}/entry: one directory entry as the import file writes it, the body PUT takes.
// The console's Edit starts from it, so a save keeps what the listing does not carry (an agent's
// campaigns, a number's trunks, a lead's numbers); GET → PUT unchanged must leave the entry as it was.

const FILE = callCenter({
  servers: [{ id: 'b', ari_url: 'http://127.0.0.1:8089' }],
  trunks: [{ id: 'carrier-b', max_channels: 4, calls_per_second: 1.5, server: 'b' }],
  numbers: [{ number: '+15550100002', trunk: ['carrier', 'carrier-b'], outbound_enabled: false, description: 'two servers' }],
  campaigns: [{
    id: 'C3', name: 'Three', time_zone: 'America/Chicago', dial_order: 'customer_first', retry_delays: { busy: 60 },
    calling_windows: { 'mon-fri': '09:00-20:00' }, holidays: ['2026-12-25'], calltime_check: 'move', count_mode: 'live',
    callback_alert: 'red', whisper: 'name', alt_dial: 'on', snooze_minutes: 30, auto_reschedule: 'next_week',
  }],
  agents: [
    { id: 'a3', name: 'A3', campaigns: ['C2', 'C1'], time_zone: 'Europe/London', active_limit: 5, email: 'a3@example.com', scheduled_callbacks: false },
    { id: 'bot', name: 'Bot', kind: 'ai', max_calls: 4, campaigns: ['C3'] },
  ],
  phones: [{ endpoint: 'p3', agent: 'a3', active_account: false, status: 'SUSPENDED', server: 'b' }],
  leads: [{
    id: 'm1', list: 'L1', last_name: 'Many', time_zone: 'America/Denver',
    phones: [{ number: '+12125550111', label: 'home' }, { number: '+12125550112', label: 'work', dnc: true, time_zone: 'America/Chicago' }],
  }],
  users: [{ id: 'a1', role: 'agent' }, { id: 'm2', role: 'manager', campaigns: ['C1', 'C2'] }],
});
const SECTIONS = ['trunks', 'numbers', 'campaigns', 'lists', 'agents', 'phones', 'leads', 'users'] as const;
const KEY: Record<string, string> = { trunks: 'id', numbers: 'e164', campaigns: 'id', lists: 'id', agents: 'id', phones: 'endpoint', leads: 'id', users: 'id' };

let db: Db;
let api: FastifyInstance;
let tok: Record<string, string>;
beforeAll(async () => {
  db = (await importedDb('admin-entry', FILE)).db;
  tok = await tokensFor(db, FILE);
  api = await testApi(db);
});
afterAll(async () => {
  await api.close();
});
const call = async (method: 'GET' | 'PUT', url: string, who = 'root', payload?: unknown) => {
  const r = await api.inject({ method, url, payload: payload as Record<string, unknown>, headers: { authorization: `Bearer ${tok[who]}` } });
  return { status: r.statusCode, body: r.json() as Record<string, unknown> };
};
const entry = async (section: string, id: string) => (await call('GET', `/admin/${section}/${encodeURIComponent(id)}/entry`)).body;
/** The stored row (GET /admin/{entity}/{id}, with a lead's numbers) without its write time. */
const stored = async (section: string, id: string) => {
  const { updatedAt: _, ...row } = (await call('GET', `/admin/${section}/${encodeURIComponent(id)}`)).body;
  return row;
};
/** The links an entry owns in other tables, read straight from the database (not through the route under test). */
const links = () => ({
  agentCampaigns: db.select().from(agentCampaigns).all().sort((a, b) => `${a.agentId} ${a.campaignId}`.localeCompare(`${b.agentId} ${b.campaignId}`)),
  numberTrunks: db.select().from(numberTrunks).all().sort((a, b) => `${a.e164} ${a.trunkId}`.localeCompare(`${b.e164} ${b.trunkId}`)),
  leadPhones: db.select().from(leadPhones).all().sort((a, b) => `${a.leadId} ${a.position}`.localeCompare(`${b.leadId} ${b.position}`)),
});
/** What the import reads an entry as (defaults filled): equal for the file's entry and the served one. */
const parsed = (section: string, e: unknown) => (ImportSchema.parse({ [section]: [e] }) as Record<string, unknown[]>)[section]![0];

describe('GET /admin/{entity}/{id}/entry', () => {
  it("an agent's campaigns, a number's trunks, a lead's numbers: what the listing does not carry", async () => {
    expect(await entry('agents', 'a3')).toEqual({
      id: 'a3', name: 'A3', campaigns: ['C1', 'C2'], scheduled_callbacks: false, agent_only_callbacks: true,
      time_zone: 'Europe/London', active_limit: 5, email: 'a3@example.com', kind: 'human',
    });
    expect(await entry('numbers', '+15550100002')).toEqual({ number: '+15550100002', trunk: ['carrier', 'carrier-b'], outbound_enabled: false, description: 'two servers' });
    expect(await entry('numbers', '+15550100001')).toEqual({ number: '+15550100001', trunk: 'carrier', outbound_enabled: true });
    expect(await entry('leads', 'm1')).toEqual({
      id: 'm1', list: 'L1', last_name: 'Many', time_zone: 'America/Denver',
      phones: [{ number: '+12125550111', label: 'home', dnc: false }, { number: '+12125550112', label: 'work', dnc: true, time_zone: 'America/Chicago' }],
    });
    expect(await entry('leads', 'n1')).toEqual({ id: 'n1', list: 'L1', first_name: 'Ann', phone: '+12125550101' });
    // The listing (the table's own columns) has none of these.
    const listed = (await call('GET', '/admin/agents')).body.items as Record<string, unknown>[];
    expect(listed.find((a) => a.id === 'a3')).not.toHaveProperty('campaigns');
  });

  it("reads every entry of the file back as the import reads that entry (the writer's inverse)", async () => {
    let n = 0;
    for (const section of ['trunks', 'numbers', 'campaigns', 'lists', 'agents', 'phones', 'leads'] as const) {
      for (const e of FILE[section]!) {
        const id = String(e[section === 'numbers' ? 'number' : section === 'phones' ? 'endpoint' : 'id']);
        const got = await entry(section, id);
        const want = parsed(section, e) as Record<string, unknown>;
        if (section === 'agents') want.campaigns = [...(want.campaigns as string[])].sort(); // kept as a set
        if (section === 'lists') want.name ??= id; // a list without a name is named by its id
        expect(parsed(section, got), `${section} ${id}`).toEqual(want);
        n++;
      }
    }
    expect(n).toBe(21);
  });

  it('GET → PUT unchanged leaves every stored entry (and its links) as it was', async () => {
    const linksBefore = links();
    expect(linksBefore.agentCampaigns).toHaveLength(5);
    expect(linksBefore.numberTrunks).toHaveLength(3);
    let n = 0;
    for (const section of SECTIONS) {
      const items = (await call('GET', `/admin/${section}?limit=1000`)).body.items as Record<string, unknown>[];
      for (const item of items) {
        const id = String(item[KEY[section]!]);
        const before = { entry: await entry(section, id), row: await stored(section, id) };
        const { [section === 'numbers' ? 'number' : section === 'phones' ? 'endpoint' : 'id']: _, ...body } = before.entry;
        const put = await call('PUT', `/admin/${section}/${encodeURIComponent(id)}`, 'root', body);
        expect(put.status, `${section} ${id}: ${JSON.stringify(put.body)}`).toBe(200);
        expect({ entry: await entry(section, id), row: await stored(section, id) }, `${section} ${id}`).toEqual(before);
        n++;
      }
    }
    expect(n).toBe(25);
    expect(links()).toEqual(linksBefore);
  });

  it('404 for an unknown entry; 403 for a non-admin', async () => {
    expect((await call('GET', '/admin/agents/nobody/entry')).status).toBe(404);
    expect((await call('GET', '/admin/agents/a1/entry', 'a1')).status).toBe(403);
    expect((await call('GET', '/admin/agents/a1/entry', 'mgr')).status).toBe(403);
  });
});
