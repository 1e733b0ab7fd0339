import type { Db } from './db.js';
import { eventsAfter, lastEventId, type OutboxEvent } from './events.js';

// Webhook endpoints and their delivery queue (sql/0011). Each endpoint keeps a cursor into the
// outbox; queueing copies events past the cursor into deliveries and moves the cursor in one
// transaction, so a crash queues each event exactly once per endpoint.

export interface Webhook {
  id: number;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  cursor: number;
  createdAt: number;
  updatedAt: number;
}
export interface WebhookWithSecret extends Webhook {
  secret: string;
}

interface WebhookRow {
  id: number;
  url: string;
  events: string;
  secret: string;
  description: string | null;
  enabled: number;
  cursor: number;
  created_at: number;
  updated_at: number;
}
const toWebhook = (r: WebhookRow): WebhookWithSecret => ({
  id: r.id, url: r.url, events: JSON.parse(r.events) as string[], secret: r.secret, description: r.description, enabled: r.enabled === 1,
  cursor: r.cursor, createdAt: r.created_at, updatedAt: r.updated_at,
});
export const withoutSecret = ({ secret: _secret, ...w }: WebhookWithSecret): Webhook => w;

export interface Delivery {
  id: number;
  webhookId: number;
  eventId: number;
  eventType: string;
  callbackId: number;
  payload: string;
  state: 'PENDING' | 'DELIVERED' | 'DEAD';
  attempts: number;
  nextAt: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}
const DELIVERY_COLS = `id, webhook_id AS webhookId, event_id AS eventId, event_type AS eventType, callback_id AS callbackId, payload, state,
  attempts, next_at AS nextAt, last_status AS lastStatus, last_error AS lastError, created_at AS createdAt, updated_at AS updatedAt`;

/** A new endpoint hears events from now on (not the outbox's history). */
export function createWebhook(db: Db, w: { url: string; events: string[]; secret: string; description: string | null }, now: number): WebhookWithSecret {
  const r = db.$client
    .prepare('INSERT INTO webhooks (url, events, secret, description, cursor, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *')
    .get(w.url, JSON.stringify(w.events), w.secret, w.description, lastEventId(db), now, now) as WebhookRow;
  return toWebhook(r);
}

export function getWebhook(db: Db, id: number): WebhookWithSecret | undefined {
  const r = db.$client.prepare('SELECT * FROM webhooks WHERE id = ?').get(id) as WebhookRow | undefined;
  return r && toWebhook(r);
}

export function listWebhooks(db: Db): WebhookWithSecret[] {
  return (db.$client.prepare('SELECT * FROM webhooks ORDER BY id').all() as WebhookRow[]).map(toWebhook);
}

export function updateWebhook(db: Db, id: number, p: { url?: string; events?: string[]; enabled?: boolean; description?: string | null; secret?: string }, now: number): WebhookWithSecret | undefined {
  const cur = getWebhook(db, id);
  if (!cur) return undefined;
  const n = { ...cur, ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) } as WebhookWithSecret;
  db.$client
    .prepare('UPDATE webhooks SET url = ?, events = ?, enabled = ?, description = ?, secret = ?, updated_at = ? WHERE id = ?')
    .run(n.url, JSON.stringify(n.events), n.enabled ? 1 : 0, n.description, n.secret, now, id);
  return getWebhook(db, id);
}

export function deleteWebhook(db: Db, id: number): boolean {
  return db.$client.prepare('DELETE FROM webhooks WHERE id = ?').run(id).changes === 1;
}

/**
 * Copies outbox events past each enabled endpoint's cursor into its delivery queue (those it
 * subscribed to) and moves the cursor, one transaction per endpoint and page. Returns how many
 * deliveries were queued.
 */
