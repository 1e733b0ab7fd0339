import { describe, expect, it } from 'vitest';
import { inUseText } from '../../src/domain/ai-agent.js';
import { phoneShownUnusable } from '../../src/domain/eligibility.js';
import type { PhoneGate } from '../../src/domain/phone.js';

// What the phone listings show for a phone (callbackd agents, GET /phones, the console): a person's
// phone in use or not; an AI agent's calls against max_calls, its device's "in use" ignored.

const phone: PhoneGate = { endpoint: 'ai-bot', activeAccount: true, status: 'ACTIVE' };
const up = (inUse: boolean) => ({ registered: true, reachable: true, inUse });

describe('the phone listings: in use, and why not rung', () => {
  it('a person: yes / no; in use is a reason not to ring', () => {
    expect(inUseText(true, null)).toBe('yes');
    expect(inUseText(false, null)).toBe('no');
    expect(phoneShownUnusable(phone, up(true), 'h', null)).toEqual({ kind: 'inUse', reason: 'phone ai-bot is in use' });
    expect(phoneShownUnusable(phone, up(false), 'h', null)).toBeNull();
  });

  it('an AI agent: "AI, n of max_calls calls"; rung while under max_calls even though its device is in use', () => {
    expect(inUseText(true, { calls: 1, maxCalls: 4 })).toBe('AI, 1 of 4 calls');
    expect(inUseText(false, { calls: 0, maxCalls: 1 })).toBe('AI, 0 of 1 call');
    expect(phoneShownUnusable(phone, up(true), 'bot', { calls: 3, maxCalls: 4 })).toBeNull();
    expect(phoneShownUnusable(phone, up(true), 'bot', { calls: 4, maxCalls: 4 })).toEqual({ kind: 'full', reason: 'AI agent bot is on 4 callbacks (max_calls 4)' });
  });

  it('an AI agent still needs its phone: blocked, unregistered or unreachable come first', () => {
    expect(phoneShownUnusable({ ...phone, status: 'SUSPENDED' }, up(false), 'bot', { calls: 0, maxCalls: 2 })?.kind).toBe('blocked');
    expect(phoneShownUnusable(phone, undefined, 'bot', { calls: 0, maxCalls: 2 })?.kind).toBe('unregistered');
    expect(phoneShownUnusable(phone, { registered: true, reachable: false, inUse: true }, 'bot', { calls: 2, maxCalls: 2 })?.kind).toBe('unreachable');
  });
});
