import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallbackdError, ErrorCodes } from '../../../src/errors.js';
import { Scheduler } from '../../../src/scheduler/scheduler.js';
import * as store from '../../../src/store/callbacks.js';
import type { Conn } from '../../../src/store/conn.js';
import type { Presence } from '../../../src/asterisk/presence.js';
import { registry } from '../../../src/metrics.js';
import { FakeAri, FakePresence, pass, until } from '../fakes.js';
import { cleanupEngines, secondConnection, type TestEngine } from '../engine.js';
import { commitElsewhere, DIALER_CENTER, importedEngine, testScheduler } from '../fixture.js';

// The scheduler and a call session against fakes of our own ARI and presence adapters; what
// Asterisk really does is proven in test/e2e. Here: the races those fakes can script exactly, on
// both engines (the `sqlite` and `pg` projects; test/integration/engine.ts).

let db: TestEngine;
let ari: FakeAri;
let sched: Scheduler | null;
const log = pino({ level: process.env.TEST_LOG ?? 'silent' });

beforeEach(async () => {
  db = await importedEngine(DIALER_CENTER, Date.now());
  ari = new FakeAri();
  sched = null;
});
afterEach(async () => {
  const stopped = sched?.stop(0);
  if (vi.isFakeTimers()) await vi.advanceTimersByTimeAsync(10); // stop's grace timer is on the fake clock
  await stopped;
  vi.useRealTimers();
  await cleanupEngines();
});

function startScheduler(logger = log): Scheduler {
  sched = testScheduler(db, ari, logger);
  sched.start();
  ari.emit('connected');
  return sched;
}

const addDue = async (d: Conn, inMs = 0) =>
  await store.insertCallback(d, { leadId: 'lead1', campaignId: 'C', type: 'USERONLY', ownerAgentId: 'a1', dueAt: Date.now() + inMs, dueZone: 'UTC', maxAttempts: 3, notes: null }, Date.now());
const attempt = async (id: number) => (await store.attemptsOf(db, id))[0]!;
/** Books a due callback and plays the agent answering: the customer leg has been originated. */
async function untilCustomerDialed(logger = log) {
  startScheduler(logger);
  const id = await addDue(db);
  sched!.nudge();
  await until('the agent leg', () => ari.originates.length === 1);
  const a = await attempt(id);
  ari.event({ type: 'StasisStart', channel: { id: a.agentChannelId, name: 'PJSIP/agent1001-1', state: 'Up' } });
  await until('the customer leg', () => ari.originates.length === 2);
  return { id, a };
}

describe('scheduler wake-ups', () => {
  it('a callback written by another process right after start is dialed on time, not at the backstop poll', async () => {
    startScheduler();
    await pass(10); // the first tick has run and found nothing
    const other = await secondConnection(db); // the CLI, or the benchmark (pg: another daemon's commit, heard by LISTEN)
    const id = await addDue(other, 100);
    await other.cleanup();
    await until('the agent leg to be originated', () => ari.originates.length === 1);
    expect(ari.originates[0]!.channelId).toBe((await attempt(id)).agentChannelId);
  });
});

describe('a claim refused', () => {
  it('a callback moved by another process between the read and the claim is not dialed; callbackd_claims_refused_total{reason="moved"} counts it', async () => {
    const refused = async () => (await registry.getSingleMetric('callbackd_claims_refused_total')!.get()).values.find((v) => v.labels.reason === 'moved')?.value ?? 0;
    const before = await refused();
    const id = await addDue(db);
    const presence = new FakePresence();
    let moved = false;
    presence.of = (endpoint) => {
      // Asked while the scheduler reads the callback's facts, after liveReady and before the claim.
      if (!moved) {
        moved = true;
        // The CLI rescheduling it, committed before the scheduler goes on.
        commitElsewhere(db, "UPDATE callbacks SET state = 'ACTIVE', due_at = ?, next_attempt_at = NULL WHERE id = ?", [Date.now() + 3_600_000, id]);
      }
      return FakePresence.prototype.of.call(presence, endpoint);
    };
    sched = testScheduler(db, ari, log, { presence: presence as unknown as Presence });
    sched.start();
    ari.emit('connected');
    await until('the claim to be refused', async () => (await refused()) === before + 1);
    expect(moved).toBe(true);
    await pass(50);
    expect(ari.originates).toHaveLength(0);
    expect(await store.attemptsOf(db, id)).toEqual([]);
    expect((await store.getCallback(db, id))!.state).toBe('ACTIVE');
  });
});

