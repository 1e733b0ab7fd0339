import { and, eq, inArray, or, sql } from 'drizzle-orm';
import type { Conn } from './conn.js';
import { first, op } from './engine.js';
import type { AgentRow, CampaignRow, LeadRow, ListRow, NumberRow, PhoneRow, TrunkRow, UserRow } from './schema.js';

// The directory (trunks, numbers, campaigns, lists, leads, agents, phones, users, DNC): one body for
// both engines, on `c.t`'s tables.

type T = Conn['t'];

export const getCampaign = op('getCampaign', async (c: Conn, id: string): Promise<CampaignRow | undefined> =>
  first(await c.q.select().from(c.t.campaigns).where(eq(c.t.campaigns.id, id)).limit(1)));
export const getLead = op('getLead', async (c: Conn, id: string): Promise<LeadRow | undefined> =>
  first(await c.q.select().from(c.t.leads).where(eq(c.t.leads.id, id)).limit(1)));
export const getList = op('getList', async (c: Conn, id: string): Promise<ListRow | undefined> =>
  first(await c.q.select().from(c.t.lists).where(eq(c.t.lists.id, id)).limit(1)));
export const getAgent = op('getAgent', async (c: Conn, id: string): Promise<AgentRow | undefined> =>
  first(await c.q.select().from(c.t.agents).where(eq(c.t.agents.id, id)).limit(1)));
export const getNumber = op('getNumber', async (c: Conn, e164: string): Promise<NumberRow | undefined> =>
  first(await c.q.select().from(c.t.numbers).where(eq(c.t.numbers.e164, e164)).limit(1)));
export const getTrunk = op('getTrunk', async (c: Conn, id: string): Promise<TrunkRow | undefined> =>
  first(await c.q.select().from(c.t.trunks).where(eq(c.t.trunks.id, id)).limit(1)));
export const allTrunks = op('allTrunks', async (c: Conn): Promise<TrunkRow[]> => await c.q.select().from(c.t.trunks).orderBy(c.t.trunks.id));
export const allPhones = op('allPhones', async (c: Conn): Promise<PhoneRow[]> => await c.q.select().from(c.t.phones).orderBy(c.t.phones.endpoint));

export const campaignOfLead = op('campaignOfLead', async (c: Conn, leadId: string): Promise<string | undefined> => {
  const { leads, lists } = c.t;
  return first(await c.q.select({ c: lists.campaignId }).from(leads).innerJoin(lists, eq(lists.id, leads.listId)).where(eq(leads.id, leadId)).limit(1))?.c;
});

export const firstListOf = op('firstListOf', async (c: Conn, campaignId: string): Promise<string | undefined> =>
  first(await c.q.select({ id: c.t.lists.id }).from(c.t.lists).where(eq(c.t.lists.campaignId, campaignId)).orderBy(c.t.lists.id).limit(1))?.id);

/** The agent owning a phone endpoint. */
export const agentOfPhone = op('agentOfPhone', async (c: Conn, endpoint: string): Promise<AgentRow | undefined> => {
  const { agents, phones } = c.t;
  return first(await c.q.select({ a: agents }).from(phones).innerJoin(agents, eq(agents.id, phones.agentId)).where(eq(phones.endpoint, endpoint)).limit(1))?.a;
});

export const agentIdsOfCampaign = op('agentIdsOfCampaign', async (c: Conn, campaignId: string): Promise<string[]> => {
  const ac = c.t.agentCampaigns;
  return (await c.q.select({ a: ac.agentId }).from(ac).where(eq(ac.campaignId, campaignId)).orderBy(ac.agentId)).map((r) => r.a);
});

export const campaignsOfAgent = op('campaignsOfAgent', async (c: Conn, agentId: string): Promise<string[]> => {
  const ac = c.t.agentCampaigns;
  return (await c.q.select({ c: ac.campaignId }).from(ac).where(eq(ac.agentId, agentId)).orderBy(ac.campaignId)).map((r) => r.c);
});

export const isAgentOnCampaign = op('isAgentOnCampaign', async (c: Conn, agentId: string, campaignId: string): Promise<boolean> => {
  const ac = c.t.agentCampaigns;
  return (await c.q.select({ a: ac.agentId }).from(ac).where(and(eq(ac.agentId, agentId), eq(ac.campaignId, campaignId))).limit(1)).length > 0;
});

