import { DateTime } from 'luxon';
import { ErrorCodes, type ErrorCode } from '../errors.js';
import { earliestDialable, mayDialAt, type Calendar } from './windows.js';

// The one code path that decides whether a callback may be set, and how: CLI, API, FastAGI and
// anything else that books a callback asks this function. Pure: the caller loads the facts and
// writes the result (store/create.ts).

export type CallbackType = 'USERONLY' | 'ANYONE';

export interface CampaignRules {
  id: string;
  scheduledCallbacks: boolean;
  myCallbackDefault: CallbackType;
  daysLimit: number; // 0 = unlimited
  /** max_days_ahead: no callback is due further ahead than this, whoever books it. */
  maxDaysAhead: number;
  hoursBlock: number; // 0 = none
  activeLimit: number; // 0 = unlimited
  calltimeCheck: 'REFUSE' | 'MOVE' | 'OFF';
  calendar: Calendar;
  maxAttempts: number;
  /** Off: an owner must be one of the campaign's agents. */
  allowUnassignedAgents: boolean;
}

export interface AgentFacts {
  id: string;
  scheduledCallbacks: boolean;
  agentOnlyCallbacks: boolean;
  activeLimit: number | null; // null = the campaign's
}

export interface CreateRequest {
  dueAt: number;
  type?: CallbackType;
  ownerAgentId?: string | null;
  maxAttempts?: number;
  forceDial?: boolean;
  /** Overrides the campaign's calltime_check: the phone-side "call me back" books the next dialable moment. */
  calltimeCheck?: CampaignRules['calltimeCheck'];
  /** An agent booking for themselves (their options apply), or a manager/admin/system. */
  bookedByAgent?: AgentFacts | null;
}

export interface CreateFacts {
  campaign: CampaignRules;
  /** The lead's zone, else the campaign's: windows and messages are in it. */
  zone: string;
  /** The owner named (or the booking agent), if known; undefined = no such agent. */
  owner: AgentFacts | undefined;
  /** Is the owner (or booking agent) one of the campaign's agents? */
  ownerOnCampaign: boolean;
  /** ACTIVE/LIVE USERONLY callbacks the owner holds now. */
  ownerOpenUseronly: number;
  /** The lead's open callback in this campaign, if any (one per lead per campaign). */
  existing: { id: number; state: string; type: CallbackType; ownerAgentId: string | null } | null;
  now: number;
}

export interface CreatePlan {
  type: CallbackType;
  ownerAgentId: string | null;
  dueAt: number;
  hiddenUntil: number | null;
  maxAttempts: number;
  forceDial: boolean;
  replaces: number | null;
  /** What the caller should be told besides "set": moved, replaced, will wait... */
  notices: string[];
}

export type CreateDecision = ({ ok: true } & CreatePlan) | { ok: false; code: ErrorCode; message: string };

const refuse = (code: ErrorCode, message: string): CreateDecision => ({ ok: false, code, message });
const show = (t: number, zone: string) => `${DateTime.fromMillis(t, { zone }).toFormat('ccc yyyy-LL-dd HH:mm')} ${zone}`;

