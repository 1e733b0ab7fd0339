import { backoffMs } from '../domain/retry.js';
import type { Logger } from '../log.js';
import type { Conn } from '../store/conn.js';
import { dueDeliveries, getWebhook, markDelivered, markFailed, nextDeliveryAt, queueDeliveries, type Delivery } from '../store/webhooks.js';
import { DeliveryLoop } from './delivery-loop.js';
import { eventPayload } from './payload.js';
import { sign } from './signature.js';

// Webhooks: at-least-once POSTs of outbox events to admin-configured endpoints. The receiver
// de-duplicates by Callbackd-Event-Id (the same for every retry of an event).

export interface WebhookConfig {
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  concurrency: number;
  /** At most this many in flight per endpoint, so one slow endpoint cannot hold every slot. */
  perEndpoint: number;
  idleMs: number;
}

export function webhookLoop(o: { db: Conn; log: Logger; now: () => number; config: WebhookConfig; random?: () => number }): DeliveryLoop<Delivery> {
  const { db, log, now, config } = o;
  const random = o.random ?? Math.random;

  const fail = async (job: Delivery, url: string, status: number | null, error: string) => {
    const tries = job.attempts + 1;
    const retryAt = tries >= config.maxAttempts ? null : now() + backoffMs(config.retryBaseMs / 1000, tries - 1, config.retryMaxMs / 1000, random);
    await markFailed(db, job.id, status, error, retryAt, now());
    log.warn({ webhook: job.webhookId, url, event: job.eventId, attempt: tries, status, error, retryAt: retryAt && new Date(retryAt).toISOString() }, retryAt ? 'webhook delivery failed; will retry' : `webhook delivery failed ${tries} times; dead-lettered`);
  };

  const busy = new Map<number, number>(); // webhook id → deliveries in flight
  const take = async (t: number, limit: number, inFlight: Set<number>) => {
    const picked: Delivery[] = [];
    for (const d of await dueDeliveries(db, t, limit * 4, inFlight)) {
      const n = busy.get(d.webhookId) ?? 0;
      if (n >= config.perEndpoint || picked.length >= limit) continue;
      busy.set(d.webhookId, n + 1);
      picked.push(d);
    }
    return picked;
  };

  const send = async (job: Delivery): Promise<void> => {
    try {
      await post(job);
    } finally {
      busy.set(job.webhookId, (busy.get(job.webhookId) ?? 1) - 1);
    }
  };

  const post = async (job: Delivery): Promise<void> => {
    const w = await getWebhook(db, job.webhookId);
    if (!w) return; // deleted meanwhile (its deliveries went with it)
    const ts = Math.floor(now() / 1000);
    try {
      const res = await fetch(w.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(config.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'callbackd-webhooks/1',
          'callbackd-event-id': String(job.eventId),
          'callbackd-event-type': job.eventType,
          'callbackd-delivery-attempt': String(job.attempts + 1),
          'callbackd-timestamp': String(ts),
          'callbackd-signature': sign(w.secret, ts, job.payload),
        },
        body: job.payload,
      });
      await res.body?.cancel().catch(() => {});
      if (res.status >= 200 && res.status < 300) await markDelivered(db, job.id, res.status, now());
      else await fail(job, w.url, res.status, `HTTP ${res.status}`);
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = e.name === 'TimeoutError' ? `no answer within ${config.timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
      await fail(job, w.url, null, why);
    }
  };

  return new DeliveryLoop<Delivery>({
    name: 'webhooks',
    log,
    now,
    concurrency: config.concurrency,
    idleMs: config.idleMs,
    prepare: async (t) => {
      await queueDeliveries(db, (e) => JSON.stringify(eventPayload(e)), t);
    },
    due: take,
    nextAt: async () => await nextDeliveryAt(db),
    send,
  });
}