describe('an originate whose answer is lost', () => {
  const timeout = () => Promise.reject(new CallbackdError(ErrorCodes.ARI_TIMEOUT, 'ARI POST /channels/x got no answer within 3000 ms'));

  it('carries on with the channel when Asterisk has it: no requeue, no second ring', async () => {
    ari.onOriginate = (p) => {
      // Asterisk made the channel, but its answer never reached us.
      setTimeout(() => ari.channels.set(p.channelId, { id: p.channelId, name: 'PJSIP/agent1001-1', state: 'Ringing' }), 25);
      return timeout();
    };
    startScheduler();
    const id = await addDue(db);
    sched!.nudge();
    await until('the session to look the channel up', () => ari.channels.size === 1);
    await pass(100);
    const a = await attempt(id);
    expect((await store.getCallback(db, id))!.state).toBe('DIALING');
    expect(a.outcome).toBeNull();
    expect(ari.hangups).not.toContain(a.agentChannelId);
    // The agent answers that very channel: the customer is dialed next.
    ari.onOriginate = async () => {};
    ari.event({ type: 'StasisStart', channel: { id: a.agentChannelId, name: 'PJSIP/agent1001-1', state: 'Up' } });
    await until('the customer leg', () => ari.originates.length === 2);
    expect(ari.originates.map((o) => o.channelId)).toEqual([a.agentChannelId, a.customerChannelId]);
  });

  it('requeues when the channel never appears, and hangs up the channel if it shows up late', async () => {
    ari.onOriginate = timeout;
    startScheduler();
    const id = await addDue(db);
    sched!.nudge();
    await until('the attempt to settle', async () => (await store.attemptsOf(db, id))[0]?.outcome != null);
    expect((await store.getCallback(db, id))!.state).toBe('LIVE');
    const a = await attempt(id);
    expect(a.outcome).toBe('AGENT_UNAVAILABLE');
    expect((await store.getCallback(db, id))!.waitReason).toMatch(/never appeared/);
    expect(ari.hangups).toEqual([a.agentChannelId]); // the id is hung up in case it is still being made
    // Asterisk finally makes it: it must not ring on with nobody to bridge it.
    ari.event({ type: 'ChannelStateChange', channel: { id: a.agentChannelId, name: 'PJSIP/agent1001-1', state: 'Ringing' } });
    await until('the late channel to be hung up', () => ari.hangups.length === 2);
    expect(ari.hangups).toEqual([a.agentChannelId, a.agentChannelId]);
    expect(ari.originates).toHaveLength(1);
  });

  it('an answer from Asterisk (HTTP 500 "Allocation failed") is believed at once', async () => {
    const { AriHttpError } = await import('../../../src/asterisk/ari-rest.js');
    ari.onOriginate = () => Promise.reject(new AriHttpError(500, 'POST', '/channels/x', 'ARI POST /channels/x → HTTP 500: Allocation failed'));
    startScheduler();
    const id = await addDue(db);
    sched!.nudge();
    await until('the attempt to settle', async () => (await store.attemptsOf(db, id))[0]?.outcome != null);
    expect((await store.getCallback(db, id))!.state).toBe('LIVE');
    expect((await attempt(id)).outcome).toBe('AGENT_UNAVAILABLE');
    expect((await store.getCallback(db, id))!.waitReason).toMatch(/Allocation failed/);
    expect(ari.hangups).toEqual([]);
  });

  it('a late event for an answered attempt is left alone (a call bridged before a restart)', async () => {
    const { id, a } = await untilCustomerDialed();
    ari.event({ type: 'StasisStart', channel: { id: a.customerChannelId, name: 'PJSIP/carrier-1', state: 'Up' } });
    await until('bridged', async () => (await store.getCallback(db, id))!.state === 'COMPLETED');
    // Both legs end; the session is gone. An event still naming one of its channels (as after a
    // restart, with the call bridged in Asterisk) must not hang anything up.
    ari.event({ type: 'ChannelDestroyed', channel: { id: a.customerChannelId, name: 'PJSIP/carrier-1', state: 'Up' }, cause: 16 });
    ari.event({ type: 'ChannelDestroyed', channel: { id: a.agentChannelId, name: 'PJSIP/agent1001-1', state: 'Up' }, cause: 16 });
    await until('the session to end', () => sched!.busyAgents().size === 0);
    const before = ari.hangups.length;
    ari.event({ type: 'StasisStart', channel: { id: a.agentChannelId, name: 'PJSIP/agent1001-1', state: 'Up' } });
    await pass(50);
    expect(ari.hangups.length).toBe(before);
  });

  it('after a reconnect, a call whose legs vanished is settled even if Asterisk cannot answer at first (503 while starting)', async () => {
    vi.useFakeTimers(); // the session asks again after 1 s: on the fake clock that takes no real time
    const { id } = await untilCustomerDialed();
    let refusals = 2;
    ari.getChannel = async () => {
      if (refusals-- > 0) throw new CallbackdError(ErrorCodes.ARI_HTTP, 'ARI GET /channels/x → HTTP 503');
      return null; // both legs died with the old Asterisk
    };
    ari.emit('connected'); // the reconnect
    await until('the attempt to be settled', async () => (await attempt(id)).outcome !== null, 5000);
    expect((await attempt(id)).outcome).toBe('INTERRUPTED');
    // Requeued at once: a new attempt rings the agent again (the cut one was counted, not lost).
    await until('the next attempt', async () => (await store.attemptsOf(db, id)).length === 2);
    expect((await store.getCallback(db, id))!.attempts).toBe(1);
  });
});


