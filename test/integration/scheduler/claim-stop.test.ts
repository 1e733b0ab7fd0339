// stop() while a batch is being claimed: the batch's calls start before stop() goes on, so they are
// waited for and handed back like every other call, never started after stop() returned
// (scheduler.ts stop, DialPassDeps.claiming). Found in review.
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as store from '../../../src/store/callbacks.js';
import { FakeAri, until } from '../fakes.js';
import { cleanupEngines } from '../engine.js';
import { callCenter, importedEngine, testScheduler } from '../fixture.js';

let inClaim = false;
vi.mock('../../../src/store/callbacks.js', async (orig) => {
  const real = await orig<typeof import('../../../src/store/callbacks.js')>();
  return {
    ...real,
    // A slow COMMIT (a busy PostgreSQL): 300 ms.
    claimBatch: async (...args: Parameters<typeof real.claimBatch>) => { inClaim = true; const r = await real.claimBatch(...args); await new Promise((x) => setTimeout(x, 300)); inClaim = false; return r; },
  };
});

afterEach(async () => { await cleanupEngines(); });

describe('stop() during a batch claim', () => {
  it('no call starts after stop() returned', async () => {
    const now = Date.now();
    const db = await importedEngine(callCenter({ campaigns: [{ id: 'CU', name: 'U', time_zone: 'UTC', outbound_number: '+15550100001' }], lists: [{ id: 'LU', campaign: 'CU' }],
      leads: [{ id: 'x1', list: 'LU', phone: '+15551230001' }], agents: [{ id: 'a9', name: 'A9', campaigns: ['CU'] }], phones: [{ endpoint: 'p9', agent: 'a9' }] }), now);
    const id = await store.insertCallback(db, { leadId: 'x1', campaignId: 'CU', type: 'ANYONE', ownerAgentId: null, dueAt: now - 1000, dueZone: 'UTC', maxAttempts: 3, notes: null }, now);
    const ari = new FakeAri();
    const sched = testScheduler(db, ari, pino({ level: 'silent' }));
    sched.start();
    ari.emit('connected');
    sched.nudge();
    await until('the claim in flight', () => inClaim, 3000);
    await sched.stop(0);
    const atStop = ari.originates.length;
    await new Promise((r) => setTimeout(r, 800));
    const cb = (await store.getCallback(db, id))!;
    expect(atStop).toBe(1); // started before stop() went on, then handed back
    expect(cb.leaseExpiresAt!).toBeLessThanOrEqual(Date.now());
    expect(ari.originates.length).toBe(atStop);
  }, 15000);
});
