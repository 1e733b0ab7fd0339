import { earliestDialable, mayDialAt, type Calendar } from './windows.js';

// Which of a lead's numbers the next attempt dials (issue 17 item 1). Pure: the scheduler reads
// the numbers, their DNC status and the last attempt, asks here, and dials what this says; the
// callback view asks the same question to show "dialed next".
//
// The order is VICIdial's ALT order: the number the booking asked for (or position 1) first; with
// alt_dial on, a NO_ANSWER or BUSY moves the next attempt on to the following number, wrapping.
// Any other ending (the agent did not answer, congestion, an interrupted call) tries the same number
// again: it says nothing about whether the customer can be reached on it.

export const ALT_DIAL_OUTCOMES: ReadonlySet<string> = new Set(['NO_ANSWER', 'BUSY']);

export interface LeadNumber {
  position: number;
  e164: string;
  label: string;
  /** The number's own flag, or a DNC list that applies to this callback. */
  dnc: boolean;
  /** The zone its calling window is read in: the number's own, else the lead's. */
  zone: string;
}

export interface NumberQuestion {
  /** In dial order (ascending position). */
  numbers: readonly LeadNumber[];
  altDial: boolean;
  /** The position the booking asked for; null (or unknown) = the first number. */
  preferred: number | null;
  /** The previous attempt of this callback, if any: which number it dialed and how it ended. */
  last: { position: number | null; outcome: string | null } | null;
  now: number;
  /** Null: calling windows are not checked (a force-dial booking). */
  calendar: Calendar | null;
}

export type NumberChoice =
  /** Dial this number now; `skipped` says why earlier numbers in the order were passed over. */
  | { kind: 'dial'; number: LeadNumber; skipped: string[] }
  /** No allowed number is in its window now: `number` is the one whose window opens first (until null = none within a year). */
  | { kind: 'wait'; number: LeadNumber; until: number | null; skipped: string[] }
  /** Every number it may try is DNC'd (or the lead has none). */
  | { kind: 'none'; reason: string };

/** The order this attempt tries the numbers in: the one it starts from, then (alt-dial) the rest, wrapping. */
export function dialOrder(q: Pick<NumberQuestion, 'numbers' | 'altDial' | 'preferred' | 'last'>): LeadNumber[] {
  const n = q.numbers.length;
  if (n === 0) return [];
  const indexOf = (pos: number | null) => (pos === null ? -1 : q.numbers.findIndex((x) => x.position === pos));
  const first = Math.max(0, indexOf(q.preferred));
  // Without alt-dial every attempt dials the same number, whatever the last one did.
  if (!q.altDial) return [q.numbers[first]!];
  let start = first;
  const lastIdx = q.last ? indexOf(q.last.position) : -1;
  if (lastIdx >= 0) start = ALT_DIAL_OUTCOMES.has(q.last!.outcome ?? '') ? (lastIdx + 1) % n : lastIdx;
  return Array.from({ length: n }, (_, i) => q.numbers[(start + i) % n]!);
}

/** The one rule: never a DNC'd number, never one outside its window, the first in order that may be dialed. */
export function chooseNumber(q: NumberQuestion): NumberChoice {
  const order = dialOrder(q);
  if (order.length === 0) return { kind: 'none', reason: 'the lead has no number' };
  const skipped: string[] = [];
  const cal = q.calendar;
  for (const x of order) {
    if (x.dnc) skipped.push(`number ${x.position} (${x.e164}) is on the do-not-call list`);
    else if (cal === null || mayDialAt(q.now, x.zone, cal)) return { kind: 'dial', number: x, skipped };
    else skipped.push(`number ${x.position} (${x.e164}) is outside its calling hours in ${x.zone}`);
  }
  const allowed = order.filter((x) => !x.dnc);
  if (allowed.length === 0) {
    return {
      kind: 'none',
      reason: order.length === 1 ? `number ${order[0]!.e164} is on the do-not-call list` : `all ${order.length} numbers of the lead are on the do-not-call list`,
    };
  }
  // None in window: wait for the earliest opening; a tie goes to the number earlier in the order.
  let best: { number: LeadNumber; until: number | null } | null = null;
  for (const x of allowed) {
    const until = earliestDialable(q.now, x.zone, cal!);
    if (best === null || (until !== null && (best.until === null || until < best.until))) best = { number: x, until };
  }
  return { kind: 'wait', ...best!, skipped };
}
