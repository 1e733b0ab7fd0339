// The store's listing, change, console, report, presence and recording operations: the same tests
// on SQLite and on a real PostgreSQL (vitest projects `sqlite` and `pg`, test/integration/engine.ts).
// Rows are written with drizzle on the engine's own tables, so nothing here depends on the import.
import { eq, inArray } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Conn } from '../../../src/store/conn.js';
import { countDue, listAllCallbacks, listCallbacks, listedCallback } from '../../../src/store/callback-list.js';
import {
  archiveFinished,
  countOwnerOpenUseronly,
  markReplaced,
  openCallbackOfLead,
  openUseronlyOf,
  updateIfUnchanged,
} from '../../../src/store/callback-changes.js';
import {
  attemptsEndedSince,
  callbacksOfLead,
  callbacksWithLeads,
  countByStateDue,
  legsInProgressByTrunk,
  openAttemptsOfAgent,
} from '../../../src/store/console-reads.js';
import { first } from '../../../src/store/engine.js';
import { lastPresenceWrite, readPresence, writePresence, type PresenceWrite } from '../../../src/store/presence.js';
import {
  expiredRecordings,
  markRecordingDeleted,
  recordingNameOf,
  recordingOfAttempt,
  setRecordingName,
  setRecordingNote,
  setRecordingNoteByName,
  setRecordingNoteWhileCallUp,
} from '../../../src/store/recordings.js';
import { reportRows, type ReportSourceRow } from '../../../src/store/reports.js';
import { freshEngineEachTest, secondConnection, TEST_ENGINE, type TestEngine } from '../engine.js';


// Far enough from 1970 that every time is above 2^31: int8 must come back as a number on both engines.
const T = 1_790_000_000_000;
const H = 3_600_000;
let e: TestEngine;
freshEngineEachTest((x) => (e = x), directory);

async function directory(c: Conn) {
  const t = c.t;
  await c.q.insert(t.servers).values([{ id: 'b', updatedAt: T }]).onConflictDoNothing();
  await c.q.insert(t.trunks).values([{ id: 'carrier', updatedAt: T }, { id: 'carrier-b', serverId: 'b', updatedAt: T }]);
  await c.q.insert(t.numbers).values({ e164: '+15550100001', trunkId: 'carrier', updatedAt: T });
  await c.q.insert(t.campaigns).values([
    { id: 'C1', name: 'One', timeZone: 'UTC', outboundNumber: '+15550100001', updatedAt: T, recordingRetentionDays: 30 },
    { id: 'C2', name: 'Two', timeZone: 'America/New_York', outboundNumber: '+15550100001', updatedAt: T },
  ]);
  await c.q.insert(t.lists).values([{ id: 'L1', campaignId: 'C1', name: 'L1', updatedAt: T }, { id: 'L2', campaignId: 'C2', name: 'L2', updatedAt: T }]);
  await c.q.insert(t.leads).values([
    { id: 'a', listId: 'L1', phoneE164: '+12125550101', timeZone: 'Europe/Paris', updatedAt: T },
    { id: 'b', listId: 'L1', phoneE164: '+12125550102', updatedAt: T },
    { id: 'c', listId: 'L2', phoneE164: '+12125550103', updatedAt: T },
  ]);
  await c.q.insert(t.leadPhones).values([
    { leadId: 'b', position: 1, e164: '+12125550102', label: 'home' },
    { leadId: 'b', position: 2, e164: '+13105550199', label: 'work' },
  ]);
  await c.q.insert(t.agents).values([{ id: 'x', name: 'X', updatedAt: T }, { id: 'y', name: 'Y', updatedAt: T }]);
  await c.q.insert(t.phones).values([{ endpoint: '1001', agentId: 'x', updatedAt: T }, { endpoint: '2001', agentId: 'y', serverId: 'b', updatedAt: T }]);
}

type NewCb = Partial<Conn['t']['callbacks']['$inferInsert']> & { leadId: string; campaignId: string; dueAt: number };
async function cb(c: Conn, r: NewCb): Promise<number> {
  const [row] = await c.q
    .insert(c.t.callbacks)
    .values({ type: 'USERONLY', ownerAgentId: 'x', dueZone: 'UTC', maxAttempts: 3, createdAt: T, updatedAt: T, ...r })
    .returning({ id: c.t.callbacks.id });
  return row!.id;
}
async function attempt(c: Conn, callbackId: number, seq: number, r: Partial<Conn['t']['callAttempts']['$inferInsert']> = {}): Promise<number> {
  const [row] = await c.q
    .insert(c.t.callAttempts)
    .values({
      callbackId, seq, dialOrder: 'AGENT_FIRST', agentId: 'x', phoneEndpoint: '1001', callerId: '+15550100001', customerNumber: '+12125550101', trunkId: 'carrier',
      agentChannelId: `a-${callbackId}-${seq}`, customerChannelId: `c-${callbackId}-${seq}`, bridgeId: `b-${callbackId}-${seq}`, leaseToken: 'tok', startedAt: T, ...r,
    })
    .returning({ id: c.t.callAttempts.id });
  return row!.id;
}

