import WebSocket from 'ws';
import { CallbackdError, ErrorCodes } from '../errors.js';
import type { Logger } from '../log.js';
import { AsteriskLink } from './link.js';
import { RestLimiter, type Lane } from './rest-limiter.js';
import { KeepAliveHttp } from './ari-http.js';
import { LegClaims } from './leg-claims.js';

// Our own thin ARI client instead of ari-client (README: "Why not ari-client"). Guarantees:
// every REST call has a timeout; the event socket reconnects forever with capped backoff;
// a wrong password is a reported error, never an uncaught exception; dead sockets are found by ping.

export interface AriChannel {
  id: string;
  name: string;
  state: string;
  caller?: { name: string; number: string };
  connected?: { name: string; number: string };
  /** Where the channel is in the dialplan; app_name 'Stasis' = in an ARI application. */
  dialplan?: { context: string; exten: string; priority: number; app_name?: string; app_data?: string };
}

/**
 * The ARI event types callbackd reads; Asterisk is asked to send only these (eventFilter, set on
 * every connect). With the app subscribed to every channel, a 500-call burst brought 40,700 events
 * (26 MB of JSON, half of them ChannelVarset) of which these are 4,500: parsing and dispatching
 * the rest cost the daemon CPU and garbage, and Asterisk the serialising. AriEvent.type is this
 * union, so a handler testing a type not listed here does not compile: add it here first.
 */
export const ARI_EVENT_TYPES = [
  'StasisStart', // a leg answered and entered the app (dialer/session.ts)
  'StasisEnd', // a bridged call outliving its session (scheduler hangupOrphan)
  'ChannelStateChange', // Ringing (session), a late leg of a settled attempt (scheduler)
  'ChannelDestroyed', // a leg ended, with its cause (session, call prompts, scheduler)
  'ChannelDtmfReceived', // the customer's or agent's choice (dialer/call-prompts.ts)
  'PlaybackFinished', // a prompt's end (dialer/call-prompts.ts)
  'RecordingFailed', // (dialer/recording.ts)
  'RecordingFinished',
] as const;
export type AriEventType = (typeof ARI_EVENT_TYPES)[number];

export interface AriEvent {
  type: AriEventType;
  application?: string;
  timestamp?: string;
  channel?: AriChannel;
  cause?: number;
  cause_txt?: string;
  tech_cause?: number;
  args?: string[];
  [k: string]: unknown;
}

/** The channel a playback event is about (its target_uri is channel:<id>); events carry no channel of their own. */
export function playbackChannel(e: AriEvent): string | undefined {
  const uri = (e.playback as { target_uri?: string } | undefined)?.target_uri;
  return uri?.startsWith('channel:') ? uri.slice('channel:'.length) : undefined;
}

/** The context of dialplan/callbackd-hold.conf that every leg is originated into. */
export const HOLD_CONTEXT = 'callbackd-hold';

export interface OriginateParams {
  channelId: string;
  endpoint: string;
  callerId: string;
  timeoutSec: number;
  appArgs: string;
  variables?: Record<string, string>;
  /** 'new' for the first leg of a call: it waits while work for calls already up is queued. */
  lane?: Lane;
  /**
   * Asked when the request leaves the queue (it may have waited there, under a burst, for seconds):
   * false = not sent, LEASE_LOST (the call's lease may have lapsed; a peer may be placing it).
   */
  stillOurs?: () => boolean;
}

export interface AriOptions {
  url: string;
  username: string;
  password: string;
  app: string;
  requestTimeoutMs: number;
  /** REST calls in flight at once; the rest wait their turn (see request()). */
  maxConcurrentRequests?: number;
  reconnect: { initialDelayMs: number; maxDelayMs: number };
  pingIntervalMs?: number;
  log: Logger;
}

/** Refusals with 404 tolerated while Asterisk starts (about 7 s with the default backoff: 0.5, 1, 2, 4 s) before it is logged as an error. */
const ARI_START_404_TRIES = 5;

export class AriHttpError extends CallbackdError {
  constructor(readonly status: number, readonly method: string, readonly path: string, message: string) {
    super(status === 401 ? ErrorCodes.ARI_AUTH : ErrorCodes.ARI_HTTP, message, { status });
  }
}

