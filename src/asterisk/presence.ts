import { EventEmitter } from 'node:events';
import type { PhonePresence } from '../domain/eligibility.js';
import type { Logger } from '../log.js';
import type { AmiClient, AmiMessage } from './ami.js';

// Which phones are registered and idle, from AMI. Order on every (re)connect: events are already
// flowing (Events: on at login), then we take the snapshot, then replay events that arrived during
// it, so a change racing the snapshot is never lost.

export interface PhoneState {
  endpoint: string;
  registered: boolean;
  reachable: boolean;
  contactUri: string | null;
  deviceState: string;
  changedAt: number;
  idleSince: number;
}

/**
 * The only AMI events callbackd reads. Asterisk is asked for these alone on every login: a
 * 500-call burst otherwise sent 17,000 channel, bridge and dial events (and the lab's test events)
 * that were parsed and dropped.
 */
export const PRESENCE_EVENTS = ['ContactStatus', 'DeviceStateChange'] as const;

export const BUSY_STATES = new Set(['INUSE', 'BUSY', 'RINGING', 'RINGINUSE', 'ONHOLD']);

export class Presence extends EventEmitter {
  private phones = new Map<string, PhoneState>();
  private snapshotting = false;
  private buffered: AmiMessage[] = [];
  private retries = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  ready = false;

  constructor(
    private readonly ami: AmiClient,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    super();
    ami.on('event', (e) => (this.snapshotting ? this.buffered.push(e) : this.apply(e)));
    ami.on('connected', () => {
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = null;
      void this.filterThenSnapshot();
    });
    ami.on('disconnected', () => {
      // Registrations may change while we cannot see them: trust nothing until the next snapshot.
      this.ready = false;
      this.emit('change');
    });
  }

  private entry(endpoint: string): PhoneState {
    let p = this.phones.get(endpoint);
    if (!p) {
      p = { endpoint, registered: false, reachable: true, contactUri: null, deviceState: 'UNKNOWN', changedAt: this.now(), idleSince: 0 };
      this.phones.set(endpoint, p);
    }
    return p;
  }

  private async filterThenSnapshot(): Promise<void> {
    // A refusal costs only CPU (every event is read and dropped): say so, take the snapshot anyway.
    await this.ami.onlyEvents(PRESENCE_EVENTS).catch((err: Error) => this.log.warn({ err: err.message }, 'AMI event filter not set; every event will be read'));
    await this.snapshot();
  }

  async snapshot(): Promise<void> {
    this.snapshotting = true;
    this.buffered = [];
    try {
      const [contacts, devices] = await Promise.all([
        this.ami.list({ Action: 'PJSIPShowContacts' }),
        this.ami.list({ Action: 'DeviceStateList' }),
      ]);
      const fresh = new Map<string, PhoneState>();
      const now = this.now();
      for (const c of contacts) {
        const endpoint = c.Endpoint || (c.ObjectName ?? '').split(';')[0]!;
        if (!endpoint) continue;
        const old = this.phones.get(endpoint);
        fresh.set(endpoint, {
          endpoint,
          registered: true,
          reachable: c.Status !== 'Unreachable',
          contactUri: c.Uri ?? null,
          deviceState: old?.deviceState ?? 'UNKNOWN',
          changedAt: old?.changedAt ?? now,
          idleSince: old?.idleSince ?? 0,
        });
      }
      for (const d of devices) {
        const m = /^PJSIP\/(.+)$/.exec(d.Device ?? '');
        if (!m) continue;
        const p = fresh.get(m[1]!);
        if (p) p.deviceState = d.State ?? 'UNKNOWN';
      }
      this.phones = fresh;
      for (const e of this.buffered) this.apply(e);
      this.ready = true;
      this.retries = 0;
      this.log.info({ registered: [...fresh.values()].filter((p) => p.registered).map((p) => p.endpoint) }, 'presence snapshot taken');
      this.emit('change');
    } catch (err) {
      // Measured on Asterisk 22: AMI accepts logins before every module is loaded, and for a moment
      // DeviceStateList is an "unknown command". The connection stays up, so waiting for the next
      // connect would leave presence unready (nothing dialed) for good: retry while connected.
      this.retries++;
      const delay = Math.min(10_000, 250 * 2 ** Math.min(this.retries - 1, 6));
      this.log.warn({ err: (err as Error).message, retryInMs: delay }, 'presence snapshot failed; retrying');
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        if (this.ami.connected) void this.snapshot();
      }, delay);
      this.retryTimer.unref?.();
    } finally {
      this.snapshotting = false;
      this.buffered = [];
    }
  }

  private apply(e: AmiMessage): void {
    const now = this.now();
    if (e.Event === 'ContactStatus') {
      const endpoint = e.EndpointName || (e.AOR ?? '');
      if (!endpoint) return;
      const p = this.entry(endpoint);
      switch (e.ContactStatus) {
        case 'Removed':
          p.registered = false;
          p.contactUri = null;
          break;
        case 'Unreachable':
          p.registered = true;
          p.reachable = false;
          break;
        default: // Created, Reachable, Updated, NonQualified
          p.registered = true;
          p.reachable = true;
          p.contactUri = e.URI ?? p.contactUri;
      }
      p.changedAt = now;
      this.emit('change');
    } else if (e.Event === 'DeviceStateChange') {
      const m = /^PJSIP\/(.+)$/.exec(e.Device ?? '');
      if (!m) return;
      const p = this.entry(m[1]!);
      const wasBusy = BUSY_STATES.has(p.deviceState);
      p.deviceState = e.State ?? 'UNKNOWN';
      if (wasBusy && !BUSY_STATES.has(p.deviceState)) p.idleSince = now;
      p.changedAt = now;
      this.emit('change');
    }
  }

  /** The view the pure eligibility rule needs. Unknown, unregistered or unreachable = not usable. */
  of(endpoint: string): PhonePresence | undefined {
    const p = this.phones.get(endpoint);
    if (!p || !this.ready) return undefined;
    return { registered: p.registered && p.reachable, inUse: BUSY_STATES.has(p.deviceState), idleSince: p.idleSince };
  }

  list(): PhoneState[] {
    return [...this.phones.values()].sort((a, b) => a.endpoint.localeCompare(b.endpoint));
  }
}
