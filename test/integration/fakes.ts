import { vi } from 'vitest';
import { EventEmitter } from 'node:events';
import type { OriginateParams } from '../../src/asterisk/ari.js';
import type { AriEvent } from '../../src/asterisk/ari-events.js';
import type { PhonePresence } from '../../src/domain/eligibility.js';

// Fakes of our own adapters (never of ari/ami libraries): scripted Asterisk answers and presence.

export class FakeAri extends EventEmitter {
  connected = true;
  originates: OriginateParams[] = [];
  hangups: string[] = [];
  /** What originate does, per leg; default: Asterisk said yes. */
  onOriginate: (p: OriginateParams) => Promise<void> = async () => {};
  /** What GET /channels/{id} finds. */
  channels = new Map<string, { id: string; name: string; state: string; dialplan?: { context: string; exten: string; priority: number; app_name?: string } }>();
  async originate(p: OriginateParams) {
    this.originates.push(p);
    await this.onOriginate(p);
    return { id: p.channelId, name: 'PJSIP/x', state: 'Down' };
  }
  async getChannel(id: string) {
    return this.channels.get(id) ?? null;
  }
  /** What the hold dialplan recorded per channel (AstDB); taking it deletes it, as Asterisk does. */
  legRecords = new Map<string, string>();
  async takeLegRecord(id: string) {
    const r = this.legRecords.get(id) ?? null;
    this.legRecords.delete(id);
    return r;
  }
  /** As Asterisk does: a hung-up channel's ChannelDestroyed may arrive before the DELETE returns. */
  destroyOnHangup = false;
  async hangup(id: string) {
    this.hangups.push(id);
    const ch = this.channels.get(id);
    if (this.destroyOnHangup && ch) {
      this.channels.delete(id);
      this.event({ type: 'ChannelDestroyed', channel: ch, cause: 16 });
      await new Promise((r) => setImmediate(r));
    }
  }
  async createBridge() {}
  async addToBridge() {}
  async destroyBridge() {}
  async ring() {}
  async stopMoh() {}
  async subscribeChannel() {}
  async claimLeg(_channelId: string) {}
  event(e: AriEvent) {
    this.emit('event', e);
  }
}

export class FakePresence extends EventEmitter {
  ready = true;
  /** Endpoints not listed here are registered and idle. */
  phones = new Map<string, PhonePresence>();
  of(endpoint: string): PhonePresence {
    return this.phones.get(endpoint) ?? { registered: true, inUse: false, idleSince: 0 };
  }
}

/** The real setTimeout, taken before any test fakes the clock. */
const realSetTimeout = globalThis.setTimeout;

/**
 * Waits for `cond`. Under vi.useFakeTimers() it moves the fake clock instead of sleeping, so a
 * test of something that waits for time (a retry after 1 s, a grace period) takes no real time.
 * Each fake step also lets 1 ms really pass: on PostgreSQL the store's answers come over a socket,
 * and a loop of fake steps alone would spend `ms` of fake time before the first one arrived.
 */
export const until = async (what: string, cond: () => boolean | Promise<boolean>, ms = 2000) => {
  const fake = vi.isFakeTimers();
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    if (fake) {
      await vi.advanceTimersByTimeAsync(10);
      await new Promise((r) => realSetTimeout(r, 1));
    } else await new Promise((r) => setTimeout(r, 10));
  }
};

/** Lets `ms` pass: on the fake clock when faked, else really. */
export const pass = async (ms: number) => {
  if (vi.isFakeTimers()) await vi.advanceTimersByTimeAsync(ms);
  else await new Promise((r) => setTimeout(r, ms));
};
