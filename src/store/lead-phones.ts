import { and, desc, eq, inArray, isNotNull, or, sql, type SQL } from 'drizzle-orm';
import type { LegacyConn } from './conn.js';
import { callAttempts, leadPhones, leads, lists, type LeadPhoneRow, type LeadRow } from './schema.js';

// A lead's numbers (sql/0017_lead_phones.sql). leads.phone_e164 is kept equal to position 1, so
// every older reader of "the lead's number" keeps working; writeLeadPhones is the one writer.

export type NewLeadPhone = Pick<LeadPhoneRow, 'e164'> & Partial<Pick<LeadPhoneRow, 'label' | 'dnc' | 'timeZone'>>;

/**
 * The lead's numbers in dial order. A lead written without any (before 0017, or by a writer that
 * only knows leads.phone_e164) reads as its one number at position 1.
 */
export function numbersOfLead(db: LegacyConn, lead: Pick<LeadRow, 'id' | 'phoneE164'>): LeadPhoneRow[] {
  const rows = db.select().from(leadPhones).where(eq(leadPhones.leadId, lead.id)).orderBy(leadPhones.position).all();
  return rows.length > 0 ? rows : [{ leadId: lead.id, position: 1, e164: lead.phoneE164, label: 'mobile', dnc: false, timeZone: null }];
}

/** Replaces the lead's numbers (positions 1..n in the given order) and keeps leads.phone_e164 = number 1. */
export function writeLeadPhones(db: LegacyConn, leadId: string, phones: readonly NewLeadPhone[]): void {
  if (phones.length === 0) throw new Error(`lead ${leadId}: a lead needs at least one number`);
  db.delete(leadPhones).where(eq(leadPhones.leadId, leadId)).run();
  db.insert(leadPhones)
    .values(phones.map((p, i) => ({ leadId, position: i + 1, e164: p.e164, label: p.label ?? 'mobile', dnc: p.dnc ?? false, timeZone: p.timeZone ?? null })))
    .run();
  db.update(leads).set({ phoneE164: phones[0]!.e164 }).where(eq(leads.id, leadId)).run();
}

/** "The lead has this number" for a WHERE on leads: any of its numbers (or the pre-0017 column). */
export function leadHasNumber(e164: string): SQL {
  return or(eq(leads.phoneE164, e164), inArray(leads.id, sql`(SELECT ${leadPhones.leadId} FROM ${leadPhones} WHERE ${leadPhones.e164} = ${e164})`))!;
}

/** A campaign's lead with this number at any position (oldest id first), and that position. */
export function leadByAnyNumber(db: LegacyConn, campaignId: string, e164: string): { lead: LeadRow; position: number } | undefined {
  const lead = db
    .select({ lead: leads })
    .from(leads)
    .innerJoin(lists, eq(lists.id, leads.listId))
    .where(and(eq(lists.campaignId, campaignId), leadHasNumber(e164)))
    .orderBy(leads.id)
    .get()?.lead;
  if (!lead) return undefined;
  const position = numbersOfLead(db, lead).find((p) => p.e164 === e164)?.position ?? 1;
  return { lead, position };
}

/** The callback's latest attempt: which number it dialed and how it ended (what alt-dial moves on from). */
export function lastAttemptNumber(db: LegacyConn, callbackId: number): { position: number | null; outcome: string | null } | null {
  const r = db
    .select({ position: callAttempts.phonePosition, outcome: callAttempts.outcome })
    .from(callAttempts)
    .where(and(eq(callAttempts.callbackId, callbackId), isNotNull(callAttempts.endedAt)))
    .orderBy(desc(callAttempts.seq))
    .get();
  return r ?? null;
}
