import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aiAgentFree } from '../../src/domain/ai-agent.js';
import { contextExpiry, contextUrl, inviteHeaderVariables, signContext, verifyContext } from '../../src/domain/ai-context.js';
import { decideDial, type CandidateAgent, type DialContext, type PhonePresence } from '../../src/domain/eligibility.js';

const secret = Buffer.from('unit-test-secret-0123456789abcdef');
const NOW = 1_800_000_000; // epoch seconds

describe('AI context signature', () => {
  it('a signature made for a callback and expiry verifies until the expiry, not at or after it', () => {
    const sig = signContext(secret, 42, NOW + 60);
    expect(sig).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyContext(secret, 42, NOW + 60, sig, NOW)).toBe(true);
    expect(verifyContext(secret, 42, NOW + 60, sig, NOW + 59)).toBe(true);
    expect(verifyContext(secret, 42, NOW + 60, sig, NOW + 60)).toBe(false);
    expect(verifyContext(secret, 42, NOW + 60, sig, NOW + 3600)).toBe(false);
  });

  it('another callback, another expiry, another secret or a changed signature is refused', () => {
    const sig = signContext(secret, 42, NOW + 60);
    expect(verifyContext(secret, 43, NOW + 60, sig, NOW)).toBe(false);
    expect(verifyContext(secret, 42, NOW + 61, sig, NOW)).toBe(false);
    expect(verifyContext(Buffer.from('another-secret-0123456789abcdef'), 42, NOW + 60, sig, NOW)).toBe(false);
    expect(verifyContext(secret, 42, NOW + 60, sig.toUpperCase(), NOW)).toBe(false);
    expect(verifyContext(secret, 42, NOW + 60, sig.slice(0, 63), NOW)).toBe(false);
    expect(verifyContext(secret, 42, NOW + 60, '', NOW)).toBe(false);
    expect(verifyContext(secret, NaN, NOW + 60, sig, NOW)).toBe(false);
    expect(verifyContext(secret, 42, NaN, sig, NOW)).toBe(false);
  });

  it('property: flipping any one hex digit of the signature is refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 0, max: 63 }), fc.integer({ min: 1, max: 15 }), (id, pos, delta) => {
        const sig = signContext(secret, id, NOW + 300);
        const d = ((parseInt(sig[pos]!, 16) + delta) % 16).toString(16);
        const bad = sig.slice(0, pos) + d + sig.slice(pos + 1);
        return verifyContext(secret, id, NOW + 300, sig, NOW) && !verifyContext(secret, id, NOW + 300, bad, NOW);
      }),
    );
  });

  it('the URL carries the id, expiry and signature; expiry is ring time + grace', () => {
    const exp = contextExpiry(NOW * 1000 + 999, 20, 300);
    expect(exp).toBe(NOW + 320);
    const url = new URL(contextUrl('https://cb.example:8580/', secret, 7, exp));
    expect(url.pathname).toBe('/ai/context/7');
    expect(url.searchParams.get('exp')).toBe(String(exp));
    expect(verifyContext(secret, 7, exp, url.searchParams.get('sig')!, NOW)).toBe(true);
  });

  it('the INVITE headers are added with PJSIP_HEADER(add,…) channel variables', () => {
    expect(inviteHeaderVariables(7, 'http://x/ai/context/7?exp=1&sig=ab')).toEqual({
      'PJSIP_HEADER(add,X-Callbackd-Callback-Id)': '7',
      'PJSIP_HEADER(add,X-Callbackd-Context-Url)': 'http://x/ai/context/7?exp=1&sig=ab',
    });
  });
});