export function queueDeliveries(db: Db, payloadOf: (e: OutboxEvent) => string, now: number, page = 500): number {
  const c = db.$client;
  const insert = c.prepare(
    'INSERT OR IGNORE INTO webhook_deliveries (webhook_id, event_id, event_type, callback_id, payload, next_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const move = c.prepare('UPDATE webhooks SET cursor = ? WHERE id = ? AND cursor = ?');
  let queued = 0;
  for (const w of listWebhooks(db).filter((x) => x.enabled)) {
    const wanted = w.events.length ? new Set(w.events) : null;
    let cursor = w.cursor;
    for (;;) {
      const batch = eventsAfter(db, cursor, page);
      if (batch.length === 0) break;
      const from = cursor;
      const last = batch[batch.length - 1]!.id;
      c.transaction(() => {
        for (const e of batch) {
          if (wanted && !wanted.has(e.type)) continue;
          queued += insert.run(w.id, e.id, e.type, e.callbackId, payloadOf(e), now, now, now).changes;
        }
        move.run(last, w.id, from);
      })();
      cursor = last;
      if (batch.length < page) break;
    }
  }
  return queued;
}

/**
 * Deliveries ready to send: for each endpoint and callback only the oldest pending one (so one
 * callback's events arrive in order), due now, not already in flight.
 */
export function dueDeliveries(db: Db, now: number, limit: number, inFlight: Set<number>): Delivery[] {
  const rows = db.$client
    .prepare(
      `SELECT ${DELIVERY_COLS} FROM webhook_deliveries d
       WHERE d.state = 'PENDING' AND d.next_at <= ?
         AND EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.webhook_id AND w.enabled = 1)
         AND d.id = (SELECT min(e.id) FROM webhook_deliveries e WHERE e.webhook_id = d.webhook_id AND e.callback_id = d.callback_id AND e.state = 'PENDING')
       ORDER BY d.next_at, d.id LIMIT ?`,
    )
    .all(now, limit + inFlight.size) as Delivery[];
  return rows.filter((r) => !inFlight.has(r.id)).slice(0, limit);
}

/** The earliest time a pending delivery becomes due, or null. */
export function nextDeliveryAt(db: Db): number | null {
  return (
    db.$client
      .prepare("SELECT min(next_at) AS t FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id AND w.enabled = 1 WHERE d.state = 'PENDING'")
      .get() as { t: number | null }
  ).t;
}

export function markDelivered(db: Db, id: number, status: number, now: number): void {
  db.$client
    .prepare("UPDATE webhook_deliveries SET state = 'DELIVERED', attempts = attempts + 1, last_status = ?, last_error = NULL, updated_at = ? WHERE id = ? AND state = 'PENDING'")
    .run(status, now, id);
}

/** A failed try: retried at `retryAt`, or DEAD when null. */
export function markFailed(db: Db, id: number, status: number | null, error: string, retryAt: number | null, now: number): void {
  db.$client
    .prepare(
      `UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = ?, last_error = ?, updated_at = ?,
         state = CASE WHEN ? IS NULL THEN 'DEAD' ELSE 'PENDING' END, next_at = coalesce(?, next_at)
       WHERE id = ? AND state = 'PENDING'`,
    )
    .run(status, error.slice(0, 500), now, retryAt, retryAt, id);
}

export function listDeliveries(db: Db, webhookId: number, state: Delivery['state'] | undefined, limit: number): Delivery[] {
  return db.$client
    .prepare(`SELECT ${DELIVERY_COLS} FROM webhook_deliveries WHERE webhook_id = ? AND (? IS NULL OR state = ?) ORDER BY id DESC LIMIT ?`)
    .all(webhookId, state ?? null, state ?? null, limit) as Delivery[];
}

/** A dead delivery goes back to the queue (an admin fixed the receiver). */
export function retryDelivery(db: Db, webhookId: number, id: number, now: number): boolean {
  return (
    db.$client
      .prepare("UPDATE webhook_deliveries SET state = 'PENDING', attempts = 0, next_at = ?, updated_at = ? WHERE id = ? AND webhook_id = ? AND state = 'DEAD'")
      .run(now, now, id, webhookId).changes === 1
  );
}

/** Delivered rows older than `before` are deleted; dead ones stay until retried or the endpoint goes. */
export function trimDeliveries(db: Db, before: number): number {
  return db.$client.prepare("DELETE FROM webhook_deliveries WHERE state = 'DELIVERED' AND updated_at < ?").run(before).changes;
}
