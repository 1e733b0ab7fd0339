import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideDial, type CandidateAgent, type DialContext, type PhonePresence } from '../../src/domain/eligibility.js';
import { classifyUnanswered, describeCause, isPermanentFailure } from '../../src/domain/outcome.js';
import { phoneBlockedReason, grantsAdmin, type PhoneStatus } from '../../src/domain/phone.js';
import { backoffMs, planAfterCustomerOutcome, type RetryPolicy } from '../../src/domain/retry.js';
import { parseDue } from '../../src/domain/due.js';
import { reconnectDelay } from '../../src/asterisk/backoff.js';

const STATUSES: PhoneStatus[] = ['ACTIVE', 'ADMIN', 'SUSPENDED', 'CLOSED', 'PENDING', 'DELETED'];

describe('phone gate', () => {
  it('only ACTIVE and ADMIN with Active Account on may ring', () => {
    for (const status of STATUSES) {
      for (const activeAccount of [true, false]) {
        const usable = phoneBlockedReason({ endpoint: 'p', activeAccount, status }) === null;
        expect(usable).toBe(activeAccount && (status === 'ACTIVE' || status === 'ADMIN'));
      }
    }
    expect(grantsAdmin({ endpoint: 'p', activeAccount: true, status: 'ADMIN' })).toBe(true);
    expect(grantsAdmin({ endpoint: 'p', activeAccount: true, status: 'ACTIVE' })).toBe(false);
  });
});

const up: PhonePresence = { registered: true, inUse: false, idleSince: 0 };
function ctx(over: Partial<DialContext> = {}): DialContext {
  const agents: CandidateAgent[] = [{ agentId: 'a1', onCampaign: true, phones: [{ endpoint: 'p1', activeAccount: true, status: 'ACTIVE' }] }];
  return {
    type: 'USERONLY',
    ownerAgentId: 'a1',
    customerNumber: '+15551230001',
    dncHit: false,
    outboundNumber: { e164: '+15550100001', outboundEnabled: true, trunkId: 't' },
    agents,
    presence: () => up,
    busyAgents: new Set(),
    ...over,
  };
}