export class AriClient extends AsteriskLink<AriEvent> {
  private ws: WebSocket | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private awaitingPong = false;
  private readonly auth: string;
  private readonly base: URL;
  private readonly limiter: RestLimiter;
  private readonly http: KeepAliveHttp;
  /** Legs taken over from another application (claimLeg): their global is deleted when they end. */
  readonly legClaims: LegClaims;

  constructor(private readonly o: AriOptions) {
    super(o.reconnect);
    this.auth = 'Basic ' + Buffer.from(`${o.username}:${o.password}`).toString('base64');
    this.base = new URL(o.url);
    this.limiter = new RestLimiter(o.maxConcurrentRequests ?? 8);
    this.http = new KeepAliveHttp(this.base.protocol === 'https:', this.limiter.max);
    this.legClaims = new LegClaims({
      setGlobal: async (variable, value) => void (await this.request('POST', '/asterisk/variable', { query: { variable, value } })),
      channelExists: async (id) => (await this.getChannel(id)) !== null,
      log: o.log,
    }, o.app);
    this.on('event', (e) => {
      if (e.type === 'ChannelDestroyed' && e.channel) this.legClaims.ended(e.channel.id);
    });
    this.on('connected', () => void this.legClaims.recheck());
  }

  /** REST calls waiting for a slot now, and the most ever (src/asterisk/rest-limiter.ts). */
  get restQueue(): { now: number; peak: number } {
    return { now: this.limiter.queued, peak: this.limiter.peakQueued };
  }

  stop(): void {
    this.stopped = true;
    this.retry.cancel();
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    this.ws?.removeAllListeners();
    this.ws?.on('error', () => {});
    this.ws?.terminate();
    this.ws = null;
    this.connected = false;
    this.http.close();
  }

