import { readFileSync } from 'node:fs';
import { CallbackdError, ErrorCodes, messageOf, type ErrorCode } from '../errors.js';

// The CLI talks to the running daemon's API when it has a token (CALLBACKD_TOKEN, or a file named
// by CALLBACKD_TOKEN_FILE): the change is checked against the caller's role and wakes the scheduler
// at once. Without a token, or when the daemon is down, admin commands use the database directly.

export interface Remote {
  url: string;
  token: string;
}

export function remoteFromEnv(env: NodeJS.ProcessEnv = process.env): Remote | null {
  let token = env.CALLBACKD_TOKEN?.trim();
  if (!token && env.CALLBACKD_TOKEN_FILE) {
    try {
      token = readFileSync(env.CALLBACKD_TOKEN_FILE, 'utf8').trim();
    } catch (err) {
      throw new CallbackdError(ErrorCodes.CONFIG_INVALID, `CALLBACKD_TOKEN_FILE: cannot read ${env.CALLBACKD_TOKEN_FILE}: ${messageOf(err)}`);
    }
  }
  if (!token) return null;
  return { url: (env.CALLBACKD_API ?? 'http://127.0.0.1:8580').replace(/\/+$/, ''), token };
}

class Unreachable extends Error {}

export async function callApi<T>(r: Remote, method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(r.url + path, {
      method,
      headers: { authorization: `Bearer ${r.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw new Unreachable(`${r.url}: ${messageOf((err as { cause?: unknown }).cause ?? err)}`);
  }
  const json = (await res.json().catch(() => ({}))) as { code?: string; message?: string; details?: unknown };
  if (!res.ok) throw new CallbackdError((json.code as ErrorCode) ?? ErrorCodes.INPUT_INVALID, `${json.message ?? `HTTP ${res.status}`} (API ${res.status})`, json.details);
  return json as T;
}

/** Through the API when possible; the database when there is no token or the daemon is down. */
export async function viaApiOr<T>(remote: Remote | null, api: (r: Remote) => Promise<T>, db: () => T | Promise<T>): Promise<{ via: 'api' | 'db'; value: T }> {
  if (!remote) return { via: 'db', value: await db() };
  try {
    return { via: 'api', value: await api(remote) };
  } catch (err) {
    if (!(err instanceof Unreachable)) throw err;
    console.error(`callbackd: the daemon's API is not reachable (${err.message}); using the database directly`);
    return { via: 'db', value: await db() };
  }
}