describe('the one listing path', () => {
  it('pages by keyset in due or id order, both directions, and filters by scope, state, list, agent, phone and time', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push(await cb(e, { leadId: i % 2 ? 'b' : 'a', campaignId: 'C1', dueAt: T + (5 - i) * H }));
    const c2 = await cb(e, { leadId: 'c', campaignId: 'C2', dueAt: T, type: 'ANYONE', ownerAgentId: null, state: 'LIVE' });
    await attempt(e, ids[0]!, 1, { startedAt: T + 7 });

    const p1 = await listCallbacks(e, { scope: { kind: 'all' }, limit: 2 });
    expect(p1.items.map((r) => r.id)).toEqual([c2, ids[4]]);
    const p2 = await listCallbacks(e, { scope: { kind: 'all' }, limit: 2, cursor: p1.nextCursor! });
    expect(p2.items.map((r) => r.id)).toEqual([ids[3], ids[2]]);
    const rest = await listCallbacks(e, { scope: { kind: 'all' }, limit: 10, cursor: p2.nextCursor! });
    expect(rest.items.map((r) => r.id)).toEqual([ids[1], ids[0]]);
    expect(rest.nextCursor).toBeNull();
    expect(rest.items[1]!.lastCalledAt).toBe(T + 7);
    expect(rest.items[1]!.dueAt).toBe(T + 5 * H);
    expect(rest.items[1]!.listId).toBe('L1');

    const byIdDesc = await listCallbacks(e, { scope: { kind: 'all' }, sort: 'id', order: 'desc', limit: 3 });
    expect(byIdDesc.items.map((r) => r.id)).toEqual([c2, ids[4], ids[3]]);

    expect((await listCallbacks(e, { scope: { kind: 'campaigns', campaigns: [] }, limit: 10 })).items).toEqual([]);
    expect((await listCallbacks(e, { scope: { kind: 'campaigns', campaigns: ['C2'] }, limit: 10 })).items.map((r) => r.id)).toEqual([c2]);
    expect((await listCallbacks(e, { scope: { kind: 'campaigns', campaigns: ['C1', 'C2'] }, limit: 10 })).items).toHaveLength(6);
    // an agent sees their own, and ANYONE callbacks of their campaigns
    expect((await listCallbacks(e, { scope: { kind: 'agent', agentId: 'y', campaigns: ['C2'] }, limit: 10 })).items.map((r) => r.id)).toEqual([c2]);
    expect((await listCallbacks(e, { scope: { kind: 'agent', agentId: 'x', campaigns: [] }, limit: 10 })).items).toHaveLength(5);
    expect((await listCallbacks(e, { scope: { kind: 'all' }, state: ['LIVE'], limit: 10 })).items.map((r) => r.id)).toEqual([c2]);
    expect((await listCallbacks(e, { scope: { kind: 'all' }, list: ['L2'], limit: 10 })).items.map((r) => r.id)).toEqual([c2]);
    expect((await listCallbacks(e, { scope: { kind: 'all' }, agent: ['x'], type: 'USERONLY', limit: 10 })).items).toHaveLength(5);
    // any of the lead's numbers, not only the first
    expect((await listCallbacks(e, { scope: { kind: 'all' }, phone: '+13105550199', limit: 10 })).items.map((r) => r.leadId)).toEqual(['b', 'b']);
    expect((await listCallbacks(e, { scope: { kind: 'all' }, from: T + 2 * H, to: T + 3 * H, limit: 10 })).items.map((r) => r.id)).toEqual([ids[3], ids[2]]);
    expect((await listAllCallbacks(e, { scope: { kind: 'all' } })).length).toBe(6);
    expect((await listedCallback(e, c2))!.campaignId).toBe('C2');
    expect(await listedCallback(e, c2, { kind: 'campaigns', campaigns: ['C1'] })).toBeUndefined();
    await expect(listCallbacks(e, { scope: { kind: 'all' }, limit: 1, cursor: 'not-a-cursor' })).rejects.toThrow(/cursor is not one this API gave out/);
  });

  it('counts what is due now and what is late', async () => {
    await cb(e, { leadId: 'a', campaignId: 'C1', dueAt: T - 10 * 60_000 });
    await cb(e, { leadId: 'b', campaignId: 'C1', dueAt: T - 30_000 });
    await cb(e, { leadId: 'c', campaignId: 'C2', dueAt: T + H });
    await cb(e, { leadId: 'c', campaignId: 'C2', dueAt: T - H, state: 'LIVE', nextAttemptAt: T + 1 });
    expect(await countDue(e, T, 60_000)).toEqual({ dueNow: 2, late: 1 });
    expect(await countDue(e, T - 2 * H, 60_000)).toEqual({ dueNow: 0, late: 0 });
  });
});

