import { DateTime } from 'luxon';
import { earliestDialable, type Calendar } from './windows.js';
import { isPermanentFailure, type CustomerOutcome } from './outcome.js';

export interface RetryPolicy {
  maxAttempts: number;
  busySec: number;
  noAnswerSec: number;
  congestionSec: number;
  maxDelaySec: number;
}

/**
 * The one backoff function: base delay doubled per earlier retry of the same kind, capped, then
 * jittered by up to ±20% so a burst of busy callbacks does not come back as a burst.
 * `random` is injected so tests are deterministic.
 */
export function backoffMs(baseSec: number, retryIndex: number, capSec: number, random: () => number): number {
  const exp = baseSec * 2 ** Math.max(0, retryIndex);
  const capped = Math.min(exp, capSec);
  const jitter = 1 + (random() * 0.4 - 0.2);
  return Math.max(0, Math.round(capped * jitter * 1000));
}

export type AttemptPlan =
  | { kind: 'completed' }
  | { kind: 'reschedule'; dueAt: number; reason: string }
  | { kind: 'retry'; nextAttemptAt: number; reason: string }
  | { kind: 'final'; state: 'BUSY' | 'NO_ANSWER' | 'FAILED'; reason: string };

/**
 * What happens to a callback after its customer leg ended with `outcome`.
 * `attempts` already counts the attempt that just ended.
 */
export function planAfterCustomerOutcome(
  outcome: CustomerOutcome,
  attempts: number,
  policy: RetryPolicy,
  now: number,
  random: () => number,
): AttemptPlan {
  if (outcome === 'ANSWERED') return { kind: 'completed' };
  if (isPermanentFailure(outcome)) {
    return { kind: 'final', state: 'FAILED', reason: `carrier refused the number (${outcome.toLowerCase()}); not retried` };
  }
  if (attempts >= policy.maxAttempts) {
    const state = outcome === 'BUSY' ? 'BUSY' : outcome === 'NO_ANSWER' ? 'NO_ANSWER' : 'FAILED';
    return { kind: 'final', state, reason: `${outcome.toLowerCase()} on attempt ${attempts} of ${policy.maxAttempts}` };
  }
  const base =
    outcome === 'BUSY' ? policy.busySec : outcome === 'NO_ANSWER' ? policy.noAnswerSec : policy.congestionSec;
  const delay = backoffMs(base, attempts - 1, policy.maxDelaySec, random);
  return {
    kind: 'retry',
    nextAttemptAt: now + delay,
    reason: `${outcome.toLowerCase()} on attempt ${attempts} of ${policy.maxAttempts}; retry in ${Math.round(delay / 1000)} s`,
  };
}

/**
 * Per-lead cap on customer legs in any 24 hours: null when one more call is allowed now, else
 * the instant the oldest counted call leaves the 24-hour window.
 */
export function dailyCapUntil(dialedAt: readonly number[], cap: number, now: number): number | null {
  if (cap <= 0) return null;
  const recent = dialedAt.filter((t) => t > now - 86_400_000).sort((a, b) => a - b);
  if (recent.length < cap) return null;
  return recent[recent.length - cap]! + 86_400_000;
}

/**
 * Auto-reschedule of an exhausted ANYONE callback: the same local wall time one day or one week
 * after its due time (luxon's calendar arithmetic keeps the wall time across DST), stepped on until
 * it is in the future. The caller moves it into the calling window.
 */
export function autoRescheduleAt(dueAt: number, zone: string, mode: 'NEXT_DAY' | 'NEXT_WEEK', now: number): number {
  const step = mode === 'NEXT_DAY' ? { days: 1 } : { weeks: 1 };
  let t = DateTime.fromMillis(dueAt, { zone }).plus(step);
  while (t.toMillis() <= now) t = t.plus(step);
  return t.toMillis();
}

export interface AutoReschedule {
  mode: 'OFF' | 'NEXT_DAY' | 'NEXT_WEEK';
  type: 'USERONLY' | 'ANYONE';
  dueAt: number;
  zone: string;
  calendar: Calendar;
}

/**
 * An ANYONE callback that ran out of attempts on busy / no answer comes back as a new promise when
 * the campaign says so (auto_reschedule); permanent failures and USERONLY callbacks stay final.
 */
export function withAutoReschedule(plan: AttemptPlan, a: AutoReschedule, now: number): AttemptPlan {
  if (plan.kind !== 'final' || plan.state === 'FAILED' || a.mode === 'OFF' || a.type !== 'ANYONE') return plan;
  const at = earliestDialable(autoRescheduleAt(a.dueAt, a.zone, a.mode, now), a.zone, a.calendar);
  if (at === null) return plan;
  const when = DateTime.fromMillis(at, { zone: a.zone }).toFormat('ccc yyyy-LL-dd HH:mm');
  return { kind: 'reschedule', dueAt: at, reason: `${plan.reason}; rescheduled to ${when} ${a.zone} (auto_reschedule ${a.mode.toLowerCase()})` };
}

/** A LIVE callback's next try, when the attempt ended before the customer could be counted. */
export interface Requeue {
  nextAttemptAt: number;
  waitReason: string;
}

/**
 * The agent's side failed (not rung, did not answer, the window closed before the customer leg):
 * the customer is not charged an attempt; try again after `agentRetryDelayMs`, or at `notBefore`.
 */
export function requeueAfterAgentFailure(reason: string, now: number, agentRetryDelayMs: number, notBefore?: number): Requeue {
  return { nextAttemptAt: notBefore ?? now + agentRetryDelayMs, waitReason: reason };
}

/** The attempt was cut (restart, lost connection) and nothing is known of its end: try again now. */
export function requeueAfterInterruption(reason: string | null, now: number): Requeue {
  return { nextAttemptAt: now, waitReason: reason ? `previous attempt interrupted: ${reason}` : 'previous attempt interrupted' };
}
