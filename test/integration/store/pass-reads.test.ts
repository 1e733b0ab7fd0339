// A scheduler pass's reads (src/scheduler/pass-reads.ts) on both engines: the batch store reads they use
// (leadsByIds, agentsByIds, dncAmong, numbersOfLeads, aiAgentLimits) answer as the one-row reads do, and
// every callback's dial context read through a pass is the one read straight from the store.
import { describe, expect, it } from 'vitest';
import type { PhonePresence } from '../../../src/domain/eligibility.js';
import { loadDialContext, type LoadedCallback } from '../../../src/scheduler/context.js';
import { PassReads, storeReads } from '../../../src/scheduler/pass-reads.js';
import * as store from '../../../src/store/callbacks.js';
import type { Conn } from '../../../src/store/conn.js';
import * as dir from '../../../src/store/directory.js';
import { numbersOfLead, numbersOfLeads } from '../../../src/store/lead-phones.js';
import type { CallbackRow } from '../../../src/store/schema.js';
import { freshEngineEachTest, type TestEngine } from '../engine.js';

const T0 = Date.parse('2026-11-23T15:00:00Z'); // above 2^31 ms, a Monday
let e: TestEngine;
freshEngineEachTest((x) => (e = x));

/**
 * Campaigns C (number on trunk carrier, DNC lists apply to USERONLY by default), D (alt-dial, DNC lists
 * not applied to USERONLY), E (no outbound number); agents a1 a2 (C), a3 (D), ai1 (AI, C); leads with
 * several numbers, a DNC'd one, none in lead_phones; DNC: global, C's and D's.
 */
async function seed(c: Conn): Promise<void> {
  const { trunks, numbers, campaigns, lists, agents, agentCampaigns, phones, leads, leadPhones, dnc } = c.t;
  await c.q.insert(trunks).values({ id: 'carrier', updatedAt: T0 });
  await c.q.insert(numbers).values({ e164: '+15550100001', trunkId: 'carrier', updatedAt: T0 });
  await c.q.insert(campaigns).values([
    { id: 'C', name: 'C', timeZone: 'UTC', outboundNumber: '+15550100001', updatedAt: T0 },
    { id: 'D', name: 'D', timeZone: 'America/New_York', outboundNumber: '+15550100001', altDial: 'on', dncFilterUseronly: false, updatedAt: T0 },
    { id: 'E', name: 'E', timeZone: 'UTC', updatedAt: T0 },
  ]);
  await c.q.insert(lists).values([
    { id: 'LC', campaignId: 'C', name: 'LC', updatedAt: T0 },
    { id: 'LD', campaignId: 'D', name: 'LD', updatedAt: T0 },
    { id: 'LE', campaignId: 'E', name: 'LE', updatedAt: T0 },
  ]);
  await c.q.insert(agents).values([
    { id: 'a1', name: 'A1', updatedAt: T0 },
    { id: 'a2', name: 'A2', updatedAt: T0 },
    { id: 'a3', name: 'A3', updatedAt: T0 },
    { id: 'ai1', name: 'Bot', kind: 'ai', maxCalls: 3, updatedAt: T0 },
  ]);
  await c.q.insert(agentCampaigns).values([
    { agentId: 'a1', campaignId: 'C' },
    { agentId: 'a2', campaignId: 'C' },
    { agentId: 'ai1', campaignId: 'C' },
    { agentId: 'a3', campaignId: 'D' },
  ]);
  await c.q.insert(phones).values([
    { endpoint: 'p1b', agentId: 'a1', updatedAt: T0 },
    { endpoint: 'p1a', agentId: 'a1', status: 'ADMIN', updatedAt: T0 },
    { endpoint: 'p2', agentId: 'a2', activeAccount: false, updatedAt: T0 },
    { endpoint: 'pai', agentId: 'ai1', updatedAt: T0 },
  ]);
  const lead = (n: number, list: string) => ({ id: `lead${n}`, listId: list, firstName: `F${n}`, phoneE164: `+1555123${String(n).padStart(4, '0')}`, updatedAt: T0 });
  await c.q.insert(leads).values([...[1, 2, 3, 4, 5, 6].map((n) => lead(n, 'LC')), ...[7, 8, 9].map((n) => lead(n, 'LD')), lead(10, 'LE')]);
  // lead1: two numbers, the second DNC'd by its flag; lead7: three numbers, one in another zone; the rest: none listed.
  await c.q.insert(leadPhones).values([
    { leadId: 'lead1', position: 1, e164: '+15551230001' },
    { leadId: 'lead1', position: 2, e164: '+15559990001', dnc: true, label: 'work' },
    { leadId: 'lead7', position: 1, e164: '+15551230007' },
    { leadId: 'lead7', position: 2, e164: '+15559990007', timeZone: 'Europe/Paris' },
    { leadId: 'lead7', position: 3, e164: '+15559990008' },
  ]);
  await c.q.insert(dnc).values([
    { phoneE164: '+15551230002', campaignId: '', createdAt: T0 }, // every campaign
    { phoneE164: '+15551230003', campaignId: 'C', createdAt: T0 },
    { phoneE164: '+15551230003', campaignId: 'D', createdAt: T0 },
    { phoneE164: '+15559990007', campaignId: 'D', createdAt: T0 },
  ]);
}

