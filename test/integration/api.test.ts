import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createToken, revokeToken } from '../../src/app/auth.js';
import type { Db } from '../../src/store/db.js';
import { callCenter, importedDb, NOW, testApi, tokensFor } from './fixture.js';

// The HTTP API through fastify's inject: every route, each role, bad input, concurrency.

const FILE = callCenter({
  campaigns: [{ id: 'NONUM', name: 'No number', time_zone: 'UTC' }],
  agents: [
    { id: 'a3', name: 'A3', campaigns: ['C2'] },
    { id: 'boss', name: 'Boss', campaigns: ['C1'] },
  ],
  phones: [
    { endpoint: 'p3', agent: 'a3', status: 'SUSPENDED' },
    { endpoint: 'pb', agent: 'boss', status: 'ADMIN' },
  ],
  users: [
    { id: 'mgr2', role: 'manager', campaigns: ['C1'], lead_modify: true },
    { id: 'viewer', role: 'manager', campaigns: ['C1'] },
    { id: 'a1', role: 'agent' },
    { id: 'a3', role: 'agent' },
    { id: 'boss', role: 'agent' },
  ],
});

let db: Db;
let api: FastifyInstance;
let nudges = 0;
let ready = { ari: true, ami: true, presence: true };
let tok: Record<string, string> = {};

beforeEach(async () => {
  ({ db } = await importedDb('api', FILE));
  tok = await tokensFor(db, FILE);
  nudges = 0;
  ready = { ari: true, ami: true, presence: true };
  api = await testApi(db, { nudge: () => nudges++, ready: () => ready });
});
afterEach(async () => {
  await api.close();
});

