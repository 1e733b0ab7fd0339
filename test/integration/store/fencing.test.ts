// Fencing (issue 16 item 4): a daemon that lost the database and came back after a peer took its
// call over (takeOverLease, as the takeover sweep does once the lease lapsed) must write nothing for
// that call: every write of a call in progress carries the lease token it was claimed (or adopted)
// with. The old holder's writes are refused (LEASE_LOST where the function throws it, false or a
// no-op otherwise) and leave the rows as the peer wrote them; the peer's writes land.
import { expect, it, describe } from 'vitest';
import { ErrorCodes, isCode } from '../../../src/errors.js';
import * as store from '../../../src/store/callbacks.js';
import type { Conn } from '../../../src/store/conn.js';
import { setRecordingName, setRecordingNote, recordingOfAttempt } from '../../../src/store/recordings.js';
import { LeaseKeeper } from '../../../src/dialer/lease.js';
import { freshEngineEachTest, secondConnection, TEST_ENGINE, type TestEngine } from '../engine.js';

const T0 = Date.parse('2026-11-22T12:00:00Z');
const LEASE_MS = 60_000;
let e: TestEngine;

async function seed(c: Conn): Promise<void> {
  const { trunks, numbers, campaigns, lists, agents, agentCampaigns, phones, leads } = c.t;
  await c.q.insert(trunks).values({ id: 'carrier', maxChannels: 2, updatedAt: T0 });
  await c.q.insert(numbers).values({ e164: '+15550100001', trunkId: 'carrier', updatedAt: T0 });
  await c.q.insert(campaigns).values({ id: 'C', name: 'C', timeZone: 'UTC', outboundNumber: '+15550100001', updatedAt: T0 });
  await c.q.insert(lists).values({ id: 'L', campaignId: 'C', name: 'L', updatedAt: T0 });
  await c.q.insert(agents).values({ id: 'a1', name: 'A', updatedAt: T0 });
  await c.q.insert(agentCampaigns).values({ agentId: 'a1', campaignId: 'C' });
  await c.q.insert(phones).values({ endpoint: 'agent1001', agentId: 'a1', updatedAt: T0 });
  await c.q.insert(leads).values({ id: 'lead1', listId: 'L', phoneE164: '+15551230001', updatedAt: T0 });
}

freshEngineEachTest((x) => (e = x), seed);

/** lead1's callback, due at T0, claimed for a1 by `owner` under `token` (lease LEASE_MS). */
async function claimedBy(owner: string, token: string) {
  const id = await store.insertCallback(e, { leadId: 'lead1', campaignId: 'C', type: 'USERONLY', ownerAgentId: 'a1', dueAt: T0, dueZone: 'UTC', maxAttempts: 3, notes: null }, T0);
  await store.promoteDue(e, T0);
  const attempt = await store.claimForDial(e, {
    callbackId: id, owner, token, leaseMs: LEASE_MS, now: T0, dialOrder: 'AGENT_FIRST', agentId: 'a1', phoneEndpoint: 'agent1001',
    callerId: '+15550100001', customerNumber: '+15551230001', trunkId: 'carrier',
    ids: (seq) => ({ agentChannelId: `a-${id}-${seq}`, customerChannelId: `c-${id}-${seq}`, bridgeId: `b-${id}-${seq}` }),
  });
  return { id, attempt };
}

/** A DIALING callback claimed by daemon "old" with token "old-tok", then taken over by "peer" with "peer-tok" after its lease lapsed. */
async function takenOver(peer: Conn): Promise<{ id: number; attemptId: number }> {
  const { id, attempt } = await claimedBy('old', 'old-tok');
  expect(attempt, 'claimed').not.toBeNull();
  // The old holder's lease lapsed while it could not reach the database; the peer adopts the call.
  expect(await store.takeOverLease(peer, id, 'old-tok', 'peer', 'peer-tok', T0 + 2 * LEASE_MS)).toBe(true);
  return { id, attemptId: attempt!.id };
}

async function leaseLost(p: Promise<unknown>): Promise<boolean> {
  try {
    await p;
    return false;
  } catch (err) {
    if (isCode(err, ErrorCodes.LEASE_LOST)) return true;
    throw err;
  }
}

