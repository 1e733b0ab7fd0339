import type { PromptOptions } from '../domain/call-prompts.js';
import type { AutoReschedule, RetryPolicy } from '../domain/retry.js';
import type { Calendar } from '../domain/windows.js';
import type { AriClient } from '../asterisk/ari.js';
import type { Logger } from '../log.js';
import type { Conn } from '../store/conn.js';
import type { CallAttemptRow, CallbackRow } from '../store/schema.js';
import type { SessionFlow } from './session-flow.js';

// What a call session is given: its plan (from the rows) and its dependencies.

export type Phase = 'starting' | 'firstRinging' | 'secondRinging' | 'bridged' | 'done';

export interface SessionDeps {
  db: Conn;
  ari: AriClient;
  log: Logger;
  now: () => number;
  random: () => number;
  leaseMs: number;
  agentRetryDelayMs: number;
  /** How often, and how far apart, to look for a channel whose originate got no answer. */
  confirm: { tries: number; delayMs: number };
  onEnd: (s: SessionFlow) => void;
  onCustomerLegEnd: (s: SessionFlow) => void;
}

export interface SessionPlan {
  callback: CallbackRow;
  attempt: CallAttemptRow;
  token: string;
  agentRingSec: number;
  customerRingSec: number;
  retry: RetryPolicy;
  reschedule: AutoReschedule;
  /** Calling hours, checked again just before the customer leg; null = force-dial. */
  window: { zone: string; calendar: Calendar } | null;
  agentCallerId: string; // what the agent's phone shows: who the callback is for
  /** Record the bridged call (campaign option record: agent_and_customer). */
  record?: boolean;
  /** Whisper, accept, customer choice (sql/0018); null or absent = none. */
  prompts?: PromptOptions | null;
  /** Channel variables adding SIP headers to the agent's INVITE (an AI voice agent's callback id and context URL). */
  agentHeaders?: Record<string, string>;
  /** Whom the whisper names. */
  lead?: { firstName: string | null; lastName: string | null };
  /** When the lease written by the claim (or the takeover) lapses; absent: leaseMs from the session's start. */
  leaseUntil?: number;
}

/** A leg as found in Asterisk after a restart; inApp = in our Stasis app (not held in the dialplan). */
export interface SeenLeg {
  state: string;
  inApp: boolean;
}