export function decideCreate(req: CreateRequest, f: CreateFacts): CreateDecision {
  const c = f.campaign;
  if (!c.scheduledCallbacks) {
    return refuse(ErrorCodes.RULE_CALLBACKS_OFF, `campaign ${c.id} does not take scheduled callbacks (its scheduled_callbacks option is off)`);
  }
  const booker = req.bookedByAgent ?? null;
  if (booker && !booker.scheduledCallbacks) {
    return refuse(ErrorCodes.RULE_AGENT_NOT_ALLOWED, `agent ${booker.id} may not set callbacks (the agent's scheduled_callbacks option is off)`);
  }
  const ownerId = req.ownerAgentId ?? booker?.id ?? null;
  const type: CallbackType = req.type ?? (ownerId ? c.myCallbackDefault : 'ANYONE');
  if (type === 'USERONLY') {
    if (!ownerId) return refuse(ErrorCodes.RULE_OWNER_REQUIRED, 'a USERONLY callback needs an owner agent');
    if (!f.owner) return refuse(ErrorCodes.RULE_OWNER_UNKNOWN, `no agent "${ownerId}"`);
    if (!f.owner.agentOnlyCallbacks) {
      return refuse(ErrorCodes.RULE_USERONLY_NOT_ALLOWED, `agent ${ownerId} may not hold USERONLY callbacks (the agent's agent_only_callbacks option is off); book it as ANYONE`);
    }
  } else if (ownerId && req.ownerAgentId && !f.owner) {
    return refuse(ErrorCodes.RULE_OWNER_UNKNOWN, `no agent "${ownerId}"`);
  }
  if (ownerId && f.owner && !f.ownerOnCampaign && !c.allowUnassignedAgents) {
    return refuse(ErrorCodes.RULE_OWNER_UNKNOWN, `agent ${ownerId} is not on campaign ${c.id}, which does not allow unassigned agents (allow_unassigned_agents)`);
  }

  const horizon = f.now + c.maxDaysAhead * 86_400_000;
  if (!(req.dueAt <= horizon)) {
    return refuse(ErrorCodes.RULE_DAYS_LIMIT, `that is more than ${c.maxDaysAhead} day(s) ahead; campaign ${c.id} takes callbacks up to ${show(horizon, f.zone)} (max_days_ahead)`);
  }

  const notices: string[] = [];
  let dueAt = req.dueAt;
  const maxAttempts = Math.min(req.maxAttempts ?? c.maxAttempts, c.maxAttempts);
  if (req.maxAttempts !== undefined && req.maxAttempts > c.maxAttempts) notices.push(`maxAttempts ${req.maxAttempts} capped at campaign ${c.id}'s max_attempts ${c.maxAttempts}`);
  const forceDial = req.forceDial ?? false;
  if (forceDial) notices.push('force-dial: calling hours will be ignored for this callback');
  else if (!mayDialAt(dueAt, f.zone, c.calendar)) {
    const next = earliestDialable(dueAt, f.zone, c.calendar);
    if (next === null) return refuse(ErrorCodes.RULE_OUTSIDE_HOURS, `campaign ${c.id} has no calling hours within a year of ${show(dueAt, f.zone)}`);
    const mode = req.calltimeCheck ?? c.calltimeCheck;
    if (mode === 'REFUSE') {
      return refuse(
        ErrorCodes.RULE_OUTSIDE_HOURS,
        `${show(dueAt, f.zone)} is outside campaign ${c.id}'s calling hours; the next window opens ${show(next, f.zone)}`,
      );
    }
    if (mode === 'MOVE') {
      notices.push(`moved from ${show(dueAt, f.zone)} to ${show(next, f.zone)}: the time asked for is outside calling hours`);
      dueAt = next;
    } else notices.push(`outside calling hours: it will wait until ${show(next, f.zone)}`);
  }
  if (c.daysLimit > 0 && dueAt > f.now + c.daysLimit * 86_400_000) {
    return refuse(
      ErrorCodes.RULE_DAYS_LIMIT,
      `${show(dueAt, f.zone)} is more than ${c.daysLimit} day(s) ahead; campaign ${c.id} takes callbacks up to ${show(f.now + c.daysLimit * 86_400_000, f.zone)}`,
    );
  }

  let replaces: number | null = null;
  if (f.existing) {
    if (f.existing.state === 'DIALING') {
      return refuse(ErrorCodes.RULE_LEAD_BUSY, `callback ${f.existing.id} for this lead is being dialed right now; set the new one after that call ends`);
    }
    replaces = f.existing.id;
    notices.push(`replaces callback ${f.existing.id} (a lead has one open callback per campaign)`);
  }

  if (type === 'USERONLY' && f.owner) {
    const limit = f.owner.activeLimit ?? c.activeLimit;
    // The callback being replaced frees its slot if it was this owner's.
    const freed = f.existing && f.existing.type === 'USERONLY' && f.existing.ownerAgentId === f.owner.id ? 1 : 0;
    if (limit > 0 && f.ownerOpenUseronly - freed >= limit) {
      return refuse(ErrorCodes.RULE_ACTIVE_LIMIT, `agent ${f.owner.id} already holds ${f.ownerOpenUseronly - freed} open USERONLY callback(s), the limit is ${limit}`);
    }
  }

  return {
    ok: true,
    type,
    ownerAgentId: ownerId,
    dueAt,
    hiddenUntil: type === 'USERONLY' && c.hoursBlock > 0 ? f.now + c.hoursBlock * 3_600_000 : null,
    maxAttempts,
    forceDial,
    replaces,
    notices,
  };
}
