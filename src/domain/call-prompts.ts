import type { AttemptEnding } from './attempt-end.js';

// What the agent and the customer hear before the bridge, and what a key they press means there
// (issue 17 items 2 and 3). Pure: the dialer (src/dialer/call-prompts.ts) plays the media, hears
// the keys and the timers, asks decidePrompt, and writes the ending it gets from here.

/** What the agent answered to "press 1" (call_attempts.agent_response); null there = not asked. */
export const AGENT_RESPONSES = ['ACCEPTED', 'REJECTED', 'TIMEOUT', 'HANGUP'] as const;
export type AgentResponse = (typeof AGENT_RESPONSES)[number];

/** What the customer chose (call_attempts.customer_choice); NONE = no key in time (bridged). */
export const CUSTOMER_CHOICES = ['TALK', 'SNOOZE', 'CANCEL', 'NONE', 'HANGUP'] as const;
export type CustomerChoice = (typeof CUSTOMER_CHOICES)[number];

/** A campaign's prompt options (sql/0018_call_prompts.sql). */
export interface PromptOptions {
  whisper: 'off' | 'name' | 'digits';
  agentAccept: boolean;
  acceptTimeoutSec: number;
  customerChoice: boolean;
  snoozeMinutes: number;
}

/** A campaign row's options; null when the campaign plays nothing (the call flow is unchanged). */
export function promptOptionsOf(c: { whisper: PromptOptions['whisper']; agentAccept: 'off' | 'on'; acceptTimeoutSeconds: number; customerChoice: 'off' | 'on'; snoozeMinutes: number }): PromptOptions | null {
  const o: PromptOptions = { whisper: c.whisper, agentAccept: c.agentAccept === 'on', acceptTimeoutSec: c.acceptTimeoutSeconds, customerChoice: c.customerChoice === 'on', snoozeMinutes: c.snoozeMinutes };
  return o.whisper === 'off' && !o.agentAccept && !o.customerChoice ? null : o;
}

/** How long the customer has to press a key once the choice prompt has played; then they are bridged. */
export const CHOICE_TIMEOUT_SEC = 8;

/**
 * An agent who declined a callback is not offered it again for this long. ANYONE: another agent is
 * rung meanwhile. USERONLY: the owner is the only one, so the callback waits this long instead of
 * ringing them again after the agent retry delay.
 */
export const REJECT_COOLDOWN_MS = 10 * 60_000;

/** `accept`: the agent after the whisper; `choice`: the customer before the bridge. */
export type PromptStage = 'accept' | 'choice';
export type PromptInput = { kind: 'digit'; digit: string } | { kind: 'timeout' } | { kind: 'hangup' };

export type PromptDecision =
  /** A key that means nothing here: keep listening (the timer keeps running). */
  | { kind: 'ignore' }
  /** The agent pressed 1: dial the customer. */
  | { kind: 'accept' }
  /** The agent pressed 2, said nothing in time, or hung up: not a customer attempt. */
  | { kind: 'reject'; response: Exclude<AgentResponse, 'ACCEPTED'>; reason: string }
  /** Bridge now: the customer pressed 1 (TALK) or nothing in time (NONE: never left in silence). */
  | { kind: 'talk'; choice: 'TALK' | 'NONE' }
  | { kind: 'snooze'; minutes: number }
  | { kind: 'cancel' }
  /** The customer hung up at the prompt. */
  | { kind: 'hangup' };

/** The one rule for "what does this key (or the silence, or a hangup) mean at this prompt". */
export function decidePrompt(stage: PromptStage, input: PromptInput, o: Pick<PromptOptions, 'acceptTimeoutSec' | 'snoozeMinutes'>): PromptDecision {
  if (stage === 'accept') {
    if (input.kind === 'hangup') return { kind: 'reject', response: 'HANGUP', reason: 'the agent hung up at the whisper' };
    if (input.kind === 'timeout') return { kind: 'reject', response: 'TIMEOUT', reason: `the agent pressed no key within ${o.acceptTimeoutSec} s` };
    if (input.digit === '1') return { kind: 'accept' };
    if (input.digit === '2') return { kind: 'reject', response: 'REJECTED', reason: 'the agent pressed 2 (reject)' };
    return { kind: 'ignore' };
  }
  if (input.kind === 'hangup') return { kind: 'hangup' };
  if (input.kind === 'timeout') return { kind: 'talk', choice: 'NONE' };
  if (input.digit === '1') return { kind: 'talk', choice: 'TALK' };
  if (input.digit === '2') return { kind: 'snooze', minutes: o.snoozeMinutes };
  if (input.digit === '3') return { kind: 'cancel' };
  return { kind: 'ignore' };
}

