import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { forbid } from '../app/auth.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import { EVENT_TYPES } from '../store/events.js';
import * as store from '../store/webhooks.js';
import type { ApiDeps } from './server.js';

// Webhook endpoints (admin only): create (the secret is shown once), change, delete, and see each
// endpoint's deliveries, dead-lettered ones included, and send a dead one again.

import { ApiError as Err } from './openapi.js';
const errors = { 400: Err, 401: Err, 403: Err, 404: Err };
const Url = z
  .string()
  .url()
  .max(2000)
  .refine((u) => /^https?:\/\//i.test(u), 'must be an http:// or https:// URL');
const Types = z.array(z.enum(EVENT_TYPES)).max(EVENT_TYPES.length).describe('event types to send; empty or absent = all');
const WebhookView = z.object({
  id: z.number(),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string().nullable(),
  enabled: z.boolean(),
  cursor: z.number().describe('the last event id queued for this endpoint'),
  createdAt: z.number(),
  updatedAt: z.number(),
});
const DeliveryView = z.object({
  id: z.number(),
  eventId: z.number(),
  eventType: z.string(),
  callbackId: z.number(),
  state: z.enum(['PENDING', 'DELIVERED', 'DEAD']),
  attempts: z.number(),
  nextAt: z.number(),
  lastStatus: z.number().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
const Params = z.object({ id: z.coerce.number().int().positive() });

const newSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

export function webhookRoutes(d: ApiDeps) {
  return async (root: FastifyInstance) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const { db } = d;
    app.addHook('preHandler', async (req) => {
      if (req.principal.role !== 'admin') forbid('webhooks are managed by admins');
    });
    const one = async (id: number) => {
      const w = await store.getWebhook(db, id);
      if (!w) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no webhook ${id}`);
      return w;
    };
    const Counts = z.object({ pending: z.number(), delivered: z.number(), dead: z.number() });

    app.get('/webhooks', { schema: { operationId: 'listWebhooks', tags: ['events'], summary: 'Webhook endpoints, with their delivery counts (admin)', response: { 200: z.object({ items: z.array(WebhookView.extend({ deliveries: Counts })) }), ...errors } } }, async () => ({
      items: await Promise.all((await store.listWebhooks(db)).map(async (w) => ({ ...store.withoutSecret(w), deliveries: await store.deliveryCounts(db, w.id) }))),
    }));

    app.post(
      '/webhooks',
      {
        schema: {
          operationId: 'addWebhook', tags: ['events'],
          summary: 'Add a webhook endpoint; it receives events from now on, signed with the secret returned once (admin)',
          body: z.object({ url: Url, events: Types.optional(), secret: z.string().min(16).max(200).optional(), description: z.string().max(500).nullable().optional() }).strict(),
          response: { 201: z.object({ webhook: WebhookView, secret: z.string() }), ...errors },
        },
      },
      async (req, reply) => {
        const w = await store.createWebhook(db, { url: req.body.url, events: req.body.events ?? [], secret: req.body.secret ?? newSecret(), description: req.body.description ?? null }, d.now());
        req.log.info({ webhook: w.id, url: w.url }, 'webhook added');
        return reply.status(201).send({ webhook: store.withoutSecret(w), secret: w.secret });
      },
    );

    app.get('/webhooks/:id', { schema: { operationId: 'getWebhook', tags: ['events'], summary: 'One webhook endpoint and its delivery counts (admin)', params: Params, response: { 200: WebhookView.extend({ deliveries: Counts }), ...errors } } }, async (req) => ({
      ...store.withoutSecret(await one(req.params.id)),
      deliveries: await store.deliveryCounts(db, req.params.id),
    }));

    app.patch(
      '/webhooks/:id',
      {
        schema: {
          operationId: 'editWebhook', tags: ['events'],
          summary: 'Change an endpoint: url, events, enabled, description, or rotate the secret (admin)',
          params: Params,
          body: z.object({ url: Url.optional(), events: Types.optional(), enabled: z.boolean().optional(), description: z.string().max(500).nullable().optional(), rotateSecret: z.boolean().optional() }).strict(),
          response: { 200: z.object({ webhook: WebhookView, secret: z.string().nullable() }), ...errors },
        },
      },
      async (req) => {
        await one(req.params.id);
        const { rotateSecret, ...rest } = req.body;
        const secret = rotateSecret ? newSecret() : undefined;
        const w = (await store.updateWebhook(db, req.params.id, { ...rest, secret }, d.now()))!;
        d.nudge();
        return { webhook: store.withoutSecret(w), secret: secret ?? null };
      },
    );

    app.delete('/webhooks/:id', { schema: { operationId: 'deleteWebhook', tags: ['events'], summary: 'Remove an endpoint and its deliveries (admin)', params: Params, response: { 200: z.object({ deleted: z.boolean() }), ...errors } } }, async (req) => {
      await one(req.params.id);
      return { deleted: await store.deleteWebhook(db, req.params.id) };
    });

    app.get(
      '/webhooks/:id/deliveries',
      {
        schema: {
          operationId: 'listWebhookDeliveries', tags: ['events'],
          summary: "An endpoint's deliveries, newest first; state=DEAD lists the dead-lettered (admin)",
          params: Params,
          querystring: z.object({ state: z.enum(['PENDING', 'DELIVERED', 'DEAD']).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict(),
          response: { 200: z.object({ items: z.array(DeliveryView) }), ...errors },
        },
      },
      async (req) => {
        await one(req.params.id);
        return { items: (await store.listDeliveries(db, req.params.id, req.query.state, req.query.limit)).map(({ payload: _p, webhookId: _w, ...x }) => x) };
      },
    );

    app.post(
      '/webhooks/:id/deliveries/:deliveryId/retry',
      {
        schema: {
          operationId: 'retryWebhookDelivery', tags: ['events'],
          summary: 'Send a dead-lettered delivery again, with a fresh retry budget (admin)',
          params: Params.extend({ deliveryId: z.coerce.number().int().positive() }),
          response: { 200: z.object({ requeued: z.boolean() }), ...errors },
        },
      },
      async (req) => {
        await one(req.params.id);
        const ok = await store.retryDelivery(db, req.params.id, req.params.deliveryId, d.now());
        if (!ok) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no dead delivery ${req.params.deliveryId} for webhook ${req.params.id}`);
        d.nudge();
        return { requeued: true };
      },
    );
  };
}