describe('the changes people make', () => {
  it('find, count, replace, update by version, list and archive', async () => {
    const old = await cb(e, { leadId: 'a', campaignId: 'C1', dueAt: T });
    const newer = await cb(e, { leadId: 'a', campaignId: 'C1', dueAt: T + H, state: 'LIVE' });
    expect((await openCallbackOfLead(e, 'a', 'C1'))!.id).toBe(newer);
    expect(await openCallbackOfLead(e, 'a', 'C2')).toBeUndefined();
    expect(await countOwnerOpenUseronly(e, 'x')).toBe(2);
    expect(await countOwnerOpenUseronly(e, 'x', old)).toBe(1);
    expect(await openUseronlyOf(e, 'x', ['C1'])).toEqual(expect.arrayContaining([old, newer]));
    expect(await openUseronlyOf(e, 'x', ['C2'])).toEqual([]);

    expect(await markReplaced(e, old, newer, T)).toBe(true);
    expect(await markReplaced(e, old, newer, T)).toBe(false); // already CANCELLED
    const row = async (id: number) => first(await e.q.select().from(e.t.callbacks).where(eq(e.t.callbacks.id, id)))!;
    expect(await row(old)).toMatchObject({ state: 'CANCELLED', replacedBy: newer, failReason: `replaced by callback ${newer}` });

    const v = (await row(newer)).version;
    expect(await updateIfUnchanged(e, newer, v + 1, { notes: 'stale' })).toBe(false);
    expect(await updateIfUnchanged(e, newer, v, { notes: 'fresh', updatedAt: T + 1 })).toBe(true);
    expect((await row(newer)).version).toBeGreaterThan(v); // the version trigger runs on both engines

    await attempt(e, old, 1);
    await e.q.insert(e.t.audit).values({ at: T, actor: 't', action: 'create', callbackId: old });
    expect(await archiveFinished(e, T + 1, ['C2'], 'admin', T + 2)).toBe(0);
    expect(await archiveFinished(e, T + 1, null, 'admin', T + 2)).toBe(1);
    expect(await row(newer)).toMatchObject({ replacedBy: null });
    const [arch] = await e.q.select().from(e.t.callbacksArchive);
    expect(arch!.id).toBe(old);
    expect((arch!.row as { state: string }).state).toBe('CANCELLED');
    expect((arch!.attempts as { audit: { action: string }[] }).audit.map((a) => a.action)).toEqual(['create', 'purge']);
    expect(await e.q.select().from(e.t.callAttempts)).toEqual([]);
  });
});

describe("the console's reads", () => {
  it('lead history, counts by state, ended attempts, legs per trunk, ringing, rows with leads', async () => {
    const a = await cb(e, { leadId: 'a', campaignId: 'C1', dueAt: T, notes: 'n' });
    const b = await cb(e, { leadId: 'a', campaignId: 'C1', dueAt: T + H, state: 'DIALING' });
    const c = await cb(e, { leadId: 'c', campaignId: 'C2', dueAt: T + 2 * H });
    await attempt(e, a, 1, { endedAt: T + 60_000, outcome: 'NO_ANSWER', customerDialedAt: T + 1000 });
    await attempt(e, b, 1, { customerDialedAt: T + 2000, startedAt: T + 500 });
    await attempt(e, c, 1, { trunkId: 'carrier-b' });

    expect((await callbacksOfLead(e, 'a')).map((r) => r.id)).toEqual([b, a]);
    expect(await callbacksOfLead(e, 'a', 1)).toHaveLength(1);
    expect(await countByStateDue(e, T, T + 3 * H, null)).toEqual(expect.arrayContaining([{ state: 'ACTIVE', n: 2 }, { state: 'DIALING', n: 1 }]));
    expect(await countByStateDue(e, T, T + 3 * H, [])).toEqual([]);
    expect(await countByStateDue(e, T, T + 3 * H, ['C2'])).toEqual([{ state: 'ACTIVE', n: 1 }]);
    expect(await attemptsEndedSince(e, T, null)).toEqual([{ endedAt: T + 60_000, outcome: 'NO_ANSWER', startedAt: T, seq: 1, dueAt: T }]);
    expect(await attemptsEndedSince(e, T, ['C2'])).toEqual([]);
    expect([...(await legsInProgressByTrunk(e))]).toEqual([['carrier', 1]]);
    expect((await openAttemptsOfAgent(e, 'x')).map((r) => r.callbackId)).toEqual([b, c]);
    const withLeads = await callbacksWithLeads(e, [a, c]);
    expect(withLeads.map((r) => [r.cb.id, r.lead?.phoneE164]).sort()).toEqual([[a, '+12125550101'], [c, '+12125550103']].sort());
    expect(await callbacksWithLeads(e, [])).toEqual([]);
  });
});

