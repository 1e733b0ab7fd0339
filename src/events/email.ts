import nodemailer from 'nodemailer';
import { backoffMs } from '../domain/retry.js';
import type { Logger } from '../log.js';
import type { Conn } from '../store/conn.js';
import { dueEmails, liveContext, markEmailFailed, markSent, nextEmailAt, queueEmails, type Email, type EmailDraft } from '../store/emails.js';
import type { OutboxEvent } from '../store/events.js';
import { DeliveryLoop } from './delivery-loop.js';
import { DEFAULT_TEMPLATE, renderEmail } from './email-template.js';

// VICIdial's "Send Callbacks Email": when a USERONLY callback of a campaign with email_when_live
// goes LIVE (from ACTIVE: not again after each retry), its owner gets one email, sent through
// SMTP with retries. Queued from the outbox, so it is neither lost nor doubled by a restart
// (one email per event id), and sent on its own loop, never in the scheduler's.

export interface SmtpConfig {
  host: string;
  port: number;
  secure: boolean;
  requireTLS: boolean;
  ignoreTLS: boolean;
  username?: string | undefined;
  password?: string | undefined;
  from: string;
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  concurrency: number;
  idleMs: number;
  consoleUrl: string;
  subject?: string | undefined;
  body?: string | undefined;
}

/** The email a LIVE event calls for, or null. */
export async function draftFor(db: Conn, e: OutboxEvent, cfg: Pick<SmtpConfig, 'consoleUrl' | 'subject' | 'body'>): Promise<EmailDraft | null> {
  if (e.type !== 'callback.live' || e.data.from !== 'ACTIVE' || e.callbackType !== 'USERONLY') return null;
  const c = await liveContext(db, e.callbackId);
  // Read after the fact: a callback already dialed to the end, or moved to someone else, is not mailed.
  if (!c || !c.emailWhenLive || c.type !== 'USERONLY' || !c.agentId || !c.agentEmail || !['LIVE', 'DIALING'].includes(c.state)) return null;
  const m = renderEmail({ subject: cfg.subject ?? DEFAULT_TEMPLATE.subject, body: cfg.body ?? DEFAULT_TEMPLATE.body }, c, cfg.consoleUrl);
  return { callbackId: c.callbackId, agentId: c.agentId, toAddress: c.agentEmail, ...m };
}

export function emailLoop(o: { db: Conn; log: Logger; now: () => number; config: SmtpConfig; random?: () => number }): DeliveryLoop<Email> & { close(): void } {
  const { db, log, now, config } = o;
  const random = o.random ?? Math.random;
  const transport = nodemailer.createTransport({
    host: config.host,
    port: config.port,
    secure: config.secure,
    requireTLS: config.requireTLS,
    ignoreTLS: config.ignoreTLS,
    auth: config.username ? { user: config.username, pass: config.password ?? '' } : undefined,
    connectionTimeout: config.timeoutMs,
    greetingTimeout: config.timeoutMs,
    socketTimeout: config.timeoutMs,
  });

  const send = async (m: Email): Promise<void> => {
    try {
      await transport.sendMail({
        from: config.from,
        to: m.toAddress,
        subject: m.subject,
        text: m.body,
        messageId: `<callback-${m.callbackId}.event-${m.eventId}@callbackd>`,
        headers: { 'X-Callbackd-Callback': String(m.callbackId), 'X-Callbackd-Event-Id': String(m.eventId) },
      });
      await markSent(db, m.id, now());
      log.info({ email: m.id, callback: m.callbackId, agent: m.agentId }, 'callback email sent');
    } catch (err) {
      const tries = m.attempts + 1;
      const retryAt = tries >= config.maxAttempts ? null : now() + backoffMs(config.retryBaseMs / 1000, tries - 1, config.retryMaxMs / 1000, random);
      const why = (err as Error).message;
      await markEmailFailed(db, m.id, why, retryAt, now());
      log.warn({ email: m.id, callback: m.callbackId, agent: m.agentId, attempt: tries, error: why }, retryAt ? 'callback email not sent; will retry' : `callback email not sent after ${tries} tries; given up`);
    }
  };

  const loop = new DeliveryLoop<Email>({
    name: 'email',
    log,
    now,
    concurrency: config.concurrency,
    idleMs: config.idleMs,
    prepare: async (t) => {
      await queueEmails(db, async (e) => await draftFor(db, e, config), t);
    },
    due: async (t, limit, inFlight) => await dueEmails(db, t, limit, inFlight),
    nextAt: async () => await nextEmailAt(db),
    send,
  });
  return Object.assign(loop, { close: () => transport.close() });
}