export const phonesOfAgents = op('phonesOfAgents', async (c: Conn, agentIds: string[]): Promise<PhoneRow[]> => {
  if (agentIds.length === 0) return [];
  return await c.q.select().from(c.t.phones).where(inArray(c.t.phones.agentId, agentIds)).orderBy(c.t.phones.endpoint);
});

/** Rows per statement in the batch reads below (far below both engines' parameter limits). */
export const IDS_PER_STATEMENT = 500;

/** `read` per IDS_PER_STATEMENT distinct ids, the rows concatenated. */
export async function inChunks<R>(ids: readonly string[], read: (chunk: string[]) => Promise<R[]>): Promise<R[]> {
  const distinct = [...new Set(ids)];
  const out: R[] = [];
  for (let i = 0; i < distinct.length; i += IDS_PER_STATEMENT) out.push(...(await read(distinct.slice(i, i + IDS_PER_STATEMENT))));
  return out;
}

/** Many leads by id, in a few statements (a scheduler pass reads its callbacks' leads at once); missing ids are left out. */
export const leadsByIds = op('leadsByIds', async (c: Conn, ids: readonly string[]): Promise<LeadRow[]> =>
  await inChunks(ids, async (chunk) => await c.q.select().from(c.t.leads).where(inArray(c.t.leads.id, chunk)).orderBy(c.t.leads.id)));

/** Many agents by id, in a few statements; missing ids are left out. */
export const agentsByIds = op('agentsByIds', async (c: Conn, ids: readonly string[]): Promise<AgentRow[]> =>
  await inChunks(ids, async (chunk) => await c.q.select().from(c.t.agents).where(inArray(c.t.agents.id, chunk)).orderBy(c.t.agents.id)));

/** isDnc for many numbers of one campaign at once: the numbers a DNC list (global or the campaign's) holds. */
export const dncAmong = op('dncAmong', async (c: Conn, phones: readonly string[], campaignId: string): Promise<Set<string>> => {
  const d = c.t.dnc;
  const rows = await inChunks(phones, async (chunk) =>
    await c.q.select({ p: d.phoneE164 }).from(d).where(and(inArray(d.phoneE164, chunk), or(eq(d.campaignId, ''), eq(d.campaignId, campaignId)))));
  return new Set(rows.map((r) => r.p));
});

export const isDnc = op('isDnc', async (c: Conn, phoneE164: string, campaignId: string): Promise<boolean> => {
  const d = c.t.dnc;
  return (await c.q.select({ p: d.phoneE164 }).from(d).where(and(eq(d.phoneE164, phoneE164), or(eq(d.campaignId, ''), eq(d.campaignId, campaignId)))).limit(1)).length > 0;
});

// Upserts used by import: keyed by the admin's own ids, so re-importing a file changes nothing.
// `ON CONFLICT (key) DO UPDATE` means the same on both engines (SQLite ≥ 3.24).
type Ins<K extends keyof T> = T[K]['$inferInsert'];
export const upsertTrunk = op('upsertTrunk', async (c: Conn, r: Ins<'trunks'>): Promise<void> => {
  await c.q.insert(c.t.trunks).values(r).onConflictDoUpdate({ target: c.t.trunks.id, set: r });
});
export const upsertNumber = op('upsertNumber', async (c: Conn, r: Ins<'numbers'>): Promise<void> => {
  await c.q.insert(c.t.numbers).values(r).onConflictDoUpdate({ target: c.t.numbers.e164, set: r });
});
export const upsertCampaign = op('upsertCampaign', async (c: Conn, r: Ins<'campaigns'>): Promise<void> => {
  await c.q.insert(c.t.campaigns).values(r).onConflictDoUpdate({ target: c.t.campaigns.id, set: r });
});
export const upsertList = op('upsertList', async (c: Conn, r: Ins<'lists'>): Promise<void> => {
  await c.q.insert(c.t.lists).values(r).onConflictDoUpdate({ target: c.t.lists.id, set: r });
});
export const upsertLead = op('upsertLead', async (c: Conn, r: Ins<'leads'>): Promise<void> => {
  await c.q.insert(c.t.leads).values(r).onConflictDoUpdate({ target: c.t.leads.id, set: r });
});

/** Leads per statement in upsertLeads: 7 columns × 1000 stays far below both engines' parameter limits (32766, 65535). */
export const LEADS_PER_STATEMENT = 1000;

/**
 * Many leads, a statement per LEADS_PER_STATEMENT rows (plan B9: on PostgreSQL every statement is a round
 * trip). Each lead's ids must appear once (a row cannot be updated twice by one statement on pg); the
 * import refuses a lead listed twice before it writes.
 */