describe('report rows', () => {
  it('every row of the window in due order across pages, scoped, with first dial and first agent', async () => {
    // 2,100 rows: more than one page (2,000), and the keyset must carry over ties in due time.
    const rows = Array.from({ length: 2100 }, (_, i) => ({
      leadId: i % 3 === 0 ? 'c' : 'a', campaignId: i % 3 === 0 ? 'C2' : 'C1', dueAt: T + Math.floor(i / 2) * 1000, type: 'USERONLY' as const, ownerAgentId: 'x',
      dueZone: 'UTC', maxAttempts: 3, createdAt: T, updatedAt: T, forceDial: i === 1,
    }));
    for (let i = 0; i < rows.length; i += 500) await e.q.insert(e.t.callbacks).values(rows.slice(i, i + 500));
    const firstId = first(await e.q.select({ id: e.t.callbacks.id }).from(e.t.callbacks).where(eq(e.t.callbacks.dueAt, T)))!.id;
    await attempt(e, firstId, 1, { customerDialedAt: T + 5000, agentId: 'y' });
    await attempt(e, firstId, 2, { customerDialedAt: T + 9000 });

    const seen: ReportSourceRow[] = [];
    for await (const r of reportRows(e, { scope: { kind: 'all' }, from: T, to: T + 10_000_000 })) seen.push(r);
    expect(seen).toHaveLength(2100);
    expect(new Set(seen.map((r) => r.id)).size).toBe(2100);
    expect(seen.every((r, i) => i === 0 || r.dueAt > seen[i - 1]!.dueAt || (r.dueAt === seen[i - 1]!.dueAt && r.id > seen[i - 1]!.id))).toBe(true);
    const r0 = seen.find((r) => r.id === firstId)!;
    expect(r0).toMatchObject({ firstDialAt: T + 5000, firstAgentId: 'y', leadZone: 'America/New_York', ownerAgentId: 'x' }); // lead c has no zone: its campaign's
    expect(seen.find((r) => r.leadZone === 'Europe/Paris')).toBeDefined();
    expect(seen.filter((r) => r.forceDial === 1)).toHaveLength(1);

    let n = 0;
    for await (const r of reportRows(e, { scope: { kind: 'campaigns', campaigns: ['C2'] }, from: T, to: T + 10_000_000 })) n += r.campaignId === 'C2' ? 1 : 1000;
    expect(n).toBe(700);
    n = 0;
    for await (const _ of reportRows(e, { scope: { kind: 'campaigns', campaigns: [] }, from: T, to: T + 10_000_000 })) n++;
    expect(n).toBe(0);
    n = 0;
    for await (const _ of reportRows(e, { scope: { kind: 'agent', agentId: 'y', campaigns: [] }, from: T, to: T + 10_000_000, campaign: ['C1'] })) n++;
    expect(n).toBe(0);
  });
});

