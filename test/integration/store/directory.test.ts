// The directory store (directory, directory-admin, directory-entry, lead-phones, servers, people, tokens,
// agi-lookups, stats): every exported function on SQLite and on PostgreSQL (vitest projects `sqlite`/`pg`).
// Times are above 2^31 (int8 on pg), JSON and 0/1 flags go through both engines' column types, and
// every list read has one order on both.
import { and, eq } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Conn } from '../../../src/store/conn.js';
import * as dir from '../../../src/store/directory.js';
import { deleteEntry, getEntry, listDnc, listEntries, removeDnc } from '../../../src/store/directory-admin.js';
import { importEntry } from '../../../src/store/directory-entry.js';
import { transaction } from '../../../src/store/engine.js';
import { lastAttemptNumber, leadByAnyNumber, leadHasNumber, numbersOfLead, writeLeadPhones, writeLeadsPhones } from '../../../src/store/lead-phones.js';
import * as people from '../../../src/store/people.js';
import { allServers, getServer, serverCount, serverFilterOf, setNumberTrunks, trunksOfNumber, upsertServer } from '../../../src/store/servers.js';
import { countCallbacksByState, trunkIds } from '../../../src/store/stats.js';
import { insertToken, listTokens, revokeToken, tokenByHash, touchToken } from '../../../src/store/tokens.js';
import { lastAnsweredCallbackId, phoneWithAgent } from '../../../src/store/agi-lookups.js';
import { dbExec, freshEngineEachTest, TEST_ENGINE, type TestEngine } from '../engine.js';

/** Above 2^31: an int4 on pg would overflow. */
const T = 1_790_000_000_000;
let e: TestEngine;
freshEngineEachTest((x) => (e = x));

const campaign = (id: string, over: Partial<Conn['t']['campaigns']['$inferInsert']> = {}) => ({
  id,
  name: `Campaign ${id}`,
  timeZone: 'UTC',
  maxAttempts: 3,
  retryBusySec: 300,
  retryNoAnswerSec: 900,
  retryCongestionSec: 120,
  retryMaxSec: 3600,
  agentRingSec: 20,
  customerRingSec: 30,
  updatedAt: T,
  ...over,
});

/** trunks t1 t2, number +15550100001 on t1, campaigns C (that number) and D, lists L1 L2 (C) and M (D), agents a1 (C, D) and a2 (C), phones. */
async function directory(c: Conn): Promise<void> {
  await dir.upsertTrunk(c, { id: 't2', maxChannels: 2, callsPerSecond: 1.5, updatedAt: T });
  await dir.upsertTrunk(c, { id: 't1', maxChannels: 0, callsPerSecond: 0, updatedAt: T });
  await dir.upsertNumber(c, { e164: '+15550100001', trunkId: 't1', outboundEnabled: true, description: null, updatedAt: T });
  await dir.upsertCampaign(c, campaign('C', { outboundNumber: '+15550100001', callingWindows: { mon: '09:00-17:00' }, holidays: ['2026-12-25'], emailWhenLive: true }));
  await dir.upsertCampaign(c, campaign('D'));
  await dir.upsertList(c, { id: 'L2', campaignId: 'C', name: 'two', updatedAt: T });
  await dir.upsertList(c, { id: 'L1', campaignId: 'C', name: 'one', updatedAt: T });
  await dir.upsertList(c, { id: 'M', campaignId: 'D', name: 'm', updatedAt: T });
  await dir.upsertAgent(c, { id: 'a2', name: 'Bea', updatedAt: T });
  await dir.upsertAgent(c, { id: 'a1', name: 'Ann', email: 'ann@example.com', updatedAt: T });
  await dir.upsertAgent(c, { id: 'bot', name: 'Bot', kind: 'ai', maxCalls: 7, updatedAt: T });
  await dir.setAgentCampaigns(c, 'a1', ['D', 'C']);
  await dir.setAgentCampaigns(c, 'a2', ['C']);
  await dir.upsertPhone(c, { endpoint: 'p2', agentId: 'a2', updatedAt: T });
  await dir.upsertPhone(c, { endpoint: 'p1', agentId: 'a1', activeAccount: false, serverId: 'east', updatedAt: T });
}

