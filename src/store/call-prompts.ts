import { and, eq, isNotNull, isNull } from 'drizzle-orm';
import type { AgentResponse, CustomerChoice } from '../domain/call-prompts.js';
import { writeAudit } from './audit.js';
import type { Conn } from './conn.js';
import { affected, op, transaction } from './engine.js';

// What the agent answered and the customer chose at the prompts (sql/0018_call_prompts.sql), and
// the recent rejections the scheduler reads so a declined callback goes to another agent.

/**
 * Records an answer heard at a prompt on the open attempt (lease token checked), with an audit row
 * for a decline, a snooze or a cancel (who, and why). False when the attempt is no longer ours.
 */
export const markPromptAnswer = op(
  'markPromptAnswer',
  (
    db: Conn,
    at: { attemptId: number; callbackId: number; token: string; agentId: string | null },
    answer: { agentResponse: AgentResponse; reason?: string } | { customerChoice: CustomerChoice; reason?: string },
    now: number,
  ): Promise<boolean> =>
    transaction(db, async (tx) => {
      const a = tx.t.callAttempts;
      const set = 'agentResponse' in answer ? { agentResponse: answer.agentResponse } : { customerChoice: answer.customerChoice };
      const changed = affected(
        await tx.q
          .update(a)
          .set(set)
          .where(and(eq(a.id, at.attemptId), eq(a.leaseToken, at.token), isNull(a.outcome))),
      );
      if (changed !== 1) return false;
      if ('agentResponse' in answer && answer.agentResponse !== 'ACCEPTED') {
        await writeAudit(tx, { at: now, actor: at.agentId ?? 'agent', action: 'agent-decline', callbackId: at.callbackId, after: { agentResponse: answer.agentResponse }, reason: answer.reason ?? null });
      }
      if ('customerChoice' in answer && (answer.customerChoice === 'SNOOZE' || answer.customerChoice === 'CANCEL')) {
        await writeAudit(tx, { at: now, actor: 'customer', action: 'customer-choice', callbackId: at.callbackId, after: { customerChoice: answer.customerChoice }, reason: answer.reason ?? null });
      }
      return true;
    }),
);

/** The attempts of one callback where an agent was asked to accept (index call_attempts_agent_responses). */
export const agentAnswersOf = op(
  'agentAnswersOf',
  async (db: Conn, callbackId: number): Promise<{ agentId: string | null; agentResponse: string | null; endedAt: number | null }[]> => {
    const a = db.t.callAttempts;
    return await db.q
      .select({ agentId: a.agentId, agentResponse: a.agentResponse, endedAt: a.endedAt })
      .from(a)
      .where(and(eq(a.callbackId, callbackId), isNotNull(a.agentResponse)));
  },
);
