import { asc, sql, type SQL } from 'drizzle-orm';
import { linePlace, type InLine } from '../domain/queue-place.js';
import type { Conn, Tables } from './conn.js';
import { first, op } from './engine.js';

// The place in line of inbound callbacks in SQL: the same order as domain/queue-place.ts
// compareInLine (test/integration/queue-place.test.ts checks that the two agree).

const place = (cb: Tables['callbacks']) => sql`coalesce(${cb.arrivedAt}, ${cb.nextAttemptAt}, ${cb.dueAt})`;
const due = (cb: Tables['callbacks']) => sql`coalesce(${cb.nextAttemptAt}, ${cb.dueAt})`;

/** ORDER BY for ready callbacks on this engine's table: place in line, then due time, then id. */
export function lineOrder(cb: Tables['callbacks']): SQL[] {
  return [asc(place(cb)), asc(due(cb)), asc(cb.id)];
}

/**
 * The caller's position among the ANYONE callbacks of the campaign still waiting (ACTIVE or LIVE,
 * not yet being dialed): 1 + how many stand before `cb` in line.
 */
export const positionInLine = op('positionInLine', async (db: Conn, cb: InLine & { campaignId: string }): Promise<number> => {
  const t = db.t.callbacks;
  const p = linePlace(cb);
  const d = cb.nextAttemptAt ?? cb.dueAt;
  const PLACE = place(t);
  const DUE = due(t);
  const row = first(
    await db.q
      .select({ n: sql<number>`count(*)`.mapWith(Number) })
      .from(t)
      .where(
        sql`${t.campaignId} = ${cb.campaignId} AND ${t.type} = 'ANYONE' AND ${t.state} IN ('ACTIVE', 'LIVE')
          AND ${t.id} <> ${cb.id}
          AND (${PLACE} < ${p} OR (${PLACE} = ${p} AND (${DUE} < ${d} OR (${DUE} = ${d} AND ${t.id} < ${cb.id}))))`,
      ),
  );
  return Number(row?.n ?? 0) + 1;
});
