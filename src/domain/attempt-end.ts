import type { CustomerOutcome } from './outcome.js';
import { planAfterCustomerOutcome, requeueAfterAgentFailure, requeueAfterInterruption, withAutoReschedule, type AutoReschedule, type RetryPolicy } from './retry.js';

// How an attempt ended, and what that means for its row and its callback. Pure: the dialer's
// recorder (src/dialer/recorder.ts) writes the result in one store call.

export type AttemptEnding =
  /** Both legs bridged: the promise is kept (the call's own end is recorded later). */
  | { kind: 'answered' }
  /** The customer leg ended unanswered; counted against the callback's attempts. */
  | { kind: 'customer'; outcome: CustomerOutcome; cause: number | null; sipCode: number | null; detail: string; answeredAt?: number; endedAt?: number }
  /** The agent's side failed, or the window closed first: not charged to the customer. */
  | { kind: 'requeue'; outcome: string; reason: string; cause: number | null; notBefore?: number }
  /** Cut (restart, lost connection) with nothing known of its end: tried again now. */
  | { kind: 'interrupted'; reason: string }
  /** The customer answered and chose at the prompt (domain/call-prompts.ts): call again later, or cancel. */
  | { kind: 'customerChoice'; choice: 'SNOOZE'; minutes: number }
  | { kind: 'customerChoice'; choice: 'CANCEL' };

/** What the callback becomes. */
export type Next =
  | { state: 'COMPLETED' }
  | { state: 'LIVE'; nextAttemptAt: number; waitReason: string | null }
  | { state: 'BUSY' | 'NO_ANSWER' | 'FAILED' | 'CANCELLED'; failReason: string }
  /**
   * Auto-reschedule, or the customer's snooze: a fresh promise at a new due time, attempts counted
   * from zero again. `action` names it in the audit (default auto-reschedule).
   */
  | { state: 'ACTIVE'; dueAt: number; note: string; action?: 'snooze' };

/** What the attempt row records. */
export interface AttemptResult {
  outcome: string;
  cause: number | null;
  sipCode: number | null;
  endedAt: number | null;
  detail: string | null;
  /** When the customer answered, if learnt only now (a leg answered while callbackd was away). */
  customerAnsweredAt?: number;
}

export interface EndPolicy {
  now: number;
  agentRetryDelayMs: number;
  /** Needed for a customer ending only. */
  customer?: {
    /** Customer attempts so far, counting the one that just ended. */
    attempts: number;
    retry: RetryPolicy;
    reschedule: AutoReschedule;
    random: () => number;
  };
}

export function planAttemptEnd(e: AttemptEnding, p: EndPolicy): { result: AttemptResult; next: Next } {
  const now = p.now;
  switch (e.kind) {
    case 'answered':
      return { result: { outcome: 'ANSWERED', cause: null, sipCode: null, endedAt: null, detail: null }, next: { state: 'COMPLETED' } };
    case 'customer': {
      const c = p.customer;
      if (!c) throw new Error('a customer ending needs the retry policy');
      const plan = withAutoReschedule(planAfterCustomerOutcome(e.outcome, c.attempts, c.retry, now, c.random), c.reschedule, now);
      const next: Next =
        plan.kind === 'completed'
          ? { state: 'COMPLETED' }
          : plan.kind === 'retry'
            ? { state: 'LIVE', nextAttemptAt: plan.nextAttemptAt, waitReason: plan.reason }
            : plan.kind === 'reschedule'
              ? { state: 'ACTIVE', dueAt: plan.dueAt, note: plan.reason }
              : { state: plan.state, failReason: `${plan.reason} (${e.detail})` };
      const result: AttemptResult = { outcome: e.outcome, cause: e.cause, sipCode: e.sipCode, endedAt: e.endedAt ?? now, detail: e.detail };
      if (e.answeredAt !== undefined) result.customerAnsweredAt = e.answeredAt;
      return { result, next };
    }
    case 'requeue':
      return {
        result: { outcome: e.outcome, cause: e.cause, sipCode: null, endedAt: now, detail: e.reason },
        next: { state: 'LIVE', ...requeueAfterAgentFailure(e.reason, now, p.agentRetryDelayMs, e.notBefore) },
      };
    case 'interrupted':
      return {
        result: { outcome: 'INTERRUPTED', cause: null, sipCode: null, endedAt: now, detail: e.reason },
        next: { state: 'LIVE', ...requeueAfterInterruption(e.reason, now) },
      };
    case 'customerChoice': {
      if (e.choice === 'CANCEL') {
        const reason = 'cancelled by the customer (pressed 3 at the choice prompt)';
        return { result: { outcome: 'CUSTOMER_CANCELLED', cause: null, sipCode: null, endedAt: now, detail: reason }, next: { state: 'CANCELLED', failReason: reason } };
      }
      const note = `the customer asked to be called again in ${e.minutes} min (pressed 2 at the choice prompt)`;
      return {
        result: { outcome: 'CUSTOMER_SNOOZED', cause: null, sipCode: null, endedAt: now, detail: note },
        next: { state: 'ACTIVE', dueAt: now + e.minutes * 60_000, note, action: 'snooze' },
      };
    }
  }
}
