import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './api-types';

// The one API client: typed from /openapi.json (generated at build time). The session cookie goes
// along by itself; every change carries the session's CSRF token.

let csrf: string | null = null;
export const setCsrf = (t: string | null) => {
  csrf = t;
};

const withCsrf: Middleware = {
  onRequest({ request }) {
    if (csrf && request.method !== 'GET' && request.method !== 'HEAD') request.headers.set('X-CSRF-Token', csrf);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(withCsrf);

export interface ApiError {
  code: string;
  message: string;
  details?: unknown;
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiError,
  ) {
    super(body.message);
  }
}

/** The data of a successful answer, or an ApiFailure carrying the API's own message. */
export async function ok<T>(p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const r = await p;
  if (r.error !== undefined || r.data === undefined) {
    const e = (r.error ?? {}) as Partial<ApiError>;
    throw new ApiFailure(r.response.status, { code: e.code ?? String(r.response.status), message: e.message ?? r.response.statusText, details: e.details });
  }
  return r.data;
}
