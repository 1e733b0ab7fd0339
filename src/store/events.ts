import { sql, type SQL } from 'drizzle-orm';
import type { Conn } from './conn.js';
import { all, first, op, run } from './engine.js';

// The event outbox (sql/0010_events.sql): rows are written only by triggers; this module reads
// them, moves consumers' cursors and trims old rows. There is no drizzle table for these: the
// queries are raw SQL through engine.ts `all`/`run` (parameters bound on both engines).

export const EVENT_TYPES = [
  'callback.created',
  'callback.live',
  'callback.dialing',
  'attempt.ended',
  'callback.completed',
  'callback.failed',
  'callback.cancelled',
  'callback.rescheduled',
  'callback.reassigned',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface OutboxEvent {
  id: number;
  at: number;
  type: EventType;
  callbackId: number;
  version: number;
  campaignId: string;
  callbackType: 'USERONLY' | 'ANYONE';
  ownerAgentId: string | null;
  actor: string | null;
  data: Record<string, unknown>;
}

interface EventRow {
  id: number;
  at: number;
  type: EventType;
  callback_id: number;
  version: number;
  campaign_id: string;
  callback_type: 'USERONLY' | 'ANYONE';
  owner_agent_id: string | null;
  actor: string | null;
  data: string;
}

// Not `*`: on PostgreSQL the table also has `xid` (sql/pg/0023).
const COLS = sql.raw('id, at, type, callback_id, version, campaign_id, callback_type, owner_agent_id, actor, data');

const toEvent = (r: EventRow): OutboxEvent => ({
  id: r.id,
  at: r.at,
  type: r.type,
  callbackId: r.callback_id,
  version: r.version,
  campaignId: r.campaign_id,
  callbackType: r.callback_type,
  ownerAgentId: r.owner_agent_id,
  actor: r.actor,
  data: JSON.parse(r.data) as Record<string, unknown>,
});

/**
 * The outbox's commit horizon, as a condition on `events` (plan §4). SQLite has one writer at a
 * time, so ids commit in order: nothing to add. PostgreSQL hands out ids at INSERT while
 * transactions commit in any order: a reader of `id > cursor` could pass an id whose transaction is
 * still open and never see that row. Only rows written by transactions older than every running one
 * (`xid`, sql/pg/0023) are read; a running transaction holds back what came after it.
 */
function committedOnly(c: Conn): SQL {
  return c.kind === 'pg' ? sql` AND xid < pg_snapshot_xmin(pg_current_snapshot())` : sql``;
}

/** Events after `afterId`, oldest first (on PostgreSQL, up to the commit horizon). */
export const eventsAfter = op('eventsAfter', async (db: Conn, afterId: number, limit: number): Promise<OutboxEvent[]> => {
  const rows = await all<EventRow>(db, sql`SELECT ${COLS} FROM events WHERE id > ${afterId}${committedOnly(db)} ORDER BY id LIMIT ${limit}`);
  return rows.map(toEvent);
});

export const eventsOfCallback = op('eventsOfCallback', async (db: Conn, callbackId: number): Promise<OutboxEvent[]> =>
  (await all<EventRow>(db, sql`SELECT ${COLS} FROM events WHERE callback_id = ${callbackId} ORDER BY id`)).map(toEvent),
);

/**
 * Where a new consumer starts: the newest event id. SQLite: the id AUTOINCREMENT last gave (kept
 * even when retention empties the table). PostgreSQL: the newest id below the commit horizon, so an
 * event still being committed is not skipped (an empty table gives 0: whatever comes is new).
 */
export const lastEventId = op('lastEventId', async (db: Conn): Promise<number> => {
  const q =
    db.kind === 'pg'
      ? sql`SELECT coalesce(max(id), 0) AS seq FROM events WHERE true${committedOnly(db)}`
      : sql`SELECT seq FROM sqlite_sequence WHERE name = 'events'`;
  return first(await all<{ seq: number }>(db, q))?.seq ?? 0;
});

export const getCursor = op('getCursor', async (db: Conn, consumer: string): Promise<number | undefined> => {
  const r = first(await all<{ last_id: number }>(db, sql`SELECT last_id FROM event_cursors WHERE consumer = ${consumer}`));
  return r?.last_id;
});

export const setCursor = op('setCursor', async (db: Conn, consumer: string, lastId: number): Promise<void> => {
  await run(db, sql`INSERT INTO event_cursors (consumer, last_id) VALUES (${consumer}, ${lastId}) ON CONFLICT (consumer) DO UPDATE SET last_id = excluded.last_id`);
});

/** A consumer turned off: it no longer holds back retention (turned on again, it starts afresh). */
export const dropCursor = op('dropCursor', async (db: Conn, consumer: string): Promise<void> => {
  await run(db, sql`DELETE FROM event_cursors WHERE consumer = ${consumer}`);
});

/**
 * Deletes events older than `before` that every consumer has read (event_cursors and each webhook
 * endpoint's cursor). Returns how many were deleted.
 */
export const trimEvents = op('trimEvents', async (db: Conn, before: number): Promise<number> => {
  const read = first(
    await all<{ m: number | null }>(
      db,
      sql`SELECT min(m) AS m FROM (SELECT min(last_id) AS m FROM event_cursors UNION ALL SELECT min(cursor) AS m FROM webhooks WHERE enabled = 1) AS r`,
    ),
  );
  const upTo = read?.m ?? Number.MAX_SAFE_INTEGER;
  return run(db, sql`DELETE FROM events WHERE at < ${before} AND id <= ${upTo}`);
});
