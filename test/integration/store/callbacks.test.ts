// The callbacks core of the store (src/store/callbacks.ts, audit.ts, call-prompts.ts, queue-place.ts,
// busy.ts) on both engines: every exported function with real assertions, the dialect hazards they had
// (IS NOT, GLOB, int8 times, JSON/boolean round trips), and, on PostgreSQL only, two engines claiming
// the same rows at once (several daemons on one database).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isCode } from '../../../src/errors.js';
import { agentAnswersOf, markPromptAnswer } from '../../../src/store/call-prompts.js';
import * as store from '../../../src/store/callbacks.js';
import { auditOf, writeAudit } from '../../../src/store/audit.js';
import { isBusy } from '../../../src/store/busy.js';
import type { Conn } from '../../../src/store/conn.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { transaction } from '../../../src/store/engine.js';
import { positionInLine } from '../../../src/store/queue-place.js';
import { cleanupEngines, dbExec, freshEngine, secondConnection, TEST_ENGINE, type TestEngine } from '../engine.js';

// Above 2^31 (int4) and in milliseconds, as every time callbackd stores.
const T0 = Date.parse('2026-11-22T12:00:00Z');
let e: TestEngine;

/** The directory these tests need, written through the engine's tables (no import: that is another module). */
async function seed(c: Conn): Promise<void> {
  const { trunks, numbers, campaigns, lists, agents, agentCampaigns, phones, leads } = c.t;
  await c.q.insert(trunks).values([
    { id: 'carrier', maxChannels: 2, updatedAt: T0 },
    { id: 'west', maxChannels: 2, updatedAt: T0, serverId: 'w' },
  ]);
  await c.q.insert(numbers).values({ e164: '+15550100001', trunkId: 'carrier', updatedAt: T0 });
  await c.q.insert(campaigns).values([
    { id: 'C', name: 'C', timeZone: 'America/New_York', outboundNumber: '+15550100001', updatedAt: T0 },
    { id: 'D', name: 'D', timeZone: 'UTC', outboundNumber: '+15550100001', updatedAt: T0 },
  ]);
  await c.q.insert(lists).values({ id: 'L', campaignId: 'C', name: 'L', updatedAt: T0 });
  await c.q.insert(agents).values([
    { id: 'a1', name: 'A', updatedAt: T0 },
    { id: 'a2', name: 'B', updatedAt: T0 },
  ]);
  await c.q.insert(agentCampaigns).values([
    { agentId: 'a1', campaignId: 'C' },
    { agentId: 'a2', campaignId: 'C' },
  ]);
  await c.q.insert(phones).values({ endpoint: 'agent1001', agentId: 'a1', updatedAt: T0 });
  await c.q.insert(leads).values([1, 2, 3].map((n) => ({ id: `lead${n}`, listId: 'L', phoneE164: `+1555123000${n}`, updatedAt: T0 })));
}

beforeEach(async () => {
  e = await freshEngine();
  await seed(e);
});
afterEach(async () => {
  await cleanupEngines();
});

const cbInput = (over: Partial<store.NewCallback> = {}): store.NewCallback => ({
  leadId: 'lead1', campaignId: 'C', type: 'USERONLY', ownerAgentId: 'a1', dueAt: T0, dueZone: 'America/New_York', maxAttempts: 3, notes: null, ...over,
});
const newCb = async (dueAt = T0, over: Partial<store.NewCallback> = {}, c: Conn = e) => await store.insertCallback(c, cbInput({ dueAt, ...over }), T0);
const claimInput = (id: number, token: string, now = T0, owner = 'me'): store.ClaimInput => ({
  callbackId: id, owner, token, leaseMs: 60_000, now, dialOrder: 'AGENT_FIRST', agentId: 'a1', phoneEndpoint: 'agent1001',
  callerId: '+15550100001', customerNumber: '+15551230001', trunkId: 'carrier',
  ids: (seq) => ({ agentChannelId: `a-${id}-${seq}`, customerChannelId: `c-${id}-${seq}`, bridgeId: `b-${id}-${seq}` }),
});
const claim = async (id: number, token: string, now = T0, c: Conn = e) => await store.claimForDial(c, claimInput(id, token, now));
const BUSY = { outcome: 'BUSY', cause: 17, sipCode: 486, endedAt: T0, detail: null } as const;

