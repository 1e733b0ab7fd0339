import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { aiContextOf } from '../app/ai-context-view.js';
import { CONTEXT_PATH, verifyContext } from '../domain/ai-context.js';
import type { ApiDeps } from './deps.js';

// GET /ai/context/{id}?exp=…&sig=…: the callback's context for the AI voice agent it was sent to
// (README "AI voice agents"). No token: the signed URL from the INVITE's X-Callbackd-Context-Url is
// the credential. A bad, tampered or expired signature answers 403 and a good one for a callback
// that is gone 404, both with a bare body: nothing tells a guesser which part was wrong. Without a
// secret configured every request answers 404.

export const AI_CONTEXT_ROUTE = `${CONTEXT_PATH}/:id`;

const Refused = z.object({ code: z.string() });
const AiContext = z.object({
  callback: z.object({
    id: z.number(), campaign: z.string(), campaignName: z.string().nullable(), type: z.enum(['USERONLY', 'ANYONE']), owner: z.string().nullable(),
    state: z.string(), dueAt: z.string(), attempts: z.number(), maxAttempts: z.number(),
  }),
  lead: z.object({
    id: z.string(), firstName: z.string().nullable(), lastName: z.string().nullable(), phone: z.string(),
    phones: z.array(z.object({ position: z.number(), number: z.string(), label: z.string() })),
  }),
  notes: z.string().nullable(),
  context: z.string().nullable().describe("the booking's transcript or context, as stored"),
});

export function aiContextRoutes(d: ApiDeps) {
  return async (root: FastifyInstance) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    app.get(
      AI_CONTEXT_ROUTE,
      {
        schema: {
          operationId: 'getAiContext', tags: ['ai'],
          summary: "A callback's context for the AI voice agent rung for it (signed URL, no token)",
          description: 'The URL comes in the INVITE header X-Callbackd-Context-Url; it is signed for one callback and expires shortly after the ring.',
          // Strings, checked by hand: a malformed query is refused like a tampered one (403), not explained (400).
          params: z.object({ id: z.string() }),
          querystring: z.object({ exp: z.unknown().optional().describe('expiry, epoch seconds'), sig: z.unknown().optional().describe('HMAC-SHA256, hex') }),
          response: { 200: AiContext, 403: Refused, 404: Refused },
        },
      },
      async (req, reply) => {
        // Cached nowhere: the context holds personal data and the URL is short-lived.
        reply.header('cache-control', 'no-store');
        const secret = d.aiContextSecret;
        if (!secret) return reply.status(404).send({ code: 'NOT_FOUND' }); // AI agents not set up (config ai)
        const id = /^[1-9][0-9]{0,15}$/.test(req.params.id) ? Number(req.params.id) : NaN;
        const { exp: e, sig } = req.query; // a repeated parameter arrives as an array: refused below
        const exp = typeof e === 'string' && /^[0-9]{1,12}$/.test(e) ? Number(e) : NaN;
        if (typeof sig !== 'string' || !verifyContext(secret, id, exp, sig, Math.floor(d.now() / 1000))) {
          return reply.status(403).send({ code: 'FORBIDDEN' });
        }
        const view = await aiContextOf(d.db, id);
        if (!view) return reply.status(404).send({ code: 'NOT_FOUND' });
        return view;
      },
    );
  };
}
