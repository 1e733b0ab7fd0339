import type { Db } from './db.js';
import { eventsAfter, getCursor, lastEventId, setCursor, type OutboxEvent } from './events.js';

// The email queue (sql/0011). The email consumer reads the outbox from its cursor; the emails an
// event calls for and the cursor's move are written in one transaction.

export interface Email {
  id: number;
  eventId: number;
  callbackId: number;
  agentId: string;
  toAddress: string;
  subject: string;
  body: string;
  state: 'PENDING' | 'SENT' | 'DEAD';
  attempts: number;
  nextAt: number;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  sentAt: number | null;
}
const COLS = `id, event_id AS eventId, callback_id AS callbackId, agent_id AS agentId, to_address AS toAddress, subject, body, state,
  attempts, next_at AS nextAt, last_error AS lastError, created_at AS createdAt, updated_at AS updatedAt, sent_at AS sentAt`;

export interface EmailDraft {
  callbackId: number;
  agentId: string;
  toAddress: string;
  subject: string;
  body: string;
}

/** What a LIVE event needs to become an email: the callback, its lead, campaign and owner. */
export interface LiveContext {
  callbackId: number;
  state: string;
  type: string;
  dueAt: number;
  dueZone: string;
  notes: string | null;
  leadId: string;
  firstName: string | null;
  lastName: string | null;
  phone: string;
  campaignId: string;
  campaignName: string;
  campaignZone: string;
  emailWhenLive: boolean;
  agentId: string | null;
  agentName: string | null;
  agentEmail: string | null;
  agentZone: string | null;
}

export function liveContext(db: Db, callbackId: number): LiveContext | undefined {
  const r = db.$client
    .prepare(
      `SELECT c.id AS callbackId, c.state, c.type, c.due_at AS dueAt, c.due_zone AS dueZone, c.notes, l.id AS leadId, l.first_name AS firstName,
         l.last_name AS lastName, l.phone_e164 AS phone, k.id AS campaignId, k.name AS campaignName, k.time_zone AS campaignZone,
         k.email_when_live AS emailWhenLive, a.id AS agentId, a.name AS agentName, a.email AS agentEmail, a.time_zone AS agentZone
       FROM callbacks c JOIN leads l ON l.id = c.lead_id JOIN campaigns k ON k.id = c.campaign_id LEFT JOIN agents a ON a.id = c.owner_agent_id
       WHERE c.id = ?`,
    )
    .get(callbackId) as (Omit<LiveContext, 'emailWhenLive'> & { emailWhenLive: number }) | undefined;
  return r && { ...r, emailWhenLive: r.emailWhenLive === 1 };
}

/**
 * Reads the outbox past the email cursor and queues the emails `draft` asks for. A first run
 * starts at the newest event: enabling email does not mail the past.
 */
export function queueEmails(db: Db, draft: (e: OutboxEvent) => EmailDraft | null, now: number, page = 500): number {
  const c = db.$client;
  let cursor = getCursor(db, 'email');
  if (cursor === undefined) {
    setCursor(db, 'email', lastEventId(db));
    return 0;
  }
  const insert = c.prepare(
    'INSERT OR IGNORE INTO emails (event_id, callback_id, agent_id, to_address, subject, body, next_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  let queued = 0;
  for (;;) {
    const batch = eventsAfter(db, cursor, page);
    if (batch.length === 0) break;
    const last = batch[batch.length - 1]!.id;
    c.transaction(() => {
      for (const e of batch) {
        const m = draft(e);
        if (m) queued += insert.run(e.id, m.callbackId, m.agentId, m.toAddress, m.subject, m.body, now, now, now).changes;
      }
      setCursor(db, 'email', last);
    })();
    cursor = last;
    if (batch.length < page) break;
  }
  return queued;
}

export function dueEmails(db: Db, now: number, limit: number, inFlight: Set<number>): Email[] {
  const rows = db.$client.prepare(`SELECT ${COLS} FROM emails WHERE state = 'PENDING' AND next_at <= ? ORDER BY next_at, id LIMIT ?`).all(now, limit + inFlight.size) as Email[];
  return rows.filter((r) => !inFlight.has(r.id)).slice(0, limit);
}

export function nextEmailAt(db: Db): number | null {
  return (db.$client.prepare("SELECT min(next_at) AS t FROM emails WHERE state = 'PENDING'").get() as { t: number | null }).t;
}

export function markSent(db: Db, id: number, now: number): void {
  db.$client.prepare("UPDATE emails SET state = 'SENT', attempts = attempts + 1, last_error = NULL, sent_at = ?, updated_at = ? WHERE id = ? AND state = 'PENDING'").run(now, now, id);
}

/** A failed try: retried at `retryAt`, or DEAD when null. */
export function markEmailFailed(db: Db, id: number, error: string, retryAt: number | null, now: number): void {
  db.$client
    .prepare(
      `UPDATE emails SET attempts = attempts + 1, last_error = ?, updated_at = ?, state = CASE WHEN ? IS NULL THEN 'DEAD' ELSE 'PENDING' END,
         next_at = coalesce(?, next_at) WHERE id = ? AND state = 'PENDING'`,
    )
    .run(error.slice(0, 500), now, retryAt, retryAt, id);
}

export function listEmails(db: Db, f: { state?: Email['state']; callbackId?: number; limit: number }): Email[] {
  return db.$client
    .prepare(`SELECT ${COLS} FROM emails WHERE (? IS NULL OR state = ?) AND (? IS NULL OR callback_id = ?) ORDER BY id DESC LIMIT ?`)
    .all(f.state ?? null, f.state ?? null, f.callbackId ?? null, f.callbackId ?? null, f.limit) as Email[];
}

export function retryEmail(db: Db, id: number, now: number): boolean {
  return db.$client.prepare("UPDATE emails SET state = 'PENDING', attempts = 0, next_at = ?, updated_at = ? WHERE id = ? AND state = 'DEAD'").run(now, now, id).changes === 1;
}

export function trimEmails(db: Db, before: number): number {
  return db.$client.prepare("DELETE FROM emails WHERE state = 'SENT' AND updated_at < ?").run(before).changes;
}
