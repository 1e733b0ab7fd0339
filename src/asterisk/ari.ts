import type { Logger } from '../log.js';
import { ARI_EVENT_TYPES, type AriChannel } from './ari-events.js';
import { AriRest, type AriMethod, type AriRequestOptions } from './ari-rest.js';
import { AriEventSocket } from './ari-socket.js';
import { LegClaims } from './leg-claims.js';
import type { Lane } from './rest-limiter.js';

// Our own thin ARI client instead of ari-client (README: "Why not ari-client"): the event socket
// (ari-socket.ts), the REST transport (ari-rest.ts, every call with a timeout) and, here, the few
// calls callbackd makes. The event types are in ari-events.ts.

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
  /** REST calls in flight at once; the rest wait their turn (src/asterisk/rest-limiter.ts). */
  maxConcurrentRequests?: number;
  /** The longest a new call's first leg waits behind calls in progress (rest-limiter.ts). */
  newCallMaxWaitMs?: number;
  reconnect: { initialDelayMs: number; maxDelayMs: number };
  pingIntervalMs?: number;
  log: Logger;
}

export class AriClient extends AriEventSocket {
  private readonly rest: AriRest;
  /** Legs taken over from another application (claimLeg): their global is deleted when they end. */
  readonly legClaims: LegClaims;

  constructor(private readonly o: AriOptions) {
    const rest = new AriRest(o);
    super(o, rest.auth);
    this.rest = rest;
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
    return this.rest.queue;
  }

  override stop(): void {
    super.stop();
    this.rest.close();
  }

  protected opened(): void {
    void this.filterEvents();
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

  /** One REST call with a hard timeout (counted from when it is sent). 404 → null when `allow404`. */
  request<T = unknown>(method: AriMethod, path: string, opts: AriRequestOptions = {}): Promise<T | null> {
    return this.rest.request<T>(method, path, opts);
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

  /** `lane` 'new' for background looks (the stale-claims sweep): after every call already up. */
  getChannel(id: string, lane: Lane = 'urgent'): Promise<AriChannel | null> {
    return this.request<AriChannel>('GET', `/channels/${encodeURIComponent(id)}`, { allow404: true, lane });
  }

  /** Deletes a global variable (POST /asterisk/variable without a value); one not set is not an error. */
  async deleteGlobal(variable: string, lane: Lane = 'urgent'): Promise<void> {
    await this.request('POST', '/asterisk/variable', { query: { variable }, lane });
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
    return this.rest.recordingFile(name);
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
