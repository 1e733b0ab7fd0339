// Inbound callbacks keep their place in line (issue 17 item 4; README "Inbound callbacks keep their
// place"). A caller who leaves a queue for "call me back" is dialed in the order they arrived, not
// the order they pressed 1. Pure: the AGI route, the store's ORDER BY and admit() use these.

/** The order key of a callback in line: when the caller arrived, else when it is (next) due. */
export interface InLine {
  id: number;
  arrivedAt: number | null;
  dueAt: number;
  nextAttemptAt: number | null;
}

/** A caller's arrival may be ahead of our clock by this much (Asterisk's and ours drift a little). */
const CLOCK_SKEW_MS = 5_000;

/**
 * Where a callback stands in line: its caller's arrival, or (booked by anyone else) its due time.
 * The store's liveReady() orders by the same expression in SQL (store/queue-place.ts LINE_ORDER).
 */
export function linePlace(c: InLine): number {
  return c.arrivedAt ?? c.nextAttemptAt ?? c.dueAt;
}

/** Dial order of ready callbacks: place in line, then due time, then the lower id (booked first). */
export function compareInLine(a: InLine, b: InLine): number {
  return linePlace(a) - linePlace(b) || (a.nextAttemptAt ?? a.dueAt) - (b.nextAttemptAt ?? b.dueAt) || a.id - b.id;
}

export type ArrivalSource = 'dialplan' | 'channel' | 'booking';

/**
 * When the caller joined the line, in epoch ms. First choice: CALLBACKD_ARRIVED, which the admin's
 * dialplan sets to ${EPOCH} (seconds, fractions allowed) where the caller enters the queue, since
 * app_queue exposes no entry time of its own. Else the creation time of the caller's channel:
 * Asterisk names a channel's UNIQUEID "[systemname-]<epoch seconds>.<counter>" when it allocates
 * it. A value in the future (beyond a few seconds of drift) or older than `maxAgeMs` is not a
 * plausible arrival for a caller still on the line and is ignored. Else: now (the booking).
 */
export function arrivalOf(given: string | null | undefined, uniqueid: string | null | undefined, now: number, maxAgeMs: number): { at: number; source: ArrivalSource } {
  const plausible = (at: number) => at <= now + CLOCK_SKEW_MS && (maxAgeMs <= 0 || at >= now - maxAgeMs);
  const dialplan = /^\d{9,11}(\.\d{1,6})?$/.test(given ?? '') ? Math.round(Number(given) * 1000) : null;
  if (dialplan !== null && plausible(dialplan)) return { at: Math.min(dialplan, now), source: 'dialplan' };
  const m = /(?:^|-)(\d{9,11})\.\d+$/.exec(uniqueid ?? '');
  const channel = m ? Number(m[1]) * 1000 : null;
  if (channel !== null && plausible(channel)) return { at: Math.min(channel, now), source: 'channel' };
  return { at: now, source: 'booking' };
}

/** The oldest arrival a booking accepts: a day, or the campaign's expiry when that is longer. */
export function arrivalMaxAgeMs(expiryHours: number): number {
  return Math.max(24, expiryHours) * 3_600_000;
}

/**
 * Why an inbound callback has expired (campaign option inbound_callback_expiry_hours, VICIdial's
 * 96 h), or null while it may still be dialed. Only callbacks with an arrival (booked from a queue)
 * expire; 0 hours = never.
 */
export function inboundExpiry(arrivedAt: number | null | undefined, expiryHours: number | undefined, now: number): string | null {
  if (arrivedAt === null || arrivedAt === undefined || !expiryHours || expiryHours <= 0) return null;
  const end = arrivedAt + expiryHours * 3_600_000;
  if (now < end) return null;
  return `inbound callback expired: the caller joined the line at ${new Date(arrivedAt).toISOString()} and was not reached within ${expiryHours} h (campaign option inbound_callback_expiry_hours)`;
}

/**
 * The arrival of a caller's new request that replaces their open one: the earlier of the two, so
 * calling again never sends a caller to the back of the line. Null when neither has one.
 */
export function keptArrival(requested: number | null, replaced: number | null): number | null {
  if (requested === null || replaced === null) return requested;
  return Math.min(requested, replaced);
}