const ins = async (leadId: string, campaignId: string, type: 'USERONLY' | 'ANYONE', owner: string | null) =>
  await store.insertCallback(e, { leadId, campaignId, type, ownerAgentId: owner, dueAt: T0 - 60_000, dueZone: 'UTC', maxAttempts: 3, notes: null }, T0 - 120_000);

/** Every kind of callback the pass meets, in pass order, plus two whose lead or campaign is gone. */
async function batch(): Promise<CallbackRow[]> {
  await ins('lead1', 'C', 'USERONLY', 'a1');
  await ins('lead2', 'C', 'USERONLY', 'a2');
  await ins('lead3', 'C', 'ANYONE', null);
  await ins('lead4', 'C', 'USERONLY', 'ai1');
  await ins('lead5', 'C', 'ANYONE', null);
  await ins('lead6', 'C', 'USERONLY', 'a3'); // an owner not on the campaign
  await ins('lead7', 'D', 'USERONLY', 'a3');
  await ins('lead8', 'D', 'ANYONE', null);
  await ins('lead9', 'D', 'USERONLY', 'a1');
  await ins('lead10', 'E', 'ANYONE', null);
  await ins('lead1', 'C', 'ANYONE', null); // the same lead twice in one pass
  await store.promoteDue(e, T0);
  const rows = await store.liveReady(e, T0, 100);
  expect(rows).toHaveLength(11);
  const gone = (over: Partial<CallbackRow>, id: number): CallbackRow => ({ ...rows[0]!, id, ...over });
  return [...rows, gone({ leadId: 'no-such-lead' }, 900_001), gone({ campaignId: 'no-such-campaign' }, 900_002), gone({ ownerAgentId: 'no-such-agent' }, 900_003)];
}

const presence = (endpoint: string): PhonePresence | undefined => (endpoint === 'p1a' ? undefined : { registered: true, inUse: false, idleSince: 0 });
/** The context without its presence function (compared by identity otherwise). */
const comparable = (x: LoadedCallback | { missing: string }) => ('missing' in x ? x : { ...x, ctx: { ...x.ctx, presence: undefined } });