describe('lease keeping', () => {
  it('renews the lease every third of it while the call rings, and hands it back expired at shutdown', async () => {
    vi.useFakeTimers();
    const { id } = await untilCustomerDialed();
    const first = (await store.getCallback(db, id))!.leaseExpiresAt!;
    await vi.advanceTimersByTimeAsync(20_001); // leaseMs 60 s: renewed at 20 s
    // The renewal's write is under way (on PostgreSQL it takes a round trip): a few fake ms more, not another 20 s.
    await until('the renewal', async () => (await store.getCallback(db, id))!.leaseExpiresAt! >= first + 20_000, 1000);
    const stopped = sched!.stop(0);
    await vi.advanceTimersByTimeAsync(10);
    await stopped;
    sched = null;
    const cb = (await store.getCallback(db, id))!;
    expect(cb.state).toBe('DIALING'); // the call may still be up: the next start adopts it
    expect(cb.leaseExpiresAt!).toBeLessThanOrEqual(Date.now());
    await vi.advanceTimersByTimeAsync(60_000);
    expect((await store.getCallback(db, id))!.leaseExpiresAt).toBe(cb.leaseExpiresAt); // no renewal after the hand-back
  });

  it('stops renewing once the attempt is written: a bridged call that goes on logs no "lease lost"', async () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    const { id, a } = await untilCustomerDialed(pino({ level: 'warn' }, { write: (l: string) => lines.push(l) }));
    ari.event({ type: 'StasisStart', channel: { id: a.customerChannelId, name: 'PJSIP/carrier-1', state: 'Up' } });
    await until('bridged', async () => (await store.getCallback(db, id))!.state === 'COMPLETED');
    await vi.advanceTimersByTimeAsync(60_000); // the call goes on for a minute
    expect(lines.filter((l) => /lease lost/.test(l))).toEqual([]);
  });
});

