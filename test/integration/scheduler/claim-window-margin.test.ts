// Customer-first counts the customer attempt in its claim only when the calling window stays open a
// minute on (scheduler/dial-pass.ts COUNT_AT_CLAIM_MARGIN_MS): a claim 10 ms before the window closes
// whose transaction takes 60 ms reaches dialCustomer after the close: WINDOW_CLOSED, and not charged.
// Found in review.
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bookCallback } from '../../../src/app/book.js';
import * as store from '../../../src/store/callbacks.js';
import { cleanupEngines } from '../engine.js';
import { importedEngine, testScheduler } from '../fixture.js';
import { FakeAri, until } from '../fakes.js';

let clock = 0;
vi.mock('../../../src/store/callbacks.js', async (orig) => {
  const real = await orig<typeof import('../../../src/store/callbacks.js')>();
  return { ...real, claimBatch: async (...a: Parameters<typeof real.claimBatch>) => { const r = await real.claimBatch(...a); clock += 60; return r; } };
});
afterEach(async () => { await cleanupEngines(); });

describe('a customer-first claim just before the window closes', () => {
  it('is requeued WINDOW_CLOSED when the window closed before the customer leg, and not charged an attempt', async () => {
    const T0 = Date.parse('2026-11-23T14:30:00Z');
    const db = await importedEngine({
      trunks: [{ id: 'carrier' }], numbers: [{ number: '+15550100001', trunk: 'carrier' }], lists: [{ id: 'L', campaign: 'C' }],
      agents: [{ id: 'a1', name: 'A1', campaigns: ['C'] }], phones: [{ endpoint: 'agent1001', agent: 'a1' }],
      leads: [{ id: 'ny', list: 'L', phone: '+12125550101', time_zone: 'America/New_York' }],
      campaigns: [{ id: 'C', name: 'C', time_zone: 'America/New_York', outbound_number: '+15550100001', calling_windows: { 'mon-fri': '09:00-20:00' }, dial_order: 'customer_first' }],
    }, T0);
    clock = Date.parse('2026-11-24T00:59:59.990Z');
    const id = (await bookCallback(db, { leadId: 'ny', due: '+0s', actor: 'test' }, clock - 5000)).callback.id;
    const ari = new FakeAri();
    const sched = testScheduler(db, ari, pino({ level: 'silent' }), { owner: 't', now: () => clock, agentRetryDelayMs: 30_000 });
    sched.start(); ari.emit('connected'); sched.nudge();
    await until('settled', async () => (await store.attemptsOf(db, id))[0]?.outcome != null, 3000);
    const cb = (await store.getCallback(db, id))!;
    const at = (await store.attemptsOf(db, id))[0]!;
    await sched.stop(0);
    expect(at.outcome).toBe('WINDOW_CLOSED');
    expect(cb.attempts, 'not charged an attempt').toBe(0);
    expect(at.customerAttempt).toBeNull();
    expect(at.customerDialedAt).toBeNull();
    expect(ari.originates).toEqual([]); // customer-first: nothing dialed
  }, 10000);
});