const lead = (id: string, listId: string, phoneE164: string) => ({ id, listId, firstName: `F${id}`, lastName: null, phoneE164, timeZone: null, updatedAt: T });

describe(`directory on ${TEST_ENGINE}`, () => {
  it('reads what the upserts wrote; a re-upsert updates in place', async () => {
    await directory(e);
    expect((await dir.getCampaign(e, 'C'))).toMatchObject({ outboundNumber: '+15550100001', callingWindows: { mon: '09:00-17:00' }, holidays: ['2026-12-25'], emailWhenLive: true, scheduledCallbacks: true, updatedAt: T });
    expect(await dir.getCampaign(e, 'nope')).toBeUndefined();
    expect(await dir.getList(e, 'L1')).toEqual({ id: 'L1', campaignId: 'C', name: 'one', updatedAt: T });
    expect(await dir.getAgent(e, 'a1')).toMatchObject({ name: 'Ann', email: 'ann@example.com', kind: 'human', maxCalls: 1 });
    expect(await dir.getNumber(e, '+15550100001')).toEqual({ e164: '+15550100001', trunkId: 't1', outboundEnabled: true, description: null, updatedAt: T });
    expect(await dir.getTrunk(e, 't2')).toMatchObject({ maxChannels: 2, callsPerSecond: 1.5, serverId: 'default' });
    expect((await dir.allTrunks(e)).map((t) => t.id)).toEqual(['t1', 't2']);
    expect((await dir.allPhones(e)).map((p) => [p.endpoint, p.activeAccount, p.serverId])).toEqual([['p1', false, 'east'], ['p2', true, 'default']]);

    await dir.upsertTrunk(e, { id: 't2', maxChannels: 9, callsPerSecond: 0.5, serverId: 'east', updatedAt: T + 1 });
    expect(await dir.getTrunk(e, 't2')).toEqual({ id: 't2', maxChannels: 9, callsPerSecond: 0.5, serverId: 'east', updatedAt: T + 1 });
    // a field left out keeps its value; one given (even null) replaces it (the import gives every field)
    await dir.upsertCampaign(e, campaign('C', { name: 'renamed', callingWindows: null, emailWhenLive: false }));
    expect(await dir.getCampaign(e, 'C')).toMatchObject({ name: 'renamed', callingWindows: null, emailWhenLive: false, outboundNumber: '+15550100001' });
    await dir.upsertCampaign(e, campaign('C', { outboundNumber: null }));
    expect(await dir.getCampaign(e, 'C')).toMatchObject({ name: 'Campaign C', outboundNumber: null });
  });

  it('answers the directory questions: lists, agents, phones, campaigns, DNC, AI limits, existence', async () => {
    await directory(e);
    await dir.insertLead(e, lead('x', 'L2', '+12125550001'));
    await expect(dir.insertLead(e, lead('x', 'M', '+12125550002'))).rejects.toThrow();
    expect(await dir.getLead(e, 'x')).toMatchObject({ listId: 'L2', phoneE164: '+12125550001' });
    expect(await dir.campaignOfLead(e, 'x')).toBe('C');
    expect(await dir.campaignOfLead(e, 'nope')).toBeUndefined();
    expect(await dir.firstListOf(e, 'C')).toBe('L1');
    expect(await dir.firstListOf(e, 'nope')).toBeUndefined();
    expect((await dir.agentOfPhone(e, 'p1'))?.id).toBe('a1');
    expect(await dir.agentOfPhone(e, 'nope')).toBeUndefined();
    expect(await dir.agentIdsOfCampaign(e, 'C')).toEqual(['a1', 'a2']);
    expect(await dir.campaignsOfAgent(e, 'a1')).toEqual(['C', 'D']);
    expect(await dir.isAgentOnCampaign(e, 'a2', 'C')).toBe(true);
    expect(await dir.isAgentOnCampaign(e, 'a2', 'D')).toBe(false);
    expect((await dir.phonesOfAgents(e, ['a2', 'a1'])).map((p) => p.endpoint)).toEqual(['p1', 'p2']);
    expect(await dir.phonesOfAgents(e, [])).toEqual([]);
    expect([...(await dir.aiLimitsOf(e, ['a1', 'bot']))]).toEqual([['bot', { maxCalls: 7 }]]);
    expect((await dir.aiLimitsOf(e, [])).size).toBe(0);

    await dir.setAgentCampaigns(e, 'a1', ['D']);
    expect(await dir.campaignsOfAgent(e, 'a1')).toEqual(['D']);
    await dir.setAgentCampaigns(e, 'a1', []);
    expect(await dir.campaignsOfAgent(e, 'a1')).toEqual([]);

    await dir.addDnc(e, { phoneE164: '+12125550009', campaignId: '', createdAt: T });
    await dir.addDnc(e, { phoneE164: '+12125550008', campaignId: 'D', createdAt: T });
    await dir.addDnc(e, { phoneE164: '+12125550008', campaignId: 'D', createdAt: T + 5 }); // already there: kept as it was
    expect(await dir.isDnc(e, '+12125550009', 'C')).toBe(true); // '' = every campaign
    expect(await dir.isDnc(e, '+12125550008', 'D')).toBe(true);
    expect(await dir.isDnc(e, '+12125550008', 'C')).toBe(false);
    expect(await listDnc(e)).toEqual([
      { phoneE164: '+12125550008', campaignId: 'D', createdAt: T },
      { phoneE164: '+12125550009', campaignId: '', createdAt: T },
    ]);

    for (const [table, id] of [['trunks', 't1'], ['numbers', '+15550100001'], ['campaigns', 'D'], ['lists', 'M'], ['agents', 'bot']] as const) {
      expect(await dir.exists(e, table, id)).toBe(true);
      expect(await dir.exists(e, table, 'missing')).toBe(false);
    }
  });

  it('users: JSON campaigns and the lead_modify flag round-trip; a re-upsert replaces them', async () => {
    await directory(e);
    await dir.upsertUser(e, { id: 'm', role: 'manager', campaigns: ['C', 'D'], leadModify: true, updatedAt: T });
    expect(await dir.getUser(e, 'm')).toEqual({ id: 'm', role: 'manager', agentId: null, campaigns: ['C', 'D'], leadModify: true, updatedAt: T });
    await dir.upsertUser(e, { id: 'm', role: 'manager', campaigns: [], leadModify: false, updatedAt: T + 1 });
    expect(await dir.getUser(e, 'm')).toMatchObject({ campaigns: [], leadModify: false });
    expect(await dir.getUser(e, 'nobody')).toBeUndefined();
  });

  it('upsertLeads writes and updates many leads across statement chunks (1500 > 1000 per statement)', async () => {
    await directory(e);
    await dir.upsertLead(e, lead('l0000', 'M', '+12125559999'));
    const rows = Array.from({ length: 1500 }, (_, i) => lead(`l${String(i).padStart(4, '0')}`, i % 2 ? 'L1' : 'L2', `+1212555${String(i).padStart(4, '0')}`));
    await dir.upsertLeads(e, rows);
    const n = await dbExec(e, 'SELECT count(*) AS n FROM leads');
    expect(Number(n.rows[0]!.n)).toBe(1500);
    expect(await dir.getLead(e, 'l0000')).toEqual(rows[0]); // updated in place: list and number
    expect(await dir.getLead(e, 'l1499')).toEqual(rows[1499]);
    await dir.upsertLeads(e, []);
  });
});

