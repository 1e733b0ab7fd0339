import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AriClient } from '../../../src/asterisk/ari.js';
import type { Presence } from '../../../src/asterisk/presence.js';
import { REJECT_COOLDOWN_MS } from '../../../src/domain/call-prompts.js';
import { TrunkLimiter } from '../../../src/dialer/trunk-limits.js';
import { Scheduler } from '../../../src/scheduler/scheduler.js';
import { auditOf } from '../../../src/store/audit.js';
import * as store from '../../../src/store/callbacks.js';
import { getCampaign } from '../../../src/store/directory.js';
import YAML from 'yaml';
import { parseImport } from '../../../src/import.js';
import { cleanupEngines, type TestEngine } from '../engine.js';
import { importedEngine } from '../fixture.js';
import { FakeAri, FakePresence, until } from '../fakes.js';

// The prompts' endings that the lab run (test/e2e/whisper.e2e.test.ts) does not script: a leg hung
// up mid-prompt, the accept timeout, and what the import takes. Against a fake of our ARI client
// that "plays" each item at once (PlaybackFinished right away).

class PromptAri extends FakeAri {
  plays: { channelId: string; media: readonly string[] }[] = [];
  async play(channelId: string, playbackId: string, media: readonly string[]) {
    this.plays.push({ channelId, media });
    setImmediate(() => this.event({ type: 'PlaybackFinished', playback: { id: playbackId, target_uri: `channel:${channelId}` } }));
  }
  async stopPlayback() {}
}

const FILE = {
  trunks: [{ id: 'carrier' }],
  numbers: [{ number: '+15550100001', trunk: 'carrier' }],
  campaigns: [
    { id: 'W', name: 'W', time_zone: 'UTC', outbound_number: '+15550100001', whisper: 'digits', agent_accept: true, accept_timeout_seconds: 2 },
    { id: 'C', name: 'C', time_zone: 'UTC', outbound_number: '+15550100001', customer_choice: 'on' },
  ],
  lists: [{ id: 'LW', campaign: 'W' }, { id: 'LC', campaign: 'C' }],
  agents: [{ id: 'a1', name: 'A', campaigns: ['W', 'C'] }],
  phones: [{ endpoint: 'agent1001', agent: 'a1' }],
  leads: [
    { id: 'w', list: 'LW', phone: '+15551230001' },
    { id: 'c', list: 'LC', phone: '+15551230002' },
  ],
};

let db: TestEngine;
let ari: PromptAri;
let sched: Scheduler;
const log = pino({ level: process.env.TEST_LOG ?? 'silent' });

beforeEach(async () => {
  db = await importedEngine(FILE, Date.now());
  ari = new PromptAri();
  sched = new Scheduler({
    db,
    ari: ari as unknown as AriClient,
    presence: new FakePresence() as unknown as Presence,
    limiter: new TrunkLimiter(),
    log,
    owner: 'test',
    leaseMs: 60_000,
    backstopPollMs: 60_000,
    externalWriteCheckMs: 50,
    agentRetryDelayMs: 60_000,
    confirm: { tries: 3, delayMs: 20 },
  });
  sched.start();
  ari.emit('connected');
});
afterEach(async () => {
  await sched.stop(0);
  await cleanupEngines();
});

const book = async (lead: 'w' | 'c') => {
  const id = await store.insertCallback(db, { leadId: lead, campaignId: lead === 'w' ? 'W' : 'C', type: 'USERONLY', ownerAgentId: 'a1', dueAt: Date.now(), dueZone: 'UTC', maxAttempts: 3, notes: null }, Date.now());
  sched.nudge();
  return id;
};
const attempt = async (id: number) => (await store.attemptsOf(db, id))[0]!;
const up = (channelId: string) => ari.event({ type: 'StasisStart', channel: { id: channelId, name: 'PJSIP/x', state: 'Up' } });
const gone = (channelId: string) => ari.event({ type: 'ChannelDestroyed', channel: { id: channelId, name: 'PJSIP/x', state: 'Up' }, cause: 16 });

