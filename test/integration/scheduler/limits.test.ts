// The scheduler under cluster-wide limits (issue 16 item 3; README "Limits across daemons"): another
// daemon's calls, seen only as rows in the shared database, fill the trunk. Against fakes of our ARI
// and presence adapters; the lab proof is test/e2e/trunk-shared.e2e.test.ts.
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Presence } from '../../../src/asterisk/presence.js';
import { registry } from '../../../src/metrics.js';
import type { Scheduler } from '../../../src/scheduler/scheduler.js';
import * as store from '../../../src/store/callbacks.js';
import { FakeAri, FakePresence, pass, until } from '../fakes.js';
import { cleanupEngines, dbExec, secondConnection, type TestEngine } from '../engine.js';
import { commitElsewhere, DIALER_CENTER, importedEngine, testScheduler } from '../fixture.js';

let db: TestEngine;
let peer: TestEngine; // another daemon's connection to the same database
let ari: FakeAri;
let sched: Scheduler | null;
const log = pino({ level: process.env.TEST_LOG ?? 'silent' });

beforeEach(async () => {
  // The trunk carries one call at a time, for every daemon together.
  db = await importedEngine({ ...DIALER_CENTER, trunks: [{ id: 'carrier', max_channels: 1 }] }, Date.now());
  peer = await secondConnection(db);
  ari = new FakeAri();
  sched = null;
});
afterEach(async () => {
  await sched?.stop(0);
  await cleanupEngines();
});

const due = async (leadId: string, campaignId: string) =>
  await store.insertCallback(db, { leadId, campaignId, type: 'ANYONE', ownerAgentId: null, dueAt: Date.now(), dueZone: 'UTC', maxAttempts: 3, notes: null }, Date.now());

/** The peer daemon claims `id` on the trunk for an agent of its own server. */
async function peerClaims(id: number) {
  const a = await store.claimForDial(peer, {
    callbackId: id, owner: 'peer', token: `peer-${id}`, leaseMs: 60_000, now: Date.now(), dialOrder: 'CUSTOMER_FIRST', agentId: 'peer-agent', phoneEndpoint: 'peer-phone',
    callerId: '+15550100001', customerNumber: '+15551230002', trunkId: 'carrier',
    ids: (seq) => ({ agentChannelId: `peer-${id}-${seq}-a`, customerChannelId: `peer-${id}-${seq}-c`, bridgeId: `peer-${id}-${seq}-b` }),
  });
  expect(a).not.toBeNull();
  return a!;
}

async function peerEnds(a: Awaited<ReturnType<typeof peerClaims>>) {
  const now = Date.now();
  await store.finishAttempt(peer, a.callbackId, a.leaseToken, a.id, { outcome: 'BUSY', cause: 17, sipCode: 486, endedAt: now, detail: null }, { state: 'COMPLETED' }, now);
}

const refusedFor = async (reason: string) => (await registry.getSingleMetric('callbackd_claims_refused_total')!.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
const REASON = 'trunk carrier is at its limit of 1 channel across all daemons';

describe('a trunk shared with another daemon', () => {
  it('its open attempt fills the trunk: the pre-check sees it (no claim tried), the callback waits saying so, and is dialed once that attempt ends', async () => {
    const theirs = await peerClaims(await promoted(await due('lead2', 'CF')));
    const mine = await due('lead1', 'C');
    const claimsBefore = await refusedFor('trunk-channels');
    sched = testScheduler(db, ari, log);
    sched.start();
    ari.emit('connected');
    await until('the wait reason', async () => (await store.getCallback(db, mine))!.waitReason === REASON);
    expect(ari.originates).toHaveLength(0);
    // The pass's one read of the cluster's load told the pre-check: no claim was even tried.
    expect(await refusedFor('trunk-channels')).toBe(claimsBefore);
    await peerEnds(theirs); // its end is a commit on another connection: the scheduler is woken
    await until('the agent leg', () => ari.originates.length === 1);
    expect((await store.getCallback(db, mine))!.state).toBe('DIALING');
  });

  it('two of its own due at once on the one channel: the second is decided with the first still unclaimed in the batch, and waits without a claim tried', async () => {
    // A second free agent, so only the trunk keeps the second callback from being dialed.
    db = await importedEngine({ ...DIALER_CENTER, trunks: [{ id: 'carrier', max_channels: 1 }], agents: [{ id: 'a1', name: 'A', campaigns: ['C', 'CF'] }, { id: 'a2', name: 'B', campaigns: ['C', 'CF'] }], phones: [...DIALER_CENTER.phones!, { endpoint: 'agent1002', agent: 'a2' }] }, Date.now());
    const first = await due('lead1', 'C');
    const second = await due('lead2', 'C');
    const claimsBefore = await refusedFor('trunk-channels');
    sched = testScheduler(db, ari, log);
    sched.start();
    ari.emit('connected');
    await until('the second waits', async () => (await store.getCallback(db, second))!.waitReason === REASON);
    await until('the first dialed', () => ari.originates.length === 1);
    expect((await store.getCallback(db, first))!.state).toBe('DIALING');
    // The pending decision counted on the trunk (TrunkLimiter.check's `pending`): no claim was refused.
    expect(await refusedFor('trunk-channels')).toBe(claimsBefore);
  });

  it('the peer takes the channel between the pass\'s read and the claim: the claim is refused (trunk-channels), nothing dialed, the reason kept', async () => {
    const before = await refusedFor('trunk-channels');
    // The peer's callback is not due here (it is its own business); only its attempt row matters.
    const theirs = await store.insertCallback(db, { leadId: 'lead2', campaignId: 'CF', type: 'ANYONE', ownerAgentId: null, dueAt: Date.now() + 3_600_000, dueZone: 'UTC', maxAttempts: 3, notes: null }, Date.now());
    const mine = await due('lead1', 'C');
    const presence = new FakePresence();
    let taken = false;
    presence.of = (endpoint) => {
      // Asked while the scheduler reads my callback's facts: after the pass read the cluster's load, before
      // the claim. The peer's claim commits now (synchronously, on another connection).
      if (!taken) {
        taken = true;
        commitElsewhere(
          db,
          `INSERT INTO call_attempts (callback_id, seq, dial_order, agent_id, caller_id, customer_number, trunk_id, agent_channel_id, customer_channel_id, bridge_id, lease_token, started_at)
           VALUES (?, 1, 'CUSTOMER_FIRST', 'peer-agent', '+15550100001', '+15551230002', 'carrier', 'pa', 'pc', 'pb', 'peer', ?)`,
          [theirs, Date.now()],
        );
      }
      return FakePresence.prototype.of.call(presence, endpoint);
    };
    sched = testScheduler(db, ari, log, { presence: presence as unknown as Presence });
    sched.start();
    ari.emit('connected');
    await until('the claim to be refused at the trunk limit', async () => (await refusedFor('trunk-channels')) === before + 1);
    await pass(50);
    expect(taken).toBe(true);
    expect(ari.originates).toHaveLength(0);
    expect(await store.attemptsOf(db, mine)).toEqual([]);
    expect((await store.getCallback(db, mine))!).toMatchObject({ state: 'LIVE', waitReason: REASON });
    await dbExec(peer, "UPDATE call_attempts SET ended_at = ?, outcome = 'BUSY' WHERE callback_id = ?", [Date.now(), theirs]);
    await until('the agent leg, once the peer\'s call ended', () => ari.originates.length === 1);
  });
});

async function promoted(id: number): Promise<number> {
  await store.promoteDue(db, Date.now());
  return id;
}
