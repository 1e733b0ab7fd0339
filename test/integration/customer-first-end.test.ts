import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { AriClient } from '../../src/asterisk/ari.js';
import type { Presence } from '../../src/asterisk/presence.js';
import { TrunkLimiter } from '../../src/dialer/trunk-limits.js';
import { applyImport, parseImport } from '../../src/import.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import * as store from '../../src/store/callbacks.js';
import { openDb, type Db } from '../../src/store/db.js';
import { FakeAri, FakePresence, until } from './fakes.js';

// Customer-first: the customer leg ends (busy, rejected) before any agent was rung. The attempt
// must end and the session close at once: an open session keeps its agent reserved and its
// callback out of the scheduler's reach until the stuck timer (ring times + 30 s) fires.

const FILE = {
  trunks: [{ id: 'carrier' }],
  numbers: [{ number: '+15550100001', trunk: 'carrier' }],
  campaigns: [
    { id: 'C', name: 'C', time_zone: 'UTC', outbound_number: '+15550100001' },
    { id: 'CF', name: 'Customer first', time_zone: 'UTC', outbound_number: '+15550100001', dial_order: 'customer_first' },
  ],
  lists: [{ id: 'L', campaign: 'C' }, { id: 'LF', campaign: 'CF' }],
  agents: [{ id: 'a1', name: 'A', campaigns: ['C', 'CF'] }],
  phones: [{ endpoint: 'agent1001', agent: 'a1' }],
  leads: [
    { id: 'lead1', list: 'L', phone: '+15551230001' },
    { id: 'lead2', list: 'LF', phone: '+15551230002' },
  ],
};

let db: Db;
let ari: FakeAri;
let sched: Scheduler;
const log = pino({ level: process.env.TEST_LOG ?? 'silent' });

beforeEach(() => {
  db = openDb(join(mkdtempSync(join(tmpdir(), 'cbd-cfend-')), 'db.sqlite'));
  applyImport(db, parseImport(YAML.stringify(FILE), 'fixture'), Date.now());
  ari = new FakeAri();
  sched = new Scheduler({
    db, ari: ari as unknown as AriClient, presence: new FakePresence() as unknown as Presence, limiter: new TrunkLimiter(), log, owner: 'test',
    leaseMs: 60_000, backstopPollMs: 60_000, externalWriteCheckMs: 50, agentRetryDelayMs: 60_000, confirm: { tries: 3, delayMs: 20 },
  });
  sched.start();
  ari.emit('connected');
});
afterEach(async () => {
  await sched.stop(0);
});

describe('customer-first: the customer leg ends before an agent is rung', () => {
  for (const [what, cause, sip, outcome] of [
    ['busy', 17, 486, 'BUSY'],
    ['rejected', 21, 603, 'REJECTED'],
  ] as const) {
    it(`${what}: the attempt ends ${outcome}, the session closes and the agent is free for the next call at once`, async () => {
      const id = store.insertCallback(db, { leadId: 'lead2', campaignId: 'CF', type: 'ANYONE', ownerAgentId: null, dueAt: Date.now(), dueZone: 'UTC', maxAttempts: 3, notes: null }, Date.now());
      sched.nudge();
      await until('the customer leg', () => ari.originates.length === 1);
      const a = store.attemptsOf(db, id)[0]!;
      expect(ari.originates[0]!.channelId).toBe(a.customerChannelId);
      expect(sched.busyAgents().has('a1')).toBe(true);
      // Another callback for the same (only) agent waits behind this call.
      const next = store.insertCallback(db, { leadId: 'lead1', campaignId: 'C', type: 'USERONLY', ownerAgentId: 'a1', dueAt: Date.now(), dueZone: 'UTC', maxAttempts: 3, notes: null }, Date.now());
      sched.nudge();
      ari.event({ type: 'ChannelDestroyed', channel: { id: a.customerChannelId, name: 'PJSIP/carrier-1', state: 'Down' }, cause, tech_cause: sip });
      await until('the attempt to end', () => store.attemptsOf(db, id)[0]!.outcome !== null);
      expect(store.attemptsOf(db, id)[0]!.outcome).toBe(outcome);
      const cb = store.getCallback(db, id)!;
      expect(cb.state).not.toBe('DIALING');
      expect(cb.attempts).toBe(1);
      // The session is over: its (only) agent is no longer reserved, so the next callback is dialed
      // (its agent leg) at once. Before the fix this waited for the stuck timer, minutes later.
      await until('the next callback to be dialed', () => ari.originates.length === 2, 3000);
      expect(ari.originates[1]!.channelId).toBe(store.attemptsOf(db, next)[0]!.agentChannelId);
    });
  }
});
