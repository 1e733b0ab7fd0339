import { toE164 } from '../domain/phone-number.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import type { Conn } from '../store/conn.js';
import * as dir from '../store/directory.js';
import { leadByAnyNumber, writeLeadPhones } from '../store/lead-phones.js';
import type { LeadRow } from '../store/schema.js';

// Which lead a booking is for (API by phone, FastAGI request-callback): the one place a lead is
// found or created for a booking.

export type LeadForBooking =
  | { id: string }
  | {
      phone: string;
      campaignId: string;
      /** Where a new lead goes; it must be a list of the campaign. Default: the campaign's first list. */
      listId?: string | null;
      firstName?: string | null;
      /** Prefix of a new lead's id: 'api', 'agi'. */
      source: string;
    };

/**
 * An existing lead by id, or the campaign's lead with this number, else a new lead in the
 * campaign's list. A booking never moves a lead: a number known only in another campaign's list
 * becomes a new lead of this campaign. Call it inside the booking's transaction, so a refused
 * booking leaves no lead behind.
 */
export async function leadForBooking(db: Conn, spec: LeadForBooking, now: number): Promise<LeadRow> {
  if ('id' in spec) {
    const lead = await dir.getLead(db, spec.id);
    if (!lead) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no lead "${spec.id}"`);
    return lead;
  }
  const campaign = await dir.getCampaign(db, spec.campaignId);
  if (!campaign) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no campaign "${spec.campaignId}"`);
  const n = toE164(spec.phone, campaign.defaultRegion);
  if (!n.ok) throw new CallbackdError(ErrorCodes.INPUT_INVALID, `phone: ${n.error}`);
  // Any of a lead's numbers finds it (0017); book.ts then asks for that number first.
  const found = await leadByAnyNumber(db, campaign.id, n.e164);
  if (found) return found.lead;
  const listId = spec.listId ?? await dir.firstListOf(db, campaign.id);
  if (!listId) throw new CallbackdError(ErrorCodes.CONFLICT, `campaign ${campaign.id} has no list for new numbers`);
  if ((await dir.getList(db, listId))?.campaignId !== campaign.id) throw new CallbackdError(ErrorCodes.INPUT_INVALID, `list "${listId}" is not a list of campaign ${campaign.id}`);
  const lead = { id: await freeLeadId(db, `${spec.source}-${n.e164.slice(1)}`), listId, firstName: spec.firstName ?? null, lastName: null, phoneE164: n.e164, timeZone: null, updatedAt: now };
  await dir.insertLead(db, lead);
  await writeLeadPhones(db, lead.id, [{ e164: n.e164 }]);
  return lead;
}

/** `base`, or `base-2`, `base-3`…: the id may already name this number's lead in another campaign. */
async function freeLeadId(db: Conn, base: string): Promise<string> {
  let id = base;
  for (let i = 2; await dir.getLead(db, id); i++) id = `${base}-${i}`;
  return id;
}