describe(`directory admin and import entries on ${TEST_ENGINE}`, () => {
  it('lists by key with a limit; reads one entry (a lead with its numbers in dial order)', async () => {
    await directory(e);
    await dir.upsertLead(e, lead('x', 'L1', '+12125550001'));
    await writeLeadPhones(e, 'x', [{ e164: '+12125550001' }, { e164: '+12125550002', label: 'work', dnc: true, timeZone: 'Europe/Paris' }]);
    expect((await listEntries(e, 'lists', 2)).map((r) => r.id)).toEqual(['L1', 'L2']);
    expect((await listEntries(e, 'phones', 10)).map((r) => r.endpoint)).toEqual(['p1', 'p2']);
    expect(await getEntry(e, 'lists', 'M')).toEqual({ id: 'M', campaignId: 'D', name: 'm', updatedAt: T });
    expect(await getEntry(e, 'lists', 'none')).toBeUndefined();
    expect(await getEntry(e, 'leads', 'x')).toMatchObject({
      id: 'x',
      phoneE164: '+12125550001',
      phones: [
        { leadId: 'x', position: 1, e164: '+12125550001', label: 'mobile', dnc: false, timeZone: null },
        { leadId: 'x', position: 2, e164: '+12125550002', label: 'work', dnc: true, timeZone: 'Europe/Paris' },
      ],
    });
  });

  it('deletes an entry with what belongs to it; one still used is a CONFLICT and nothing is deleted', async () => {
    await directory(e);
    await dir.upsertLead(e, lead('x', 'L1', '+12125550001'));
    await writeLeadPhones(e, 'x', [{ e164: '+12125550001' }, { e164: '+12125550002' }]);
    // t1 carries a number (FK): refused by the engine, mapped by storeErrorKind
    await expect(deleteEntry(e, 'trunks', 't1')).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('trunk "t1" is still used') });
    expect(await dir.getTrunk(e, 't1')).toBeDefined();
    // a1 has a phone: the campaign links deleted first are rolled back with the refusal
    await expect(deleteEntry(e, 'agents', 'a1')).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await dir.campaignsOfAgent(e, 'a1')).toEqual(['C', 'D']);
    // inside a caller's transaction (as the admin API does): a savepoint on both engines; the transaction goes on
    await transaction(e, async (tx) => {
      await expect(deleteEntry(tx, 'agents', 'a1')).rejects.toMatchObject({ code: 'CONFLICT' });
      await deleteEntry(tx, 'phones', 'p1');
      await deleteEntry(tx, 'agents', 'a1');
    });
    expect(await dir.getAgent(e, 'a1')).toBeUndefined();
    expect(await dir.agentIdsOfCampaign(e, 'C')).toEqual(['a2']);
    await deleteEntry(e, 'leads', 'x'); // its numbers go with it
    expect(await dir.getLead(e, 'x')).toBeUndefined();
    expect((await dbExec(e, 'SELECT lead_id FROM lead_phones')).rows).toEqual([]);
  });

  it('removes a DNC entry once', async () => {
    await dir.addDnc(e, { phoneE164: '+12125550009', campaignId: '', createdAt: T });
    expect(await removeDnc(e, { phoneE164: '+12125550009', campaignId: '' })).toBe(true);
    expect(await removeDnc(e, { phoneE164: '+12125550009', campaignId: '' })).toBe(false);
    expect(await listDnc(e)).toEqual([]);
  });

  it('reads every section back as an import-file entry', async () => {
    await directory(e);
    await setNumberTrunks(e, '+15550100001', ['t1', 't2']);
    await dir.upsertLead(e, lead('one', 'L1', '+12125550001'));
    await dir.upsertLead(e, lead('two', 'L1', '+12125550002'));
    await writeLeadPhones(e, 'two', [{ e164: '+12125550002' }, { e164: '+12125550003', label: 'home', dnc: true }]);
    await dir.upsertUser(e, { id: 'm', role: 'manager', campaigns: ['C'], leadModify: true, updatedAt: T });
    expect(await importEntry(e, 'trunks', 't2')).toEqual({ id: 't2', max_channels: 2, calls_per_second: 1.5 });
    expect(await importEntry(e, 'numbers', '+15550100001')).toEqual({ number: '+15550100001', trunk: ['t1', 't2'], outbound_enabled: true });
    expect(await importEntry(e, 'campaigns', 'C')).toMatchObject({ id: 'C', outbound_number: '+15550100001', dial_order: 'agent_first', calling_windows: { mon: '09:00-17:00' }, holidays: ['2026-12-25'], email_when_live: true });
    expect(await importEntry(e, 'lists', 'L1')).toEqual({ id: 'L1', campaign: 'C', name: 'one' });
    expect(await importEntry(e, 'agents', 'a1')).toMatchObject({ id: 'a1', name: 'Ann', campaigns: ['C', 'D'], email: 'ann@example.com', kind: 'human' });
    expect(await importEntry(e, 'agents', 'bot')).toMatchObject({ kind: 'ai', max_calls: 7, campaigns: [] });
    expect(await importEntry(e, 'phones', 'p1')).toEqual({ endpoint: 'p1', agent: 'a1', active_account: false, status: 'ACTIVE', server: 'east' });
    expect(await importEntry(e, 'leads', 'one')).toEqual({ id: 'one', list: 'L1', first_name: 'Fone', phone: '+12125550001' });
    expect(await importEntry(e, 'leads', 'two')).toMatchObject({ phones: [{ number: '+12125550002', label: 'mobile', dnc: false }, { number: '+12125550003', label: 'home', dnc: true }] });
    expect(await importEntry(e, 'users', 'm')).toEqual({ id: 'm', role: 'manager', campaigns: ['C'], lead_modify: true });
    expect(await importEntry(e, 'users', 'none')).toBeUndefined();
  });
});

