import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { recentFailures, signInWait, SIGN_IN_THROTTLE } from '../domain/sign-in-throttle.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import type { Logger } from '../log.js';
import type { Conn } from '../store/conn.js';
import * as dir from '../store/directory.js';
import * as people from '../store/people.js';
import { principalOf, type Principal } from './auth.js';

// People signing in to the console: passwords (scrypt), sessions (a random token in an HttpOnly
// cookie, stored as sha256, with its own CSRF token) and the roles of the API (principalOf): an
// agent whose phones are all blocked cannot sign in, and loses a live session on the next request.

const scryptAsync = promisify(scrypt) as (pw: string, salt: Buffer, len: number, opts: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;
const COST = { N: 16384, r: 8, p: 1 };
const KEYLEN = 32;
export const MIN_PASSWORD = 8;
export const SESSION_TTL_MS = 12 * 3600_000;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const b64 = (b: Buffer) => b.toString('base64url');

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, KEYLEN, { ...COST, maxmem: 64 * 1024 * 1024 });
  return ['scrypt', COST.N, COST.r, COST.p, b64(salt), b64(key)].join('$');
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  const [alg, n, r, p, salt, key] = stored.split('$');
  if (alg !== 'scrypt' || !salt || !key) return false;
  const want = Buffer.from(key, 'base64url');
  const got = await scryptAsync(password, Buffer.from(salt, 'base64url'), want.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024 });
  return timingSafeEqual(got, want);
}

// An unknown user costs the same scrypt as a known one: timing does not tell which users exist.
const DUMMY = hashPassword('not-a-password-of-anyone');

export async function setPassword(db: Conn, userId: string, password: string, now: number): Promise<void> {
  if (!await dir.getUser(db, userId)) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no user "${userId}" (add it under users: in an import file)`);
  if (password.length < MIN_PASSWORD) throw new CallbackdError(ErrorCodes.INPUT_INVALID, `a password needs at least ${MIN_PASSWORD} characters`);
  await people.setPasswordHash(db, userId, await hashPassword(password), now);
  await people.endSessionsOf(db, userId, now);
}

/** Failed sign-ins per user+address, in memory: a restart forgets them, which only helps the user. */
export class SignInFailures {
  private readonly seen = new Map<string, number[]>();
  wait(key: string, now: number): number {
    return signInWait(this.seen.get(key) ?? [], now);
  }
  fail(key: string, now: number): void {
    this.seen.set(key, [...recentFailures(this.seen.get(key) ?? [], now, SIGN_IN_THROTTLE), now]);
  }
  clear(key: string): void {
    this.seen.delete(key);
  }
}

export interface NewSession {
  token: string;
  csrf: string;
  expiresAt: number;
  principal: Principal;
}

export async function signIn(db: Conn, failures: SignInFailures, log: Logger, a: { user: string; password: string; ip: string }, now: number): Promise<NewSession> {
  const key = `${a.user}\u0000${a.ip}`;
  const wait = failures.wait(key, now);
  if (wait > 0) {
    log.warn({ user: a.user, ip: a.ip }, 'console sign-in refused: too many wrong passwords');
    throw new CallbackdError(ErrorCodes.RATE_LIMITED, `too many wrong passwords; try again in ${Math.ceil(wait / 1000)} s`, { retryAfterSeconds: Math.ceil(wait / 1000) });
  }
  const user = await dir.getUser(db, a.user);
  const stored = user ? await people.passwordHashOf(db, user.id) : undefined;
  const ok = await verifyPassword(stored ?? (await DUMMY), a.password);
  if (!user || !stored || !ok) {
    failures.fail(key, now);
    log.warn({ user: a.user, ip: a.ip }, 'console sign-in refused: wrong user or password');
    throw new CallbackdError(ErrorCodes.UNAUTHENTICATED, 'wrong user or password');
  }
  const principal = await principalOf(db, user); // FORBIDDEN for an agent with no usable phone
  failures.clear(key);
  const token = b64(randomBytes(32));
  const csrf = b64(randomBytes(24));
  const expiresAt = now + SESSION_TTL_MS;
  await people.insertSession(db, { userId: user.id, tokenHash: sha256(token), csrf, createdAt: now, expiresAt });
  await people.pruneSessions(db, now - 7 * 24 * 3600_000);
  log.info({ user: user.id, ip: a.ip, role: principal.role }, 'console sign-in');
  return { token, csrf, expiresAt, principal };
}

export interface LiveSession {
  principal: Principal;
  csrf: string;
  expiresAt: number;
}

/** The principal behind a session cookie, re-checked on every request (roles and phones may change). */
export async function sessionPrincipal(db: Conn, token: string, now: number): Promise<LiveSession> {
  const s = await people.liveSession(db, sha256(token), now);
  if (!s) throw new CallbackdError(ErrorCodes.UNAUTHENTICATED, 'your console session has ended; sign in again');
  const user = await dir.getUser(db, s.userId);
  if (!user) throw new CallbackdError(ErrorCodes.UNAUTHENTICATED, "the session's user no longer exists");
  return { principal: await principalOf(db, user), csrf: s.csrf, expiresAt: s.expiresAt };
}

export async function signOut(db: Conn, token: string, now: number): Promise<void> {
  await people.endSession(db, sha256(token), now);
}

/** Constant-time comparison of the CSRF header with the session's token. */
export function csrfMatches(expected: string, got: string | undefined): boolean {
  if (!got) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(got);
  return a.length === b.length && timingSafeEqual(a, b);
}
