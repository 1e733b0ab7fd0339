import type { AttemptEnding } from './attempt-end.js';

// What the hold dialplan (dialplan/callbackd-hold.conf) wrote about a leg answered while callbackd
// was away: "answered:T held:T apologised:T ended:T", epoch seconds. Pure: parsed here, and turned
// into the truthful ending of an attempt whose customer leg ended while nobody was listening.

export interface LegRecord {
  answeredAt: number | null;
  heldAt: number | null;
  apologisedAt: number | null;
  endedAt: number | null;
}

export function parseLegRecord(text: string | null): LegRecord | null {
  if (!text) return null;
  const at = (k: string) => {
    const m = new RegExp(`(?:^|\\s)${k}:(\\d+)`).exec(text);
    return m ? Number(m[1]) * 1000 : null;
  };
  const r = { answeredAt: at('answered'), heldAt: at('held'), apologisedAt: at('apologised'), endedAt: at('ended') };
  return r.answeredAt === null && r.heldAt === null && r.apologisedAt === null && r.endedAt === null ? null : r;
}

/**
 * The end of an attempt whose customer leg is gone and was never bridged, from what the dialplan
 * recorded: answered and apologised to, answered and hung up while waiting, or (no record: it was
 * never answered, or the record was lost) unknown. Never "not answered" when the customer answered.
 */
export function endingWhileAway(customer: LegRecord | null, reasonIfUnknown: string): AttemptEnding {
  if (customer?.answeredAt == null) return { kind: 'interrupted', reason: reasonIfUnknown };
  const ended = customer.endedAt !== null ? { endedAt: customer.endedAt } : {};
  const held = customer.heldAt !== null ? ', held while callbackd was away' : '';
  if (customer.apologisedAt !== null) {
    return { kind: 'customer', outcome: 'APOLOGISED', cause: 41, sipCode: null, detail: `the customer answered${held}; nobody could take the call within the hold time, so the customer heard an apology`, answeredAt: customer.answeredAt, ...ended };
  }
  return { kind: 'customer', outcome: 'HUNG_UP_WAITING', cause: null, sipCode: null, detail: `the customer answered${held} and hung up before an agent was connected`, answeredAt: customer.answeredAt, ...ended };
}