/** A callback of lead `leadId` in C, and attempts on it. */
async function callbackWithAttempts(c: Conn, leadId: string, attempts: { seq: number; agentId: string; position: number | null; outcome: string | null; endedAt: number | null; answeredAt: number | null }[]): Promise<number> {
  const [cb] = await c.q
    .insert(c.t.callbacks)
    .values({ leadId, campaignId: 'C', type: 'ANYONE', dueAt: T, dueZone: 'UTC', maxAttempts: 3, createdAt: T, updatedAt: T, state: 'ACTIVE' })
    .returning({ id: c.t.callbacks.id });
  for (const a of attempts) {
    await c.q.insert(c.t.callAttempts).values({
      callbackId: cb!.id, seq: a.seq, dialOrder: 'AGENT_FIRST', agentId: a.agentId, callerId: '+15550100001', customerNumber: '+12125550001', trunkId: 't1',
      agentChannelId: `a${a.seq}`, customerChannelId: `c${a.seq}`, bridgeId: `b${a.seq}`, leaseToken: 'tok', startedAt: T + a.seq,
      endedAt: a.endedAt, outcome: a.outcome, phonePosition: a.position, customerAnsweredAt: a.answeredAt,
    });
  }
  return cb!.id;
}

describe(`lead numbers on ${TEST_ENGINE}`, () => {
  it("writes a lead's numbers in order, one lead or many; a lead without rows reads as its one number", async () => {
    await directory(e);
    await dir.upsertLeads(e, [lead('a', 'L1', '+12125550001'), lead('b', 'L1', '+12125550005'), lead('c', 'M', '+12125550007')]);
    expect(await numbersOfLead(e, { id: 'c', phoneE164: '+12125550007' })).toEqual([{ leadId: 'c', position: 1, e164: '+12125550007', label: 'mobile', dnc: false, timeZone: null }]);
    await writeLeadPhones(e, 'a', [{ e164: '+12125550002' }, { e164: '+12125550001', label: 'home' }]);
    expect((await dir.getLead(e, 'a'))?.phoneE164).toBe('+12125550002'); // number 1 is also the lead's column
    await expect(writeLeadPhones(e, 'a', [])).rejects.toThrow(/at least one number/);
    await writeLeadsPhones(e, new Map([
      ['a', [{ e164: '+12125550003' }]],
      ['b', [{ e164: '+12125550005' }, { e164: '+12125550006', label: 'work', dnc: true, timeZone: 'America/Chicago' }]],
    ]));
    expect((await numbersOfLead(e, { id: 'a', phoneE164: '+12125550003' })).map((p) => p.e164)).toEqual(['+12125550003']);
    expect(await numbersOfLead(e, { id: 'b', phoneE164: '+12125550005' })).toEqual([
      { leadId: 'b', position: 1, e164: '+12125550005', label: 'mobile', dnc: false, timeZone: null },
      { leadId: 'b', position: 2, e164: '+12125550006', label: 'work', dnc: true, timeZone: 'America/Chicago' },
    ]);
    await writeLeadsPhones(e, new Map());
  });

  it("finds a campaign's lead by any of its numbers (oldest id first), and the position", async () => {
    await directory(e);
    await dir.upsertLeads(e, [lead('b', 'L1', '+12125550001'), lead('a', 'L2', '+12125550009'), lead('z', 'M', '+12125550002')]);
    await writeLeadPhones(e, 'a', [{ e164: '+12125550009' }, { e164: '+12125550002' }]);
    await writeLeadPhones(e, 'b', [{ e164: '+12125550001' }, { e164: '+12125550002' }]);
    expect(await leadByAnyNumber(e, 'C', '+12125550002')).toMatchObject({ lead: { id: 'a' }, position: 2 });
    expect(await leadByAnyNumber(e, 'D', '+12125550002')).toMatchObject({ lead: { id: 'z' }, position: 1 });
    expect(await leadByAnyNumber(e, 'C', '+19999999999')).toBeUndefined();
    // the WHERE builder on the connection's own tables
    const ids = await e.q.select({ id: e.t.leads.id }).from(e.t.leads).where(leadHasNumber('+12125550002', e.t)).orderBy(e.t.leads.id);
    expect(ids.map((r) => r.id)).toEqual(['a', 'b', 'z']);
  });

  it("the callback's latest ended attempt: its number and outcome; null before any", async () => {
    await directory(e);
    await dir.upsertLead(e, lead('x', 'L1', '+12125550001'));
    const none = await callbackWithAttempts(e, 'x', []);
    expect(await lastAttemptNumber(e, none)).toBeNull();
    const id = await callbackWithAttempts(e, 'x', [
      { seq: 1, agentId: 'a1', position: 1, outcome: 'BUSY', endedAt: T + 10, answeredAt: null },
      { seq: 2, agentId: 'a1', position: 2, outcome: 'NO_ANSWER', endedAt: T + 20, answeredAt: null },
      { seq: 3, agentId: 'a1', position: 3, outcome: null, endedAt: null, answeredAt: null }, // still running
    ]);
    expect(await lastAttemptNumber(e, id)).toEqual({ position: 2, outcome: 'NO_ANSWER' });
  });
});

