import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { sessionPrincipal, signIn, signOut, SignInFailures } from '../app/people.js';
import type { Principal } from '../app/auth.js';
import { ErrorCodes, isCode } from '../errors.js';
import type { ApiDeps } from './server.js';
import { SESSION_COOKIE } from './people-auth.js';

// Sign-in for people: POST /sign-in sets an HttpOnly, SameSite=Strict cookie with an expiry;
// GET /session says who is signed in and gives the CSRF token; POST /sign-out ends the session.

export const PEOPLE_PUBLIC = ['/sign-in'];

const Err = z.object({ code: z.string(), message: z.string(), details: z.unknown() });
export const SessionView = z.object({
  user: z.string(),
  role: z.enum(['agent', 'manager', 'admin']),
  agentId: z.string().nullable(),
  campaigns: z.array(z.string()),
  leadModify: z.boolean(),
  csrf: z.string().nullable().describe('send it back in X-CSRF-Token on every change made with the cookie; null for bearer tokens'),
  expiresAt: z.string().nullable(),
});

const sessionView = (p: Principal, csrf: string | null, expiresAt: number | null): z.infer<typeof SessionView> => ({
  user: p.userId,
  role: p.role,
  agentId: p.agentId,
  campaigns: p.campaigns,
  leadModify: p.leadModify,
  csrf,
  expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
});

function setCookie(req: FastifyRequest, reply: FastifyReply, value: string, expires: Date) {
  reply.setCookie(SESSION_COOKIE, value, { httpOnly: true, sameSite: 'strict', path: '/', expires, secure: req.protocol === 'https' });
}

export async function cookieSupport(app: FastifyInstance): Promise<void> {
  await app.register(fastifyCookie);
}

export function peopleRoutes(d: ApiDeps) {
  const failures = new SignInFailures();
  return async (root: FastifyInstance) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    app.post(
      '/sign-in',
      {
        schema: {
          operationId: 'signIn', tags: ['console'],
          summary: 'Sign a person in to the console (sets the session cookie)',
          security: [],
          body: z.object({ user: z.string().min(1).max(64), password: z.string().min(1).max(1024) }).strict(),
          response: { 200: SessionView, 400: Err, 401: Err, 403: Err, 429: Err },
        },
      },
      async (req, reply) => {
        const now = d.now();
        const s = await signIn(d.db, failures, d.log, { user: req.body.user, password: req.body.password, ip: req.ip }, now).catch((err: unknown) => {
          if (isCode(err, ErrorCodes.RATE_LIMITED)) reply.header('retry-after', String((err.details as { retryAfterSeconds: number }).retryAfterSeconds));
          throw err;
        });
        setCookie(req, reply, s.token, new Date(s.expiresAt));
        return sessionView(s.principal, s.csrf, s.expiresAt);
      },
    );
    app.get(
      '/session',
      { schema: { operationId: 'getSession', tags: ['console'], summary: 'Who is signed in (cookie or token), with the CSRF token of a cookie session', response: { 200: SessionView, 401: Err, 403: Err } } },
      async (req) => {
        const cookie = req.headers.authorization ? undefined : req.cookies[SESSION_COOKIE];
        if (!cookie) return sessionView(req.principal, null, null);
        const s = await sessionPrincipal(d.db, cookie, d.now());
        return sessionView(s.principal, s.csrf, s.expiresAt);
      },
    );
    app.post(
      '/sign-out',
      { schema: { operationId: 'signOut', tags: ['console'], summary: 'End the console session', response: { 200: z.object({ signedOut: z.boolean() }), 401: Err, 403: Err } } },
      async (req, reply) => {
        const cookie = req.cookies[SESSION_COOKIE];
        if (cookie) await signOut(d.db, cookie, d.now());
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return { signedOut: Boolean(cookie) };
      },
    );
  };
}