describe('adopting legs held while callbackd was away (dialplan/callbackd-hold.conf)', () => {
  const T = Math.floor(Date.now() / 1000) - 2; // when the customer answered, as the dialplan wrote it
  const inApp = { context: 'callbackd-hold', exten: 'leg', priority: 3, app_name: 'Stasis' };
  const held = { context: 'callbackd-hold', exten: 'leg', priority: 12, app_name: 'Wait' };
  /** Stops the first scheduler as a crash would leave things: the row DIALING, the lease expired. */
  async function crash() {
    await sched!.stop(0);
    sched = null;
    ari.removeAllListeners(); // the dead process hears nothing more
  }

  it('agent-first: the customer answered while we were away and is held; bridged once it is back in the app, with the real answer time', async () => {
    const { id, a } = await untilCustomerDialed();
    await crash();
    ari.channels.set(a.agentChannelId, { id: a.agentChannelId, name: 'PJSIP/agent1001-1', state: 'Up', dialplan: inApp });
    ari.channels.set(a.customerChannelId, { id: a.customerChannelId, name: 'PJSIP/carrier-1', state: 'Up', dialplan: held });
    ari.legRecords.set(a.customerChannelId, `answered:${T} held:${T}`);
    startScheduler();
    await until('the attempt to be adopted', async () => (await store.getCallback(db, id))!.leaseOwner === 'test' && (await attempt(id)).customerAnsweredAt !== null);
    expect((await store.getCallback(db, id))!.state).toBe('DIALING'); // waits for the held leg to enter the app
    expect((await attempt(id)).customerAnsweredAt).toBe(T * 1000);
    expect(ari.legRecords.size).toBe(0); // taken: read and deleted
    ari.event({ type: 'StasisStart', channel: { id: a.customerChannelId, name: 'PJSIP/carrier-1', state: 'Up' } });
    await until('bridged', async () => (await store.getCallback(db, id))!.state === 'COMPLETED');
    expect((await attempt(id)).outcome).toBe('ANSWERED');
    expect((await attempt(id)).customerAnsweredAt).toBe(T * 1000);
    expect(ari.hangups).toEqual([]);
    expect(ari.originates).toHaveLength(2); // nobody dialed twice
  });

  it('customer-first: the customer answered and no agent was rung yet; the agent is rung, then both are bridged', async () => {
    startScheduler();
    const id = await store.insertCallback(db, { leadId: 'lead2', campaignId: 'CF', type: 'ANYONE', ownerAgentId: null, dueAt: Date.now(), dueZone: 'UTC', maxAttempts: 3, notes: null }, Date.now());
    sched!.nudge();
    await until('the customer leg', () => ari.originates.length === 1);
    const a = await attempt(id);
    expect(ari.originates[0]!.channelId).toBe(a.customerChannelId);
    await crash();
    ari.channels.set(a.customerChannelId, { id: a.customerChannelId, name: 'PJSIP/carrier-1', state: 'Up', dialplan: held });
    ari.legRecords.set(a.customerChannelId, `answered:${T} held:${T}`);
    startScheduler();
    await until('the agent to be rung for the waiting customer', () => ari.originates.length === 2);
    expect(ari.originates[1]!.channelId).toBe(a.agentChannelId);
    ari.event({ type: 'StasisStart', channel: { id: a.customerChannelId, name: 'PJSIP/carrier-1', state: 'Up' } });
    ari.event({ type: 'StasisStart', channel: { id: a.agentChannelId, name: 'PJSIP/agent1001-1', state: 'Up' } });
    await until('bridged', async () => (await store.getCallback(db, id))!.state === 'COMPLETED');
    expect((await attempt(id)).outcome).toBe('ANSWERED');
    expect((await attempt(id)).customerAnsweredAt).toBe(T * 1000);
    expect((await store.getCallback(db, id))!.attempts).toBe(1);
  });

  it('the customer leg is gone and the dialplan says it heard the apology: APOLOGISED, retried per the policy', async () => {
    const { id, a } = await untilCustomerDialed();
    await crash();
    ari.legRecords.set(a.customerChannelId, `answered:${T} held:${T} apologised:${T + 20} ended:${T + 23}`);
    // The agent still waits in the app; its hangup's ChannelDestroyed comes back at once (seen on
    // the lab: it must find the attempt settled, not read it as "the agent left").
    ari.channels.set(a.agentChannelId, { id: a.agentChannelId, name: 'PJSIP/agent1001-1', state: 'Up', dialplan: inApp });
    ari.destroyOnHangup = true;
    startScheduler(); // the customer's channel is gone
    await until('the attempt to be settled', async () => (await attempt(id)).outcome !== null);
    const row = await attempt(id);
    expect(row.outcome).toBe('APOLOGISED');
    expect(row.customerAnsweredAt).toBe(T * 1000);
    expect(row.endedAt).toBe((T + 23) * 1000);
    const cb = (await store.getCallback(db, id))!;
    expect(cb.state).toBe('LIVE');
    expect(cb.attempts).toBe(1);
    expect(cb.waitReason).toMatch(/apologised on attempt 1 of 3; retry in/);
  });
});
