import { describe, expect, it } from 'vitest';
import { planAttemptEnd } from '../../src/domain/attempt-end.js';
import {
  agentMedia,
  choiceEnding,
  choiceMedia,
  decidePrompt,
  promptOptionsOf,
  recentlyDeclined,
  rejectionEnding,
  REJECT_COOLDOWN_MS,
  type PromptInput,
} from '../../src/domain/call-prompts.js';
import { decideDial, type DialContext } from '../../src/domain/eligibility.js';

const NOW = 1_800_000_000_000;
const O = { acceptTimeoutSec: 8, snoozeMinutes: 15 };
const key = (digit: string): PromptInput => ({ kind: 'digit', digit });

describe('decidePrompt: what a key means at which prompt', () => {
  it('agent accept: 1 accepts, 2 rejects, silence times out, hanging up rejects, other keys are ignored', () => {
    expect(decidePrompt('accept', key('1'), O)).toEqual({ kind: 'accept' });
    expect(decidePrompt('accept', key('2'), O)).toEqual({ kind: 'reject', response: 'REJECTED', reason: 'the agent pressed 2 (reject)' });
    expect(decidePrompt('accept', { kind: 'timeout' }, O)).toEqual({ kind: 'reject', response: 'TIMEOUT', reason: 'the agent pressed no key within 8 s' });
    expect(decidePrompt('accept', { kind: 'hangup' }, O)).toMatchObject({ kind: 'reject', response: 'HANGUP' });
    for (const k of ['0', '3', '9', '*', '#']) expect(decidePrompt('accept', key(k), O)).toEqual({ kind: 'ignore' });
  });

  it('customer choice: 1 talks, 2 snoozes for the campaign minutes, 3 cancels, silence bridges, hangup is a hangup', () => {
    expect(decidePrompt('choice', key('1'), O)).toEqual({ kind: 'talk', choice: 'TALK' });
    expect(decidePrompt('choice', key('2'), { ...O, snoozeMinutes: 1 })).toEqual({ kind: 'snooze', minutes: 1 });
    expect(decidePrompt('choice', key('3'), O)).toEqual({ kind: 'cancel' });
    // Never left in silence: no key in time means talk now.
    expect(decidePrompt('choice', { kind: 'timeout' }, O)).toEqual({ kind: 'talk', choice: 'NONE' });
    expect(decidePrompt('choice', { kind: 'hangup' }, O)).toEqual({ kind: 'hangup' });
    for (const k of ['0', '4', '*']) expect(decidePrompt('choice', key(k), O)).toEqual({ kind: 'ignore' });
  });
});

describe('what an answer does to the callback', () => {
  const policy = { now: NOW, agentRetryDelayMs: 30_000 };
  const reject = decidePrompt('accept', key('2'), O) as Extract<ReturnType<typeof decidePrompt>, { kind: 'reject' }>;

  it('a rejection goes back to LIVE, never as a customer attempt: ANYONE after the retry delay, USERONLY after the cool-down', () => {
    const anyone = planAttemptEnd(rejectionEnding('ANYONE', 'a1', reject, NOW), policy);
    expect(anyone.result).toMatchObject({ outcome: 'AGENT_REJECTED', sipCode: null, endedAt: NOW });
    expect(anyone.result.detail).toMatch(/^agent a1 declined: the agent pressed 2 \(reject\); offered to the next eligible agent$/);
    expect(anyone.next).toMatchObject({ state: 'LIVE', nextAttemptAt: NOW + 30_000 });
    const owner = planAttemptEnd(rejectionEnding('USERONLY', 'a1', reject, NOW), policy);
    expect(owner.next).toMatchObject({ state: 'LIVE', nextAttemptAt: NOW + REJECT_COOLDOWN_MS });
    expect(owner.result.detail).toMatch(/the owner is asked again after/);
  });

  it('snooze: a fresh promise N minutes later (ACTIVE, audited as a snooze); cancel: CANCELLED as the customer chose', () => {
    const snooze = planAttemptEnd(choiceEnding({ kind: 'snooze', minutes: 1 }), policy);
    expect(snooze.result).toMatchObject({ outcome: 'CUSTOMER_SNOOZED', endedAt: NOW });
    expect(snooze.next).toEqual({ state: 'ACTIVE', dueAt: NOW + 60_000, note: 'the customer asked to be called again in 1 min (pressed 2 at the choice prompt)', action: 'snooze' });
    const cancel = planAttemptEnd(choiceEnding({ kind: 'cancel' }), policy);
    expect(cancel.result.outcome).toBe('CUSTOMER_CANCELLED');
    expect(cancel.next).toEqual({ state: 'CANCELLED', failReason: 'cancelled by the customer (pressed 3 at the choice prompt)' });
  });
});

