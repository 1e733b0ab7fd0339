import { chooseNumber, type LeadNumber, type NumberChoice } from '../domain/alt-dial.js';
import { dncApplies } from '../domain/eligibility.js';
import type { Conn } from '../store/conn.js';
import * as dir from '../store/directory.js';
import { lastAttemptNumber, numbersOfLead } from '../store/lead-phones.js';
import type { CallbackRow, CampaignRow, LeadPhoneRow, LeadRow } from '../store/schema.js';
import { campaignCalendar, leadZone } from './calendar.js';

// Reads what the alt-dial rule needs about one callback and asks it (domain/alt-dial.ts): the
// scheduler's claim and the callback view call this, so both name the same number.

/** Where the rule's rows come from: the store, or a scheduler pass's reads (scheduler/pass-reads.ts). */
export interface NumberReads {
  numbersOfLead(lead: LeadRow): Promise<LeadPhoneRow[]>;
  isDnc(e164: string, campaignId: string): Promise<boolean>;
}

export const storeNumberReads = (db: Conn): NumberReads => ({
  numbersOfLead: async (lead) => await numbersOfLead(db, lead),
  isDnc: async (e164, campaignId) => await dir.isDnc(db, e164, campaignId),
});

/** The lead's numbers as the rule sees them: each DNC'd by its own flag or by a DNC list that applies. */
export async function leadNumbers(db: Conn, cb: Pick<CallbackRow, 'type' | 'campaignId'>, lead: LeadRow, campaign: CampaignRow, reads = storeNumberReads(db)): Promise<LeadNumber[]> {
  const lists = dncApplies(cb.type, campaign.dncFilterUseronly);
  const out: LeadNumber[] = [];
  for (const p of await reads.numbersOfLead(lead)) out.push({
    position: p.position,
    e164: p.e164,
    label: p.label,
    dnc: p.dnc || (lists && await reads.isDnc(p.e164, cb.campaignId)),
    zone: p.timeZone ?? leadZone(lead, campaign),
  });
  return out;
}

export async function chooseDialNumber(db: Conn, cb: CallbackRow, lead: LeadRow, campaign: CampaignRow, now: number, reads = storeNumberReads(db)): Promise<NumberChoice> {
  const altDial = campaign.altDial === 'on';
  return chooseNumber({
    numbers: await leadNumbers(db, cb, lead, campaign, reads),
    altDial,
    preferred: cb.phonePosition,
    // Only alt-dial moves on from the last attempt's number: without it, no read for it.
    last: altDial ? await lastAttemptNumber(db, cb.id) : null,
    now,
    calendar: cb.forceDial ? null : campaignCalendar(campaign),
  });
}
