import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { canSee, forbid } from '../app/auth.js';
import { callbackFacts, rowFacts } from '../app/console-facts.js';
import { dashboard } from '../app/dashboard.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import { getCallback } from '../store/callbacks.js';
import { openAttemptsOfAgent } from '../store/console-reads.js';
import { CallbackView, viewById } from '../app/callback-view.js';
import { PhoneView } from '../app/phone-view.js';
import type { ApiDeps } from './server.js';

// Small read-only routes the console needs beside the callback view: facts about the rows of a
// page (number, lead, campaign in hours), one callback's call log in words, the dashboard.

const Err = z.object({ code: z.string(), message: z.string(), details: z.unknown() });
const errors = { 400: Err, 401: Err, 403: Err, 404: Err };
const Instant = z.string().nullable();
const Attempt = z.object({
  seq: z.number(), agent: z.string().nullable(), phone: z.string().nullable(), callerId: z.string(), number: z.string(), numberPosition: z.number().nullable().describe("which of the lead's numbers (1, 2…); null before 0017"), trunk: z.string(),
  startedAt: Instant, agentRingingAt: Instant, agentAnsweredAt: Instant, customerRingingAt: Instant, customerAnsweredAt: Instant, endedAt: Instant,
  outcome: z.string().nullable(), cause: z.string().nullable().describe('Q.850 cause and SIP code in words'), talkSeconds: z.number().nullable(),
  agentAnswer: z.string().nullable().describe("the agent's answer to the accept prompt, in words; null = not asked"),
  customerChoice: z.string().nullable().describe("the customer's choice at the prompt, in words; null = not asked"),
  recording: z.object({
    url: z.string().nullable().describe("the recording's API route (GET, audio/wav) when one is stored; null = none to play"),
    note: z.string().nullable().describe('why there is no recording, why it is incomplete, or that retention deleted it'),
  }),
});
const Facts = z.object({
  lead: z.object({ id: z.string(), name: z.string().nullable(), phone: z.string().nullable(), phoneNational: z.string().nullable(), zone: z.string(), list: z.string().nullable() }),
  campaign: z.object({ id: z.string(), name: z.string(), running: z.boolean(), zone: z.string(), dialOrder: z.string(), myCallbackDefault: z.string(), windowsToday: z.array(z.object({ start: z.string(), end: z.string() })) }).nullable(),
  agentZone: z.string().nullable(),
  nextAttemptAt: Instant,
  pastDue: z.boolean(),
  attempts: z.array(Attempt),
  previous: z.array(z.object({ id: z.number(), state: z.string(), type: z.string(), dueAt: z.string(), owner: z.string().nullable(), lastOutcome: z.string().nullable(), notes: z.string().nullable() })),
});

export function consoleRoutes(d: ApiDeps) {
  return async (root: FastifyInstance) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/callbacks/facts',
      {
        schema: {
          operationId: 'listCallbackFacts', tags: ['console'],
          summary: "Facts for a page of callbacks: the lead's number and name, the campaign and whether it is in calling hours",
          querystring: z.object({ ids: z.string().max(4000).transform((s) => s.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0).slice(0, 500)) }).strict(),
          response: { 200: z.object({ items: z.array(z.object({ id: z.number(), phone: z.string().nullable(), phoneNational: z.string().nullable(), leadName: z.string().nullable(), campaignName: z.string(), campaignRunning: z.boolean() })) }), ...errors },
        },
      },
      async (req) => ({ items: await rowFacts(d.db, req.principal, req.query.ids, d.now()) }),
    );
    app.get(
      '/callbacks/:id/facts',
      {
        schema: {
          operationId: 'getCallbackFacts', tags: ['console'],
          summary: "One callback's lead, campaign (in hours, today's windows), call log in words and the lead's other callbacks",
          params: z.object({ id: z.coerce.number().int().positive() }),
          response: { 200: Facts, ...errors },
        },
      },
      async (req) => {
        const cb = await getCallback(d.db, req.params.id);
        if (!cb || !canSee(req.principal, cb)) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no callback ${req.params.id}`);
        return await callbackFacts(d.db, cb, d.now());
      },
    );
    app.get(
      '/me/ringing',
      {
        schema: {
          operationId: 'listMyRinging', tags: ['console'],
          summary: "The screen pop: callbacks callbackd is ringing (or has connected) on the agent's phone now, with the lead's facts",
          response: { 200: z.object({ items: z.array(z.object({ callback: CallbackView, facts: Facts, startedAt: z.string(), answered: z.boolean() })) }), ...errors },
        },
      },
      async (req) => {
        const p = req.principal;
        if (!p.agentId) forbid('this user is not an agent');
        const now = d.now();
        const items = [];
        for (const a of await openAttemptsOfAgent(d.db, p.agentId)) {
          const cb = await getCallback(d.db, a.callbackId);
          if (cb) items.push({ callback: await viewById(d.db, cb.id, now), facts: await callbackFacts(d.db, cb, now), startedAt: new Date(a.startedAt).toISOString(), answered: a.agentAnsweredAt !== null });
        }
        return { items };
      },
    );
    app.get(
      '/dashboard',
      {
        schema: {
          operationId: 'getDashboard', tags: ['console'],
          summary: 'Supervisor dashboard: phones and why not rung, callbacks by state, lateness, outcomes per hour, trunks, Asterisk links',
          querystring: z.object({ from: z.string().datetime({ offset: true }), to: z.string().datetime({ offset: true }) }).strict(),
          response: {
            200: z.object({
              links: z.object({ ari: z.boolean(), ami: z.boolean(), presence: z.boolean() }),
              phones: z.array(PhoneView),
              byState: z.array(z.object({ state: z.string(), n: z.number() })),
              lateness: z.array(z.object({ le: z.string(), count: z.number() })),
              outcomesPerHour: z.array(z.object({ hour: z.string(), outcomes: z.record(z.number()) })),
              trunks: z.array(z.object({ id: z.string(), inUse: z.number(), maxChannels: z.number() })),
            }),
            ...errors,
          },
        },
      },
      async (req) => {
        if (req.principal.role === 'agent') forbid('the dashboard is for managers and admins');
        return dashboard(d.db, req.principal, { from: Date.parse(req.query.from), to: Date.parse(req.query.to) }, d.ready());
      },
    );
  };
}