describe(`callbacks store on ${TEST_ENGINE}`, () => {
  it('inserts and reads back a callback: booleans, NULLs, text and int8 times round-trip', async () => {
    const id = await newCb(T0 + 1, { forceDial: true, notes: 'call back after 5', context: '{"transcript":[1]}', hiddenUntil: T0 - 1, phonePosition: 2, createdBy: 'u1' });
    const cb = (await store.getCallback(e, id))!;
    expect(cb).toMatchObject({
      id, state: 'ACTIVE', type: 'USERONLY', dueAt: T0 + 1, forceDial: true, notes: 'call back after 5', context: '{"transcript":[1]}',
      hiddenUntil: T0 - 1, phonePosition: 2, createdBy: 'u1', attempts: 0, dialSeq: 0, nextAttemptAt: null, arrivedAt: null, createdAt: T0, updatedAt: T0,
    });
    expect(typeof cb.dueAt).toBe('number');
    expect((await store.getCallback(e, await newCb()))!.forceDial).toBe(false);
    expect(await store.getCallback(e, 999_999)).toBeUndefined();
  });

  it('promotes only what is due, and wakes at the next due instant', async () => {
    const a = await newCb(T0 + 1000);
    const b = await newCb(T0 + 5000);
    expect(await store.nextWakeAt(e, T0)).toBe(T0 + 1000);
    expect(await store.promoteDue(e, T0 + 1000)).toBe(1);
    expect((await store.getCallback(e, a))!.state).toBe('LIVE');
    expect((await store.getCallback(e, a))!.nextAttemptAt).toBe(T0 + 1000);
    expect((await store.getCallback(e, b))!.state).toBe('ACTIVE');
    expect(await store.nextWakeAt(e, T0 + 1000)).toBe(T0 + 5000);
    // A LIVE row deferred into the future wakes the loop; one already due does not (it waits for an agent).
    await store.deferLive(e, a, T0 + 3000, 'outside calling hours', T0 + 1000);
    expect(await store.nextWakeAt(e, T0 + 1000)).toBe(T0 + 3000);
    expect(await store.promoteDue(e, T0 + 5000)).toBe(1);
    expect(await store.nextWakeAt(e, T0 + 5000)).toBeNull();
    expect(await store.promoteDue(e, T0 + 5000)).toBe(0);
  });

  it('liveReady: due LIVE rows in line order (arrival, else due time, then id), limited', async () => {
    const late = await newCb(T0 - 1000);
    const early = await newCb(T0 - 5000);
    const arrived = await newCb(T0 - 100, { type: 'ANYONE', ownerAgentId: null, arrivedAt: T0 - 9000 });
    const tieA = await newCb(T0 - 2000);
    const tieB = await newCb(T0 - 2000);
    const future = await newCb(T0 + 60_000);
    await store.promoteDue(e, T0);
    const ids = (await store.liveReady(e, T0, 10)).map((r) => r.id);
    expect(ids).toEqual([arrived, early, tieA, tieB, late]);
    expect(ids).not.toContain(future);
    expect((await store.liveReady(e, T0, 2)).map((r) => r.id)).toEqual([arrived, early]);
    expect(await store.liveReady(e, T0 - 10_000, 10)).toEqual([]);
  });

  it("liveReady with a server: only what a daemon there could place (owner's phones, the number's trunk)", async () => {
    const mine = await newCb(T0); // owner a1 has a phone on 'default'; the number's trunk is on 'default'
    const anyone = await newCb(T0, { type: 'ANYONE', ownerAgentId: null });
    const noPhones = await newCb(T0, { ownerAgentId: 'a2' }); // a2 has no phone anywhere: placeable everywhere
    await store.promoteDue(e, T0);
    expect((await store.liveReady(e, T0, 10, 'default')).map((r) => r.id).sort()).toEqual([mine, anyone, noPhones].sort());
    // Server w has the trunk 'west' but the number is on 'carrier' only: nothing of campaign C is placeable there.
    expect(await store.liveReady(e, T0, 10, 'w')).toEqual([]);
    await dbExec(e, 'INSERT INTO number_trunks (e164, trunk_id) VALUES (?, ?)', ['+15550100001', 'west']);
    // Now the number has a trunk on w; a1's phone is not there, a2 has none, and the campaign's agents' phones are on default.
    expect((await store.liveReady(e, T0, 10, 'w')).map((r) => r.id)).toEqual([noPhones]);
  });

  it('setWaitReason writes only a change, and leaves another server\'s reason alone', async () => {
    const id = await newCb();
    await store.promoteDue(e, T0);
    const reason = async () => (await store.getCallback(e, id))!.waitReason;
    const updatedAt = async () => (await store.getCallback(e, id))!.updatedAt;
    await store.setWaitReason(e, id, 'no agent free', T0 + 1);
    expect(await reason()).toBe('no agent free');
    expect(await updatedAt()).toBe(T0 + 1);
    await store.setWaitReason(e, id, 'no agent free', T0 + 2); // the same: not written (IS DISTINCT FROM)
    expect(await updatedAt()).toBe(T0 + 1);
    await store.setWaitReason(e, id, null, T0 + 3);
    expect(await reason()).toBeNull();
    await store.setWaitReason(e, id, null, T0 + 4); // NULL again: not written
    expect(await updatedAt()).toBe(T0 + 3);
    // Several servers: "server a: …"; b does not overwrite it, a replaces its own.
    await store.setWaitReason(e, id, 'phone off', T0 + 5, 'a');
    expect(await reason()).toBe('server a: phone off');
    await store.setWaitReason(e, id, 'trunk full', T0 + 6, 'b');
    expect(await reason()).toBe('server a: phone off');
    await store.setWaitReason(e, id, 'trunk full', T0 + 7, 'a');
    expect(await reason()).toBe('server a: trunk full');
    // A reason that is no server's (written by a single-server daemon) is replaced. The match is
    // case-sensitive on both engines: "Server x: …" is not a server's reason.
    await store.setWaitReason(e, id, 'Server x: typed by hand', T0 + 8);
    await store.setWaitReason(e, id, 'trunk full', T0 + 9, 'b');
    expect(await reason()).toBe('server b: trunk full');
    // Not LIVE: nothing written.
    await store.failLive(e, id, 'DNC', 'on DNC', T0 + 10);
    await store.setWaitReason(e, id, 'again', T0 + 11);
    expect(await reason()).toBeNull();
  });

  it("waitForOwner starts the owner's clock once and rewrites only a changed reason", async () => {
    const id = await newCb();
    await store.promoteDue(e, T0);
    await store.waitForOwner(e, id, 'owner a1 is on a call', T0 + 10);
    expect(await store.getCallback(e, id)).toMatchObject({ waitReason: 'owner a1 is on a call', ownerWaitingSince: T0 + 10, updatedAt: T0 + 10 });
    await store.waitForOwner(e, id, 'owner a1 is on a call', T0 + 20);
    expect((await store.getCallback(e, id))!.updatedAt).toBe(T0 + 10);
    await store.waitForOwner(e, id, 'owner a1 is away', T0 + 30);
    expect(await store.getCallback(e, id)).toMatchObject({ waitReason: 'owner a1 is away', ownerWaitingSince: T0 + 10, updatedAt: T0 + 30 });
    await store.waitForOwner(e, id, 'phone off', T0 + 40, 'a');
    expect((await store.getCallback(e, id))!.waitReason).toBe('server a: phone off');
    await store.waitForOwner(e, id, 'phone off', T0 + 50, 'b');
    expect((await store.getCallback(e, id))!.waitReason).toBe('server a: phone off');
  });

  it('convertToAnyone moves a LIVE USERONLY callback once, with its audit row (JSON before/after)', async () => {
    const id = await newCb();
    expect(await store.convertToAnyone(e, id, 'scheduler', 'owner away 30 min', T0)).toBe(false); // ACTIVE
    await store.promoteDue(e, T0);
    await store.waitForOwner(e, id, 'owner away', T0);
    expect(await store.convertToAnyone(e, id, 'scheduler', 'owner away 30 min', T0 + 1)).toBe(true);
    expect(await store.getCallback(e, id)).toMatchObject({ type: 'ANYONE', ownerWaitingSince: null, waitReason: 'now ANYONE: owner away 30 min', ownerAgentId: 'a1' });
    expect(await store.convertToAnyone(e, id, 'scheduler', 'again', T0 + 2)).toBe(false);
    const audit = await store.auditOf(e, id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      at: T0 + 1, actor: 'scheduler', action: 'convert-to-anyone', callbackId: id,
      before: { type: 'USERONLY', owner: 'a1' }, after: { type: 'ANYONE', owner: 'a1' }, reason: 'owner away 30 min',
    });
  });

  it('failLive only moves LIVE rows', async () => {
    const id = await newCb(T0 + 10_000);
    expect(await store.failLive(e, id, 'DNC', 'on DNC', T0)).toBe(false);
    await store.promoteDue(e, T0 + 10_000);
    expect(await store.failLive(e, id, 'DNC', 'on DNC', T0)).toBe(true);
    expect(await store.getCallback(e, id)).toMatchObject({ state: 'FAILED', failReason: 'on DNC', lastOutcome: 'DNC', waitReason: null });
    expect(await store.failLive(e, id, 'DNC', 'on DNC', T0)).toBe(false);
  });

  it('claim is atomic: the second claimant gets nothing (moved), and ids are stamped before dialing', async () => {
    const id = await newCb();
    await store.promoteDue(e, T0);
    const first = await claim(id, 'tok-1');
    expect(first).toMatchObject({ callbackId: id, seq: 1, agentChannelId: `a-${id}-1`, customerChannelId: `c-${id}-1`, bridgeId: `b-${id}-1`, leaseToken: 'tok-1', startedAt: T0, outcome: null, phonePosition: null });
    const why: string[] = [];
    expect(await store.claimForDial(e, { ...claimInput(id, 'tok-2'), refused: (w) => why.push(w) })).toBeNull();
    expect(why).toEqual(['moved']);
    expect(await store.getCallback(e, id)).toMatchObject({ state: 'DIALING', leaseOwner: 'me', leaseToken: 'tok-1', leaseExpiresAt: T0 + 60_000, dialSeq: 1, waitReason: null });
    expect(await store.attemptsOf(e, id)).toHaveLength(1);
    expect(await store.attemptOfChannel(e, `c-${id}-1`)).toMatchObject({ id: first!.id });
    expect(await store.attemptOfChannel(e, `a-${id}-1`)).toMatchObject({ id: first!.id });
    expect(await store.attemptOfChannel(e, 'nope')).toBeUndefined();
  });

  it('every write checks the lease: a stale token changes nothing', async () => {
    const id = await newCb();
    await store.promoteDue(e, T0);
    const att = (await claim(id, 'tok-1'))!;
    await expect(store.countCustomerAttempt(e, id, 'stale', att.id, T0)).rejects.toThrow(/lease stale is no longer held/);
    expect(await store.renewLease(e, id, 'stale', T0 + 1)).toBe(false);
    const err = await store.finishAttempt(e, id, 'stale', att.id, BUSY, { state: 'COMPLETED' }, T0).catch((x: unknown) => x);
    expect(isCode(err, 'LEASE_LOST')).toBe(true);
    await store.stampAttempt(e, att.id, 'stale', { agentRingingAt: T0 + 5 });
    expect((await store.attemptsOf(e, id))[0]).toMatchObject({ outcome: null, agentRingingAt: null, customerAttempt: null });
    expect((await store.getCallback(e, id))!).toMatchObject({ state: 'DIALING', attempts: 0, leaseExpiresAt: T0 + 60_000 });

    expect(await store.renewLease(e, id, 'tok-1', T0 + 90_000)).toBe(true);
    await store.stampAttempt(e, att.id, 'tok-1', { agentRingingAt: T0 + 5, agentAnsweredAt: T0 + 6 });
    expect(await store.countCustomerAttempt(e, id, 'tok-1', att.id, T0 + 7)).toBe(1);
    // Retried after a connection cut that hid the commit: the same call is not counted again.
    expect(await store.countCustomerAttempt(e, id, 'tok-1', att.id, T0 + 8)).toBe(1);
    expect((await store.getCallback(e, id))!.attempts).toBe(1);
    expect(await store.customerDialsOfLead(e, 'lead1', T0)).toEqual([T0 + 7]);
    expect(await store.customerDialsOfLead(e, 'lead1', T0 + 7)).toEqual([]);
    expect(await store.customerDialsOfLead(e, 'lead2', 0)).toEqual([]);
    await store.finishAttempt(e, id, 'tok-1', att.id, BUSY, { state: 'LIVE', nextAttemptAt: T0 + 60_000, waitReason: 'busy' }, T0);
    expect(await store.getCallback(e, id)).toMatchObject({ state: 'LIVE', attempts: 1, leaseToken: null, leaseOwner: null, leaseExpiresAt: null, lastCause: 17, lastSipCode: 486, lastOutcome: 'BUSY', nextAttemptAt: T0 + 60_000, waitReason: 'busy' });
    expect((await store.attemptsOf(e, id))[0]).toMatchObject({ outcome: 'BUSY', cause: 17, sipCode: 486, endedAt: T0, agentRingingAt: T0 + 5, agentAnsweredAt: T0 + 6, customerAttempt: 1, customerDialedAt: T0 + 7 });
    // Closed: a stamp after the end changes nothing.
    await store.stampAttempt(e, att.id, 'tok-1', { customerRingingAt: T0 + 8 });
    expect((await store.attemptsOf(e, id))[0]!.customerRingingAt).toBeNull();
  });

  it('finishAttempt: COMPLETED, FAILED, and ACTIVE (rescheduled, with its audit row)', async () => {
    const done = await newCb();
    const failed = await newCb();
    const moved = await newCb();
    await store.promoteDue(e, T0);
    // Three calls at once: three agents, and the third on another trunk ('carrier' has 2 channels; claim-limits.test.ts).
    const other = (id: number, token: string, agentId: string, trunkId = 'carrier') => store.claimForDial(e, { ...claimInput(id, token), agentId, trunkId });
    const [a, b, c] = [await claim(done, 't-done'), await other(failed, 't-failed', 'a2'), await other(moved, 't-moved', 'a3', 'west')];
    await store.finishAttempt(e, done, 't-done', a!.id, { ...BUSY, outcome: 'ANSWERED', customerAnsweredAt: T0 + 3 }, { state: 'COMPLETED' }, T0 + 4);
    expect(await store.getCallback(e, done)).toMatchObject({ state: 'COMPLETED', nextAttemptAt: null, waitReason: null, lastOutcome: 'ANSWERED' });
    expect((await store.attemptsOf(e, done))[0]!.customerAnsweredAt).toBe(T0 + 3);
    await store.finishAttempt(e, failed, 't-failed', b!.id, BUSY, { state: 'FAILED', failReason: 'max attempts' }, T0 + 4);
    expect(await store.getCallback(e, failed)).toMatchObject({ state: 'FAILED', failReason: 'max attempts' });
    await store.finishAttempt(e, moved, 't-moved', c!.id, BUSY, { state: 'ACTIVE', dueAt: T0 + 86_400_000, note: 'max attempts; tomorrow' }, T0 + 4);
    expect(await store.getCallback(e, moved)).toMatchObject({ state: 'ACTIVE', dueAt: T0 + 86_400_000, attempts: 0, waitReason: 'max attempts; tomorrow', nextAttemptAt: null });
    expect(await store.auditOf(e, moved)).toMatchObject([{ actor: 'scheduler', action: 'auto-reschedule', after: { dueAt: T0 + 86_400_000 }, reason: 'max attempts; tomorrow', before: null }]);
    // Already finished: the lease is gone, a second finish is refused.
    await expect(store.finishAttempt(e, done, 't-done', a!.id, BUSY, { state: 'COMPLETED' }, T0 + 5)).rejects.toThrow(/no longer held/);
  });

  it('closeAnsweredAttempt writes the end of an answered call once; answeredNotEnded lists those still open', async () => {
    const id = await newCb();
    await store.promoteDue(e, T0);
    const att = (await claim(id, 'tok'))!;
    await store.finishAttempt(e, id, 'tok', att.id, { ...BUSY, outcome: 'ANSWERED', endedAt: null }, { state: 'COMPLETED' }, T0 + 1);
    expect((await store.answeredNotEnded(e, T0 - 1)).map((a) => a.id)).toEqual([att.id]);
    expect(await store.answeredNotEnded(e, T0)).toEqual([]); // started at T0, not after it
    expect((await store.answeredNotEnded(e, T0 - 1, 'default')).map((a) => a.id)).toEqual([att.id]);
    expect(await store.answeredNotEnded(e, T0 - 1, 'w')).toEqual([]);
    await store.closeAnsweredAttempt(e, att.id, T0 + 60_000, 59_000);
    await store.closeAnsweredAttempt(e, att.id, T0 + 90_000, 89_000); // the first end wins
    expect((await store.attemptsOf(e, id))[0]).toMatchObject({ endedAt: T0 + 60_000, durationMs: 59_000 });
    expect(await store.answeredNotEnded(e, T0 - 1)).toEqual([]);
  });

  it('recovery sees its own DIALING rows and others only once their lease expired; takeOverLease is a CAS', async () => {
    const id = await newCb();
    await store.promoteDue(e, T0);
    await claim(id, 'tok-1');
    const mine = await store.recoverable(e, 'me', T0);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.cb.id).toBe(id);
    expect(mine[0]!.attempt).toMatchObject({ seq: 1, leaseToken: 'tok-1' });
    expect(await store.recoverable(e, 'other', T0)).toHaveLength(0);
    expect(await store.recoverable(e, 'other', T0 + 60_000)).toHaveLength(1);
    expect(await store.recoverable(e, 'me', T0, 'default')).toHaveLength(1);
    expect(await store.recoverable(e, 'me', T0, 'w')).toHaveLength(0); // its trunk is on another server
    expect(await store.takeOverLease(e, id, 'wrong', 'other', 'tok-2', T0)).toBe(false);
    expect(await store.takeOverLease(e, id, 'tok-1', 'other', 'tok-2', T0 + 120_000)).toBe(true);
    expect((await store.attemptsOf(e, id))[0]!.leaseToken).toBe('tok-2');
    expect(await store.getCallback(e, id)).toMatchObject({ leaseOwner: 'other', leaseToken: 'tok-2', leaseExpiresAt: T0 + 120_000 });
    // A DIALING row without a token (written by an old version) is taken over with oldToken null.
    await dbExec(e, 'UPDATE callbacks SET lease_token = NULL WHERE id = ?', [id]);
    expect(await store.takeOverLease(e, id, 'tok-2', 'x', 'tok-3', T0)).toBe(false);
    expect(await store.takeOverLease(e, id, null, 'x', 'tok-3', T0)).toBe(true);
    expect((await store.attemptsOf(e, id))[0]!.leaseToken).toBe('tok-3');
  });

  it('attemptsOf lists attempts by seq', async () => {
    const id = await newCb();
    await store.promoteDue(e, T0);
    const a1 = (await claim(id, 't1'))!;
    await store.finishAttempt(e, id, 't1', a1.id, BUSY, { state: 'LIVE', nextAttemptAt: T0, waitReason: null }, T0);
    const a2 = (await claim(id, 't2'))!;
    expect((await store.attemptsOf(e, id)).map((a) => [a.id, a.seq])).toEqual([[a1.id, 1], [a2.id, 2]]);
    expect(await store.attemptsOf(e, 424242)).toEqual([]);
  });

  it('a transaction that fails rolls the store writes in it back (convert + audit, claim + attempt)', async () => {
    const id = await newCb();
    await store.promoteDue(e, T0);
    await expect(
      transaction(e, async (tx) => {
        expect(await store.convertToAnyone(tx, id, 'scheduler', 'x', T0)).toBe(true);
        expect(await claim(id, 'tok', T0, tx)).not.toBeNull();
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect(await store.getCallback(e, id)).toMatchObject({ state: 'LIVE', type: 'USERONLY', dialSeq: 0 });
    expect(await store.auditOf(e, id)).toEqual([]);
    expect(await store.attemptsOf(e, id)).toEqual([]);
  });
});

describe(`audit on ${TEST_ENGINE}`, () => {
  it('writeAudit keeps JSON before/after (objects, arrays, strings, NULL) and auditOf returns them in order', async () => {
    const id = await newCb();
    await writeAudit(e, { at: T0, actor: 'u1', action: 'edit', callbackId: id, before: { dueAt: T0, tags: ['a', 'b'], n: null }, after: 'text', reason: 'typo' });
    await writeAudit(e, { at: T0 + 1, actor: 'cli', action: 'cancel', callbackId: id });
    await writeAudit(e, { at: T0 + 2, actor: 'cli', action: 'import' }); // no callback
    expect(await auditOf(e, id)).toMatchObject([
      { at: T0, actor: 'u1', action: 'edit', callbackId: id, before: { dueAt: T0, tags: ['a', 'b'], n: null }, after: 'text', reason: 'typo' },
      { at: T0 + 1, actor: 'cli', action: 'cancel', callbackId: id, before: null, after: null, reason: null },
    ]);
    expect(await auditOf(e, id + 1)).toEqual([]);
  });
});

describe(`call prompts on ${TEST_ENGINE}`, () => {
  it('markPromptAnswer writes on the open attempt only (token checked), with audit rows for a decline and a snooze; agentAnswersOf reads them', async () => {
    const id = await newCb();
    await store.promoteDue(e, T0);
    const att = (await claim(id, 'tok'))!;
    const at = { attemptId: att.id, callbackId: id, token: 'tok', agentId: 'a1' };
    expect(await markPromptAnswer(e, { ...at, token: 'stale' }, { agentResponse: 'REJECTED' }, T0)).toBe(false);
    expect(await agentAnswersOf(e, id)).toEqual([]);
    expect(await markPromptAnswer(e, at, { agentResponse: 'REJECTED', reason: 'pressed 2' }, T0 + 1)).toBe(true);
    expect(await markPromptAnswer(e, at, { customerChoice: 'SNOOZE' }, T0 + 2)).toBe(true);
    expect(await agentAnswersOf(e, id)).toEqual([{ agentId: 'a1', agentResponse: 'REJECTED', endedAt: null }]);
    expect((await store.attemptsOf(e, id))[0]).toMatchObject({ agentResponse: 'REJECTED', customerChoice: 'SNOOZE' });
    expect(await auditOf(e, id)).toMatchObject([
      { actor: 'a1', action: 'agent-decline', after: { agentResponse: 'REJECTED' }, reason: 'pressed 2' },
      { actor: 'customer', action: 'customer-choice', after: { customerChoice: 'SNOOZE' }, reason: null },
    ]);
    // ACCEPTED is no audit event; a closed attempt takes no answer.
    expect(await markPromptAnswer(e, at, { agentResponse: 'ACCEPTED' }, T0 + 3)).toBe(true);
    expect(await auditOf(e, id)).toHaveLength(2);
    await store.finishAttempt(e, id, 'tok', att.id, BUSY, { state: 'COMPLETED' }, T0 + 4);
    expect(await markPromptAnswer(e, at, { customerChoice: 'CANCEL' }, T0 + 5)).toBe(false);
    expect(await agentAnswersOf(e, id)).toEqual([{ agentId: 'a1', agentResponse: 'ACCEPTED', endedAt: T0 }]);
  });
});

describe(`queue place on ${TEST_ENGINE}`, () => {
  it("positionInLine counts the ANYONE callbacks of the campaign before this one (arrival, due, id)", async () => {
    const anyone = { type: 'ANYONE' as const, ownerAgentId: null };
    const first = await newCb(T0, { ...anyone, arrivedAt: T0 - 60_000 });
    const second = await newCb(T0 - 10_000, { ...anyone, arrivedAt: T0 - 30_000 });
    const third = await newCb(T0 - 10_000, { ...anyone, arrivedAt: T0 - 30_000 }); // same place and due: by id
    await newCb(T0 - 99_000); // USERONLY: not in this line
    await newCb(T0 - 99_000, { ...anyone, campaignId: 'D' }); // another campaign
    const gone = await newCb(T0 - 99_000, anyone);
    await store.promoteDue(e, T0);
    await claim(gone, 't'); // being dialed: out of line
    const pos = async (id: number) => await positionInLine(e, (await store.getCallback(e, id))!);
    expect([await pos(first), await pos(second), await pos(third)]).toEqual([1, 2, 3]);
    // The scheduler's order agrees (the other rows are in liveReady too: it is every ready callback).
    expect((await store.liveReady(e, T0, 10)).map((r) => r.id).filter((id) => [first, second, third].includes(id))).toEqual([first, second, third]);
  });
});

describe(`busy on ${TEST_ENGINE}`, () => {
  it('isBusy: another connection holding the write lock (SQLite busy_timeout, pg lock_timeout) is busy; other errors are not', async () => {
    const id = await newCb();
    await store.promoteDue(e, T0);
    // The way daemon.ts opens the dialer's connection: a short wait for locks, then an error.
    const sqliteOther: Db | null = e.kind === 'sqlite' ? openDb(e.location, { migrate: false, busyTimeoutMs: 20 }) : null;
    const other: Conn = sqliteOther ?? (await secondConnection(e, { lockTimeoutMs: 50 }));
    try {
      const err = await transaction(e, async (tx) => {
        await store.setWaitReason(tx, id, 'held', T0);
        return await store.setWaitReason(other, id, 'other', T0).then(() => null, (x: unknown) => x);
      });
      expect(err).toBeInstanceOf(Error);
      expect(isBusy(err)).toBe(true);
    } finally {
      await sqliteOther?.close();
    }
    expect((await store.getCallback(e, id))!.waitReason).toBe('held');
    expect(isBusy(new Error('no such table'))).toBe(false);
    const fk = await store.insertCallback(e, cbInput({ leadId: 'ghost' }), T0).then(() => null, (x: unknown) => x);
    expect(fk).toBeInstanceOf(Error); // a foreign key refused it: an error, but not "try again soon"
    expect(isBusy(fk)).toBe(false);
    expect(isBusy(Object.assign(new Error('locked'), { code: 'SQLITE_LOCKED_SHAREDCACHE' }))).toBe(true);
  });
});

describe.skipIf(TEST_ENGINE !== 'pg')('PostgreSQL only: several daemons claiming from one database (SQLite has one writer: its CAS alone is exact)', () => {
  it('a row a peer is claiming is passed over at once: refused as taken, no wait for the peer', async () => {
    const id = await newCb();
    await store.promoteDue(e, T0);
    // lock_timeout 50 ms: a claim that waited for the peer's row lock would fail (55P03) instead of returning.
    const other = await secondConnection(e, { lockTimeoutMs: 50 });
    const why: string[] = [];
    await transaction(e, async (tx) => {
      await dbExec(tx, 'SELECT id FROM callbacks WHERE id = ? FOR UPDATE', [id]);
      expect(await store.claimForDial(other, { ...claimInput(id, 'peer'), refused: (w) => why.push(w) })).toBeNull();
      // The same row written without SKIP LOCKED does wait, and gives up at lock_timeout: the control.
      const err = await store.setWaitReason(other, id, 'x', T0).then(() => null, (x: unknown) => x);
      expect(isBusy(err)).toBe(true);
    });
    expect(why).toEqual(['taken']);
    expect((await claim(id, 'mine', T0, other))!.leaseToken).toBe('mine');
  });

  it('two engines (two daemons) claim the same 200 LIVE rows concurrently: each claimed exactly once, 200 attempts, no claim waits > 50 ms for a lock', async () => {
    await e.q.insert(e.t.callbacks).values(
      Array.from({ length: 200 }, () => ({ ...cbInput({ type: 'ANYONE', ownerAgentId: null }), state: 'ACTIVE' as const, createdAt: T0, updatedAt: T0 })),
    );
    expect(await store.promoteDue(e, T0)).toBe(200);
    // Two daemons, each its own pool, with lock_timeout 50 ms: a claim that waited longer than that for a
    // lock would fail with 55P03 (and this test with it). Wall-clock times are logged, not asserted: on a
    // loaded CI machine they measure the CPU, not the locks.
    const d1 = await secondConnection(e, { lockTimeoutMs: 50 });
    const d2 = await secondConnection(e, { lockTimeoutMs: 50 });
    const ready = (await store.liveReady(e, T0, 500)).map((r) => r.id);
    expect(ready).toHaveLength(200);
    const won = new Map<number, string>();
    const refused = { taken: 0, moved: 0 };
    const times: number[] = [];
    // One agent per callback on an unlimited trunk: the cluster-wide limits (claim-limits.test.ts) take no lock here.
    // Each daemon walks the same ready list in the same order (as two schedulers would), 3 claims at a time
    // (its pool holds 4), so the two meet on the same rows all the time.
    const daemon = async (c: Conn, owner: string) => {
      let next = 0;
      const worker = async () => {
        while (next < ready.length) {
          const id = ready[next++]!;
          const t0 = performance.now();
          const a = await store.claimForDial(c, { ...claimInput(id, `${owner}-${id}`, T0, owner), agentId: `ag-${id}`, trunkId: 'free', refused: (w) => refused[w]++ });
          times.push(performance.now() - t0);
          if (!a) continue;
          expect(won.has(id), `callback ${id} claimed twice`).toBe(false);
          won.set(id, owner);
        }
      };
      await Promise.all([worker(), worker(), worker()]);
    };
    await Promise.all([daemon(d1, 'd1'), daemon(d2, 'd2')]);
    expect(won.size).toBe(200);
    const attempts = await dbExec(e, 'SELECT count(*)::int AS n, count(DISTINCT callback_id)::int AS cbs FROM call_attempts');
    expect(attempts.rows).toEqual([{ n: 200, cbs: 200 }]);
    const states = await dbExec(e, "SELECT state, lease_owner AS owner, count(*)::int AS n FROM callbacks GROUP BY state, lease_owner ORDER BY 2");
    const byOwner = [...won.values()].reduce((m, o) => m.set(o, (m.get(o) ?? 0) + 1), new Map<string, number>());
    expect(states.rows).toEqual([...byOwner.entries()].sort().map(([owner, n]) => ({ state: 'DIALING', owner, n })));
    expect(refused.taken + refused.moved).toBe(200); // every row was tried by both: one win, one refusal
    const sorted = [...times].sort((x, y) => x - y);
    console.log(`claim race: d1 ${byOwner.get('d1') ?? 0}, d2 ${byOwner.get('d2') ?? 0}; refused taken ${refused.taken}, moved ${refused.moved}; claim ms p50 ${sorted[200]!.toFixed(1)} p99 ${sorted[396]!.toFixed(1)} slowest ${sorted.slice(-5).map((t) => t.toFixed(1)).join(' ')}`);
  });
});
