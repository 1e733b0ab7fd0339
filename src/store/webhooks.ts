import { sql, type SQL } from 'drizzle-orm';
import type { Conn } from './conn.js';
import { all, first, op, run, transaction } from './engine.js';
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
const WEBHOOK_COLS = sql.raw('id, url, events, secret, description, enabled, cursor, created_at, updated_at');
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
// Quoted aliases: PostgreSQL folds unquoted ones to lower case.
const DELIVERY_COLS = sql.raw(`d.id, d.webhook_id AS "webhookId", d.event_id AS "eventId", d.event_type AS "eventType", d.callback_id AS "callbackId", d.payload, d.state,
  d.attempts, d.next_at AS "nextAt", d.last_status AS "lastStatus", d.last_error AS "lastError", d.created_at AS "createdAt", d.updated_at AS "updatedAt"`);

/** A new endpoint hears events from now on (not the outbox's history). */
export const createWebhook = op(
  'createWebhook',
  async (db: Conn, w: { url: string; events: string[]; secret: string; description: string | null }, now: number): Promise<WebhookWithSecret> => {
    const from = await lastEventId(db);
    const [r] = await all<WebhookRow>(
      db,
      sql`INSERT INTO webhooks (url, events, secret, description, cursor, created_at, updated_at)
          VALUES (${w.url}, ${JSON.stringify(w.events)}, ${w.secret}, ${w.description}, ${from}, ${now}, ${now}) RETURNING ${WEBHOOK_COLS}`,
    );
    return toWebhook(r!);
  },
);

export const getWebhook = op('getWebhook', async (db: Conn, id: number): Promise<WebhookWithSecret | undefined> => {
  const r = first(await all<WebhookRow>(db, sql`SELECT ${WEBHOOK_COLS} FROM webhooks WHERE id = ${id}`));
  return r && toWebhook(r);
});

export const listWebhooks = op('listWebhooks', async (db: Conn): Promise<WebhookWithSecret[]> =>
  (await all<WebhookRow>(db, sql`SELECT ${WEBHOOK_COLS} FROM webhooks ORDER BY id`)).map(toWebhook),
);

export const updateWebhook = op(
  'updateWebhook',
  async (db: Conn, id: number, p: { url?: string; events?: string[]; enabled?: boolean; description?: string | null; secret?: string }, now: number): Promise<WebhookWithSecret | undefined> => {
    const set: SQL[] = [];
    if (p.url !== undefined) set.push(sql`url = ${p.url}`);
    if (p.events !== undefined) set.push(sql`events = ${JSON.stringify(p.events)}`);
    if (p.enabled !== undefined) set.push(sql`enabled = ${p.enabled ? 1 : 0}`);
    if (p.description !== undefined) set.push(sql`description = ${p.description}`);
    if (p.secret !== undefined) set.push(sql`secret = ${p.secret}`);
    set.push(sql`updated_at = ${now}`);
    const r = first(await all<WebhookRow>(db, sql`UPDATE webhooks SET ${sql.join(set, sql`, `)} WHERE id = ${id} RETURNING ${WEBHOOK_COLS}`));
    return r && toWebhook(r);
  },
);

export const deleteWebhook = op('deleteWebhook', async (db: Conn, id: number): Promise<boolean> => (await run(db, sql`DELETE FROM webhooks WHERE id = ${id}`)) === 1);

/**
 * Copies outbox events past each enabled endpoint's cursor into its delivery queue (those it
 * subscribed to) and moves the cursor, one transaction per endpoint and page. The cursor moves only
 * from where this page was read (another writer moved it: the page is not queued). Returns how many
 * deliveries were queued.
 */
export const queueDeliveries = op('queueDeliveries', async (db: Conn, payloadOf: (e: OutboxEvent) => string, now: number, page: number = 500): Promise<number> => {
  let queued = 0;
  for (const w of (await listWebhooks(db)).filter((x) => x.enabled)) {
    const wanted = w.events.length ? new Set(w.events) : null;
    let cursor = w.cursor;
    for (;;) {
      const batch = await eventsAfter(db, cursor, page);
      if (batch.length === 0) break;
      const from = cursor;
      const last = batch[batch.length - 1]!.id;
      const moved = await transaction(db, async (tx) => {
        if ((await run(tx, sql`UPDATE webhooks SET cursor = ${last} WHERE id = ${w.id} AND cursor = ${from}`)) !== 1) return false;
        for (const e of batch) {
          if (wanted && !wanted.has(e.type)) continue;
          queued += await run(
            tx,
            sql`INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, callback_id, payload, next_at, created_at, updated_at)
                VALUES (${w.id}, ${e.id}, ${e.type}, ${e.callbackId}, ${payloadOf(e)}, ${now}, ${now}, ${now})
                ON CONFLICT (webhook_id, event_id) DO NOTHING`,
          );
        }
        return true;
      });
      if (!moved) break;
      cursor = last;
      if (batch.length < page) break;
    }
  }
  return queued;
});

