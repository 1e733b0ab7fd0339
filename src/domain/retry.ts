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