describe('presence', () => {
  const p = (endpoint: string, at: number): PresenceWrite => ({
    endpoint, registered: true, reachable: at % 2 === 0, contactUri: `sip:${endpoint}@127.0.0.1`, deviceState: 'NOT_INUSE', inUse: false, changedAt: at, writtenAt: at,
  });

  it("each server writes its own picture; another server's phone is not written; a trunk goes to the last server that saw it", async () => {
    await writePresence(e, [p('1001', T), p('2001', T), p('carrier', T)], 'default');
    expect((await readPresence(e)).map((r) => [r.endpoint, r.serverId])).toEqual([['1001', 'default'], ['carrier', 'default']]);
    await writePresence(e, [p('2001', T + 2), p('carrier', T + 2)], 'b');
    expect((await readPresence(e)).map((r) => [r.endpoint, r.serverId])).toEqual([['1001', 'default'], ['2001', 'b'], ['carrier', 'b']]);
    const row = (await readPresence(e)).find((r) => r.endpoint === '2001')!;
    expect(row).toMatchObject({ registered: true, reachable: true, inUse: false, writtenAt: T + 2 });
    await writePresence(e, [], 'default'); // its phones gone from its AMI: they disappear
    expect((await readPresence(e)).map((r) => r.endpoint)).toEqual(['2001', 'carrier']);
    expect(await lastPresenceWrite(e)).toBe(T + 2);
  });

  it('a write that fails leaves the picture as it was', async () => {
    await writePresence(e, [p('1001', T)], 'default');
    await expect(writePresence(e, [p('x', T + 1), p('x', T + 1)], 'default')).rejects.toThrow();
    expect((await readPresence(e)).map((r) => r.endpoint)).toEqual(['1001']);
  });

  // PostgreSQL only: there two daemons' writes of one server's rows collided (23505) until the
  // advisory lock. SQLite serialises writers with BEGIN IMMEDIATE across processes; two connections
  // of ONE process interleaving async transactions would wait on each other's lock (a known limit).
  it.skipIf(TEST_ENGINE === 'sqlite')('two connections writing one server\'s picture at once take turns: no error, the last picture stands', async () => {
    const peer = await secondConnection(e);
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) writes.push(writePresence(i % 2 ? peer : e, [p('1001', T + i), p('carrier', T + i)], 'default'));
    await Promise.all(writes);
    const rows = await readPresence(e);
    expect(rows.map((r) => r.endpoint)).toEqual(['1001', 'carrier']);
    expect(new Set(rows.map((r) => r.writtenAt)).size).toBe(1); // one writer's picture, not a mix
  });

  it('no presence written yet', async () => {
    expect(await lastPresenceWrite(e)).toBeNull();
    expect(await readPresence(e)).toEqual([]);
  });
});

describe('recordings in the call log', () => {
  it('name, notes, lookups, retention past 24 days (BIGINT math) and deletion', async () => {
    const id = await cb(e, { leadId: 'a', campaignId: 'C1', dueAt: T });
    const other = await cb(e, { leadId: 'c', campaignId: 'C2', dueAt: T });
    // Named while the calls are up (the writes are fenced by the lease token and an open call), then ended.
    const a1 = await attempt(e, id, 1);
    const a2 = await attempt(e, other, 1, { trunkId: 'carrier-b' });
    expect(await setRecordingName(e, a1, 'tok', 'r1')).toBe(true);
    expect(await setRecordingName(e, a2, 'tok', 'r2')).toBe(true);
    expect(await setRecordingNote(e, a2, 'tok', 'refused')).toBe(true);
    await e.q.update(e.t.callAttempts).set({ endedAt: T }).where(inArray(e.t.callAttempts.id, [a1, a2]));
    expect(await recordingNameOf(e, a1)).toBe('r1');
    expect(await setRecordingNoteWhileCallUp(e, 'r1', 'cut')).toBe(true);
    await e.q.update(e.t.callAttempts).set({ durationMs: 3000 }).where(eq(e.t.callAttempts.id, a1));
    expect(await setRecordingNoteWhileCallUp(e, 'r1', 'later')).toBe(false);
    expect(await setRecordingNoteByName(e, 'r1', 'disk full')).toBe(true);
    expect(await setRecordingNoteByName(e, 'nope', 'x')).toBe(false);
    expect(await recordingOfAttempt(e, id, 1)).toEqual({ name: 'r1', note: 'disk full', deletedAt: null });
    expect(await recordingOfAttempt(e, id, 2)).toBeUndefined();

    // C1 keeps recordings 30 days (30 × 86,400,000 ms does not fit a 32-bit integer); C2 the default.
    expect(await expiredRecordings(e, T + 29 * 86_400_000)).toEqual([]);
    const due = await expiredRecordings(e, T + 400 * 86_400_000);
    expect(due.map((r) => r.name).sort()).toEqual(['r1', 'r2']);
    expect((await expiredRecordings(e, T + 31 * 86_400_000)).map((r) => r.name)).toEqual(['r1']);
    expect((await expiredRecordings(e, T + 400 * 86_400_000, 200, 'b')).map((r) => r.name)).toEqual(['r2']);
    expect(await expiredRecordings(e, T + 400 * 86_400_000, 1)).toHaveLength(1);
    await markRecordingDeleted(e, a1, T + 31 * 86_400_000);
    expect(await recordingNameOf(e, a1)).toBeNull();
    expect(await recordingOfAttempt(e, id, 1)).toMatchObject({ deletedAt: T + 31 * 86_400_000 });
  });
});