describe('decideDial', () => {
  it('dials the owner phone with the campaign number and trunk', () => {
    expect(decideDial(ctx())).toEqual({ kind: 'dial', agentId: 'a1', endpoint: 'p1', callerId: '+15550100001', trunkId: 't' });
  });
  it('DNC fails before anything else, even with no agent available', () => {
    const d = decideDial(ctx({ dncHit: true, presence: () => undefined }));
    expect(d).toMatchObject({ kind: 'fail', outcome: 'DNC' });
  });
  it('a disabled or missing outbound number fails with the reason', () => {
    expect(decideDial(ctx({ outboundNumber: { e164: '+1555', outboundEnabled: false, trunkId: 't' } }))).toMatchObject({
      kind: 'fail',
      outcome: 'NO_OUTBOUND_NUMBER',
      reason: expect.stringMatching(/no outbound-enabled number: \+1555 has outbound disabled/),
    });
    expect(decideDial(ctx({ outboundNumber: null }))).toMatchObject({ kind: 'fail', outcome: 'NO_OUTBOUND_NUMBER' });
  });
  it('waits, with the reason, for an unregistered, in-use, blocked or busy owner', () => {
    expect(decideDial(ctx({ presence: () => undefined }))).toEqual({ kind: 'wait', reason: 'waiting for owner a1: phone p1 is not registered' });
    expect(decideDial(ctx({ presence: () => ({ ...up, inUse: true }) }))).toMatchObject({ kind: 'wait', reason: expect.stringMatching(/in use/) });
    expect(decideDial(ctx({ busyAgents: new Set(['a1']) }))).toMatchObject({ kind: 'wait', reason: expect.stringMatching(/another callback/) });
    const suspended = ctx({ agents: [{ agentId: 'a1', onCampaign: true, phones: [{ endpoint: 'p1', activeAccount: true, status: 'SUSPENDED' }] }] });
    expect(decideDial(suspended)).toMatchObject({ kind: 'wait', reason: expect.stringMatching(/status SUSPENDED/) });
  });
  it('ANYONE picks the longest-idle usable agent of the campaign', () => {
    const agents: CandidateAgent[] = [
      { agentId: 'a1', onCampaign: true, phones: [{ endpoint: 'p1', activeAccount: true, status: 'ACTIVE' }] },
      { agentId: 'a2', onCampaign: true, phones: [{ endpoint: 'p2', activeAccount: true, status: 'ACTIVE' }] },
      { agentId: 'a3', onCampaign: true, phones: [{ endpoint: 'p3', activeAccount: false, status: 'ACTIVE' }] },
    ];
    const idle: Record<string, number> = { p1: 500, p2: 100, p3: 0 };
    const d = decideDial(ctx({ type: 'ANYONE', ownerAgentId: null, agents, presence: (e) => ({ ...up, idleSince: idle[e]! }) }));
    expect(d).toMatchObject({ kind: 'dial', agentId: 'a2' });
  });
  it('property: never dials a blocked, unregistered or in-use phone', () => {
    const phoneArb = fc.record({ status: fc.constantFrom(...STATUSES), activeAccount: fc.boolean(), registered: fc.boolean(), inUse: fc.boolean(), idle: fc.nat() });
    fc.assert(
      fc.property(fc.array(phoneArb, { minLength: 1, maxLength: 6 }), fc.constantFrom<'USERONLY' | 'ANYONE'>('USERONLY', 'ANYONE'), (phones, type) => {
        const agents = phones.map((p, i) => ({ agentId: `a${i}`, onCampaign: true, phones: [{ endpoint: `p${i}`, activeAccount: p.activeAccount, status: p.status }] }));
        const pres = (e: string) => {
          const p = phones[Number(e.slice(1))]!;
          return { registered: p.registered, inUse: p.inUse, idleSince: p.idle };
        };
        const d = decideDial(ctx({ type, ownerAgentId: type === 'USERONLY' ? 'a0' : null, agents, presence: pres }));
        if (d.kind === 'dial') {
          const p = phones[Number(d.endpoint.slice(1))]!;
          expect(p.activeAccount && (p.status === 'ACTIVE' || p.status === 'ADMIN') && p.registered && !p.inUse).toBe(true);
          if (type === 'USERONLY') expect(d.agentId).toBe('a0');
        }
      }),
    );
  });
});

describe('hangup causes', () => {
  it('maps the Q.850 causes the issue names', () => {
    expect(classifyUnanswered(17, 486)).toBe('BUSY');
    expect(classifyUnanswered(18, null)).toBe('NO_ANSWER');
    expect(classifyUnanswered(19, null)).toBe('NO_ANSWER');
    expect(classifyUnanswered(21, 403)).toBe('REJECTED');
    expect(classifyUnanswered(1, 404)).toBe('UNALLOCATED');
    expect(classifyUnanswered(28, 484)).toBe('INVALID_NUMBER');
    expect(classifyUnanswered(34, 503)).toBe('CONGESTION');
    expect(classifyUnanswered(null, 503)).toBe('CONGESTION');
    expect(classifyUnanswered(null, null)).toBe('UNKNOWN');
    expect(isPermanentFailure('REJECTED')).toBe(true);
    expect(isPermanentFailure('CONGESTION')).toBe(false);
    expect(describeCause(17, 486)).toBe('Q.850 17 (user busy), SIP 486');
  });
});

