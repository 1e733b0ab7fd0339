import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Scheduler } from '../../../src/scheduler/scheduler.js';
import * as store from '../../../src/store/callbacks.js';
import type { TestEngine } from '../engine.js';
import { FakeAri, until } from '../fakes.js';
import { DIALER_CENTER, runningSchedulerEachTest } from '../fixture.js';

// Customer-first: the customer leg ends (busy, rejected) before any agent was rung. The attempt
// must end and the session close at once: an open session keeps its agent reserved and its
// callback out of the scheduler's reach until the stuck timer (ring times + 30 s) fires.

let db: TestEngine;
let ari: FakeAri;
let sched: Scheduler;
const log = pino({ level: process.env.TEST_LOG ?? 'silent' });

runningSchedulerEachTest(DIALER_CENTER, () => new FakeAri(), (t) => ({ db, ari, sched } = t), log);

describe('customer-first: the customer leg ends before an agent is rung', () => {
  for (const [what, cause, sip, outcome] of [
    ['busy', 17, 486, 'BUSY'],
    ['rejected', 21, 603, 'REJECTED'],
  ] as const) {
    it(`${what}: the attempt ends ${outcome}, the session closes and the agent is free for the next call at once`, async () => {
      const id = await store.insertCallback(db, { leadId: 'lead2', campaignId: 'CF', type: 'ANYONE', ownerAgentId: null, dueAt: Date.now(), dueZone: 'UTC', maxAttempts: 3, notes: null }, Date.now());
      sched.nudge();
      await until('the customer leg', () => ari.originates.length === 1);
      const a = (await store.attemptsOf(db, id))[0]!;
      expect(ari.originates[0]!.channelId).toBe(a.customerChannelId);
      expect(sched.busyAgents().has('a1')).toBe(true);
      // Another callback for the same (only) agent waits behind this call.
      const next = await store.insertCallback(db, { leadId: 'lead1', campaignId: 'C', type: 'USERONLY', ownerAgentId: 'a1', dueAt: Date.now(), dueZone: 'UTC', maxAttempts: 3, notes: null }, Date.now());
      sched.nudge();
      ari.event({ type: 'ChannelDestroyed', channel: { id: a.customerChannelId, name: 'PJSIP/carrier-1', state: 'Down' }, cause, tech_cause: sip });
      await until('the attempt to end', async () => (await store.attemptsOf(db, id))[0]!.outcome !== null);
      expect((await store.attemptsOf(db, id))[0]!.outcome).toBe(outcome);
      const cb = (await store.getCallback(db, id))!;
      expect(cb.state).not.toBe('DIALING');
      expect(cb.attempts).toBe(1);
      // The session is over: its (only) agent is no longer reserved, so the next callback is dialed
      // (its agent leg) at once. Before the fix this waited for the stuck timer, minutes later.
      await until('the next callback to be dialed', () => ari.originates.length === 2, 3000);
      expect(ari.originates[1]!.channelId).toBe((await store.attemptsOf(db, next))[0]!.agentChannelId);
    });
  }
});
