import { and, desc, eq, isNotNull } from 'drizzle-orm';
import type { Conn } from './conn.js';
import { first, op } from './engine.js';
import type { AgentRow, PhoneRow } from './schema.js';

// The reads the dialplan hooks (agi/routes.ts) need beyond the shared ones, one function each.

/** A phone endpoint with the agent it belongs to. */
export const phoneWithAgent = op('phoneWithAgent', async (c: Conn, endpoint: string): Promise<{ phone: PhoneRow; agent: AgentRow } | undefined> => {
  const { phones, agents } = c.t;
  return first(await c.q.select({ phone: phones, agent: agents }).from(phones).innerJoin(agents, eq(agents.id, phones.agentId)).where(eq(phones.endpoint, endpoint)).limit(1));
});

/** The callback of the agent's most recently answered attempt: the lead they last spoke to. */
export const lastAnsweredCallbackId = op('lastAnsweredCallbackId', async (c: Conn, agentId: string): Promise<number | undefined> => {
  const a = c.t.callAttempts;
  return first(
    await c.q
      .select({ callbackId: a.callbackId })
      .from(a)
      .where(and(eq(a.agentId, agentId), isNotNull(a.customerAnsweredAt)))
      // id breaks a tie of the same millisecond the same way on both engines
      .orderBy(desc(a.customerAnsweredAt), desc(a.id))
      .limit(1),
  )?.callbackId;
});
