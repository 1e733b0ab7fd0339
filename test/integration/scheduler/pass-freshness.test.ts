// A scheduler pass caches the directory and lead rows it decides with (scheduler/pass-reads.ts), and a
// pass over a burst lasts seconds. A do-not-call entry added during the pass must count within
// MAX_READS_AGE_MS (scheduler/dial-pass.ts), as when each callback read its own rows. Against fakes of
// our ARI and presence adapters, on both engines.
import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import type { Presence } from '../../../src/asterisk/presence.js';
import { MAX_READS_AGE_MS } from '../../../src/scheduler/dial-pass.js';
import type { Scheduler } from '../../../src/scheduler/scheduler.js';
import * as store from '../../../src/store/callbacks.js';
import { cleanupEngines } from '../engine.js';
import { FakeAri, FakePresence, until } from '../fakes.js';
import { commitElsewhere, DIALER_CENTER, importedEngine, testScheduler } from '../fixture.js';

const log = pino({ level: process.env.TEST_LOG ?? 'silent' });
let sched: Scheduler | null = null;
afterEach(async () => {
  await sched?.stop(0);
  sched = null;
  await cleanupEngines();
});

it('a do-not-call entry added while a pass runs counts for the callbacks decided more than MAX_READS_AGE_MS later in that pass', async () => {
  const t0 = Date.now();
  // A second agent, free for lead2's callback in the same pass: without a fresh read it would be dialed.
  const db = await importedEngine({ ...DIALER_CENTER, agents: [...DIALER_CENTER.agents!, { id: 'a2', name: 'B', campaigns: ['CF'] }], phones: [...DIALER_CENTER.phones!, { endpoint: 'agent1002', agent: 'a2' }] }, t0);
  // Two due in one pass: lead1's first (a1 rung), then lead2's (+15551230002), read ahead with it.
  const first = await store.insertCallback(db, { leadId: 'lead1', campaignId: 'C', type: 'USERONLY', ownerAgentId: 'a1', dueAt: t0 - 2000, dueZone: 'UTC', maxAttempts: 3, notes: null }, t0);
  const second = await store.insertCallback(db, { leadId: 'lead2', campaignId: 'CF', type: 'ANYONE', ownerAgentId: null, dueAt: t0 - 1000, dueZone: 'UTC', maxAttempts: 3, notes: null }, t0);
  let skew = 0;
  let added = false;
  const presence = new FakePresence();
  presence.of = (endpoint) => {
    // Asked while the first callback is decided: the manager puts lead2's number on the global DNC list
    // (another connection, committed now), and the pass goes on past the cache's age.
    if (!added) {
      added = true;
      commitElsewhere(db, "INSERT INTO dnc (phone_e164, campaign_id, created_at) VALUES ('+15551230002', '', ?)", [t0]);
      skew += MAX_READS_AGE_MS + 500;
    }
    return FakePresence.prototype.of.call(presence, endpoint);
  };
  const ari = new FakeAri();
  sched = testScheduler(db, ari, log, { presence: presence as unknown as Presence, now: () => Date.now() + skew });
  sched.start();
  ari.emit('connected');
  await until('the second callback decided', async () => (await store.getCallback(db, second))!.state === 'FAILED', 5000);
  expect(added).toBe(true);
  expect((await store.getCallback(db, second))!.failReason).toMatch(/DNC|do.not.call/i);
  // The first is claimed with its batch after the second was decided: wait for its originate.
  await until('the first callback dialed', () => ari.originates.length > 0, 5000);
  expect(ari.originates.map((o) => o.endpoint)).toEqual(['PJSIP/agent1001']); // the first only; lead2's number never dialed
  expect((await store.getCallback(db, first))!.state).toBe('DIALING');
});