describe(`servers on ${TEST_ENGINE}`, () => {
  it('upserts and reads servers; counts them; the filter a daemon uses', async () => {
    expect(await serverCount(e)).toBe(0);
    expect(await serverFilterOf(e, 'default')).toBeNull(); // one Asterisk: no filter
    expect(await serverFilterOf(e, undefined)).toBeNull();
    expect(await serverFilterOf(e, 'b')).toBe('b');
    await upsertServer(e, { id: 'b', ariUrl: 'http://b:8088', amiPort: 5039, updatedAt: T });
    await upsertServer(e, { id: 'a', updatedAt: T });
    await upsertServer(e, { id: 'b', ariUrl: 'http://b2:8088', amiPort: null, updatedAt: T + 1 });
    const n = await serverCount(e);
    expect(n).toBe(2);
    expect(typeof n).toBe('number'); // pg's count(*) is int8: mapped
    expect(await serverFilterOf(e, 'default')).toBe('default');
    expect(await getServer(e, 'b')).toEqual({ id: 'b', ariUrl: 'http://b2:8088', ariUsername: null, amiHost: null, amiPort: null, amiUsername: null, updatedAt: T + 1 });
    expect(await getServer(e, 'c')).toBeUndefined();
    expect((await allServers(e)).map((s) => s.id)).toEqual(['a', 'b']);
  });

  it("a number's trunks: its main trunk and number_trunks, each with its server, once each", async () => {
    await directory(e);
    await dir.upsertTrunk(e, { id: 't3', maxChannels: 0, callsPerSecond: 0, serverId: 'west', updatedAt: T });
    expect(await trunksOfNumber(e, '+15550100001')).toEqual([{ trunkId: 't1', serverId: 'default' }]);
    await setNumberTrunks(e, '+15550100001', ['t3', 't1', 't3']);
    expect(await trunksOfNumber(e, '+15550100001')).toEqual([{ trunkId: 't1', serverId: 'default' }, { trunkId: 't3', serverId: 'west' }]);
    await setNumberTrunks(e, '+15550100001', ['t2']);
    expect((await trunksOfNumber(e, '+15550100001')).map((t) => t.trunkId)).toEqual(['t1', 't2']);
    await setNumberTrunks(e, '+15550100001', []);
    expect(await trunksOfNumber(e, '+19999999999')).toEqual([]);
  });
});

