import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { canSee, type Principal } from '../app/auth.js';
import type { EventHub } from '../events/hub.js';
import { eventPayload } from '../events/payload.js';
import { EVENT_TYPES, eventsAfter, type OutboxEvent } from '../store/events.js';
import type { ApiDeps } from './server.js';
import { ApiError } from './openapi.js';

// GET /events: the outbox as Server-Sent Events. Replays from the outbox after Last-Event-ID (or
// ?after=), then follows the hub. Every event is filtered with the same visibility rule as
// GET /callbacks (canSee). Heartbeats carry the stream's position as an `id:` with no data, so a
// client whose events are all filtered out still resumes from where it was.

export interface EventRouteDeps extends ApiDeps {
  hub: EventHub;
  heartbeatMs: number;
}

/** A stream that falls this far behind (a stalled client) is closed; it resumes from the outbox. */
const MAX_BUFFERED = 4 * 1024 * 1024;
const PAGE = 500;

const frame = (e: OutboxEvent) => `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(eventPayload(e))}\n\n`;

function visibleTo(p: Principal, types: Set<string> | null) {
  return (e: OutboxEvent) =>
    (types === null || types.has(e.type)) && canSee(p, { campaignId: e.campaignId, type: e.callbackType, ownerAgentId: e.ownerAgentId });
}

const drained = (res: ServerResponse) => new Promise<void>((resolve) => {
  const done = () => {
    res.off('drain', done);
    res.off('close', done);
    resolve();
  };
  res.once('drain', done);
  res.once('close', done);
});

export function eventRoutes(d: EventRouteDeps) {
  return async (root: FastifyInstance) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const open = new Set<ServerResponse>();
    // A stream never ends by itself: end them so that close() (daemon stop) does not wait forever.
    app.addHook('preClose', async () => {
      for (const res of open) res.end();
    });

    app.get(
      '/events',
      {
        schema: {
          operationId: 'streamEvents', tags: ['events'],
          summary: 'Server-Sent Events: every change you may see (README "Events, webhooks, email, reports"); resumable with Last-Event-ID',
          querystring: z
            .object({
              after: z.coerce.number().int().min(0).optional().describe('replay events after this id (the Last-Event-ID header wins)'),
              types: z.string().optional().describe('comma-separated event types; default all'),
            })
            .strict(),
          headers: z.object({ 'last-event-id': z.string().regex(/^\d+$/).optional() }).passthrough(),
          produces: ['text/event-stream'], response: { 200: z.string().describe('`id:`, `event:` and `data:` lines, a heartbeat comment between'), 400: ApiError, 401: ApiError, 403: ApiError },
        },
      },
      async (req, reply) => {
        const types = req.query.types ? new Set(req.query.types.split(',').map((t) => t.trim()).filter((t) => (EVENT_TYPES as readonly string[]).includes(t))) : null;
        const visible = visibleTo(req.principal, types);
        const header = req.headers['last-event-id'];
        let sent = header !== undefined ? Number(header) : (req.query.after ?? d.hub.position);

        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
        res.write(`retry: 2000\n: position ${sent}\n\n`);
        open.add(res);
        let closed = false;
        let unsubscribe = () => {};
        const heartbeat = setInterval(() => res.write(`: ping\nid: ${sent}\n\n`), d.heartbeatMs);
        res.on('close', () => {
          closed = true;
          open.delete(res);
          clearInterval(heartbeat);
          unsubscribe();
        });

        const write = (batch: OutboxEvent[]): boolean => {
          let ok = true;
          for (const e of batch) {
            if (e.id <= sent) continue;
            sent = e.id;
            if (visible(e)) ok = res.write(frame(e));
          }
          return ok;
        };

        // Replay what was missed, waiting for the client to take it; then follow the hub. The
        // last (empty) read and subscribe() run in one tick, so no event falls between them.
        for (;;) {
          if (closed) return;
          const page = await eventsAfter(d.db, sent, PAGE);
          if (page.length === 0) break;
          if (!write(page)) await drained(res);
        }
        unsubscribe = d.hub.subscribe((batch) => {
          write(batch);
          if (res.writableLength > MAX_BUFFERED) {
            req.log.warn({ user: req.principal.userId, at: sent }, 'event stream client too slow; closing it (it resumes from Last-Event-ID)');
            res.destroy();
          }
        });
      },
    );
  };
}
