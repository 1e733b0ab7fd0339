import { describe, expect, it } from 'vitest';
import { planAttemptEnd, type EndPolicy } from '../../src/domain/attempt-end.js';
import { Leg } from '../../src/dialer/leg.js';
import { ALWAYS } from '../../src/domain/windows.js';

const NOW = 1_800_000_000_000;
const policy = (attempts: number, mode: 'OFF' | 'NEXT_DAY' = 'OFF', type: 'USERONLY' | 'ANYONE' = 'ANYONE'): EndPolicy => ({
  now: NOW,
  agentRetryDelayMs: 30_000,
  customer: {
    attempts,
    retry: { maxAttempts: 3, busySec: 60, noAnswerSec: 120, congestionSec: 30, maxDelaySec: 3600 },
    reschedule: { mode, type, dueAt: NOW - 3_600_000, zone: 'UTC', calendar: ALWAYS },
    random: () => 0.5,
  },
});

describe('planAttemptEnd', () => {
  it('answered: the callback is completed; the call end comes later', () => {
    expect(planAttemptEnd({ kind: 'answered' }, policy(1))).toEqual({
      result: { outcome: 'ANSWERED', cause: null, sipCode: null, endedAt: null, detail: null },
      next: { state: 'COMPLETED' },
    });
  });

  it('a busy customer is retried with back-off, then final on the last attempt, or rescheduled when the campaign says so', () => {
    const e = { kind: 'customer' as const, outcome: 'BUSY' as const, cause: 17, sipCode: 486, detail: 'user busy' };
    const retry = planAttemptEnd(e, policy(1));
    expect(retry.next).toMatchObject({ state: 'LIVE', nextAttemptAt: NOW + 60_000 });
    expect(retry.result).toEqual({ outcome: 'BUSY', cause: 17, sipCode: 486, endedAt: NOW, detail: 'user busy' });
    expect(planAttemptEnd(e, policy(3)).next).toEqual({ state: 'BUSY', failReason: 'busy on attempt 3 of 3 (user busy)' });
    expect(planAttemptEnd(e, policy(3, 'NEXT_DAY')).next).toMatchObject({ state: 'ACTIVE', dueAt: NOW - 3_600_000 + 86_400_000 });
  });

  it('the agent side failing requeues without charging the customer; notBefore wins', () => {
    const e = { kind: 'requeue' as const, outcome: 'AGENT_NO_ANSWER', reason: 'agent did not answer', cause: 19 };
    expect(planAttemptEnd(e, { now: NOW, agentRetryDelayMs: 30_000 })).toEqual({
      result: { outcome: 'AGENT_NO_ANSWER', cause: 19, sipCode: null, endedAt: NOW, detail: 'agent did not answer' },
      next: { state: 'LIVE', nextAttemptAt: NOW + 30_000, waitReason: 'agent did not answer' },
    });
    expect(planAttemptEnd({ ...e, notBefore: NOW + 5 }, { now: NOW, agentRetryDelayMs: 30_000 }).next).toMatchObject({ nextAttemptAt: NOW + 5 });
  });

  it('an interruption is tried again at once; a customer ending without its policy is a bug, not a guess', () => {
    expect(planAttemptEnd({ kind: 'interrupted', reason: 'restart' }, { now: NOW, agentRetryDelayMs: 0 }).next).toEqual({
      state: 'LIVE',
      nextAttemptAt: NOW,
      waitReason: 'previous attempt interrupted: restart',
    });
    expect(() => planAttemptEnd({ kind: 'customer', outcome: 'NO_ANSWER', cause: 19, sipCode: null, detail: '' }, { now: NOW, agentRetryDelayMs: 0 })).toThrow();
  });
});

describe('Leg', () => {
  it('moves only forward, and reports gone exactly once', () => {
    let gone = 0;
    const leg = new Leg('c1', () => gone++);
    expect(leg.dialed).toBe(false);
    expect(leg.to('dialing')).toBe(true);
    expect(leg.to('up', 5)).toBe(true);
    expect(leg.to('dialing')).toBe(false); // a late event cannot move it back
    expect(leg.upAt).toBe(5);
    expect(leg.to('gone')).toBe(true);
    expect(leg.to('gone')).toBe(false);
    expect(gone).toBe(1);
    expect(leg.dialed).toBe(true);
  });
});