describe('the declined agent is not offered the callback again for a while', () => {
  it('recentlyDeclined: rejections, timeouts and hangups within the cool-down; not acceptances, not older ones', () => {
    const rows = [
      { agentId: 'a1', agentResponse: 'REJECTED', endedAt: NOW - 1000 },
      { agentId: 'a2', agentResponse: 'ACCEPTED', endedAt: NOW - 1000 },
      { agentId: 'a3', agentResponse: 'TIMEOUT', endedAt: NOW - REJECT_COOLDOWN_MS - 1 },
      { agentId: 'a4', agentResponse: 'HANGUP', endedAt: NOW - REJECT_COOLDOWN_MS + 1 },
      { agentId: 'a5', agentResponse: 'REJECTED', endedAt: null },
    ];
    expect([...recentlyDeclined(rows, NOW)].sort()).toEqual(['a1', 'a4']);
  });

  it('decideDial (ANYONE) skips a declined agent for the next one, and says so when nobody else is there', () => {
    const up = { registered: true, inUse: false, idleSince: 0 };
    const agent = (id: string) => ({ agentId: id, onCampaign: true, phones: [{ endpoint: `p${id}`, activeAccount: true, status: 'ACTIVE' as const }] });
    const ctx = (agents: string[], declined: string[]): DialContext => ({
      type: 'ANYONE',
      ownerAgentId: null,
      customerNumber: '+15551230001',
      dncHit: false,
      outboundNumber: { e164: '+15550100001', outboundEnabled: true, trunkId: 't' },
      agents: agents.map(agent),
      presence: () => up,
      busyAgents: new Set(),
      declined: new Set(declined),
    });
    expect(decideDial(ctx(['a1', 'a2'], []))).toMatchObject({ kind: 'dial', agentId: 'a1' });
    expect(decideDial(ctx(['a1', 'a2'], ['a1']))).toMatchObject({ kind: 'dial', agentId: 'a2' });
    expect(decideDial(ctx(['a1'], ['a1']))).toEqual({ kind: 'wait', reason: 'no agent of the campaign has a usable, registered, idle phone (declined lately by a1)' });
  });
});

describe('what is played', () => {
  const lead = { firstName: "Ann-Marie", lastName: "O'Neil", phoneE164: '+15551230001' };
  it('the whisper names the lead (spelled) or says the number, one letter or digit per item; accept adds "press 1"', () => {
    const digits = [...'15551230001'].map((d) => `digits:${d}`);
    expect(agentMedia({ whisper: 'digits', agentAccept: false }, lead)).toEqual(['sound:telephone-number', ...digits]);
    expect(agentMedia({ whisper: 'name', agentAccept: true }, lead)).toEqual(['sound:for', ...[...'AnnMarieONeil'].map((c) => `characters:${c}`), 'sound:vm-press', 'digits:1']);
    // No name on the lead: the number instead.
    expect(agentMedia({ whisper: 'name', agentAccept: false }, { ...lead, firstName: null, lastName: ',' })).toEqual(['sound:telephone-number', ...digits]);
    expect(agentMedia({ whisper: 'off', agentAccept: true }, lead)).toEqual(['sound:vm-press', 'digits:1']);
    expect(agentMedia({ whisper: 'off', agentAccept: false }, lead)).toEqual([]);
  });

  it('the customer hears the three choices with the snooze minutes; a campaign with everything off plays nothing', () => {
    expect(choiceMedia(15)).toContain('number:15');
    expect(choiceMedia(15).filter((m) => m.startsWith('digits:'))).toEqual(['digits:1', 'digits:2', 'digits:3']);
    const off = { whisper: 'off' as const, agentAccept: 'off' as const, acceptTimeoutSeconds: 8, customerChoice: 'off' as const, snoozeMinutes: 15 };
    expect(promptOptionsOf(off)).toBeNull();
    expect(promptOptionsOf({ ...off, customerChoice: 'on' })).toEqual({ whisper: 'off', agentAccept: false, acceptTimeoutSec: 8, customerChoice: true, snoozeMinutes: 15 });
  });
});