describe(`people and tokens on ${TEST_ENGINE}`, () => {
  beforeEach(async () => {
    await dir.upsertUser(e, { id: 'u', role: 'admin', campaigns: [], leadModify: false, updatedAt: T });
    await dir.upsertUser(e, { id: 'v', role: 'admin', campaigns: [], leadModify: false, updatedAt: T });
  });

  it('password hashes: set, replace, read', async () => {
    expect(await people.passwordHashOf(e, 'u')).toBeUndefined();
    await people.setPasswordHash(e, 'u', 'h1', T);
    await people.setPasswordHash(e, 'u', 'h2', T + 1);
    expect(await people.passwordHashOf(e, 'u')).toBe('h2');
    expect((await dbExec(e, 'SELECT updated_at FROM user_passwords')).rows.map((r) => Number(r.updated_at))).toEqual([T + 1]);
  });

  it('console sessions: live until ended or expired; ending all of a user; pruning old rows', async () => {
    const s = (tokenHash: string, userId: string, expiresAt: number) => people.insertSession(e, { userId, tokenHash, csrf: `c-${tokenHash}`, createdAt: T, expiresAt });
    await s('k1', 'u', T + 1000);
    await s('k2', 'u', T + 1000);
    await s('k3', 'v', T + 10);
    expect(await people.liveSession(e, 'k1', T + 5)).toMatchObject({ userId: 'u', csrf: 'c-k1', createdAt: T, expiresAt: T + 1000, endedAt: null });
    expect(await people.liveSession(e, 'k3', T + 10)).toBeUndefined(); // expired
    expect(await people.liveSession(e, 'nope', T)).toBeUndefined();
    await people.endSession(e, 'k1', T + 20);
    expect(await people.liveSession(e, 'k1', T + 21)).toBeUndefined();
    expect(await people.liveSession(e, 'k2', T + 21)).toBeDefined();
    await people.endSessionsOf(e, 'u', T + 30);
    expect(await people.liveSession(e, 'k2', T + 31)).toBeUndefined();
    // k1 ended at T+20, k2 at T+30, k3 expired at T+10: before T+25 → k1 and k3
    expect(await people.pruneSessions(e, T + 25)).toBe(2);
    expect(await people.pruneSessions(e, T + 25)).toBe(0);
    expect((await dbExec(e, 'SELECT token_hash FROM console_sessions')).rows.map((r) => r.token_hash)).toEqual(['k2']);
  });

  it('API tokens: insert (ids in order), list, find by hash, touch, revoke once', async () => {
    const id1 = await insertToken(e, 'u', 'ci', 'hash1', T);
    const id2 = await insertToken(e, 'v', null, 'hash2', T + 1);
    expect(typeof id1).toBe('number');
    expect(id2).toBeGreaterThan(id1);
    await touchToken(e, id1, T + 99);
    expect(await tokenByHash(e, 'hash1')).toEqual({ id: id1, userId: 'u', name: 'ci', hash: 'hash1', createdAt: T, revokedAt: null, lastUsedAt: T + 99 });
    expect(await tokenByHash(e, 'none')).toBeUndefined();
    expect(await revokeToken(e, id2, T + 5)).toBe(true);
    expect(await revokeToken(e, id2, T + 6)).toBe(false);
    expect(await revokeToken(e, 12345, T)).toBe(false);
    expect(await listTokens(e)).toEqual([
      { id: id1, user: 'u', name: 'ci', createdAt: T, revokedAt: null, lastUsedAt: T + 99 },
      { id: id2, user: 'v', name: null, createdAt: T + 1, revokedAt: T + 5, lastUsedAt: null },
    ]);
  });
});

