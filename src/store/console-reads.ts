import { and, asc, desc, eq, gte, inArray, isNotNull, isNull, lt, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { callAttempts, callbacks, leads } from './schema.js';

// Read-only queries behind the console's detail, screen pop and dashboard (the API decides who
// may see what; these only read).

/** Other callbacks of the same lead, newest first. */
export function callbacksOfLead(db: Db, leadId: string, limit = 20) {
  return db
    .select({ id: callbacks.id, state: callbacks.state, type: callbacks.type, dueAt: callbacks.dueAt, owner: callbacks.ownerAgentId, lastOutcome: callbacks.lastOutcome, notes: callbacks.notes })
    .from(callbacks)
    .where(eq(callbacks.leadId, leadId))
    .orderBy(desc(callbacks.dueAt))
    .limit(limit)
    .all();
}

/** Callbacks due in [from, to), counted by state, within the campaigns given (null: all). */
export function countByStateDue(db: Db, from: number, to: number, campaigns: string[] | null): { state: string; n: number }[] {
  const scope = campaigns === null ? sql`1` : campaigns.length ? sql`${callbacks.campaignId} IN (${sql.join(campaigns.map((c) => sql`${c}`), sql`, `)})` : sql`0`;
  return db
    .select({ state: callbacks.state, n: sql<number>`count(*)` })
    .from(callbacks)
    .where(and(gte(callbacks.dueAt, from), lt(callbacks.dueAt, to), scope))
    .groupBy(callbacks.state)
    .all();
}

/** Attempts that ended since `from`: their end, outcome and how late the first leg started after the due instant. */
export function attemptsEndedSince(db: Db, from: number, campaigns: string[] | null) {
  const scope = campaigns === null ? sql`1` : campaigns.length ? sql`${callbacks.campaignId} IN (${sql.join(campaigns.map((c) => sql`${c}`), sql`, `)})` : sql`0`;
  return db
    .select({ endedAt: callAttempts.endedAt, outcome: callAttempts.outcome, startedAt: callAttempts.startedAt, seq: callAttempts.seq, dueAt: callbacks.dueAt })
    .from(callAttempts)
    .innerJoin(callbacks, eq(callbacks.id, callAttempts.callbackId))
    .where(and(isNotNull(callAttempts.endedAt), gte(callAttempts.endedAt, from), scope))
    .orderBy(asc(callAttempts.endedAt))
    .all();
}

/** Customer legs in progress (dialed, not ended) per trunk. */
export function legsInProgressByTrunk(db: Db): Map<string, number> {
  const rows = db
    .select({ trunk: callAttempts.trunkId, n: sql<number>`count(*)` })
    .from(callAttempts)
    .where(and(isNull(callAttempts.endedAt), isNotNull(callAttempts.customerDialedAt)))
    .groupBy(callAttempts.trunkId)
    .all();
  return new Map(rows.filter((r) => r.trunk !== null).map((r) => [r.trunk as string, r.n]));
}

/** Callbacks with an attempt in progress on this agent's phone (ringing or talking). */
export function openAttemptsOfAgent(db: Db, agentId: string) {
  return db
    .select({ callbackId: callAttempts.callbackId, startedAt: callAttempts.startedAt, agentAnsweredAt: callAttempts.agentAnsweredAt, phone: callAttempts.phoneEndpoint })
    .from(callAttempts)
    .where(and(eq(callAttempts.agentId, agentId), isNull(callAttempts.endedAt)))
    .orderBy(desc(callAttempts.startedAt))
    .all();
}

/** Callbacks by id with their lead, in one read (a page of the list). */
export function callbacksWithLeads(db: Db, ids: number[]) {
  if (ids.length === 0) return [];
  return db.select({ cb: callbacks, lead: leads }).from(callbacks).leftJoin(leads, eq(leads.id, callbacks.leadId)).where(inArray(callbacks.id, ids)).all();
}
