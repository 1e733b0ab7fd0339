import { decideDial, type DialContext } from './eligibility.js';
import { ownershipDeadline, ownershipMove } from './ownership.js';
import { inboundExpiry } from './queue-place.js';
import { dailyCapUntil } from './retry.js';
import { mayDialAt, windowWait, type Calendar } from './windows.js';

// Whether one ready LIVE callback may be dialed now, and if not, what to write instead. Pure: the
// scheduler reads the facts, asks here, then makes exactly one store write for the decision.

/** What a trunk's limiter says about one more leg now. */
export type TrunkAdmission = { ok: true } | { ok: false; retryAt: number | null; reason: string };

export interface AdmitCallback {
  id: number;
  type: 'USERONLY' | 'ANYONE';
  forceDial: boolean;
  ownerAgentId: string | null;
  ownerWaitingSince: number | null;
  /** When the caller joined the line (inbound callbacks; domain/queue-place.ts). */
  arrivedAt?: number | null;
}

export interface AdmitCampaign {
  id: string;
  allowUnassignedAgents: boolean;
  useronlyMoveMinutes: number;
  leadDailyCap: number;
  inboundCallbackExpiryHours?: number;
}

export type AdmitFacts =
  /** The campaign's trunk was found full earlier in this pass: nothing else was read. */
  | { kind: 'trunkFull'; reason: string }
  | { kind: 'missing'; reason: string }
  | {
      kind: 'loaded';
      now: number;
      cb: AdmitCallback;
      campaign: AdmitCampaign;
      leadId: string;
      zone: string;
      calendar: Calendar;
      /** When customer legs were dialed for this lead in the last 24 h (read only if a cap is set). */
      leadDialsLast24h: readonly number[];
      ctx: DialContext;
      /** The limiter's answer for the campaign's trunk; null when the campaign has no number. */
      trunk: TrunkAdmission | null;
    };

export type Admission =
  | { kind: 'fail'; outcome: string; reason: string }
  /** Not before `until` (calling window, daily cap). */
  | { kind: 'defer'; until: number; reason: string }
  /** Stays LIVE with a reason; `ownerClock` starts the owner's useronly_move_minutes clock. */
  | { kind: 'wait'; reason: string; ownerClock: boolean; wakeAt: number | null; fullTrunk: string | null }
  /** USERONLY → ANYONE; the scheduler writes it, then asks again with the new facts. */
  | { kind: 'convert'; reason: string }
  | { kind: 'dial'; agentId: string; endpoint: string; callerId: string; trunkId: string; outsideHours: boolean };

export function admit(f: AdmitFacts): Admission {
  if (f.kind === 'trunkFull') return { kind: 'wait', reason: f.reason, ownerClock: false, wakeAt: null, fullTrunk: null };
  if (f.kind === 'missing') return { kind: 'fail', outcome: 'MISSING', reason: f.reason };
  const { now, cb, campaign } = f;
  const expired = inboundExpiry(cb.arrivedAt, campaign.inboundCallbackExpiryHours, now);
  if (expired !== null) return { kind: 'fail', outcome: 'EXPIRED', reason: expired };
  const gate = gateOf(f);
  if (gate !== null) {
    return gate.until === null ? { kind: 'fail', outcome: 'NO_CALLING_HOURS', reason: gate.reason } : { kind: 'defer', until: gate.until, reason: gate.reason };
  }
  if (cb.type === 'USERONLY') {
    const owner = f.ctx.agents.find((a) => a.agentId === cb.ownerAgentId);
    const move = ownershipMove({
      ownerAgentId: cb.ownerAgentId!,
      campaignId: campaign.id,
      ownerExists: owner !== undefined,
      ownerOnCampaign: owner?.onCampaign ?? false,
      allowUnassignedAgents: campaign.allowUnassignedAgents,
      moveMinutes: campaign.useronlyMoveMinutes,
      ownerWaitingSince: cb.ownerWaitingSince,
      now,
    });
    if (move !== null) return { kind: 'convert', reason: move };
  }
  const d = decideDial(f.ctx);
  if (d.kind === 'fail') return d;
  if (d.kind === 'wait') {
    const ownerClock = cb.type === 'USERONLY';
    // The clock starts now unless it is already running (see store waitLive).
    const wakeAt = ownerClock ? ownershipDeadline({ moveMinutes: campaign.useronlyMoveMinutes, ownerWaitingSince: cb.ownerWaitingSince ?? now }) : null;
    return { kind: 'wait', reason: d.reason, ownerClock, wakeAt, fullTrunk: null };
  }
  if (f.trunk !== null && !f.trunk.ok) {
    return { kind: 'wait', reason: f.trunk.reason, ownerClock: false, wakeAt: f.trunk.retryAt, fullTrunk: d.trunkId };
  }
  return { ...d, outsideHours: cb.forceDial && !mayDialAt(now, f.zone, f.calendar) };
}

/** Calling hours and the per-lead daily cap: null = may dial now (until null = never within a year). */
function gateOf(f: Extract<AdmitFacts, { kind: 'loaded' }>): { until: number | null; reason: string } | null {
  if (!f.cb.forceDial) {
    const wait = windowWait(f.now, f.zone, f.calendar);
    if (wait) return wait;
  }
  const cap = f.campaign.leadDailyCap;
  if (cap > 0) {
    const until = dailyCapUntil(f.leadDialsLast24h, cap, f.now);
    if (until !== null) {
      return { until, reason: `lead ${f.leadId} was called ${cap} time(s) in the last 24 h (lead_daily_cap); next call allowed ${new Date(until).toISOString()}` };
    }
  }
  return null;
}