  protected connect(): void {
    if (this.stopped) return;
    const u = new URL('/ari/events', this.base);
    u.protocol = this.base.protocol === 'https:' ? 'wss:' : 'ws:';
    u.searchParams.set('app', this.o.app);
    // Legs are originated into the hold dialplan, not into the app, so the app is not subscribed to
    // them from their creation; subscribing after the originate would miss a leg refused at once.
    u.searchParams.set('subscribeAll', 'true');
    const ws = new WebSocket(u, { headers: { Authorization: this.auth }, handshakeTimeout: this.o.requestTimeoutMs });
    this.ws = ws;
    let opened = false;
    let refused = false; // Asterisk answered with an HTTP error; already reported
    ws.on('open', () => {
      opened = true;
      if (this.retry.failures > 0 || this.reconnects > 0) this.o.log.info({ url: this.o.url }, 'ARI connected again');
      else this.o.log.info({ url: this.o.url, app: this.o.app }, 'ARI connected');
      this.retry.succeeded();
      this.connected = true;
      this.awaitingPong = false;
      this.pingTimer = setInterval(() => this.ping(), this.o.pingIntervalMs ?? 5000);
      void this.filterEvents();
      this.emit('connected');
    });
    ws.on('pong', () => (this.awaitingPong = false));
    ws.on('message', (data) => {
      let ev: AriEvent;
      try {
        ev = JSON.parse(data.toString()) as AriEvent;
      } catch {
        this.o.log.warn('ARI sent a message that is not JSON; ignored');
        return;
      }
      this.emit('event', ev);
    });
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      refused = true;
      if (status === 401) {
        this.emit(
          'authFailed',
          new CallbackdError(
            ErrorCodes.ARI_AUTH,
            `ARI at ${this.o.url} rejected user "${this.o.username}" (HTTP 401): check ari.username and ari.password / CALLBACKD_ARI_PASSWORD against ari.conf`,
          ),
        );
      } else if (status === 503 || (status === 404 && this.retry.failures < ARI_START_404_TRIES)) {
        // Seen on Asterisk restarts: HTTP is up a moment before ARI is (503), or before res_ari has
        // registered its routes (404, seen on the lab now and then). Only a 404 that lasts is an admin's problem.
        this.o.log.warn({ status }, `ARI not ready yet (HTTP ${status} while Asterisk starts); will retry`);
      } else {
        this.o.log.error({ status }, `ARI event socket refused with HTTP ${status} (is the Stasis app name "${this.o.app}" valid and res_ari loaded?)`);
      }
      ws.terminate();
    });
    ws.on('error', (err) => {
      if (this.stopped || refused) return; // our own shutdown, or a refusal already reported
      if (!opened) this.o.log.warn({ url: this.o.url, err: err.message, attempt: this.retry.failures + 1 }, 'ARI not reachable; will retry');
      else this.o.log.warn({ err: err.message }, 'ARI socket error');
    });
    ws.on('close', () => {
      if (this.pingTimer) clearInterval(this.pingTimer);
      this.pingTimer = null;
      const wasConnected = this.connected;
      this.connected = false;
      if (this.ws === ws) this.ws = null;
      if (wasConnected) {
        this.reconnects++;
        this.o.log.warn('ARI connection lost; reconnecting');
        this.emit('disconnected');
      }
      this.scheduleReconnect();
    });
  }

  /**
   * Asks Asterisk to send this app only ARI_EVENT_TYPES. Kept per app by Asterisk, set again on
   * every connect (a restarted Asterisk forgets it). An Asterisk without event filters (before
   * 13.26/16.3) refuses: everything still works, at the cost of reading every event.
   */
  private async filterEvents(): Promise<void> {
    try {
      await this.request('PUT', `/applications/${encodeURIComponent(this.o.app)}/eventFilter`, { body: { allowed: ARI_EVENT_TYPES.map((type) => ({ type })) } });
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'ARI event filter not set; every event of every channel will be read');
    }
  }

  private ping(): void {
    if (!this.ws) return;
    if (this.awaitingPong) {
      // No pong for a whole interval: the TCP connection is dead even if the kernel has not said so.
      this.o.log.warn('ARI did not answer a ping; dropping the connection');
      this.ws.terminate();
      return;
    }
    this.awaitingPong = true;
    try {
      this.ws.ping();
    } catch {
      this.ws.terminate();
    }
  }

  /** One REST call with a hard timeout (counted from when it is sent). 404 → null when `allow404`. */
  async request<T = unknown>(
    method: 'GET' | 'POST' | 'DELETE' | 'PUT',
    path: string,
    opts: { query?: Record<string, string | number | undefined>; body?: unknown; allow404?: boolean; timeoutMs?: number; lane?: Lane; stillOurs?: () => boolean } = {},
  ): Promise<T | null> {
    return this.limiter.run(opts.lane ?? 'urgent', () => {
      if (opts.stillOurs && !opts.stillOurs()) throw new CallbackdError(ErrorCodes.LEASE_LOST, `ARI ${method} ${path} not sent: the call's lease may have lapsed`);
      return this.send<T>(method, path, opts);
    });
  }

  private async send<T>(
    method: 'GET' | 'POST' | 'DELETE' | 'PUT',
    path: string,
    opts: { query?: Record<string, string | number | undefined>; body?: unknown; allow404?: boolean; timeoutMs?: number },
  ): Promise<T | null> {
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

  // --- the few calls callbackd makes -------------------------------------------------------

  /**
   * Creates a channel with our own id. When answered it runs dialplan/callbackd-hold.conf, which
   * enters our Stasis app with `appArgs`, or holds the caller while we are away (a channel sent
   * straight into an app that is not connected is hung up by Asterisk).
   */
  async originate(p: OriginateParams): Promise<AriChannel> {
    const variables = { ...p.variables, CALLBACKD_APP: this.o.app, CALLBACKD_ARGS: p.appArgs };
    return (await this.request<AriChannel>('POST', `/channels/${encodeURIComponent(p.channelId)}`, {
      query: { endpoint: p.endpoint, context: HOLD_CONTEXT, extension: 'leg', priority: 1, callerId: p.callerId, timeout: p.timeoutSec },
      body: { variables },
      lane: p.lane ?? 'urgent',
      stillOurs: p.stillOurs,
    }))!;
  }

  /**
   * What the hold dialplan recorded about a leg (answered, held, apologised, ended; epoch
   * seconds), read and deleted (global CBD_<id>). Null when nothing was recorded (not held).
   */
  async takeLegRecord(channelId: string): Promise<string | null> {
    const variable = `CBD_${channelId}`;
    const r = await this.request<{ value: string }>('GET', '/asterisk/variable', { query: { variable }, allow404: true });
    if (!r?.value) return null;
    await this.request('POST', '/asterisk/variable', { query: { variable } }); // no value: unset
    return r.value;
  }

  getChannel(id: string): Promise<AriChannel | null> {
    return this.request<AriChannel>('GET', `/channels/${encodeURIComponent(id)}`, { allow404: true });
  }

  /** Hangs up; a channel that is already gone is not an error. */
  async hangup(id: string, reason = 'normal'): Promise<void> {
    await this.request('DELETE', `/channels/${encodeURIComponent(id)}`, { query: { reason }, allow404: true });
  }

  async createBridge(id: string): Promise<void> {
    await this.request('POST', `/bridges/${encodeURIComponent(id)}`, { query: { type: 'mixing', name: id } });
  }

  async addToBridge(bridgeId: string, channelId: string): Promise<void> {
    await this.request('POST', `/bridges/${encodeURIComponent(bridgeId)}/addChannel`, { query: { channel: channelId } });
  }

  async destroyBridge(id: string): Promise<void> {
    await this.request('DELETE', `/bridges/${encodeURIComponent(id)}`, { allow404: true });
  }

  async ring(channelId: string, on: boolean): Promise<void> {
    await this.request(on ? 'POST' : 'DELETE', `/channels/${encodeURIComponent(channelId)}/ring`, { allow404: true });
  }

  /** Stops music on hold (started by the hold dialplan); a no-op on a channel without it. */
  async stopMoh(channelId: string): Promise<void> {
    await this.request('DELETE', `/channels/${encodeURIComponent(channelId)}/moh`, { allow404: true });
  }

  /**
   * Plays media (ARI media URIs: sound:, digits:, number:, characters:) to one channel, in order,
   * as playback `playbackId`. Its end comes as PlaybackFinished (see playbackChannel).
   */
  async play(channelId: string, playbackId: string, media: readonly string[]): Promise<void> {
    await this.request('POST', `/channels/${encodeURIComponent(channelId)}/play/${encodeURIComponent(playbackId)}`, { query: { media: media.join(',') } });
  }

  /** Stops a playback; one already finished is not an error. */
  async stopPlayback(playbackId: string): Promise<void> {
    await this.request('DELETE', `/playbacks/${encodeURIComponent(playbackId)}`, { allow404: true });
  }

  /**
   * Records everything said in a bridge into the stored recording `name` (.wav, in Asterisk's
   * recording dir). The recording ends when the bridge does, or at stopRecording.
   */
  async recordBridge(bridgeId: string, name: string): Promise<void> {
    await this.request('POST', `/bridges/${encodeURIComponent(bridgeId)}/record`, {
      query: { name, format: 'wav', ifExists: 'fail', beep: 'false', terminateOn: 'none' },
    });
  }

  /** Stops a live recording (kept as a stored one); one already finished is not an error. */
  async stopRecording(name: string): Promise<void> {
    await this.request('POST', `/recordings/live/${encodeURIComponent(name)}/stop`, { allow404: true });
  }

  /** Deletes a stored recording; one already gone is not an error. */
  async deleteStoredRecording(name: string): Promise<void> {
    await this.request('DELETE', `/recordings/stored/${encodeURIComponent(name)}`, { allow404: true });
  }

  /** A stored recording's file as a streaming response, or null when Asterisk has no such recording. */
  async storedRecordingFile(name: string): Promise<Response | null> {
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

  /**
   * Points a leg placed by another daemon (another ARI application) at ours: once answered, or on its
   * next try from hold, the hold dialplan enters Stasis by the global CBDAPP_<id> instead of the
   * channel's CALLBACKD_APP. A global, because a channel that is not in Stasis cannot have its
   * variables set through ARI. A no-op in effect after our own restart. The global is deleted when
   * the leg ends (src/asterisk/leg-claims.ts).
   */
  async claimLeg(channelId: string): Promise<void> {
    await this.legClaims.claim(channelId);
  }

  /** Re-attaches our app to a channel it lost track of (after a restart or reconnect). */
  async subscribeChannel(channelId: string): Promise<void> {
    await this.request('POST', `/applications/${encodeURIComponent(this.o.app)}/subscription`, {
      query: { eventSource: `channel:${channelId}` },
      allow404: true,
    });
  }
}
