// The cluster-wide limit rule (src/domain/channel-limits.ts): one verdict for the claim and the pre-check.
import { describe, expect, it } from 'vitest';
import { agentVerdict, trunkVerdict } from '../../src/domain/channel-limits.js';

const NOW = 1_790_000_000_000;

describe('trunkVerdict', () => {
  it('unlimited (0/0) always admits', () => {
    expect(trunkVerdict('t', { maxChannels: 0, callsPerSecond: 0 }, 500, NOW, NOW)).toEqual({ ok: true });
  });

  it('channels: below the limit admits, at the limit refuses without a retry instant (a call end frees it)', () => {
    expect(trunkVerdict('carrier', { maxChannels: 2, callsPerSecond: 0 }, 1, null, NOW)).toEqual({ ok: true });
    expect(trunkVerdict('carrier', { maxChannels: 2, callsPerSecond: 0 }, 2, null, NOW)).toEqual({
      ok: false, why: 'trunk-channels', retryAt: null, reason: 'trunk carrier is at its limit of 2 channels across all daemons',
    });
    expect(trunkVerdict('one', { maxChannels: 1, callsPerSecond: 0 }, 3, null, NOW)).toMatchObject({ reason: 'trunk one is at its limit of 1 channel across all daemons' });
  });

  it('calls per second: within 1/cps of the last start refuses until last + 1/cps; no start known admits', () => {
    const lim = { maxChannels: 0, callsPerSecond: 4 };
    expect(trunkVerdict('t', lim, 0, null, NOW)).toEqual({ ok: true });
    expect(trunkVerdict('t', lim, 0, NOW - 250, NOW)).toEqual({ ok: true });
    expect(trunkVerdict('t', lim, 0, NOW - 100, NOW)).toEqual({ ok: false, why: 'trunk-rate', retryAt: NOW + 150, reason: 'trunk t is at its limit of 4 calls per second across all daemons' });
    // A fractional rate gives a whole-millisecond instant, never one a tick too early.
    expect(trunkVerdict('t', { maxChannels: 0, callsPerSecond: 3 }, 0, NOW, NOW)).toMatchObject({ retryAt: NOW + 334 });
  });

  it('a full trunk is reported before its rate', () => {
    expect(trunkVerdict('t', { maxChannels: 1, callsPerSecond: 1 }, 1, NOW, NOW)).toMatchObject({ why: 'trunk-channels' });
  });
});

describe('agentVerdict', () => {
  it('a person takes one callback at a time; an unknown agent is a person', () => {
    expect(agentVerdict('a1', { kind: 'human', maxCalls: 5 }, 0)).toEqual({ ok: true });
    expect(agentVerdict('a1', { kind: 'human', maxCalls: 5 }, 1)).toMatchObject({ ok: false, why: 'agent-busy', retryAt: null });
    expect(agentVerdict('x', null, 1)).toMatchObject({ ok: false, reason: 'agent x is already on a callback (placed by another daemon or still being closed)' });
  });

  it('an AI agent takes up to max_calls', () => {
    expect(agentVerdict('bot', { kind: 'ai', maxCalls: 3 }, 2)).toEqual({ ok: true });
    expect(agentVerdict('bot', { kind: 'ai', maxCalls: 3 }, 3)).toEqual({ ok: false, why: 'agent-busy', retryAt: null, reason: 'AI agent bot is on 3 callbacks (max_calls 3) across all daemons' });
  });
});
