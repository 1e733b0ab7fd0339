import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { forbid } from '../app/auth.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import { listEmails, retryEmail } from '../store/emails.js';
import type { ApiDeps } from './server.js';

// The callback emails (README "Events, webhooks, email, reports"): what was sent, what is being
// retried and why, what was given up; admins can send a given-up one again.

import { ApiError as Err } from './openapi.js';
const errors = { 400: Err, 401: Err, 403: Err, 404: Err };
const EmailView = z.object({
  id: z.number(),
  eventId: z.number(),
  callbackId: z.number(),
  agentId: z.string(),
  toAddress: z.string(),
  subject: z.string(),
  state: z.enum(['PENDING', 'SENT', 'DEAD']),
  attempts: z.number(),
  nextAt: z.number(),
  lastError: z.string().nullable(),
  createdAt: z.number(),
  sentAt: z.number().nullable(),
});

export function emailRoutes(d: ApiDeps) {
  return async (root: FastifyInstance) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    app.addHook('preHandler', async (req) => {
      if (req.principal.role !== 'admin') forbid('the email log is for admins');
    });
    app.get(
      '/emails',
      {
        schema: {
          operationId: 'listEmails',
          tags: ['events'],
          summary: 'Callback emails, newest first: sent, pending (with the last error) or given up (admin)',
          querystring: z.object({ state: z.enum(['PENDING', 'SENT', 'DEAD']).optional(), callback: z.coerce.number().int().positive().optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict(),
          response: { 200: z.object({ items: z.array(EmailView) }), ...errors },
        },
      },
      async (req) => ({ items: (await listEmails(d.db, { state: req.query.state, callbackId: req.query.callback, limit: req.query.limit })).map(({ body: _b, updatedAt: _u, ...m }) => m) }),
    );
    app.post(
      '/emails/:id/retry',
      { schema: { operationId: 'retryEmail', tags: ['events'], summary: 'Send a given-up email again (admin)', params: z.object({ id: z.coerce.number().int().positive() }), response: { 200: z.object({ requeued: z.boolean() }), ...errors } } },
      async (req) => {
        if (!await retryEmail(d.db, req.params.id, d.now())) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no given-up email ${req.params.id}`);
        d.nudge();
        return { requeued: true };
      },
    );
  };
}