/** How a rejection ends the attempt: back to LIVE, never charged to the customer. */
export function rejectionEnding(type: 'USERONLY' | 'ANYONE', agentId: string | null, d: Extract<PromptDecision, { kind: 'reject' }>, now: number): AttemptEnding {
  const who = `agent ${agentId ?? '?'}`;
  if (type === 'USERONLY') {
    const until = now + REJECT_COOLDOWN_MS;
    return { kind: 'requeue', outcome: 'AGENT_REJECTED', reason: `${who} declined: ${d.reason}; the owner is asked again after ${new Date(until).toISOString()}`, cause: null, notBefore: until };
  }
  return { kind: 'requeue', outcome: 'AGENT_REJECTED', reason: `${who} declined: ${d.reason}; offered to the next eligible agent`, cause: null };
}

/** The customer's snooze or cancel as the attempt's ending. */
export function choiceEnding(d: Extract<PromptDecision, { kind: 'snooze' | 'cancel' }>): AttemptEnding {
  return d.kind === 'snooze' ? { kind: 'customerChoice', choice: 'SNOOZE', minutes: d.minutes } : { kind: 'customerChoice', choice: 'CANCEL' };
}

/** Agents who declined this callback within REJECT_COOLDOWN_MS before `now` (from its attempts). */
export function recentlyDeclined(attempts: readonly { agentId: string | null; agentResponse: string | null; endedAt: number | null }[], now: number): Set<string> {
  const out = new Set<string>();
  for (const a of attempts) {
    if (a.agentId === null || a.endedAt === null || a.agentResponse === null || a.agentResponse === 'ACCEPTED') continue;
    if (now - a.endedAt < REJECT_COOLDOWN_MS) out.add(a.agentId);
  }
  return out;
}

// --- what is played (ARI media URIs; stock prompts of Asterisk's core sounds, see README) -------

/** Letters and digits only: ARI's media list is comma separated, and `characters:` spells each one. */
function spellable(word: string): string {
  return word.replace(/[^A-Za-z0-9]/g, '').slice(0, 15);
}

/**
 * The agent's whisper and, when accept is on, "press 1". Empty when there is nothing to play.
 * One item per letter or digit: the dialer plays the items one by one, because Asterisk does not
 * stop a `characters:` or `digits:` playback mid-way (measured on the lab: DELETE /playbacks let
 * "characters:Wes" and what followed play on), and a key must cut the whisper short.
 */
export function agentMedia(o: Pick<PromptOptions, 'whisper' | 'agentAccept'>, lead: { firstName: string | null; lastName: string | null; phoneE164: string }): string[] {
  const digits = [...lead.phoneE164.replace(/\D/g, '')].map((d) => `digits:${d}`);
  const letters = [lead.firstName, lead.lastName].map((w) => spellable(w ?? '')).filter(Boolean).flatMap((w) => [...w].map((c) => `characters:${c}`));
  const media =
    o.whisper === 'digits' ? ['sound:telephone-number', ...digits]
    : o.whisper === 'name' ? (letters.length ? ['sound:for', ...letters] : ['sound:telephone-number', ...digits])
    : [];
  if (o.agentAccept) media.push('sound:vm-press', 'digits:1');
  return media;
}

/** The customer's choice: "hello; press 1; press 2, N minutes; press 3, cancelled". */
export function choiceMedia(snoozeMinutes: number): string[] {
  return ['sound:hello', 'sound:vm-press', 'digits:1', 'sound:vm-press', 'digits:2', `number:${snoozeMinutes}`, 'sound:minutes', 'sound:vm-press', 'digits:3', 'sound:cancelled'];
}
