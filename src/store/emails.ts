import { sql, type SQL } from 'drizzle-orm';
import type { Conn } from './conn.js';
import { all, first, op, run, transaction } from './engine.js';
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
// Quoted aliases: PostgreSQL folds unquoted ones to lower case.
const COLS = sql.raw(`id, event_id AS "eventId", callback_id AS "callbackId", agent_id AS "agentId", to_address AS "toAddress", subject, body, state,
  attempts, next_at AS "nextAt", last_error AS "lastError", created_at AS "createdAt", updated_at AS "updatedAt", sent_at AS "sentAt"`);

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

export const liveContext = op('liveContext', async (db: Conn, callbackId: number): Promise<LiveContext | undefined> => {
  const r = first(
    await all<Omit<LiveContext, 'emailWhenLive'> & { emailWhenLive: number }>(
      db,
      sql`SELECT c.id AS "callbackId", c.state, c.type, c.due_at AS "dueAt", c.due_zone AS "dueZone", c.notes, l.id AS "leadId", l.first_name AS "firstName",
         l.last_name AS "lastName", l.phone_e164 AS phone, k.id AS "campaignId", k.name AS "campaignName", k.time_zone AS "campaignZone",
         k.email_when_live AS "emailWhenLive", a.id AS "agentId", a.name AS "agentName", a.email AS "agentEmail", a.time_zone AS "agentZone"
       FROM callbacks c JOIN leads l ON l.id = c.lead_id JOIN campaigns k ON k.id = c.campaign_id LEFT JOIN agents a ON a.id = c.owner_agent_id
       WHERE c.id = ${callbackId}`,
    ),
  );
  return r && { ...r, emailWhenLive: r.emailWhenLive === 1 };
});

/**
 * Reads the outbox past the email cursor and queues the emails `draft` asks for. A first run
 * starts at the newest event: enabling email does not mail the past. The drafts are made before
 * the page's transaction (they read the store themselves, with the root connection); the inserts
 * and the cursor's move are one transaction, and an event already queued is not queued twice.
 */
export const queueEmails = op(
  'queueEmails',
  async (db: Conn, draft: (e: OutboxEvent) => Promise<EmailDraft | null> | EmailDraft | null, now: number, page: number = 500): Promise<number> => {
    let cursor = await getCursor(db, 'email');
    if (cursor === undefined) {
      await setCursor(db, 'email', await lastEventId(db));
      return 0;
    }
    let queued = 0;
    for (;;) {
      const batch = await eventsAfter(db, cursor, page);
      if (batch.length === 0) break;
      const last = batch[batch.length - 1]!.id;
      const drafts: [OutboxEvent, EmailDraft][] = [];
      for (const e of batch) {
        const m = await draft(e);
        if (m) drafts.push([e, m]);
      }
      queued += await transaction(db, async (tx) => {
        let n = 0;
        for (const [e, m] of drafts) {
          n += await run(
            tx,
            sql`INSERT INTO emails (event_id, callback_id, agent_id, to_address, subject, body, next_at, created_at, updated_at)
                VALUES (${e.id}, ${m.callbackId}, ${m.agentId}, ${m.toAddress}, ${m.subject}, ${m.body}, ${now}, ${now}, ${now})
                ON CONFLICT (event_id) DO NOTHING`,
          );
        }
        await setCursor(tx, 'email', last);
        return n;
      });
      cursor = last;
      if (batch.length < page) break;
    }
    return queued;
  },
);

export const dueEmails = op('dueEmails', async (db: Conn, now: number, limit: number, inFlight: Set<number>): Promise<Email[]> => {
  const rows = await all<Email>(db, sql`SELECT ${COLS} FROM emails WHERE state = 'PENDING' AND next_at <= ${now} ORDER BY next_at, id LIMIT ${limit + inFlight.size}`);
  return rows.filter((r) => !inFlight.has(r.id)).slice(0, limit);
});

export const nextEmailAt = op('nextEmailAt', async (db: Conn): Promise<number | null> => {
  const r = first(await all<{ t: number | null }>(db, sql`SELECT min(next_at) AS t FROM emails WHERE state = 'PENDING'`));
  return r?.t ?? null;
});

export const markSent = op('markSent', async (db: Conn, id: number, now: number): Promise<void> => {
  await run(db, sql`UPDATE emails SET state = 'SENT', attempts = attempts + 1, last_error = NULL, sent_at = ${now}, updated_at = ${now} WHERE id = ${id} AND state = 'PENDING'`);
});

/** A failed try: retried at `retryAt`, or DEAD when null. */
export const markEmailFailed = op('markEmailFailed', async (db: Conn, id: number, error: string, retryAt: number | null, now: number): Promise<void> => {
  const next = retryAt === null ? sql`state = 'DEAD'` : sql`state = 'PENDING', next_at = ${retryAt}`;
  await run(db, sql`UPDATE emails SET attempts = attempts + 1, last_error = ${error.slice(0, 500)}, updated_at = ${now}, ${next} WHERE id = ${id} AND state = 'PENDING'`);
});

export const listEmails = op('listEmails', async (db: Conn, f: { state?: Email['state']; callbackId?: number; limit: number }): Promise<Email[]> => {
  const where: SQL[] = [sql`true`];
  if (f.state !== undefined) where.push(sql`state = ${f.state}`);
  if (f.callbackId !== undefined) where.push(sql`callback_id = ${f.callbackId}`);
  return (await all<Email>(db, sql`SELECT ${COLS} FROM emails WHERE ${sql.join(where, sql` AND `)} ORDER BY id DESC LIMIT ${f.limit}`));
});

export const retryEmail = op('retryEmail', async (db: Conn, id: number, now: number): Promise<boolean> =>
  (await run(db, sql`UPDATE emails SET state = 'PENDING', attempts = 0, next_at = ${now}, updated_at = ${now} WHERE id = ${id} AND state = 'DEAD'`)) === 1,
);

export const trimEmails = op('trimEmails', async (db: Conn, before: number): Promise<number> =>
  run(db, sql`DELETE FROM emails WHERE state = 'SENT' AND updated_at < ${before}`),
);