type Res = { status: number; body: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
async function call(who: string | null, method: string, url: string, payload?: unknown): Promise<Res> {
  const r = await api.inject({ method: method as 'GET', url, payload: payload as object, headers: who ? { authorization: `Bearer ${tok[who] ?? who}` } : {} });
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null };
}
const count = () => (db.$client.prepare('SELECT count(*) n FROM callbacks').get() as { n: number }).n;
const book = async (who = 'mgr', body: Record<string, unknown> = {}) => {
  const r = await call(who, 'POST', '/callbacks', { lead: 'n1', due: '+1h', ...body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.callback as { id: number; version: number };
};

describe('the API surface', () => {
  it('serves its OpenAPI document, health and readiness without a token', async () => {
    const doc = await call(null, 'GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/callbacks', '/callbacks/{id}', '/callbacks/{id}/cancel', '/callbacks/search', '/callbacks/bulk', '/callbacks/purge', '/me/callbacks', '/admin/{entity}/{id}', '/admin/dnc']));
    expect((await call(null, 'GET', '/healthz')).body).toEqual({ ok: true });
    expect((await call(null, 'GET', '/readyz')).status).toBe(200);
    ready = { ari: false, ami: true, presence: false };
    expect(await call(null, 'GET', '/readyz')).toEqual({
      status: 503,
      body: { ready: false, ari: false, ami: true, presence: false, phones: { total: 4, registered: 0, usable: 0 }, callbacks: { dueNow: 0, late: 0, lateAfterSeconds: 60 } },
    });
  });

  it('serves Prometheus metrics without a token: callbacks by state, calls per trunk, link state', async () => {
    const { registerGauges } = await import('../../src/metrics.js');
    registerGauges({ db, trunksInUse: () => new Map([['carrier', 2]]), links: () => ({ ari: { connected: true, reconnects: 3 }, ami: { connected: false, reconnects: 1 } }) });
    await book('mgr', { lead: 'n1', type: 'ANYONE' });
    const r = await api.inject({ method: 'GET', url: '/metrics' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
    expect(r.body).toContain('callbackd_callbacks{state="ACTIVE"} 1');
    expect(r.body).toContain('callbackd_calls_in_progress{trunk="carrier"} 2');
    expect(r.body).toContain('callbackd_asterisk_connected{link="ami"} 0');
    expect(r.body).toContain('callbackd_asterisk_reconnects_total{link="ari"} 3');
    expect(r.body).toContain('# TYPE callbackd_trigger_lateness_seconds histogram');
  });

  it('tokens: missing, unknown and revoked are 401; an agent whose phone is SUSPENDED is refused; an ADMIN phone grants admin', async () => {
    expect(await call(null, 'GET', '/callbacks')).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED', message: expect.stringMatching(/Authorization: Bearer/) } });
    expect(await call('cbd_nope', 'GET', '/callbacks')).toMatchObject({ status: 401, body: { message: 'unknown or revoked token' } });
    const t = await createToken(db, 'mgr', null, NOW);
    await revokeToken(db, t.id, NOW);
    expect((await call(t.token, 'GET', '/callbacks')).status).toBe(401);
    expect(await call('a3', 'GET', '/callbacks')).toMatchObject({ status: 403, body: { code: 'FORBIDDEN', message: 'agent access refused: phone p3 has status SUSPENDED' } });
    expect((await call('boss', 'GET', '/admin/campaigns')).status).toBe(200);
    expect(await call('a1', 'GET', '/admin/campaigns')).toMatchObject({ status: 403, body: { message: 'admin only' } });
    expect(await call('root', 'GET', '/nowhere')).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
  });

  it('every route, each role: allowed, refused (403) or hidden (404) as the roles say', async () => {
    const own = await book('a1', { lead: 'n2' }); // a1's USERONLY
    const other = await book('mgr', { lead: 'n3', owner: 'a2', type: 'USERONLY' });
    const london = await book('root', { lead: 'u1', type: 'ANYONE', due: '+1d' });
    const v = (id: number) => (db.$client.prepare('SELECT version FROM callbacks WHERE id = ?').get(id) as { version: number }).version;
    const routes: [string, string, () => unknown, Record<string, number>][] = [
      ['GET', '/callbacks', () => undefined, { root: 200, mgr: 200, viewer: 200, a1: 200 }],
      ['GET', `/callbacks/${own.id}`, () => undefined, { root: 200, mgr: 200, viewer: 200, a1: 200 }],
      ['GET', `/callbacks/${other.id}`, () => undefined, { root: 200, mgr: 200, viewer: 200, a1: 404 }],
      ['GET', `/callbacks/${london.id}`, () => undefined, { root: 200, mgr: 404, viewer: 404, a1: 404 }],
      ['GET', '/callbacks/search?phone=2125550102', () => undefined, { root: 200, mgr: 200, viewer: 200, a1: 200 }],
      ['PATCH', `/callbacks/${own.id}`, () => ({ version: v(own.id), notes: 'x' }), { a1: 403, viewer: 403, mgr: 200, root: 200 }],
      ['POST', `/callbacks/${london.id}/cancel`, () => ({}), { a1: 403, viewer: 403, mgr: 404, root: 200 }], // role first (issue 12): agents and managers without lead-modify never learn which ids exist
      ['POST', '/callbacks/bulk', () => ({ action: 'convert', fromAgent: 'a9' }), { a1: 403, viewer: 403, mgr: 200, root: 200 }],
      ['POST', '/callbacks/purge', () => ({ olderThanDays: 30 }), { a1: 403, viewer: 403, mgr: 200, root: 200 }],
      ['GET', '/me/callbacks', () => undefined, { a1: 200, mgr: 403, root: 403 }],
      ['GET', '/phones', () => undefined, { a1: 403, mgr: 200, root: 200 }],
      ['GET', '/admin/agents', () => undefined, { a1: 403, mgr: 403, root: 200 }],
      ['PUT', '/admin/trunks/t9', () => ({ max_channels: 3 }), { a1: 403, mgr: 403, root: 200 }],
      ['DELETE', '/admin/trunks/t9', () => undefined, { a1: 403, mgr: 403, root: 200 }],
      ['POST', '/admin/dnc', () => ({ number: '+12125550199' }), { a1: 403, mgr: 403, root: 200 }],
    ];
    for (const [method, url, body, expected] of routes) {
      expect((await call(null, method, url, body())).status, `${method} ${url} without a token`).toBe(401);
      for (const [who, status] of Object.entries(expected)) {
        const r = await call(who, method, url, body());
        expect(r.status, `${method} ${url} as ${who}: ${JSON.stringify(r.body)}`).toBe(status);
      }
    }
  });
});

describe('booking through the API', () => {
  it('an agent books for themselves (the agent\'s options apply); the scheduler is woken', async () => {
    const r = await call('a1', 'POST', '/callbacks', { lead: 'n1', due: '2026-11-23T14:00', transcript: 'Caller: call me at two' });
    expect(r).toMatchObject({ status: 201, body: { callback: { type: 'USERONLY', owner: 'a1', dueAt: '2026-11-23T19:00:00.000Z', dueLocal: '2026-11-23T14:00:00', earliestDialableAt: '2026-11-23T19:00:00.000Z' } } });
    expect(nudges).toBe(1);
    expect((await call('a1', 'GET', `/callbacks/${r.body.callback.id}`)).body.context).toBe('Caller: call me at two');
    expect(await call('a1', 'POST', '/callbacks', { lead: 'n2', due: '+1h', owner: 'a2' })).toMatchObject({ status: 403, body: { message: expect.stringMatching(/owner must be you/) } });
    expect(await call('mgr', 'POST', '/callbacks', { lead: 'u1', due: '+1h' })).toMatchObject({ status: 403, body: { message: 'you may not book callbacks in campaign C2' } });
  });

  it('by phone number in national format: an unknown number becomes a lead of the campaign', async () => {
    const r = await call('mgr', 'POST', '/callbacks', { phone: '(212) 555-0177', campaign: 'C1', due: '+2h', type: 'ANYONE' });
    expect(r.status).toBe(201);
    expect(db.$client.prepare('SELECT phone_e164, list_id FROM leads WHERE id = ?').get(r.body.callback.lead)).toEqual({ phone_e164: '+12125550177', list_id: 'L1' });
  });

  it("a booking never moves a lead: a number known in another campaign's list becomes a new lead of the target campaign", async () => {
    const leadsNow = () => db.$client.prepare('SELECT id, list_id FROM leads WHERE phone_e164 = ? ORDER BY id').all('+442079460018');
    expect(leadsNow()).toEqual([{ id: 'u1', list_id: 'L2' }]);
    const r = await call('mgr', 'POST', '/callbacks', { phone: '+442079460018', campaign: 'C1', due: '+2h', type: 'ANYONE' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.callback).toMatchObject({ campaign: 'C1', list: 'L1' });
    expect(r.body.callback.lead).not.toBe('u1');
    // The lead made for C1 now has this number; booking it from C2 by phone finds C2's own lead, and
    // a second campaign's booking of a number first seen through the API gets an id of its own.
    const again = await call('root', 'POST', '/callbacks', { phone: '+442079460018', campaign: 'C2', due: '+2h', type: 'ANYONE' });
    expect(again.body.callback).toMatchObject({ lead: 'u1', campaign: 'C2', list: 'L2' });
    await call('root', 'POST', '/callbacks', { phone: '+12125550188', campaign: 'C2', due: '+2h', type: 'ANYONE' });
    const c1 = await call('mgr', 'POST', '/callbacks', { phone: '+12125550188', campaign: 'C1', due: '+2h', type: 'ANYONE' });
    expect(c1.status).toBe(201);
    expect(db.$client.prepare('SELECT id, list_id FROM leads WHERE phone_e164 = ? ORDER BY id').all('+12125550188')).toEqual([
      { id: 'api-12125550188', list_id: 'L2' },
      { id: 'api-12125550188-2', list_id: 'L1' },
    ]);
    expect(leadsNow()).toEqual([{ id: r.body.callback.lead, list_id: 'L1' }, { id: 'u1', list_id: 'L2' }].sort((a, b) => a.id.localeCompare(b.id)));
  });

  it('a refused booking by phone leaves no lead behind', async () => {
    const leads = () => (db.$client.prepare('SELECT count(*) n FROM leads').get() as { n: number }).n;
    const before = leads();
    const r = await call('mgr', 'POST', '/callbacks', { phone: '+12125550199', campaign: 'C1', due: '+1h', type: 'USERONLY', owner: 'ghost' });
    expect(r).toMatchObject({ status: 422, body: { code: 'RULE_OWNER_UNKNOWN' } });
    expect(leads()).toBe(before);
    expect(count()).toBe(0);
  });

  it('bad input is a 4xx with a clear message, and nothing is written', async () => {
    const before = count();
    const cases: [unknown, number, RegExp][] = [
      [{ lead: 'n1', due: '+1h', color: 'red' }, 400, /Unrecognized key\(s\) in object: 'color'/],
      [{ lead: 'n1', due: 5 }, 400, /body.due: Expected string, received number/],
      [{ due: '+1h' }, 400, /give lead, or phone and campaign/],
      [{ phone: '12', campaign: 'C1', due: '+1h' }, 400, /phone: "12" is not a phone number/],
      [{ lead: 'n1', due: '2026-11-24T10:00', zone: 'Mars/Olympus' }, 400, /zone "Mars\/Olympus" is not lead, campaign, agent or an IANA zone/],
      [{ lead: 'n1', due: '2026-11-20T10:00' }, 400, /is in the past \(now is 2026-11-23T10:00:00-05:00\); use "now"/],
      [{ lead: 'n1', due: '+1h', transcript: 'x'.repeat(64 * 1024 + 1) }, 400, /transcript is limited to 65536 characters/],
      [{ lead: 'nope', due: '+1h' }, 404, /no lead "nope"/],
      [{ lead: 'n1', due: '+1h', owner: 'ghost', type: 'USERONLY' }, 422, /no agent "ghost"/],
    ];
    for (const [body, status, msg] of cases) {
      const r = await call('mgr', 'POST', '/callbacks', body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect(r.body.message).toMatch(msg);
      expect(r.body).toHaveProperty('details');
    }
    const huge = await api.inject({ method: 'POST', url: '/callbacks', headers: { authorization: `Bearer ${tok.mgr}`, 'content-type': 'application/json' }, payload: JSON.stringify({ lead: 'n1', due: '+1h', notes: 'x'.repeat(200_000) }) });
    expect(huge.statusCode).toBe(413);
    expect(JSON.parse(huge.body)).toMatchObject({ code: 'TOO_LARGE' });
    expect(count()).toBe(before);
  });
});

describe('reading', () => {
  it('lists with filters and a cursor that walks every row once', async () => {
    for (const [lead, due] of [['n1', '+1h'], ['n2', '+2h'], ['n3', '+3h']]) await book('mgr', { lead, due, type: 'ANYONE' });
    await book('root', { lead: 'u1', due: '+1h', type: 'ANYONE' });
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const r: Res = await call('mgr', 'GET', `/callbacks?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      seen.push(...r.body.items.map((i: { id: number }) => i.id));
      cursor = r.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([1, 2, 3]); // C1 only for this manager, due order
    expect((await call('root', 'GET', '/callbacks?campaign=C2')).body.items.map((i: { lead: string }) => i.lead)).toEqual(['u1']);
    expect((await call('root', 'GET', '/callbacks?list=L1&sort=id&order=desc')).body.items.map((i: { id: number }) => i.id)).toEqual([3, 2, 1]);
    expect((await call('root', 'GET', '/callbacks?state=live')).body.items).toEqual([]);
    expect(await call('root', 'GET', '/callbacks?state=SOON')).toMatchObject({ status: 400, body: { message: expect.stringMatching(/state "SOON" is not one of/) } });
    expect(await call('root', 'GET', '/callbacks?cursor=abc')).toMatchObject({ status: 400, body: { message: expect.stringMatching(/cursor is not one this API gave out/) } });
    expect((await call('root', 'GET', '/callbacks?limit=9999')).status).toBe(400);
  });

  it('searches by phone in national or E.164 format', async () => {
    const cb = await book('mgr', { lead: 'n2', type: 'ANYONE' });
    for (const q of ['212-555-0102', '%2B12125550102', '(212)%20555%200102']) {
      const r = await call('mgr', 'GET', `/callbacks/search?phone=${q}`);
      expect(r.body).toMatchObject({ e164: '+12125550102', items: [{ id: cb.id }] });
    }
    expect((await call('mgr', 'GET', '/callbacks/search?phone=020%207946%200018&region=GB')).body).toEqual({ e164: '+442079460018', items: [] }); // C2: not this manager's
  });
});

describe('changing callbacks', () => {
  it('reschedule, convert, reassign, move; each writes an audit row; a stale version is 409', async () => {
    const cb = await book('mgr', { lead: 'n1', owner: 'a1', type: 'USERONLY' });
    const r1 = await call('mgr', 'PATCH', `/callbacks/${cb.id}`, { version: cb.version, due: '2026-11-24T16:00', zone: 'Europe/London' });
    expect(r1).toMatchObject({ status: 200, body: { dueAt: '2026-11-24T16:00:00.000Z', dueLocal: '2026-11-24T11:00:00', state: 'ACTIVE' } });
    expect(r1.body.version).toBeGreaterThan(cb.version);
    expect(await call('mgr', 'PATCH', `/callbacks/${cb.id}`, { version: cb.version, notes: 'late' })).toMatchObject({
      status: 409, body: { code: 'CONFLICT', message: expect.stringMatching(/changed since you read it \(your version 1, now \d+\); reload it/) },
    });
    const r2 = await call('mgr', 'PATCH', `/callbacks/${cb.id}`, { version: r1.body.version, owner: 'a2' });
    expect(r2.body).toMatchObject({ owner: 'a2', type: 'USERONLY' });
    const r3 = await call('mgr', 'PATCH', `/callbacks/${cb.id}`, { version: r2.body.version, type: 'ANYONE' });
    expect(r3.body.type).toBe('ANYONE');
    expect(await call('mgr', 'PATCH', `/callbacks/${cb.id}`, { version: r3.body.version, campaign: 'C2' })).toMatchObject({ status: 403, body: { message: 'you do not manage campaign C2' } });
    expect(await call('root', 'PATCH', `/callbacks/${cb.id}`, { version: r3.body.version, campaign: 'NONUM' })).toMatchObject({ status: 409, body: { message: 'campaign NONUM has no outbound number: it cannot place this callback' } });
    expect(await call('mgr', 'PATCH', `/callbacks/${cb.id}`, { version: r3.body.version, owner: 'ghost' })).toMatchObject({ status: 422, body: { message: 'no agent "ghost"' } });
    const trail = (await call('mgr', 'GET', `/callbacks/${cb.id}`)).body.audit.map((a: { action: string; actor: string }) => `${a.actor}:${a.action}`);
    expect(trail).toEqual(['mgr:create', 'mgr:edit', 'mgr:edit', 'mgr:edit']);
  });

  it('two managers editing the same callback: one wins, the other gets 409', async () => {
    const cb = await book('mgr', { lead: 'n1', type: 'ANYONE' });
    const [a, b] = await Promise.all([
      call('mgr', 'PATCH', `/callbacks/${cb.id}`, { version: cb.version, notes: 'from mgr' }),
      call('mgr2', 'PATCH', `/callbacks/${cb.id}`, { version: cb.version, notes: 'from mgr2' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const winner = a.status === 200 ? 'from mgr' : 'from mgr2';
    expect((await call('mgr', 'GET', `/callbacks/${cb.id}`)).body.callback.notes).toBe(winner);
  });

  it('cancel only before it dials', async () => {
    const cb = await book('mgr', { lead: 'n1', type: 'ANYONE' });
    const dialing = await book('mgr', { lead: 'n2', type: 'ANYONE' });
    db.$client.prepare("UPDATE callbacks SET state = 'DIALING' WHERE id = ?").run(dialing.id);
    expect(await call('mgr', 'POST', `/callbacks/${cb.id}/cancel`, { reason: 'customer asked' })).toMatchObject({ status: 200, body: { state: 'CANCELLED', failReason: 'cancelled: customer asked' } });
    expect(await call('mgr', 'POST', `/callbacks/${dialing.id}/cancel`, {})).toEqual({
      status: 409, body: { code: 'CONFLICT', message: `callback ${dialing.id} is DIALING: it can be cancelled only before it dials (ACTIVE or LIVE)`, details: { state: 'DIALING' } },
    });
  });

  it("bulk: reassign or convert all of an agent's callbacks; cancel a selection with per-item refusals", async () => {
    const x = await book('mgr', { lead: 'n1', owner: 'a1', type: 'USERONLY' });
    const y = await book('mgr', { lead: 'n2', owner: 'a1', type: 'USERONLY' });
    expect((await call('mgr', 'POST', '/callbacks/bulk', { action: 'reassign', fromAgent: 'a1', toAgent: 'a2' })).body).toEqual({ changed: [x.id, y.id], refused: [] });
    expect((await call('mgr', 'POST', '/callbacks/bulk', { action: 'convert', fromAgent: 'a2' })).body.changed).toEqual([x.id, y.id]);
    const r = await call('mgr', 'POST', '/callbacks/bulk', { action: 'cancel', ids: [x.id, 9999] });
    expect(r.body).toEqual({ changed: [x.id], refused: [{ id: 9999, code: 'NOT_FOUND', message: 'no callback 9999' }] });
  });

  it('purge archives finished callbacks older than N days with their call log', async () => {
    const cb = await book('mgr', { lead: 'n1', type: 'ANYONE' });
    db.$client.prepare("UPDATE callbacks SET state = 'COMPLETED', updated_at = ? WHERE id = ?").run(NOW - 40 * 86_400_000, cb.id);
    expect((await call('mgr', 'POST', '/callbacks/purge', { olderThanDays: 30 })).body).toEqual({ archived: 1 });
    expect((await call('mgr', 'GET', `/callbacks/${cb.id}`)).status).toBe(404);
    expect(db.$client.prepare('SELECT id FROM callbacks_archive').all()).toEqual([{ id: cb.id }]);
  });
});

describe('agents and admins', () => {
  it("an agent's own list with counts", async () => {
    await book('a1', { lead: 'n1' });
    expect((await call('a1', 'GET', '/me/callbacks')).body).toMatchObject({ agent: 'a1', live: 0, active: 1, counted: 1, callbacks: [{ lead: 'n1' }] });
  });

  it("the agent's alert style is the campaign's callback_alert (default blink_red_defer), NONE with nothing counted", async () => {
    expect((await call('a1', 'GET', '/me/callbacks')).body).toMatchObject({ counted: 0, alert: 'NONE' });
    await book('a1', { lead: 'n1' });
    expect((await call('a1', 'GET', '/me/callbacks')).body).toMatchObject({ counted: 1, alert: 'BLINK_RED_DEFER' });
    const c1 = { name: 'One', time_zone: 'America/New_York', outbound_number: '+15550100001' };
    expect(await call('root', 'PUT', '/admin/campaigns/C1', { ...c1, callback_alert: 'flash' })).toMatchObject({ status: 400, body: { message: expect.stringMatching(/callback_alert/) } });
    expect((await call('root', 'PUT', '/admin/campaigns/C1', { ...c1, callback_alert: 'red' })).body).toMatchObject({ id: 'C1', callbackAlert: 'RED' });
    expect((await call('a1', 'GET', '/me/callbacks')).body).toMatchObject({ counted: 1, alert: 'RED' });
  });

  it('admin CRUD goes through the import checks; a used entry cannot be deleted', async () => {
    expect(await call('root', 'PUT', '/admin/campaigns/C9', { name: 'Nine', time_zone: 'Nowhere/Zone' })).toMatchObject({ status: 400, body: { message: expect.stringMatching(/time_zone: must be an IANA time zone/) } });
    expect((await call('root', 'PUT', '/admin/campaigns/C9', { name: 'Nine', time_zone: 'UTC', calling_windows: { 'mon-fri': '09:00-17:00' } })).body).toMatchObject({ id: 'C9', callingWindows: { 'mon-fri': '09:00-17:00' } });
    expect((await call('root', 'PUT', '/admin/leads/n9', { list: 'L1', phone: '(212) 555-0199' })).body).toMatchObject({ phoneE164: '+12125550199' });
    expect(await call('root', 'DELETE', '/admin/campaigns/C1')).toMatchObject({ status: 409, body: { message: expect.stringMatching(/is still used/) } });
    expect(await call('root', 'POST', '/admin/dnc', { number: '212.555.0101', campaign: 'C1' })).toMatchObject({ status: 200, body: { phoneE164: '+12125550101', campaignId: 'C1' } });
    expect((await call('root', 'POST', '/admin/dnc/remove', { number: '+12125550101', campaign: 'C1' })).body).toEqual({ removed: true });
  });
});

describe('fuzzing the API', () => {
  it('random bodies, query strings and headers never get a 5xx, and the database stays whole', async () => {
    const fc = (await import('fast-check')).default;
    const routes = ['/callbacks', '/callbacks/1', '/callbacks/1/cancel', '/callbacks/bulk', '/callbacks/search', '/admin/leads/x', '/admin/dnc', '/me/callbacks'];
    await book('mgr', { lead: 'n1', type: 'ANYONE' });
    let created = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PATCH', 'PUT', 'DELETE'),
        fc.constantFrom(...routes),
        fc.oneof(fc.json(), fc.string(), fc.anything().map((a) => { try { return JSON.stringify(a) ?? 'null'; } catch { return '{}'; } })),
        fc.dictionary(fc.constantFrom('state', 'limit', 'cursor', 'phone', 'agent', 'from', 'sort', 'x'), fc.string({ maxLength: 30 })),
        fc.constantFrom('root', 'mgr', 'viewer', 'a1', 'cbd_bad', null),
        fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'),
        async (method, url, body, query, who, ctype) => {
          const r = await api.inject({
            method: method as 'GET', url, query, payload: method === 'GET' || method === 'DELETE' ? undefined : body,
            headers: { 'content-type': ctype, ...(who ? { authorization: `Bearer ${tok[who] ?? who}` } : {}) },
          });
          expect(r.statusCode, `${method} ${url} ${body.slice(0, 60)}`).toBeLessThan(500);
          if (r.statusCode >= 400) expect(JSON.parse(r.body)).toHaveProperty('code');
          if (r.statusCode === 201) created++;
        },
      ),
      { numRuns: 3000 },
    );
    expect(db.$client.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(count()).toBe(1 + created);
  });
});
