import { asc, sql, type SQL } from 'drizzle-orm';
import { linePlace, type InLine } from '../domain/queue-place.js';
import type { LegacyConn } from './conn.js';
import { callbacks } from './schema.js';

// The place in line of inbound callbacks in SQL: the same order as domain/queue-place.ts
// compareInLine (test/integration/queue-place.test.ts checks that the two agree).

const PLACE = sql`coalesce(${callbacks.arrivedAt}, ${callbacks.nextAttemptAt}, ${callbacks.dueAt})`;
const DUE = sql`coalesce(${callbacks.nextAttemptAt}, ${callbacks.dueAt})`;

/** ORDER BY for ready callbacks: place in line, then due time, then id. */
export const LINE_ORDER: SQL[] = [asc(PLACE), asc(DUE), asc(callbacks.id)];

/**
 * The caller's position among the ANYONE callbacks of the campaign still waiting (ACTIVE or LIVE,
 * not yet being dialed): 1 + how many stand before `cb` in line.
 */
export function positionInLine(db: LegacyConn, cb: InLine & { campaignId: string }): number {
  const place = linePlace(cb);
  const due = cb.nextAttemptAt ?? cb.dueAt;
  const row = db
    .select({ n: sql<number>`count(*)` })
    .from(callbacks)
    .where(
      sql`${callbacks.campaignId} = ${cb.campaignId} AND ${callbacks.type} = 'ANYONE' AND ${callbacks.state} IN ('ACTIVE', 'LIVE')
        AND ${callbacks.id} <> ${cb.id}
        AND (${PLACE} < ${place} OR (${PLACE} = ${place} AND (${DUE} < ${due} OR (${DUE} = ${due} AND ${callbacks.id} < ${cb.id}))))`,
    )
    .get();
  return Number(row?.n ?? 0) + 1;
}
