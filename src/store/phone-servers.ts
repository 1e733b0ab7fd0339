import { sql } from 'drizzle-orm';
import type { Conn } from './conn.js';
import { all, op } from './engine.js';

// What the phone listings (`callbackd agents`, GET /phones, the dashboard) read beside the
// directory and presence: calls in progress per agent, from every daemon (README "AI voice agents").

/**
 * Callbacks in progress per agent, every daemon's: attempts ringing (no outcome yet) or answered
 * and not ended. Two arms so each uses its partial index (call_attempts_open, _answered_open)
 * instead of scanning every attempt ever made.
 */
export const openCallsByAgent = op('openCallsByAgent', async (c: Conn): Promise<Map<string, number>> => {
  const a = c.t.callAttempts;
  const rows = await all<{ agentId: string; n: number | string }>(c, sql`
    SELECT agent_id AS "agentId", count(*) AS n FROM (
      SELECT ${a.agentId} AS agent_id FROM ${a} WHERE ${a.outcome} IS NULL
      UNION ALL
      SELECT ${a.agentId} FROM ${a} WHERE ${a.outcome} = 'ANSWERED' AND ${a.endedAt} IS NULL
    ) open_attempts WHERE agent_id IS NOT NULL GROUP BY agent_id`);
  return new Map(rows.map((r) => [r.agentId, Number(r.n)])); // Number: PostgreSQL's count is a bigint (a string)
});
