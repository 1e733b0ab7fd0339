import { once } from 'node:events';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { forbid, scopeOf } from '../app/auth.js';
import { callbacksCsv } from '../app/export.js';
import { callbackReport } from '../app/report.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import { CALLBACK_STATES } from '../store/schema.js';
import type { ApiDeps } from './deps.js';
import { ApiError } from './openapi.js';
import { csv, instant, listingFilters } from './query-params.js';

// Reports and export: promise-keeping per campaign / agent / day, and any callbacks listing as a
// streamed CSV file.

const errors = { 400: ApiError, 401: ApiError, 403: ApiError };
const ReportRowView = z.object({
  campaign: z.string().nullable(),
  agent: z.string().nullable().describe("the owner, else the agent of the first attempt; '' for an ANYONE callback never dialed"),
  day: z.string().nullable().describe("the due day on the campaign's clock"),
  booked: z.number(),
  dialed: z.number(),
  keptOnTime: z.number().describe('first customer leg dialed within onTimeSec of the due time or of the calling window opening'),
  completed: z.number(),
  noAnswer: z.number(),
  busy: z.number(),
  failed: z.number(),
  cancelled: z.number(),
  open: z.number(),
  medianLatenessSec: z.number().nullable(),
});
const DAY = 86_400_000;

export function reportRoutes(d: ApiDeps) {
  return async (root: FastifyInstance) => {
    const app = root.withTypeProvider<ZodTypeProvider>();

    app.get(
      '/reports/callbacks',
      {
        schema: {
          operationId: 'reportCallbacks',
          tags: ['callbacks'],
          summary: 'Promises kept: per campaign, agent and due day, booked / dialed / kept on time / outcomes and median lateness (managers, admins)',
          querystring: z
            .object({
              from: instant.optional().describe('due at or after; default 7 days ago'),
              to: instant.optional().describe('due before; default now'),
              campaign: csv,
              agent: csv,
              by: z
                .string()
                .default('campaign,agent,day')
                .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
                .pipe(z.array(z.enum(['campaign', 'agent', 'day'])))
                .describe('group by any of campaign, agent, day'),
              onTimeSec: z.coerce.number().int().min(0).max(86_400).default(60),
            })
            .strict(),
          response: { 200: z.object({ from: z.string(), to: z.string(), onTimeSec: z.number(), items: z.array(ReportRowView) }), ...errors },
        },
      },
      async (req) => {
        if (req.principal.role === 'agent') forbid('reports are for managers and admins');
        const to = req.query.to ?? d.now();
        const from = req.query.from ?? to - 7 * DAY;
        if (from >= to) throw new CallbackdError(ErrorCodes.INPUT_INVALID, 'from must be before to');
        const items = await callbackReport(d.db, { scope: scopeOf(req.principal), from, to, campaign: req.query.campaign, agent: req.query.agent, by: req.query.by, onTimeSec: req.query.onTimeSec });
        return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), onTimeSec: req.query.onTimeSec, items };
      },
    );

    app.get(
      '/export/callbacks.csv',
      {
        schema: {
          operationId: 'exportCallbacksCsv',
          tags: ['callbacks'],
          summary: 'Any callbacks listing (the filters of GET /callbacks) as CSV, streamed: the columns of the callback view',
          querystring: z
            .object({
              ...listingFilters,
            })
            .strict(),
          produces: ['text/csv'],
          response: { 200: z.string().describe('RFC 4180 CSV with a header row'), ...errors },
        },
      },
      async (req, reply) => {
        const q = req.query;
        const bad = q.state?.find((s) => !(CALLBACK_STATES as readonly string[]).includes(s.toUpperCase()));
        if (bad) throw new CallbackdError(ErrorCodes.INPUT_INVALID, `state "${bad}" is not one of ${CALLBACK_STATES.join(', ')}`);
        const rows = callbacksCsv(d.db, { ...q, scope: scopeOf(req.principal), state: q.state?.map((s) => s.toUpperCase()) }, d.now);
        // Written by hand, one page at a time: wait for the client to take each page (backpressure)
        // and let the event loop breathe between pages, so a million rows never sit in memory and
        // never hold up the daemon's other work for more than one page.
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="callbacks.csv"', 'cache-control': 'no-store' });
        try {
          for await (const chunk of rows) {
            if (res.destroyed) return; // the client went away
            if (!res.write(chunk)) await once(res, 'drain');
            else await new Promise((r) => setImmediate(r));
          }
          res.end();
        } catch (err) {
          req.log.warn({ err: (err as Error).message }, 'CSV export cut short');
          res.destroy();
        }
      },
    );
  };
}
