import { and, desc, eq, isNotNull } from 'drizzle-orm';
import type { Db } from './db.js';
import { agents, callAttempts, phones, type AgentRow, type PhoneRow } from './schema.js';

// The reads the dialplan hooks (agi/routes.ts) need beyond the shared ones, one function each.

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
