// Wrong passwords are rate-limited per user and address: after `max` failures within `windowMs`
// the next try waits until the oldest of them leaves the window. Pure: the caller keeps the times.

export interface ThrottleRule {
  max: number;
  windowMs: number;
}

export const SIGN_IN_THROTTLE: ThrottleRule = { max: 5, windowMs: 15 * 60_000 };

/** Failures still inside the window, oldest first. */
export function recentFailures(failures: readonly number[], now: number, rule: ThrottleRule): number[] {
  return failures.filter((t) => t > now - rule.windowMs).sort((a, b) => a - b);
}

/** 0 when a try is allowed now, else the milliseconds to wait. */
export function signInWait(failures: readonly number[], now: number, rule: ThrottleRule = SIGN_IN_THROTTLE): number {
  const recent = recentFailures(failures, now, rule);
  if (recent.length < rule.max) return 0;
  return recent[recent.length - rule.max]! + rule.windowMs - now;
}
