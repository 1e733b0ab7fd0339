import { and, desc, eq, inArray, isNotNull, or, sql, type SQL } from 'drizzle-orm';
import type { Conn, Tables } from './conn.js';
import { inChunks } from './directory.js';
import { first, op } from './engine.js';
import type { LeadPhoneRow, LeadRow } from './schema.js';

// A lead's numbers (sql/0017_lead_phones.sql). leads.phone_e164 is kept equal to position 1, so
// every older reader of "the lead's number" keeps working; writeLeadPhones is the one writer.

export type NewLeadPhone = Pick<LeadPhoneRow, 'e164'> & Partial<Pick<LeadPhoneRow, 'label' | 'dnc' | 'timeZone'>>;

/**
 * The lead's numbers in dial order. A lead written without any (before 0017, or by a writer that
 * only knows leads.phone_e164) reads as its one number at position 1.
 */
export const numbersOfLead = op('numbersOfLead', async (c: Conn, lead: Pick<LeadRow, 'id' | 'phoneE164'>): Promise<LeadPhoneRow[]> => {
  const lp = c.t.leadPhones;
  return orOwnNumber(lead, await c.q.select().from(lp).where(eq(lp.leadId, lead.id)).orderBy(lp.position));
});

const orOwnNumber = (lead: Pick<LeadRow, 'id' | 'phoneE164'>, rows: LeadPhoneRow[]): LeadPhoneRow[] =>
  rows.length > 0 ? rows : [{ leadId: lead.id, position: 1, e164: lead.phoneE164, label: 'mobile', dnc: false, timeZone: null }];

/** numbersOfLead for many leads, a statement per few hundred (a scheduler pass reads its callbacks' leads at once). */
export const numbersOfLeads = op('numbersOfLeads', async (c: Conn, leads: readonly Pick<LeadRow, 'id' | 'phoneE164'>[]): Promise<Map<string, LeadPhoneRow[]>> => {
  const lp = c.t.leadPhones;
  const byLead = new Map<string, LeadPhoneRow[]>(leads.map((l) => [l.id, []]));
  const rows = await inChunks(leads.map((l) => l.id), async (ids) => await c.q.select().from(lp).where(inArray(lp.leadId, ids)).orderBy(lp.leadId, lp.position));
  for (const r of rows) byLead.get(r.leadId)!.push(r);
  for (const l of leads) byLead.set(l.id, orOwnNumber(l, byLead.get(l.id)!));
  return byLead;
});

const phoneRows = (leadId: string, phones: readonly NewLeadPhone[]) =>
  phones.map((p, i) => ({ leadId, position: i + 1, e164: p.e164, label: p.label ?? 'mobile', dnc: p.dnc ?? false, timeZone: p.timeZone ?? null }));

/** Replaces the lead's numbers (positions 1..n in the given order) and keeps leads.phone_e164 = number 1. */
export const writeLeadPhones = op('writeLeadPhones', async (c: Conn, leadId: string, phones: readonly NewLeadPhone[]): Promise<void> => {
  if (phones.length === 0) throw new Error(`lead ${leadId}: a lead needs at least one number`);
  const { leadPhones, leads } = c.t;
  await c.q.delete(leadPhones).where(eq(leadPhones.leadId, leadId));
  await c.q.insert(leadPhones).values(phoneRows(leadId, phones));
  await c.q.update(leads).set({ phoneE164: phones[0]!.e164 }).where(eq(leads.id, leadId));
});

/** Leads per statement in writeLeadsPhones (up to 10 numbers × 6 columns each: below both engines' parameter limits). */
const LEADS_PER_CHUNK = 500;

/**
 * writeLeadPhones for many leads at once, a few statements per LEADS_PER_CHUNK leads (plan B9): for
 * leads whose row already says phone_e164 = their first number (the import's upsertLeads writes it so).
 */
export const writeLeadsPhones = op('writeLeadsPhones', async (c: Conn, phonesOf: ReadonlyMap<string, readonly NewLeadPhone[]>): Promise<void> => {
  const lp = c.t.leadPhones;
  const ids = [...phonesOf.keys()];
  for (let i = 0; i < ids.length; i += LEADS_PER_CHUNK) {
    const chunk = ids.slice(i, i + LEADS_PER_CHUNK);
    await c.q.delete(lp).where(inArray(lp.leadId, chunk));
    const rows = chunk.flatMap((id) => {
      const phones = phonesOf.get(id)!;
      if (phones.length === 0) throw new Error(`lead ${id}: a lead needs at least one number`);
      return phoneRows(id, phones);
    });
    await c.q.insert(lp).values(rows);
  }
});

/**
 * "The lead has this number" for a WHERE on leads: any of its numbers (or the pre-0017 column).
 * `t`: the connection's tables (`c.t`).
 */
export function leadHasNumber(e164: string, t: Pick<Tables, 'leads' | 'leadPhones'>): SQL {
  const { leads, leadPhones } = t;
  return or(eq(leads.phoneE164, e164), inArray(leads.id, sql`(SELECT ${leadPhones.leadId} FROM ${leadPhones} WHERE ${leadPhones.e164} = ${e164})`))!;
}

/** A campaign's lead with this number at any position (oldest id first), and that position. */
export const leadByAnyNumber = op('leadByAnyNumber', async (c: Conn, campaignId: string, e164: string): Promise<{ lead: LeadRow; position: number } | undefined> => {
  const { leads, lists } = c.t;
  const lead = first(
    await c.q
      .select({ lead: leads })
      .from(leads)
      .innerJoin(lists, eq(lists.id, leads.listId))
      .where(and(eq(lists.campaignId, campaignId), leadHasNumber(e164, c.t)))
      .orderBy(leads.id)
      .limit(1),
  )?.lead;
  if (!lead) return undefined;
  const position = (await numbersOfLead(c, lead)).find((p) => p.e164 === e164)?.position ?? 1;
  return { lead, position };
});

/** The callback's latest attempt: which number it dialed and how it ended (what alt-dial moves on from). */
export const lastAttemptNumber = op('lastAttemptNumber', async (c: Conn, callbackId: number): Promise<{ position: number | null; outcome: string | null } | null> => {
  const a = c.t.callAttempts;
  const r = first(
    await c.q
      .select({ position: a.phonePosition, outcome: a.outcome })
      .from(a)
      .where(and(eq(a.callbackId, callbackId), isNotNull(a.endedAt)))
      .orderBy(desc(a.seq))
      .limit(1),
  );
  return r ?? null;
});
