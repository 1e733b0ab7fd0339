import { CallbackdError, ErrorCodes } from '../errors.js';
import { KeepAliveHttp } from './ari-http.js';
import { RestLimiter, type Lane } from './rest-limiter.js';

// The ARI client's REST transport: every call bounded in flight (rest-limiter.ts, two lanes), with
// a hard timeout, over kept-alive connections (ari-http.ts); failures become callbackd's errors.

export type AriMethod = 'GET' | 'POST' | 'DELETE' | 'PUT';

export interface AriRequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** 404 → null instead of an error. */
  allow404?: boolean;
  timeoutMs?: number;
  lane?: Lane;
  /** Asked when the request leaves the queue: false = not sent, LEASE_LOST. */
  stillOurs?: () => boolean;
}

export interface AriRestOptions {
  url: string;
  username: string;
  password: string;
  requestTimeoutMs: number;
  /** REST calls in flight at once; the rest wait their turn. */
  maxConcurrentRequests?: number;
  /** The longest a new call's first leg waits behind calls in progress (rest-limiter.ts NEW_MAX_WAIT_MS). */
  newCallMaxWaitMs?: number;
}

export class AriHttpError extends CallbackdError {
  constructor(readonly status: number, readonly method: string, readonly path: string, message: string) {
    super(status === 401 ? ErrorCodes.ARI_AUTH : ErrorCodes.ARI_HTTP, message, { status });
  }
}

export class AriRest {
  readonly auth: string;
  readonly base: URL;
  private readonly limiter: RestLimiter;
  private readonly http: KeepAliveHttp;

  constructor(private readonly o: AriRestOptions) {
    this.auth = 'Basic ' + Buffer.from(`${o.username}:${o.password}`).toString('base64');
    this.base = new URL(o.url);
    this.limiter = new RestLimiter(o.maxConcurrentRequests ?? 8, Date.now, o.newCallMaxWaitMs);
    this.http = new KeepAliveHttp(this.base.protocol === 'https:', this.limiter.max);
  }

  /** REST calls waiting for a slot now, and the most ever (src/asterisk/rest-limiter.ts). */
  get queue(): { now: number; peak: number } {
    return { now: this.limiter.queued, peak: this.limiter.peakQueued };
  }

  close(): void {
    this.http.close();
  }

  /** One REST call with a hard timeout (counted from when it is sent). 404 → null when `allow404`. */
  async request<T = unknown>(method: AriMethod, path: string, opts: AriRequestOptions = {}): Promise<T | null> {
    return this.limiter.run(opts.lane ?? 'urgent', () => {
      if (opts.stillOurs && !opts.stillOurs()) throw new CallbackdError(ErrorCodes.LEASE_LOST, `ARI ${method} ${path} not sent: the call's lease may have lapsed`);
      return this.send<T>(method, path, opts);
    });
  }

  private async send<T>(method: AriMethod, path: string, opts: AriRequestOptions): Promise<T | null> {
    const u = new URL(`/ari${path}`, this.base);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    const timeoutMs = opts.timeoutMs ?? this.o.requestTimeoutMs;
    let res: { status: number; statusText: string; text: string };
    try {
      const headers: Record<string, string> = { Authorization: this.auth, ...(opts.body ? { 'Content-Type': 'application/json' } : {}) };
      res = await this.http.request(method, u, headers, opts.body ? JSON.stringify(opts.body) : undefined, timeoutMs);
    } catch (err) {
      const e = err as Error;
      if (e.name === 'TimeoutError') throw new CallbackdError(ErrorCodes.ARI_TIMEOUT, `ARI ${method} ${path} got no answer within ${timeoutMs} ms`);
      throw new CallbackdError(ErrorCodes.ARI_UNREACHABLE, `ARI ${method} ${path} failed: ${e.message}`);
    }
    const text = res.text;
    if (res.status === 404 && opts.allow404) return null;
    if (res.status < 200 || res.status > 299) {
      let msg = text;
      try {
        msg = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        /* plain text */
      }
      throw new AriHttpError(res.status, method, path, `ARI ${method} ${path} → HTTP ${res.status}: ${msg || res.statusText}`);
    }
    return text ? (JSON.parse(text) as T) : (null as T | null);
  }

  /** A stored recording's file as a streaming response, or null when Asterisk has no such recording. */
  async recordingFile(name: string): Promise<Response | null> {
    const u = new URL(`/ari/recordings/stored/${encodeURIComponent(name)}/file`, this.base);
    let res: Response;
    try {
      res = await fetch(u, { headers: { Authorization: this.auth }, signal: AbortSignal.timeout(this.o.requestTimeoutMs * 6) });
    } catch (err) {
      throw new CallbackdError(ErrorCodes.ARI_UNREACHABLE, `ARI GET recording file failed: ${(err as Error).message}`);
    }
    if (res.status === 404) return null;
    if (!res.ok) throw new AriHttpError(res.status, 'GET', `/recordings/stored/${name}/file`, `ARI GET recording file → HTTP ${res.status}`);
    return res;
  }
}