describe(`AGI lookups and metrics figures on ${TEST_ENGINE}`, () => {
  it("a phone with its agent; the agent's last answered callback", async () => {
    await directory(e);
    expect(await phoneWithAgent(e, 'p1')).toMatchObject({ phone: { endpoint: 'p1', agentId: 'a1', activeAccount: false }, agent: { id: 'a1', name: 'Ann' } });
    expect(await phoneWithAgent(e, 'nope')).toBeUndefined();
    await dir.upsertLead(e, lead('x', 'L1', '+12125550001'));
    expect(await lastAnsweredCallbackId(e, 'a1')).toBeUndefined();
    const older = await callbackWithAttempts(e, 'x', [{ seq: 1, agentId: 'a1', position: 1, outcome: 'ANSWERED', endedAt: T + 50, answeredAt: T + 40 }]);
    const newer = await callbackWithAttempts(e, 'x', [{ seq: 1, agentId: 'a1', position: 1, outcome: 'ANSWERED', endedAt: T + 90, answeredAt: T + 80 }]);
    await callbackWithAttempts(e, 'x', [{ seq: 1, agentId: 'a1', position: 1, outcome: 'NO_ANSWER', endedAt: T + 99, answeredAt: null }]);
    await callbackWithAttempts(e, 'x', [{ seq: 1, agentId: 'a2', position: 1, outcome: 'ANSWERED', endedAt: T + 120, answeredAt: T + 100 }]);
    expect(older).toBeLessThan(newer);
    expect(await lastAnsweredCallbackId(e, 'a1')).toBe(newer);
  });

  it('callbacks per state (every state, numbers) and the trunk ids', async () => {
    await directory(e);
    await dir.upsertLead(e, lead('x', 'L1', '+12125550001'));
    const zero = await countCallbacksByState(e);
    expect(Object.values(zero).every((n) => n === 0)).toBe(true);
    expect(Object.keys(zero)).toHaveLength(8);
    await callbackWithAttempts(e, 'x', []);
    await callbackWithAttempts(e, 'x', []);
    const id = await callbackWithAttempts(e, 'x', []);
    await e.q.update(e.t.callbacks).set({ state: 'CANCELLED' }).where(and(eq(e.t.callbacks.id, id)));
    const counts = await countCallbacksByState(e);
    expect(counts).toMatchObject({ ACTIVE: 2, CANCELLED: 1, LIVE: 0 });
    expect(typeof counts.ACTIVE).toBe('number');
    expect(await trunkIds(e)).toEqual(['t1', 't2']);
  });
});