describe('a scheduler pass reads its rows at once (scheduler/pass-reads.ts)', () => {
  it('the batch reads answer as the one-row reads', async () => {
    await seed(e);
    const ids = ['lead3', 'lead1', 'nobody', 'lead1', 'lead10'];
    expect((await dir.leadsByIds(e, ids)).map((l) => l.id)).toEqual(['lead1', 'lead10', 'lead3']);
    expect(await dir.leadsByIds(e, ['lead7'])).toEqual([await dir.getLead(e, 'lead7')]);
    expect(await dir.leadsByIds(e, [])).toEqual([]);
    expect((await dir.agentsByIds(e, ['ai1', 'ghost', 'a2'])).map((a) => a.id)).toEqual(['a2', 'ai1']);
    expect(await dir.agentsByIds(e, ['ai1'])).toEqual([await dir.getAgent(e, 'ai1')]);
    const phones = ['+15551230002', '+15551230003', '+15559990007', '+15551230001'];
    for (const campaign of ['C', 'D', 'E']) {
      const one = new Set<string>();
      for (const p of phones) if (await dir.isDnc(e, p, campaign)) one.add(p);
      expect(await dir.dncAmong(e, phones, campaign)).toEqual(one);
    }
    const leads = (await dir.leadsByIds(e, ['lead1', 'lead2', 'lead7']));
    const many = await numbersOfLeads(e, leads);
    for (const l of leads) expect(many.get(l.id)).toEqual(await numbersOfLead(e, l));
    expect(many.get('lead2')).toEqual([{ leadId: 'lead2', position: 1, e164: '+15551230002', label: 'mobile', dnc: false, timeZone: null }]);
    expect(await dir.aiAgentLimits(e)).toEqual(new Map([['ai1', { maxCalls: 3 }]]));
    expect(await dir.aiLimitsOf(e, ['a1', 'ai1'])).toEqual(new Map([['ai1', { maxCalls: 3 }]]));
  });

  it('more ids than one statement takes: read in chunks, none lost', async () => {
    await seed(e);
    const n = dir.IDS_PER_STATEMENT * 2 + 7;
    const { leads } = e.t;
    const rows = Array.from({ length: n }, (_, i) => ({ id: `bulk${String(i).padStart(5, '0')}`, listId: 'LC', phoneE164: `+1444${String(i).padStart(7, '0')}`, updatedAt: T0 }));
    for (let i = 0; i < n; i += 200) await e.q.insert(leads).values(rows.slice(i, i + 200));
    const got = await dir.leadsByIds(e, rows.map((r) => r.id));
    expect(got.map((l) => l.id).sort()).toEqual(rows.map((r) => r.id));
    expect((await numbersOfLeads(e, got)).size).toBe(n);
    expect(await dir.dncAmong(e, rows.map((r) => r.phoneE164), 'C')).toEqual(new Set());
  });

  for (const serverId of [null, 'default']) {
    it(`every callback's context through a pass equals the one read alone (server ${serverId ?? 'none'}; read-ahead 1, 3 and 50)`, async () => {
      await seed(e);
      const rows = await batch();
      const busy = new Map([['a2', 1]]);
      const alone = [];
      for (const cb of rows) alone.push(comparable(await loadDialContext(e, cb, presence, busy, T0, serverId, storeReads(e))));
      expect(alone.filter((x) => 'missing' in x)).toHaveLength(2);
      expect(alone.some((x) => !('missing' in x) && x.ctx.dncHit)).toBe(true);
      for (const size of [1, 3, 50]) {
        const reads = new PassReads(e, rows, size);
        const inPass = [];
        for (const cb of rows) inPass.push(comparable(await loadDialContext(e, cb, presence, busy, T0, serverId, reads)));
        expect(inPass).toEqual(alone);
      }
    });
  }

  it('a pass reads its rows once: asked again, it answers without the store (rows written meanwhile count from the next pass)', async () => {
    await seed(e);
    const rows = await batch();
    const reads = new PassReads(e, rows);
    const first = await loadDialContext(e, rows[0]!, presence, new Map(), T0, null, reads);
    await dir.upsertLead(e, { id: 'lead1', listId: 'LC', firstName: 'Renamed', phoneE164: '+15551230001', updatedAt: T0 + 1 });
    await e.q.delete(e.t.phones);
    const again = await loadDialContext(e, rows[0]!, presence, new Map(), T0, null, reads);
    expect(comparable(again)).toEqual(comparable(first));
    const next = await loadDialContext(e, rows[0]!, presence, new Map(), T0, null, new PassReads(e, rows));
    expect('missing' in next ? null : [next.lead.firstName, next.ctx.agents[0]!.phones]).toEqual(['Renamed', []]);
  });
});