export const upsertLeads = op('upsertLeads', async (c: Conn, rows: readonly Ins<'leads'>[]): Promise<void> => {
  const l = c.t.leads;
  const set = {
    listId: sql`excluded.list_id`,
    firstName: sql`excluded.first_name`,
    lastName: sql`excluded.last_name`,
    phoneE164: sql`excluded.phone_e164`,
    timeZone: sql`excluded.time_zone`,
    updatedAt: sql`excluded.updated_at`,
  };
  for (let i = 0; i < rows.length; i += LEADS_PER_STATEMENT) {
    await c.q.insert(l).values(rows.slice(i, i + LEADS_PER_STATEMENT)).onConflictDoUpdate({ target: l.id, set });
  }
});
export const upsertAgent = op('upsertAgent', async (c: Conn, r: Ins<'agents'>): Promise<void> => {
  await c.q.insert(c.t.agents).values(r).onConflictDoUpdate({ target: c.t.agents.id, set: r });
});
export const upsertPhone = op('upsertPhone', async (c: Conn, r: Ins<'phones'>): Promise<void> => {
  await c.q.insert(c.t.phones).values(r).onConflictDoUpdate({ target: c.t.phones.endpoint, set: r });
});
export const upsertUser = op('upsertUser', async (c: Conn, r: Ins<'users'>): Promise<void> => {
  await c.q.insert(c.t.users).values(r).onConflictDoUpdate({ target: c.t.users.id, set: r });
});
/** A new lead; never replaces one (a booking must not move a lead to another list). */
export const insertLead = op('insertLead', async (c: Conn, r: Ins<'leads'>): Promise<void> => {
  await c.q.insert(c.t.leads).values(r);
});
export const getUser = op('getUser', async (c: Conn, id: string): Promise<UserRow | undefined> =>
  first(await c.q.select().from(c.t.users).where(eq(c.t.users.id, id)).limit(1)));
export const addDnc = op('addDnc', async (c: Conn, r: Ins<'dnc'>): Promise<void> => {
  await c.q.insert(c.t.dnc).values(r).onConflictDoNothing();
});

/** The AI voice agents among these, with their limits (sql/0021); humans are left out. */
export const aiLimitsOf = op('aiLimitsOf', async (c: Conn, agentIds: string[]): Promise<Map<string, { maxCalls: number }>> => {
  if (agentIds.length === 0) return new Map();
  // AI agents are few: read them all rather than send a campaign's every agent id as parameters.
  return limitsAmong(await aiAgentLimits(c), agentIds);
});

/** Every AI voice agent with its limit (a scheduler pass reads them once). */
export const aiAgentLimits = op('aiAgentLimits', async (c: Conn): Promise<Map<string, { maxCalls: number }>> => {
  const a = c.t.agents;
  const rows = await c.q.select({ id: a.id, maxCalls: a.maxCalls }).from(a).where(eq(a.kind, 'ai'));
  return new Map(rows.map((r) => [r.id, { maxCalls: r.maxCalls }]));
});

/** The AI agents among `agentIds`, from aiAgentLimits' map. */
export function limitsAmong(all: ReadonlyMap<string, { maxCalls: number }>, agentIds: readonly string[]): Map<string, { maxCalls: number }> {
  const out = new Map<string, { maxCalls: number }>();
  for (const id of agentIds) if (all.has(id)) out.set(id, all.get(id)!);
  return out;
}

/** An agent's campaigns become exactly the listed ones. Two statements: run it inside a transaction. */
export const setAgentCampaigns = op('setAgentCampaigns', async (c: Conn, agentId: string, campaignIds: string[]): Promise<void> => {
  const ac = c.t.agentCampaigns;
  await c.q.delete(ac).where(eq(ac.agentId, agentId));
  const distinct = [...new Set(campaignIds)];
  if (distinct.length) await c.q.insert(ac).values(distinct.map((campaignId) => ({ agentId, campaignId })));
});

export const exists = op('exists', async (c: Conn, table: 'trunks' | 'numbers' | 'campaigns' | 'lists' | 'agents', id: string): Promise<boolean> => {
  switch (table) {
    case 'trunks':
      return !!(await getTrunk(c, id));
    case 'numbers':
      return !!(await getNumber(c, id));
    case 'campaigns':
      return !!(await getCampaign(c, id));
    case 'lists':
      return !!(await getList(c, id));
    case 'agents':
      return !!(await getAgent(c, id));
  }
});
