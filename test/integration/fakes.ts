import { EventEmitter } from 'node:events';
import type { AriEvent, OriginateParams } from '../../src/asterisk/ari.js';
import type { PhonePresence } from '../../src/domain/eligibility.js';

// Fakes of our own adapters (never of ari/ami libraries): scripted Asterisk answers and presence.

export class FakeAri extends EventEmitter {
  connected = true;
  originates: OriginateParams[] = [];
  hangups: string[] = [];
  /** What originate does, per leg; default: Asterisk said yes. */
  onOriginate: (p: OriginateParams) => Promise<void> = async () => {};
  /** What GET /channels/{id} finds. */
  channels = new Map<string, { id: string; name: string; state: string }>();
  async originate(p: OriginateParams) {
    this.originates.push(p);
    await this.onOriginate(p);
    return { id: p.channelId, name: 'PJSIP/x', state: 'Down' };
  }
  async getChannel(id: string) {
    return this.channels.get(id) ?? null;
  }
  async hangup(id: string) {
    this.hangups.push(id);
  }
  async createBridge() {}
  async addToBridge() {}
  async destroyBridge() {}
  async ring() {}
  async subscribeChannel() {}
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


export const until = async (what: string, cond: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
