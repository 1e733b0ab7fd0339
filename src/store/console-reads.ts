import { and, asc, desc, eq, gte, inArray, isNotNull, isNull, lt, sql } from 'drizzle-orm';
import type { Conn } from './conn.js';
import { op } from './engine.js';

// Read-only queries behind the console's detail, screen pop and dashboard (the API decides who
// may see what; these only read).

/** Other callbacks of the same lead, newest first. */
export const callbacksOfLead = op('callbacksOfLead', async (db: Conn, leadId: string, limit: number = 20) => {
  const { callbacks } = db.t;
  return await db.q
    .select({ id: callbacks.id, state: callbacks.state, type: callbacks.type, dueAt: callbacks.dueAt, owner: callbacks.ownerAgentId, lastOutcome: callbacks.lastOutcome, notes: callbacks.notes })
    .from(callbacks)
    .where(eq(callbacks.leadId, leadId))
    .orderBy(desc(callbacks.dueAt))
    .limit(limit);
});

// null: every campaign; [] none (`false`, not SQLite's 0: PostgreSQL wants a boolean).
const inCampaigns = (c: Conn, campaigns: string[] | null) =>
  campaigns === null ? undefined : campaigns.length ? inArray(c.t.callbacks.campaignId, campaigns) : sql`false`;

/** Callbacks due in [from, to), counted by state, within the campaigns given (null: all). */
export const countByStateDue = op('countByStateDue', async (db: Conn, from: number, to: number, campaigns: string[] | null): Promise<{ state: string; n: number }[]> => {
  const { callbacks } = db.t;
  return await db.q
    .select({ state: callbacks.state, n: sql<number>`count(*)`.mapWith(Number) })
    .from(callbacks)
    .where(and(gte(callbacks.dueAt, from), lt(callbacks.dueAt, to), inCampaigns(db, campaigns)))
    .groupBy(callbacks.state);
});

/** Attempts that ended since `from`: their end, outcome and how late the first leg started after the due instant. */
export const attemptsEndedSince = op('attemptsEndedSince', async (db: Conn, from: number, campaigns: string[] | null) => {
  const { callbacks, callAttempts } = db.t;
  return await db.q
    .select({ endedAt: callAttempts.endedAt, outcome: callAttempts.outcome, startedAt: callAttempts.startedAt, seq: callAttempts.seq, dueAt: callbacks.dueAt })
    .from(callAttempts)
    .innerJoin(callbacks, eq(callbacks.id, callAttempts.callbackId))
    .where(and(isNotNull(callAttempts.endedAt), gte(callAttempts.endedAt, from), inCampaigns(db, campaigns)))
    .orderBy(asc(callAttempts.endedAt));
});

/** Customer legs in progress (dialed, not ended) per trunk. */
export const legsInProgressByTrunk = op('legsInProgressByTrunk', async (db: Conn): Promise<Map<string, number>> => {
  const { callAttempts } = db.t;
  const rows = await db.q
    .select({ trunk: callAttempts.trunkId, n: sql<number>`count(*)`.mapWith(Number) })
    .from(callAttempts)
    .where(and(isNull(callAttempts.endedAt), isNotNull(callAttempts.customerDialedAt)))
    .groupBy(callAttempts.trunkId);
  return new Map(rows.filter((r) => r.trunk !== null).map((r) => [r.trunk as string, r.n]));
});

/** Callbacks with an attempt in progress on this agent's phone (ringing or talking). */
export const openAttemptsOfAgent = op('openAttemptsOfAgent', async (db: Conn, agentId: string) => {
  const { callAttempts } = db.t;
  return await db.q
    .select({ callbackId: callAttempts.callbackId, startedAt: callAttempts.startedAt, agentAnsweredAt: callAttempts.agentAnsweredAt, phone: callAttempts.phoneEndpoint })
    .from(callAttempts)
    .where(and(eq(callAttempts.agentId, agentId), isNull(callAttempts.endedAt)))
    .orderBy(desc(callAttempts.startedAt));
});

/** Callbacks by id with their lead, in one read (a page of the list). */
export const callbacksWithLeads = op('callbacksWithLeads', async (db: Conn, ids: number[]) => {
  const { callbacks, leads } = db.t;
  if (ids.length === 0) return [];
  return await db.q.select({ cb: callbacks, lead: leads }).from(callbacks).leftJoin(leads, eq(leads.id, callbacks.leadId)).where(inArray(callbacks.id, ids));
});