describe('the import takes the prompt options', () => {
  it('stores them (a YAML true is on), defaults the rest, and refuses a value it does not know', async () => {
    expect(await getCampaign(db, 'W')).toMatchObject({ whisper: 'digits', agentAccept: 'on', acceptTimeoutSeconds: 2, customerChoice: 'off', snoozeMinutes: 15 });
    expect(await getCampaign(db, 'C')).toMatchObject({ whisper: 'off', agentAccept: 'off', acceptTimeoutSeconds: 8, customerChoice: 'on' });
    const bad = { campaigns: [{ id: 'X', name: 'X', time_zone: 'UTC', whisper: 'loud', snooze_minutes: 0 }] };
    expect(() => parseImport(YAML.stringify(bad), 'bad')).toThrow(/whisper[\s\S]*snooze_minutes|snooze_minutes[\s\S]*whisper/);
  });
});

describe('a leg gone or silent at a prompt', () => {
  it('the agent hangs up during the whisper: a rejection (HANGUP), no customer leg, the owner asked again after the cool-down', async () => {
    const id = await book('w');
    await until('the agent leg', () => ari.originates.length === 1);
    const a = await attempt(id);
    up(a.agentChannelId);
    await until('the whisper', () => ari.plays.length > 0);
    expect(ari.plays[0]).toEqual({ channelId: a.agentChannelId, media: ['sound:telephone-number'] });
    gone(a.agentChannelId);
    await until('the attempt written', async () => (await attempt(id)).outcome !== null);
    expect(await attempt(id)).toMatchObject({ outcome: 'AGENT_REJECTED', agentResponse: 'HANGUP', customerDialedAt: null });
    const cb = (await store.getCallback(db, id))!;
    expect(cb).toMatchObject({ state: 'LIVE', attempts: 0 });
    // The end and the next time are stamped by two clock reads: a millisecond may pass between them.
    expect(Math.abs(cb.nextAttemptAt! - (await attempt(id)).endedAt! - REJECT_COOLDOWN_MS)).toBeLessThan(1000);
    expect(ari.originates).toHaveLength(1); // the customer was never dialed
    expect((await auditOf(db, id)).find((r) => r.action === 'agent-decline')).toMatchObject({ actor: 'a1', reason: 'the agent hung up at the whisper' });
  });

  it('the agent presses nothing: rejected after accept_timeout_seconds, hung up, not a customer attempt', async () => {
    const id = await book('w');
    await until('the agent leg', () => ari.originates.length === 1);
    const a = await attempt(id);
    up(a.agentChannelId);
    // The whole whisper was played ("telephone number", 11 digits, "press 1"), then 2 s of silence.
    await until('the timeout', async () => (await attempt(id)).outcome !== null, 5000);
    expect(ari.plays.map((p) => p.media[0])).toEqual(['sound:telephone-number', ...[...'15551230001'].map((d) => `digits:${d}`), 'sound:vm-press', 'digits:1']);
    expect(await attempt(id)).toMatchObject({ outcome: 'AGENT_REJECTED', agentResponse: 'TIMEOUT', detail: expect.stringMatching(/pressed no key within 2 s/) });
    expect(ari.hangups).toContain(a.agentChannelId);
    expect((await store.getCallback(db, id))!.attempts).toBe(0);
  });

  it('the customer hangs up at the choice prompt: HUNG_UP_WAITING (choice HANGUP), the agent hung up, retried per the policy', async () => {
    const id = await book('c');
    await until('the agent leg', () => ari.originates.length === 1);
    up((await attempt(id)).agentChannelId);
    await until('the customer leg', () => ari.originates.length === 2);
    const a = await attempt(id);
    up(a.customerChannelId);
    await until('the choice prompt', () => ari.plays.some((p) => p.channelId === a.customerChannelId));
    expect(ari.plays.some((p) => p.channelId === a.agentChannelId)).toBe(false); // no whisper on C
    gone(a.customerChannelId);
    await until('the attempt written', async () => (await attempt(id)).outcome !== null);
    expect(await attempt(id)).toMatchObject({ outcome: 'HUNG_UP_WAITING', customerChoice: 'HANGUP', customerAttempt: 1 });
    expect(await store.getCallback(db, id)).toMatchObject({ state: 'LIVE', attempts: 1 });
    await until('the agent hung up', () => ari.hangups.includes(a.agentChannelId));
  });
});