const up: PhonePresence = { registered: true, inUse: false, idleSince: 0 };
const bot: CandidateAgent = { agentId: 'bot', onCampaign: true, phones: [{ endpoint: 'ai1', activeAccount: true, status: 'ACTIVE' }], ai: { maxCalls: 2 } };
function ctx(over: Partial<DialContext> = {}): DialContext {
  return {
    type: 'USERONLY',
    ownerAgentId: 'bot',
    customerNumber: '+15551230001',
    dncHit: false,
    outboundNumber: { e164: '+15550100001', outboundEnabled: true, trunkId: 't' },
    agents: [bot],
    presence: () => up,
    busyAgents: new Set(),
    ...over,
  };
}
const calls = (n: number) => ({ busyAgents: new Set(n > 0 ? ['bot'] : []), agentCalls: new Map(n > 0 ? [['bot', n]] : []) });

describe('AI agent eligibility (max_calls)', () => {
  it('free while its calls in progress are fewer than max_calls', () => {
    expect(aiAgentFree(0, { maxCalls: 2 })).toBe(true);
    expect(aiAgentFree(1, { maxCalls: 2 })).toBe(true);
    expect(aiAgentFree(2, { maxCalls: 2 })).toBe(false);
    expect(decideDial(ctx(calls(0)))).toMatchObject({ kind: 'dial', agentId: 'bot', endpoint: 'ai1' });
    expect(decideDial(ctx(calls(1)))).toMatchObject({ kind: 'dial', agentId: 'bot', endpoint: 'ai1' });
    expect(decideDial(ctx(calls(2)))).toEqual({ kind: 'wait', reason: 'waiting for owner bot: AI agent bot is on 2 callbacks (max_calls 2)' });
  });

  it('its endpoint showing "in use" does not stop it; a human with the same presence waits', () => {
    const inUse = () => ({ ...up, inUse: true });
    expect(decideDial(ctx({ ...calls(1), presence: inUse }))).toMatchObject({ kind: 'dial', agentId: 'bot' });
    const human = { ...bot, ai: undefined };
    expect(decideDial(ctx({ agents: [human], presence: inUse }))).toMatchObject({ kind: 'wait', reason: expect.stringMatching(/in use/) });
    expect(decideDial(ctx({ agents: [human], ...calls(1) }))).toMatchObject({ kind: 'wait', reason: expect.stringMatching(/another callback/) });
  });

  it('a blocked or unregistered AI endpoint is never rung', () => {
    const blocked = { ...bot, phones: [{ endpoint: 'ai1', activeAccount: true, status: 'SUSPENDED' as const }] };
    expect(decideDial(ctx({ agents: [blocked] }))).toMatchObject({ kind: 'wait', reason: expect.stringMatching(/SUSPENDED/) });
    const off = { ...bot, phones: [{ endpoint: 'ai1', activeAccount: false, status: 'ACTIVE' as const }] };
    expect(decideDial(ctx({ agents: [off] }))).toMatchObject({ kind: 'wait' });
    expect(decideDial(ctx({ presence: () => undefined }))).toMatchObject({ kind: 'wait', reason: expect.stringMatching(/not registered/) });
  });

  it('ANYONE: a busy AI agent under its limit is still offered the callback; at its limit the human is', () => {
    const human: CandidateAgent = { agentId: 'a1', onCampaign: true, phones: [{ endpoint: 'p1', activeAccount: true, status: 'ACTIVE' }] };
    const any = { type: 'ANYONE' as const, ownerAgentId: null, agents: [bot, human], presence: (e: string) => ({ ...up, idleSince: e === 'ai1' ? 0 : 10 }) };
    expect(decideDial(ctx({ ...any, ...calls(1) }))).toMatchObject({ kind: 'dial', agentId: 'bot' });
    expect(decideDial(ctx({ ...any, ...calls(2) }))).toMatchObject({ kind: 'dial', agentId: 'a1' });
  });

  it('property: an AI agent is dialed exactly when its calls < max_calls', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 60 }), (max, n) => {
        const d = decideDial(ctx({ agents: [{ ...bot, ai: { maxCalls: max } }], ...calls(n) }));
        return (d.kind === 'dial') === n < max;
      }),
    );
  });
});