/**
 * Deliveries ready to send: for each endpoint and callback only the oldest pending one (so one
 * callback's events arrive in order), due now, not already in flight.
 */
export const dueDeliveries = op('dueDeliveries', async (db: Conn, now: number, limit: number, inFlight: Set<number>): Promise<Delivery[]> => {
  const rows = await all<Delivery>(
    db,
    sql`SELECT ${DELIVERY_COLS} FROM webhook_deliveries d
       WHERE d.state = 'PENDING' AND d.next_at <= ${now}
         AND EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.webhook_id AND w.enabled = 1)
         AND d.id = (SELECT min(e.id) FROM webhook_deliveries e WHERE e.webhook_id = d.webhook_id AND e.callback_id = d.callback_id AND e.state = 'PENDING')
       ORDER BY d.next_at, d.id LIMIT ${limit + inFlight.size}`,
  );
  return rows.filter((r) => !inFlight.has(r.id)).slice(0, limit);
});

/** The earliest time a pending delivery becomes due, or null. */
export const nextDeliveryAt = op('nextDeliveryAt', async (db: Conn): Promise<number | null> => {
  const r = first(
    await all<{ t: number | null }>(db, sql`SELECT min(d.next_at) AS t FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id AND w.enabled = 1 WHERE d.state = 'PENDING'`),
  );
  return r?.t ?? null;
});

export const markDelivered = op('markDelivered', async (db: Conn, id: number, status: number, now: number): Promise<void> => {
  await run(
    db,
    sql`UPDATE webhook_deliveries SET state = 'DELIVERED', attempts = attempts + 1, last_status = ${status}, last_error = NULL, updated_at = ${now} WHERE id = ${id} AND state = 'PENDING'`,
  );
});

/** A failed try: retried at `retryAt`, or DEAD when null. */
export const markFailed = op('markFailed', async (db: Conn, id: number, status: number | null, error: string, retryAt: number | null, now: number): Promise<void> => {
  const next = retryAt === null ? sql`state = 'DEAD'` : sql`state = 'PENDING', next_at = ${retryAt}`;
  await run(
    db,
    sql`UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = ${status}, last_error = ${error.slice(0, 500)}, updated_at = ${now}, ${next}
        WHERE id = ${id} AND state = 'PENDING'`,
  );
});

export const listDeliveries = op('listDeliveries', async (db: Conn, webhookId: number, state: Delivery['state'] | undefined, limit: number): Promise<Delivery[]> => {
  const byState = state === undefined ? sql`` : sql` AND d.state = ${state}`;
  return all<Delivery>(db, sql`SELECT ${DELIVERY_COLS} FROM webhook_deliveries d WHERE d.webhook_id = ${webhookId}${byState} ORDER BY d.id DESC LIMIT ${limit}`);
});

/** How many deliveries of an endpoint are in each state. */
export const deliveryCounts = op('deliveryCounts', async (db: Conn, webhookId: number): Promise<{ pending: number; delivered: number; dead: number }> => {
  const rows = await all<{ state: Delivery['state']; n: number }>(db, sql`SELECT state, count(*) AS n FROM webhook_deliveries WHERE webhook_id = ${webhookId} GROUP BY state`);
  const n = (s: Delivery['state']) => Number(rows.find((r) => r.state === s)?.n ?? 0);
  return { pending: n('PENDING'), delivered: n('DELIVERED'), dead: n('DEAD') };
});

/** A dead delivery goes back to the queue (an admin fixed the receiver). */
export const retryDelivery = op('retryDelivery', async (db: Conn, webhookId: number, id: number, now: number): Promise<boolean> =>
  (await run(db, sql`UPDATE webhook_deliveries SET state = 'PENDING', attempts = 0, next_at = ${now}, updated_at = ${now} WHERE id = ${id} AND webhook_id = ${webhookId} AND state = 'DEAD'`)) === 1,
);

/** Delivered rows older than `before` are deleted; dead ones stay until retried or the endpoint goes. */
export const trimDeliveries = op('trimDeliveries', async (db: Conn, before: number): Promise<number> =>
  run(db, sql`DELETE FROM webhook_deliveries WHERE state = 'DELIVERED' AND updated_at < ${before}`),
);