describe(`fencing after a lost lease on ${TEST_ENGINE}`, () => {
  it("the old holder's stamps, attempt count, renewal and recording notes write nothing; the peer's land", async () => {
    const peer = await secondConnection(e);
    const { id, attemptId } = await takenOver(peer);
    const attemptNow = async () => (await store.attemptsOf(e, id))[0]!;
    const cbNow = async () => (await store.getCallback(e, id))!;
    const before = { cb: await cbNow(), attempt: await attemptNow() };
    expect(before.cb).toMatchObject({ state: 'DIALING', leaseOwner: 'peer', leaseToken: 'peer-tok', attempts: 0 });

    // The old holder, back on the database: nothing it writes lands.
    await store.stampAttempt(e, attemptId, 'old-tok', { agentRingingAt: T0 + 1, customerAnsweredAt: T0 + 2 });
    expect(await leaseLost(store.countCustomerAttempt(e, id, 'old-tok', attemptId, T0 + 3)), 'countCustomerAttempt throws LEASE_LOST').toBe(true);
    expect(await store.renewLease(e, id, 'old-tok', T0 + 10 * LEASE_MS)).toBe(false);
    expect(await setRecordingName(e, attemptId, 'old-tok', 'old-rec')).toBe(false);
    expect(await setRecordingNote(e, attemptId, 'old-tok', 'old note')).toBe(false);
    expect(await cbNow()).toEqual(before.cb);
    expect(await attemptNow()).toEqual(before.attempt);

    // The peer's writes of the same call land.
    await store.stampAttempt(peer, attemptId, 'peer-tok', { agentRingingAt: T0 + 5 });
    expect(await store.countCustomerAttempt(peer, id, 'peer-tok', attemptId, T0 + 6)).toBe(1);
    expect(await store.renewLease(peer, id, 'peer-tok', T0 + 3 * LEASE_MS)).toBe(true);
    expect(await setRecordingName(peer, attemptId, 'peer-tok', 'peer-rec')).toBe(true);
    expect(await setRecordingNote(peer, attemptId, 'peer-tok', 'peer note')).toBe(true);
    expect(await cbNow()).toMatchObject({ state: 'DIALING', leaseToken: 'peer-tok', leaseExpiresAt: T0 + 3 * LEASE_MS, attempts: 1 });
    expect(await attemptNow()).toMatchObject({ agentRingingAt: T0 + 5, customerAnsweredAt: null, customerAttempt: 1, customerDialedAt: T0 + 6 });
    expect(await recordingOfAttempt(e, id, 1)).toEqual({ name: 'peer-rec', note: 'peer note', deletedAt: null });
  });

  it("the old holder's attempt end is refused with LEASE_LOST; the peer's end closes the attempt and the callback", async () => {
    const peer = await secondConnection(e);
    const { id, attemptId } = await takenOver(peer);
    const noAnswer = { outcome: 'NO_ANSWER', cause: 19, sipCode: 480, endedAt: T0 + 7, detail: 'old holder' } as const;
    expect(await leaseLost(store.finishAttempt(e, id, 'old-tok', attemptId, noAnswer, { state: 'LIVE', nextAttemptAt: T0 + 60_000, waitReason: null }, T0 + 7)), 'finishAttempt throws LEASE_LOST').toBe(true);
    expect(await store.getCallback(e, id)).toMatchObject({ state: 'DIALING', leaseToken: 'peer-tok', lastOutcome: null });
    expect((await store.attemptsOf(e, id))[0]).toMatchObject({ outcome: null, endedAt: null, detail: null });

    await store.finishAttempt(peer, id, 'peer-tok', attemptId, { outcome: 'ANSWERED', cause: null, sipCode: null, endedAt: null, detail: null }, { state: 'COMPLETED' }, T0 + 8);
    expect(await store.getCallback(e, id)).toMatchObject({ state: 'COMPLETED', leaseToken: null, lastOutcome: 'ANSWERED' });
    expect((await store.attemptsOf(e, id))[0]).toMatchObject({ outcome: 'ANSWERED', endedAt: null });
    // After the peer's end the old holder's late writes still change nothing (the call is no longer open for it).
    expect(await setRecordingName(e, attemptId, 'old-tok', 'late')).toBe(false);
    await store.stampAttempt(e, attemptId, 'old-tok', { customerAnsweredAt: T0 + 9 });
    expect((await store.attemptsOf(e, id))[0]).toMatchObject({ recordingName: null, customerAnsweredAt: null });
  });
});

describe('the lease as the fence before a new leg (LeaseKeeper.fresh)', () => {
  it("is fresh until the last quarter of the lease the claim wrote; a renewal that lands counts from when it was sent; a lost lease never comes back", async () => {
    const { id, attempt } = await claimedBy('me', 'tok');
    expect(attempt).not.toBeNull();
    let now = T0;
    let lost = 0;
    const lease = new LeaseKeeper(e, id, 'tok', LEASE_MS, () => now, () => true, () => lost++, undefined, T0 + LEASE_MS);
    const margin = Math.min(5000, LEASE_MS / 4);
    now = T0 + LEASE_MS - margin - 1;
    expect(lease.fresh()).toBe(true);
    now = T0 + LEASE_MS - margin;
    expect(lease.fresh(), 'the last stretch of the lease is not used for a new leg').toBe(false);
    // A renewal sent now lands: the lease counts from the send.
    await (lease as unknown as { renew(): Promise<void> }).renew();
    expect((await store.getCallback(e, id))!.leaseExpiresAt).toBe(now + LEASE_MS);
    expect(lease.fresh()).toBe(true);
    // A peer took the call over (this lease had lapsed): the renewal finds the token gone.
    expect(await store.takeOverLease(e, id, 'tok', 'peer', 'peer-tok', now + LEASE_MS)).toBe(true);
    now += 1000;
    await (lease as unknown as { renew(): Promise<void> }).renew();
    expect(lost).toBe(1);
    now = T0 + 2 * LEASE_MS - margin;
    expect(lease.fresh(), 'no renewal landed since: stale again').toBe(false);
  });
});
