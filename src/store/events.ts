import { sql } from 'drizzle-orm';
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
 * The outbox's commit horizon (plan §4): the highest id below which every id is settled (committed,
 * or rolled back for good). SQLite has one writer at a time, so ids commit in order and every id it
 * can see is settled. PostgreSQL hands out ids at INSERT while transactions commit in any order: a
 * reader of `id > cursor` could pass an id whose transaction is still open and never see that row.
 * (0023's `xid < pg_snapshot_xmin(…)` alone is not enough: a transaction that got its transaction id
 * before an open one can commit a later event id first; test/integration/store/events.test.ts.)
 *
 * So, per engine: read the id sequence's last value L, then take a transaction id X in a statement of
 * its own (autocommit: X ends at once). Every transaction that took an id <= L had its transaction id
 * before that (events rows come from AFTER triggers, after the write that gave it one), so below X.
 * Once no transaction below X runs (`pg_snapshot_xmin(pg_current_snapshot()) >= X`), every id <= L is
 * settled. Observations wait in `pending` until then; a transaction id is taken only when there are
 * new ids (cost: up to 3 short statements and one transaction id per read that finds new ids; none
 * when idle). A long transaction holds back what came after it, never loses it.
 */
interface Horizon {
  settled: number;
  pending: { l: number; x: bigint }[];
  busy?: Promise<number>;
}
const horizons = new WeakMap<object, Horizon>();

async function pgHorizon(c: Conn): Promise<number> {
  // In a transaction, the transaction id taken would be its own, which ends only at its commit.
  if (c.inTx) throw new Error('the outbox horizon is read with the root connection, not inside a transaction');
  let h = horizons.get(c);
  if (!h) horizons.set(c, (h = { settled: 0, pending: [] }));
  // One observation at a time per engine (the hub and the delivery loops read concurrently).
  h.busy ??= observe(c, h).finally(() => (h.busy = undefined));
  return h.busy;
}

async function observe(c: Conn, h: Horizon): Promise<number> {
  const last = first(await all<{ l: number | null }>(c, sql`SELECT pg_sequence_last_value(pg_get_serial_sequence('events', 'id')::regclass) AS l`))?.l ?? 0;
  if (last > h.settled && !h.pending.some((p) => p.l >= last)) {
    const x = first(await all<{ x: string }>(c, sql`SELECT pg_current_xact_id()::text AS x`))!.x;
    h.pending.push({ l: last, x: BigInt(x) });
  }
  if (h.pending.length) {
    const xmin = BigInt(first(await all<{ m: string }>(c, sql`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS m`))!.m);
    const done = h.pending.filter((p) => xmin >= p.x);
    for (const p of done) h.settled = Math.max(h.settled, p.l);
    h.pending = h.pending.filter((p) => xmin < p.x);
  }
  return h.settled;
}

/** Events after `afterId`, oldest first (on PostgreSQL, up to the commit horizon). */
export const eventsAfter = op('eventsAfter', async (db: Conn, afterId: number, limit: number): Promise<OutboxEvent[]> => {
  const upTo = db.kind === 'pg' ? sql` AND id <= ${await pgHorizon(db)}` : sql``;
  const rows = await all<EventRow>(db, sql`SELECT ${COLS} FROM events WHERE id > ${afterId}${upTo} ORDER BY id LIMIT ${limit}`);
  return rows.map(toEvent);
});

export const eventsOfCallback = op('eventsOfCallback', async (db: Conn, callbackId: number): Promise<OutboxEvent[]> =>
  (await all<EventRow>(db, sql`SELECT ${COLS} FROM events WHERE callback_id = ${callbackId} ORDER BY id`)).map(toEvent),
);

/**
 * Where a new consumer starts: the newest event id. SQLite: the id AUTOINCREMENT last gave (kept
 * even when retention empties the table). PostgreSQL: the commit horizon (every id up to it settled),
 * so an event still being committed is not skipped.
 */
export const lastEventId = op('lastEventId', async (db: Conn): Promise<number> => {
  if (db.kind === 'pg') return pgHorizon(db);
  return first(await all<{ seq: number }>(db, sql`SELECT seq FROM sqlite_sequence WHERE name = 'events'`))?.seq ?? 0;
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