const policy: RetryPolicy = { maxAttempts: 3, busySec: 60, noAnswerSec: 600, congestionSec: 30, maxDelaySec: 900 };
describe('retry plan', () => {
  it('answered completes; permanent failures end FAILED at once', () => {
    expect(planAfterCustomerOutcome('ANSWERED', 1, policy, 0, () => 0.5)).toEqual({ kind: 'completed' });
    expect(planAfterCustomerOutcome('REJECTED', 1, policy, 0, () => 0.5)).toMatchObject({ kind: 'final', state: 'FAILED' });
  });
  it('busy and no answer retry until max attempts, then end in their own state', () => {
    expect(planAfterCustomerOutcome('BUSY', 1, policy, 1000, () => 0.5)).toEqual({ kind: 'retry', nextAttemptAt: 61000, reason: expect.any(String) });
    expect(planAfterCustomerOutcome('BUSY', 3, policy, 0, () => 0.5)).toMatchObject({ kind: 'final', state: 'BUSY' });
    expect(planAfterCustomerOutcome('NO_ANSWER', 3, policy, 0, () => 0.5)).toMatchObject({ kind: 'final', state: 'NO_ANSWER' });
    expect(planAfterCustomerOutcome('CONGESTION', 3, policy, 0, () => 0.5)).toMatchObject({ kind: 'final', state: 'FAILED' });
  });
  it('property: backoff is within ±20% of the capped exponential and never negative', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3600 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 7200 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (base, i, cap, r) => {
        const d = backoffMs(base, i, cap, () => r);
        const target = Math.min(base * 2 ** i, cap) * 1000;
        expect(d).toBeGreaterThanOrEqual(Math.floor(target * 0.8) - 1);
        expect(d).toBeLessThanOrEqual(Math.ceil(target * 1.2) + 1);
      }),
    );
  });
  it('reconnect delay doubles and stays capped forever', () => {
    expect([1, 2, 3, 4, 5, 100, 10_000].map((n) => reconnectDelay(n, 500, 15000))).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000]);
  });
});

describe('parseDue', () => {
  const now = Date.parse('2026-11-22T12:00:00Z');
  it('relative, ISO with offset, and wall-clock in a zone', () => {
    expect(parseDue('+10m', 'UTC', now)).toEqual({ ok: true, dueAt: now + 600_000, zone: 'UTC' });
    expect(parseDue('2026-11-26T14:00:00-05:00', 'UTC', now)).toMatchObject({ ok: true, dueAt: Date.parse('2026-11-26T19:00:00Z') });
    expect(parseDue('2026-11-26T14:00', 'America/New_York', now)).toMatchObject({ ok: true, dueAt: Date.parse('2026-11-26T19:00:00Z') });
  });
  it('refuses the past, bad zones, gaps and overlaps with a clear message', () => {
    expect(parseDue('2026-11-01T10:00:00Z', 'UTC', now)).toMatchObject({ ok: false, error: expect.stringMatching(/in the past/) });
    expect(parseDue('+1m', 'Mars/Olympus', now)).toMatchObject({ ok: false, error: expect.stringMatching(/unknown time zone/) });
    expect(parseDue('2027-03-14T02:30', 'America/New_York', now)).toMatchObject({ ok: false, error: expect.stringMatching(/does not exist/) });
    expect(parseDue('2027-11-07T01:30', 'America/New_York', now)).toMatchObject({ ok: false, error: expect.stringMatching(/happens twice/) });
    expect(parseDue('tomorrow-ish', 'UTC', now)).toMatchObject({ ok: false, error: expect.stringMatching(/not a time/) });
  });
});

describe('the one phone rule and the DNC filter', async () => {
  const { phoneUnusable, dncApplies } = await import('../../src/domain/eligibility.js');
  const ph = { endpoint: 'p1', activeAccount: true, status: 'ACTIVE' as const };
  it('says why a phone may not be rung, in order: gate, registration, qualify, in use', () => {
    expect(phoneUnusable({ ...ph, status: 'SUSPENDED' }, { registered: true, inUse: false })).toEqual({ kind: 'blocked', reason: 'phone p1 has status SUSPENDED' });
    expect(phoneUnusable(ph, undefined)?.kind).toBe('unregistered');
    expect(phoneUnusable(ph, { registered: true, reachable: false, inUse: false })?.kind).toBe('unreachable');
    expect(phoneUnusable(ph, { registered: true, inUse: true })?.kind).toBe('inUse');
    expect(phoneUnusable({ ...ph, status: 'ADMIN' }, { registered: true, reachable: true, inUse: false })).toBeNull();
  });
  it('DNC applies to ANYONE always, to USERONLY by the campaign option', () => {
    expect([dncApplies('ANYONE', false), dncApplies('USERONLY', true), dncApplies('USERONLY', false)]).toEqual([true, true, false]);
  });
});
