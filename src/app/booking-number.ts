import { toE164 } from '../domain/phone-number.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import type { Conn } from '../store/conn.js';
import { numbersOfLead } from '../store/lead-phones.js';
import type { CampaignRow, LeadRow } from '../store/schema.js';

// Which of the lead's numbers a booking asks to be called on first (issue 17: "call me on my work
// number"): named by position (1, 2…) or by the number itself; a booking by phone asks for the number
// it was made with. Null: the lead's first number.

export async function askedPosition(db: Conn, lead: LeadRow, campaign: CampaignRow, asked: { number?: string | null; byPhone?: string | null }): Promise<number | null> {
  const numbers = await numbersOfLead(db, lead);
  const list = () => numbers.map((n) => `${n.position}: ${n.e164} (${n.label})`).join(', ');
  const typed = asked.number?.trim();
  if (typed) {
    // A position is one or two digits; no phone number is that short.
    if (/^\d{1,2}$/.test(typed)) {
      const pos = Number(typed);
      if (!numbers.some((n) => n.position === pos)) throw new CallbackdError(ErrorCodes.INPUT_INVALID, `number: lead ${lead.id} has no number ${pos} (its numbers: ${list()})`);
      return pos;
    }
    const found = byDigits(numbers, typed, campaign.defaultRegion);
    if (found === null) throw new CallbackdError(ErrorCodes.INPUT_INVALID, `number: "${typed}" is not one of lead ${lead.id}'s numbers (${list()})`);
    return found;
  }
  return asked.byPhone ? byDigits(numbers, asked.byPhone, campaign.defaultRegion) : null;
}

function byDigits(numbers: { position: number; e164: string }[], typed: string, region: string): number | null {
  const n = toE164(typed, region);
  return n.ok ? (numbers.find((x) => x.e164 === n.e164)?.position ?? null) : null;
}
