import { and, eq, inArray, or } from 'drizzle-orm';
import type { LegacyConn } from './conn.js';
import {
  agentCampaigns,
  agents,
  campaigns,
  dnc,
  leads,
  lists,
  numbers,
  phones,
  trunks,
  users,
  type AgentRow,
  type UserRow,
  type CampaignRow,
  type LeadRow,
  type ListRow,
  type NumberRow,
  type PhoneRow,
  type TrunkRow,
} from './schema.js';

type W = LegacyConn;

export const getCampaign = (db: W, id: string): CampaignRow | undefined =>
  db.select().from(campaigns).where(eq(campaigns.id, id)).get();
export const getLead = (db: W, id: string): LeadRow | undefined => db.select().from(leads).where(eq(leads.id, id)).get();
export const getList = (db: W, id: string): ListRow | undefined => db.select().from(lists).where(eq(lists.id, id)).get();
export const getAgent = (db: W, id: string): AgentRow | undefined => db.select().from(agents).where(eq(agents.id, id)).get();
export const getNumber = (db: W, e164: string): NumberRow | undefined =>
  db.select().from(numbers).where(eq(numbers.e164, e164)).get();
export const getTrunk = (db: W, id: string): TrunkRow | undefined => db.select().from(trunks).where(eq(trunks.id, id)).get();
export const allTrunks = (db: W): TrunkRow[] => db.select().from(trunks).all();
export const allPhones = (db: W): PhoneRow[] => db.select().from(phones).all();

export function campaignOfLead(db: W, leadId: string): string | undefined {
  return db
    .select({ c: lists.campaignId })
    .from(leads)
    .innerJoin(lists, eq(lists.id, leads.listId))
    .where(eq(leads.id, leadId))
    .get()?.c;
}

export function firstListOf(db: W, campaignId: string): string | undefined {
  return db.select({ id: lists.id }).from(lists).where(eq(lists.campaignId, campaignId)).orderBy(lists.id).get()?.id;
}

/** The agent owning a phone endpoint. */
export function agentOfPhone(db: W, endpoint: string): AgentRow | undefined {
  return db.select({ a: agents }).from(phones).innerJoin(agents, eq(agents.id, phones.agentId)).where(eq(phones.endpoint, endpoint)).get()?.a;
}

export function agentIdsOfCampaign(db: W, campaignId: string): string[] {
  return db.select({ a: agentCampaigns.agentId }).from(agentCampaigns).where(eq(agentCampaigns.campaignId, campaignId)).all().map((r) => r.a);
}

export function campaignsOfAgent(db: W, agentId: string): string[] {
  return db.select({ c: agentCampaigns.campaignId }).from(agentCampaigns).where(eq(agentCampaigns.agentId, agentId)).all().map((r) => r.c);
}

export function isAgentOnCampaign(db: W, agentId: string, campaignId: string): boolean {
  return !!db
    .select()
    .from(agentCampaigns)
    .where(and(eq(agentCampaigns.agentId, agentId), eq(agentCampaigns.campaignId, campaignId)))
    .get();
}

export function phonesOfAgents(db: W, agentIds: string[]): PhoneRow[] {
  if (agentIds.length === 0) return [];
  return db.select().from(phones).where(inArray(phones.agentId, agentIds)).all();
}

export function isDnc(db: W, phoneE164: string, campaignId: string): boolean {
  return !!db
    .select()
    .from(dnc)
    .where(and(eq(dnc.phoneE164, phoneE164), or(eq(dnc.campaignId, ''), eq(dnc.campaignId, campaignId))))
    .get();
}

// Upserts used by import: keyed by the admin's own ids, so re-importing a file changes nothing.
export const upsertTrunk = (db: W, r: typeof trunks.$inferInsert) =>
  db.insert(trunks).values(r).onConflictDoUpdate({ target: trunks.id, set: r }).run();
export const upsertNumber = (db: W, r: typeof numbers.$inferInsert) =>
  db.insert(numbers).values(r).onConflictDoUpdate({ target: numbers.e164, set: r }).run();
export const upsertCampaign = (db: W, r: typeof campaigns.$inferInsert) =>
  db.insert(campaigns).values(r).onConflictDoUpdate({ target: campaigns.id, set: r }).run();
export const upsertList = (db: W, r: typeof lists.$inferInsert) =>
  db.insert(lists).values(r).onConflictDoUpdate({ target: lists.id, set: r }).run();
export const upsertLead = (db: W, r: typeof leads.$inferInsert) =>
  db.insert(leads).values(r).onConflictDoUpdate({ target: leads.id, set: r }).run();
export const upsertAgent = (db: W, r: typeof agents.$inferInsert) =>
  db.insert(agents).values(r).onConflictDoUpdate({ target: agents.id, set: r }).run();
export const upsertPhone = (db: W, r: typeof phones.$inferInsert) =>
  db.insert(phones).values(r).onConflictDoUpdate({ target: phones.endpoint, set: r }).run();
export const upsertUser = (db: W, r: typeof users.$inferInsert) =>
  db.insert(users).values(r).onConflictDoUpdate({ target: users.id, set: r }).run();
/** A new lead; never replaces one (a booking must not move a lead to another list). */
export const insertLead = (db: W, r: typeof leads.$inferInsert) => db.insert(leads).values(r).run();
export const getUser = (db: W, id: string): UserRow | undefined => db.select().from(users).where(eq(users.id, id)).get();
export const addDnc = (db: W, r: typeof dnc.$inferInsert) => db.insert(dnc).values(r).onConflictDoNothing().run();

/** The AI voice agents among these, with their limits (sql/0021); humans are left out. */
export function aiLimitsOf(db: W, agentIds: string[]): Map<string, { maxCalls: number }> {
  if (agentIds.length === 0) return new Map();
  // AI agents are few: read them all rather than send a campaign's every agent id as parameters.
  const ids = new Set(agentIds);
  const rows = db.select({ id: agents.id, maxCalls: agents.maxCalls }).from(agents).where(eq(agents.kind, 'ai')).all();
  return new Map(rows.filter((r) => ids.has(r.id)).map((r) => [r.id, { maxCalls: r.maxCalls }]));
}

/** An agent's campaigns become exactly the listed ones. */
export function setAgentCampaigns(db: W, agentId: string, campaignIds: string[]): void {
  db.delete(agentCampaigns).where(eq(agentCampaigns.agentId, agentId)).run();
  for (const c of campaignIds) db.insert(agentCampaigns).values({ agentId, campaignId: c }).run();
}

export function exists(db: W, table: 'trunks' | 'numbers' | 'campaigns' | 'lists' | 'agents', id: string): boolean {
  switch (table) {
    case 'trunks':
      return !!getTrunk(db, id);
    case 'numbers':
      return !!getNumber(db, id);
    case 'campaigns':
      return !!getCampaign(db, id);
    case 'lists':
      return !!db.select().from(lists).where(eq(lists.id, id)).get();
    case 'agents':
      return !!getAgent(db, id);
  }
}
