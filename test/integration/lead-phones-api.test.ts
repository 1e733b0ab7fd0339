import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { callCenter, importedDb, testApi, tokensFor } from './fixture.js';

// Several numbers per lead through the HTTP API: a lead written with phones (PUT /admin/leads), a
// booking naming the number, the view's numbers and nextNumber as serialized, the search by a
// second number, and the call log's phonePosition field.

const FILE = callCenter({
  leads: [{ id: 'multi', list: 'L1', phones: [{ number: '+12125550201', label: 'home' }, { number: '(646) 555-0202', label: 'work' }] }],
});
let db: Db;
let api: FastifyInstance;
let tok: Record<string, string> = {};
beforeEach(async () => {
  ({ db } = await importedDb('phones-api', FILE));
  tok = await tokensFor(db, FILE);
  api = await testApi(db, { nudge: () => undefined });
});
afterEach(async () => {
  await api.close();
});
type Res = { status: number; body: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
async function call(who: string, method: string, url: string, payload?: unknown): Promise<Res> {
  const r = await api.inject({ method: method as 'GET', url, payload: payload as object, headers: { authorization: `Bearer ${tok[who]}` } });
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null };
}

describe('several numbers per lead over HTTP', () => {
  it('books on the named number; the view shows the numbers and the one dialed next; search finds it by number 2', async () => {
    const b = await call('mgr', 'POST', '/callbacks', { lead: 'multi', due: '+1h', number: '2' });
    expect(b.status, JSON.stringify(b.body)).toBe(201);
    expect(b.body.callback.numbers).toEqual([
      { position: 1, number: '+12125550201', label: 'home', dnc: false, zone: 'America/New_York' },
      { position: 2, number: '+16465550202', label: 'work', dnc: false, zone: 'America/New_York' },
    ]);
    expect(b.body.callback.nextNumber).toEqual({ position: 2, number: '+16465550202', why: '' });
    const id = b.body.callback.id;
    const one = await call('mgr', 'GET', `/callbacks/${id}`);
    expect(one.body.callback.nextNumber.position).toBe(2);
    const found = await call('mgr', 'GET', '/callbacks/search?phone=646-555-0202');
    expect(found.body.items.map((c: { id: number }) => c.id)).toEqual([id]);
    expect(found.body.items[0].numbers).toBeUndefined(); // lists leave the numbers out
    const bad = await call('mgr', 'POST', '/callbacks', { lead: 'multi', due: '+1h', number: '+19995550000' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/not one of lead multi's numbers/);
  });

  it('a booking by phone finds the lead by its second number and asks for it', async () => {
    const b = await call('mgr', 'POST', '/callbacks', { phone: '(646) 555-0202', campaign: 'C1', due: '+1h' });
    expect(b.status, JSON.stringify(b.body)).toBe(201);
    expect(b.body.callback).toMatchObject({ lead: 'multi', nextNumber: { position: 2 } });
  });

  it('PUT /admin/leads/{id} takes phones like the import file, and refuses phone with phones', async () => {
    const put = await call('root', 'PUT', '/admin/leads/fresh', { list: 'L1', phones: [{ number: '+12125550301' }, { number: '+12125550302', dnc: true, time_zone: 'America/Chicago' }] });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(db.$client.prepare("SELECT position, e164, dnc, time_zone FROM lead_phones WHERE lead_id = 'fresh' ORDER BY position").all()).toEqual([
      { position: 1, e164: '+12125550301', dnc: 0, time_zone: null },
      { position: 2, e164: '+12125550302', dnc: 1, time_zone: 'America/Chicago' },
    ]);
    expect(put.body.phones.map((p: { e164: string }) => p.e164)).toEqual(['+12125550301', '+12125550302']);
    // Deleting the lead takes its numbers along; a lead with a callback is refused and keeps them.
    expect((await call('root', 'DELETE', '/admin/leads/fresh')).status).toBe(200);
    expect(db.$client.prepare("SELECT count(*) n FROM lead_phones WHERE lead_id = 'fresh'").get()).toEqual({ n: 0 });
    expect((await call('mgr', 'POST', '/callbacks', { lead: 'multi', due: '+1h' })).status).toBe(201);
    expect((await call('root', 'DELETE', '/admin/leads/multi')).status).toBe(409);
    expect(db.$client.prepare("SELECT count(*) n FROM lead_phones WHERE lead_id = 'multi'").get()).toEqual({ n: 2 });
    const both = await call('root', 'PUT', '/admin/leads/fresh2', { list: 'L1', phone: '+12125550303', phones: [{ number: '+12125550304' }] });
    expect(both.status).toBe(400);
    expect(both.body.message).toMatch(/give phone \(one number\) or phones \(several\), not both/);
  });
});
