import { and, eq, isNotNull, isNull } from 'drizzle-orm';
import type { AgentResponse, CustomerChoice } from '../domain/call-prompts.js';
import { writeAudit } from './audit.js';
import type { Db } from './db.js';
import { callAttempts } from './schema.js';

// What the agent answered and the customer chose at the prompts (sql/0018_call_prompts.sql), and
// the recent rejections the scheduler reads so a declined callback goes to another agent.

/**
 * Records an answer heard at a prompt on the open attempt (lease token checked), with an audit row
 * for a decline, a snooze or a cancel (who, and why). False when the attempt is no longer ours.
 */
export function markPromptAnswer(
  db: Db,
  at: { attemptId: number; callbackId: number; token: string; agentId: string | null },
  answer: { agentResponse: AgentResponse; reason?: string } | { customerChoice: CustomerChoice; reason?: string },
  now: number,
): boolean {
  return db.transaction((tx) => {
    const set = 'agentResponse' in answer ? { agentResponse: answer.agentResponse } : { customerChoice: answer.customerChoice };
    const changed = tx
      .update(callAttempts)
      .set(set)
      .where(and(eq(callAttempts.id, at.attemptId), eq(callAttempts.leaseToken, at.token), isNull(callAttempts.outcome)))
      .run().changes;
    if (changed !== 1) return false;
    if ('agentResponse' in answer && answer.agentResponse !== 'ACCEPTED') {
      writeAudit(tx, { at: now, actor: at.agentId ?? 'agent', action: 'agent-decline', callbackId: at.callbackId, after: { agentResponse: answer.agentResponse }, reason: answer.reason ?? null });
    }
    if ('customerChoice' in answer && (answer.customerChoice === 'SNOOZE' || answer.customerChoice === 'CANCEL')) {
      writeAudit(tx, { at: now, actor: 'customer', action: 'customer-choice', callbackId: at.callbackId, after: { customerChoice: answer.customerChoice }, reason: answer.reason ?? null });
    }
    return true;
  });
}

/** The attempts of one callback where an agent was asked to accept (index call_attempts_agent_responses). */
export function agentAnswersOf(db: Db, callbackId: number): { agentId: string | null; agentResponse: string | null; endedAt: number | null }[] {
  return db
    .select({ agentId: callAttempts.agentId, agentResponse: callAttempts.agentResponse, endedAt: callAttempts.endedAt })
    .from(callAttempts)
    .where(and(eq(callAttempts.callbackId, callbackId), isNotNull(callAttempts.agentResponse)))
    .all();
}
