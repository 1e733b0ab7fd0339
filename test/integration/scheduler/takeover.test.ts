// Takeover between two schedulers on one database (issue 16 item 4), against fakes of our ARI adapter:
// a peer's call is left alone while its lease is renewed, and adopted by the sweep once the lease
// lapsed (recovery: ask Asterisk by channel id; a leg outside Stasis is pointed at our application).
// The real thing, two daemons on one Asterisk and PostgreSQL with a SIGKILL: test/e2e/pg-takeover.e2e.test.ts.
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Scheduler } from '../../../src/scheduler/scheduler.js';
import * as store from '../../../src/store/callbacks.js';
import type { Engine } from '../../../src/store/conn.js';
import { cleanupEngines, secondConnection } from '../engine.js';
import { FakeAri, pass, until } from '../fakes.js';
import { DIALER_CENTER, importedEngine, testScheduler } from '../fixture.js';

const log = pino({ level: process.env.TEST_LOG ?? 'silent' });
const LEASE_MS = 2000; // renewed every 1 s, swept every 1 s
const running: Scheduler[] = [];

afterEach(async () => {
  for (const s of running.splice(0)) await s.stop(0);
  await cleanupEngines();
});

function daemon(db: Engine, owner: string): { sched: Scheduler; ari: FakeAri } {
  const ari = new FakeAri();
  const sched = testScheduler(db, ari, log, { owner, leaseMs: LEASE_MS });
  running.push(sched);
  sched.start();
  ari.emit('connected');
  return { sched, ari };
}

/** Daemon A on one connection, a second connection for B, and A ringing a1 for lead1's USERONLY callback. */
async function agentRungByA() {
  const dbA = await importedEngine(DIALER_CENTER, Date.now());
  const dbB = await secondConnection(dbA);
  const a = daemon(dbA, 'daemon-a');
  const id = await store.insertCallback(dbA, { leadId: 'lead1', campaignId: 'C', type: 'USERONLY', ownerAgentId: 'a1', dueAt: Date.now(), dueZone: 'UTC', maxAttempts: 3, notes: null }, Date.now());
  a.sched.nudge();
  await until('the agent leg', () => a.ari.originates.length === 1);
  return { dbA, dbB, a, id };
}

describe('takeover between two daemons on one database', () => {
  it("leaves a live peer's call alone, and adopts it once the peer stopped renewing its lease: the customer leg is pointed at this daemon, answers that same instant, and is bridged, one attempt", async () => {
    const { dbA, dbB, a, id } = await agentRungByA();
    const attempt = (await store.attemptsOf(dbA, id))[0]!;
    a.ari.event({ type: 'StasisStart', channel: { id: attempt.agentChannelId, name: 'PJSIP/agent1001-1', state: 'Up' } });
    await until('the customer leg', () => a.ari.originates.length === 2);

    // In Asterisk (one server, both daemons see it): the agent waits in Stasis, the customer rings.
    const b = daemon(dbB, 'daemon-b');
    b.ari.channels.set(attempt.agentChannelId, { id: attempt.agentChannelId, name: 'PJSIP/agent1001-1', state: 'Up', dialplan: { context: 'callbackd-hold', exten: 'leg', priority: 3, app_name: 'Stasis' } });
    b.ari.channels.set(attempt.customerChannelId, { id: attempt.customerChannelId, name: 'PJSIP/carrier-1', state: 'Ringing', dialplan: { context: 'callbackd-hold', exten: 'leg', priority: 1 } });
    // The customer answers the instant B points the leg at itself: the hold dialplan enters B's application
    // before B's recovery has even finished adopting (the StasisStart must still reach the call's session).
    const claimed = vi.spyOn(b.ari, 'claimLeg').mockImplementation(async (ch: string) => {
      if (ch === attempt.customerChannelId) b.ari.event({ type: 'StasisStart', channel: { id: ch, name: 'PJSIP/carrier-1', state: 'Up' } });
    });
    await pass(2 * LEASE_MS); // two sweeps while A renews
    expect((await store.getCallback(dbB, id))!.leaseOwner).toBe('daemon-a');
    expect(claimed).not.toHaveBeenCalled();

    // A stops renewing (as a daemon killed or cut off): its lease lapses and B's sweep adopts the call.
    await running.splice(0, 1)[0]!.stop(0);
    await until('bridged', async () => (await store.getCallback(dbB, id))!.state === 'COMPLETED', 5000);
    expect(claimed.mock.calls.map((c) => c[0])).toEqual([attempt.customerChannelId]); // not the leg already in Stasis
    expect(b.ari.originates).toHaveLength(0); // adopted, never dialed again
    const attempts = await store.attemptsOf(dbB, id);
    expect(attempts.map((x) => x.outcome)).toEqual(['ANSWERED']);
    expect((await store.getCallback(dbB, id))!.attempts).toBe(1);
  }, 20_000);

  it('a peer that died with only a bridged call leaves no DIALING row: the survivor still finds the call over and frees its agent (the cluster-wide agent lock)', async () => {
    const { dbA, dbB, a, id } = await agentRungByA();
    // B starts now: its own start-up recovery (which settles answered calls too) is past when A's call
    // is bridged, so only B's takeover sweeps can find that call over.
    const b = daemon(dbB, 'daemon-b'); // its Asterisk never shows it A's channels: they are gone by the time it looks
    // B's start-up recovery runs on its connect; on a loaded machine it came after the bridge below and
    // closed A's call itself (endedAt set before A stopped). A sweep's time lets it finish first.
    await pass(LEASE_MS);
    const attempt = (await store.attemptsOf(dbA, id))[0]!;
    a.ari.event({ type: 'StasisStart', channel: { id: attempt.agentChannelId, name: 'PJSIP/agent1001-1', state: 'Up' } });
    await until('the customer leg', () => a.ari.originates.length === 2);
    a.ari.event({ type: 'StasisStart', channel: { id: attempt.customerChannelId, name: 'PJSIP/carrier-1', state: 'Up' } });
    await until('bridged', async () => (await store.getCallback(dbA, id))!.state === 'COMPLETED', 5000);
    // A stops mid-call as a dead daemon would (it writes nothing more); the two hang up while nobody listens.
    await running.splice(0, 1)[0]!.stop(0);
    expect((await store.attemptsOf(dbA, id))[0]!.endedAt).toBeNull();
    const second = await store.insertCallback(dbB, { leadId: 'lead2', campaignId: 'CF', type: 'USERONLY', ownerAgentId: 'a1', dueAt: Date.now(), dueZone: 'UTC', maxAttempts: 3, notes: null }, Date.now());
    await until('the ended call closed by the survivor', async () => (await store.attemptsOf(dbB, id))[0]!.endedAt !== null, 6 * LEASE_MS);
    // a1 is free again: B rings them for the next callback.
    await until("a1 rung for the next callback", async () => (await store.attemptsOf(dbB, second)).length === 1, 5000);
  }, 30_000);
});
