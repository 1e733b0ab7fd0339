import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bookCallback } from '../../../src/app/book.js';
import type { Scheduler } from '../../../src/scheduler/scheduler.js';
import * as store from '../../../src/store/callbacks.js';
import { cleanupEngines, type TestEngine } from '../engine.js';
import { FakeAri, FakePresence, until } from '../fakes.js';
import { clockedScheduler, importedEngine, ONE_PASS_MS } from '../fixture.js';

// Inbound callbacks in the scheduler (fake ARI and presence, the clock a variable): the line order
// decides who gets the one free agent, and inbound_callback_expiry_hours ends a waiting one.

const T0 = Date.parse('2026-11-23T15:00:00Z');
const MIN = 60_000;
let db: TestEngine;
let ari: FakeAri;
let presence: FakePresence;
let sched: Scheduler | null = null;
let clock = T0;

beforeEach(async () => {
  clock = T0;
  ari = new FakeAri();
  presence = new FakePresence();
  db = await importedEngine({
    trunks: [{ id: 'carrier' }],
    numbers: [{ number: '+15550100001', trunk: 'carrier' }],
    campaigns: [{ id: 'C', name: 'C', time_zone: 'UTC', outbound_number: '+15550100001', inbound_callback_expiry_hours: 1 }],
    lists: [{ id: 'L', campaign: 'C' }],
    agents: [{ id: 'a1', name: 'A1', campaigns: ['C'] }],
    phones: [{ endpoint: 'agent1001', agent: 'a1' }],
    leads: [
      { id: 'b', list: 'L', phone: '+15552220002' },
      { id: 'a', list: 'L', phone: '+15552220001' },
      { id: 'plain', list: 'L', phone: '+15552220003' },
    ],
  }, T0);
});
afterEach(async () => {
  await sched?.stop(0);
  sched = null;
  await cleanupEngines();
});

function start(): void {
  sched = clockedScheduler(db, ari, presence, () => clock);
}
async function at(t: number) {
  clock = t;
  sched!.nudge();
  await new Promise((r) => setTimeout(r, ONE_PASS_MS));
}
const inbound = async (leadId: string, arrivedAt: number | null) =>
  (await bookCallback(db, { leadId, due: 'now', type: 'ANYONE', actor: 'agi', ...(arrivedAt === null ? {} : { arrivedAt }) }, clock)).callback.id;

describe('inbound callbacks in the scheduler', () => {
  it('the one free agent gets the earlier arrival, though it was booked last and is due last', async () => {
    const b = await inbound('b', T0 - 2 * MIN);
    clock += 1000;
    const plain = await inbound('plain', null); // due now (T0 + 1 s): stands behind both arrivals
    clock += 1000;
    const a = await inbound('a', T0 - 5 * MIN);
    start();
    await at(clock + 1000);
    await until('the agent leg', () => ari.originates.length === 1);
    expect((await store.getCallback(db, a))!.state).toBe('DIALING');
    expect((await store.getCallback(db, b))!.state).toBe('LIVE');
    expect((await store.getCallback(db, plain))!.state).toBe('LIVE');
  });

  it('a waiting inbound callback ends FAILED/EXPIRED after inbound_callback_expiry_hours; one without an arrival does not', async () => {
    presence.phones.set('agent1001', { registered: false, inUse: false, idleSince: 0 });
    const a = await inbound('a', T0 - 30 * MIN);
    const plain = await inbound('plain', null);
    start();
    await at(T0 + 1000);
    expect((await store.getCallback(db, a))!.state).toBe('LIVE'); // waiting for an agent
    await at(T0 + 30 * MIN - 1000);
    expect((await store.getCallback(db, a))!.state).toBe('LIVE');
    await at(T0 + 30 * MIN);
    await until('expired', async () => (await store.getCallback(db, a))!.state === 'FAILED');
    expect(await store.getCallback(db, a)).toMatchObject({
      lastOutcome: 'EXPIRED',
      failReason: 'inbound callback expired: the caller joined the line at 2026-11-23T14:30:00.000Z and was not reached within 1 h (campaign option inbound_callback_expiry_hours)',
    });
    expect((await store.getCallback(db, plain))!.state).toBe('LIVE');
    expect(ari.originates).toHaveLength(0);
  });
});
