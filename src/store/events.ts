import type { Db } from './db.js';

// The event outbox (sql/0010_events.sql): rows are written only by triggers; this module reads
// them, moves consumers' cursors and trims old rows.

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

/** Events after `afterId`, oldest first. */
export function eventsAfter(db: Db, afterId: number, limit: number): OutboxEvent[] {
  const rows = db.$client.prepare('SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?').all(afterId, limit) as EventRow[];
  return rows.map(toEvent);
}

export function eventsOfCallback(db: Db, callbackId: number): OutboxEvent[] {
  return (db.$client.prepare('SELECT * FROM events WHERE callback_id = ? ORDER BY id').all(callbackId) as EventRow[]).map(toEvent);
}

/** The newest event id ever given (kept by AUTOINCREMENT even when the table is empty). */
export function lastEventId(db: Db): number {
  const r = db.$client.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as { seq: number } | undefined;
  return r?.seq ?? 0;
}

export function getCursor(db: Db, consumer: string): number | undefined {
  const r = db.$client.prepare('SELECT last_id FROM event_cursors WHERE consumer = ?').get(consumer) as { last_id: number } | undefined;
  return r?.last_id;
}

export function setCursor(db: Db, consumer: string, lastId: number): void {
  db.$client
    .prepare('INSERT INTO event_cursors (consumer, last_id) VALUES (?, ?) ON CONFLICT (consumer) DO UPDATE SET last_id = excluded.last_id')
    .run(consumer, lastId);
}

/** A consumer turned off: it no longer holds back retention (turned on again, it starts afresh). */
export function dropCursor(db: Db, consumer: string): void {
  db.$client.prepare('DELETE FROM event_cursors WHERE consumer = ?').run(consumer);
}

/**
 * Deletes events older than `before` that every consumer has read (event_cursors and each webhook
 * endpoint's cursor). Returns how many were deleted.
 */
export function trimEvents(db: Db, before: number): number {
  const c = db.$client;
  const read = c
    .prepare('SELECT min(m) AS m FROM (SELECT min(last_id) AS m FROM event_cursors UNION ALL SELECT min(cursor) FROM webhooks WHERE enabled = 1)')
    .get() as { m: number | null };
  const upTo = read.m ?? Number.MAX_SAFE_INTEGER;
  return c.prepare('DELETE FROM events WHERE at < ? AND id <= ?').run(before, upTo).changes;
}
