import { and, desc, eq, isNotNull } from 'drizzle-orm';
import type { Db } from './db.js';
import { agents, callAttempts, leads, phones, type AgentRow, type LeadRow, type PhoneRow } from './schema.js';

// The reads and the one write the dialplan hooks (agi/routes.ts) need, as one function each.

/** A phone endpoint with the agent it belongs to. */
export function phoneWithAgent(db: Db, endpoint: string): { phone: PhoneRow; agent: AgentRow } | undefined {
  return db.select({ phone: phones, agent: agents }).from(phones).innerJoin(agents, eq(agents.id, phones.agentId)).where(eq(phones.endpoint, endpoint)).get();
}

/** The callback of the agent's most recently answered attempt: the lead they last spoke to. */
export function lastAnsweredCallbackId(db: Db, agentId: string): number | undefined {
  return db
    .select({ callbackId: callAttempts.callbackId })
    .from(callAttempts)
    .where(and(eq(callAttempts.agentId, agentId), isNotNull(callAttempts.customerAnsweredAt)))
    .orderBy(desc(callAttempts.customerAnsweredAt))
    .get()?.callbackId;
}

/**
 * Adds a lead; never touches an existing one. False when the id is taken: a booking never moves
 * a lead from its list (issue 12), so the caller picks another id or refuses.
 */
export function insertLeadIfAbsent(db: Db, r: typeof leads.$inferInsert): LeadRow | undefined {
  const done = db.insert(leads).values(r).onConflictDoNothing().run();
  return done.changes === 1 ? db.select().from(leads).where(eq(leads.id, r.id)).get() : undefined;
}
