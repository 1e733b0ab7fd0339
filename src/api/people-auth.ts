import type { FastifyRequest } from 'fastify';
import { authenticate, type Principal } from '../app/auth.js';
import { csrfMatches, sessionPrincipal } from '../app/people.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import type { Conn } from '../store/conn.js';

// Who is asking: a program with a bearer token, or a person with the console's session cookie.
// A change made with the cookie must carry the session's CSRF token in X-CSRF-Token: another site
// can make the browser send the cookie, but cannot read the token (SameSite=Strict is the first
// fence, this is the second). Bearer requests need none: a browser never adds them by itself.

export const SESSION_COOKIE = 'cbd_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export async function principalOfRequest(db: Conn, req: FastifyRequest, now: number): Promise<Principal> {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ')) return await authenticate(db, h.slice(7).trim(), now);
  const cookie = req.cookies?.[SESSION_COOKIE];
  if (!cookie) return await authenticate(db, undefined, now); // the usual 401 saying how to authenticate
  const s = await sessionPrincipal(db, cookie, now);
  if (!SAFE.has(req.method)) {
    const sent = req.headers[CSRF_HEADER];
    if (!csrfMatches(s.csrf, typeof sent === 'string' ? sent : undefined)) {
      throw new CallbackdError(ErrorCodes.FORBIDDEN, 'a change made with the console session needs its CSRF token in the X-CSRF-Token header (GET /session gives it)');
    }
  }
  return s.principal;
}
