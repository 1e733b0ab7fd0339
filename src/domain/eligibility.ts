import { phoneBlockedReason, type PhoneGate } from './phone.js';

export interface PhonePresence {
  registered: boolean;
  inUse: boolean;
  /** When the phone last became idle (ms); unknown = 0, i.e. longest idle. */
  idleSince: number;
}

export interface CandidateAgent {
  agentId: string;
  onCampaign: boolean;
  phones: PhoneGate[];
}

export interface DialContext {
  type: 'USERONLY' | 'ANYONE';
  ownerAgentId: string | null;
  customerNumber: string;
  dncHit: boolean;
  /** Why dncHit, when the lead has several numbers (domain/alt-dial.ts); default names customerNumber. */
  dncReason?: string;
  outboundNumber: { e164: string; outboundEnabled: boolean; trunkId: string } | null;
  /** USERONLY: the owner only. ANYONE: every agent of the campaign. */
  agents: CandidateAgent[];
  presence: (endpoint: string) => PhonePresence | undefined;
  /** Agents this daemon is already dialing for. */
  busyAgents: ReadonlySet<string>;
  /** ANYONE: agents who declined this callback lately (domain/call-prompts.ts recentlyDeclined); not offered it again. */
  declined?: ReadonlySet<string>;
}

export type DialDecision =
  | { kind: 'dial'; agentId: string; endpoint: string; callerId: string; trunkId: string }
  | { kind: 'wait'; reason: string }
  | { kind: 'fail'; outcome: 'DNC' | 'NO_OUTBOUND_NUMBER'; reason: string };

export type Unusable = { kind: 'blocked' | 'unregistered' | 'unreachable' | 'inUse'; reason: string };

/**
 * The one rule for "may this phone be rung now?": Active Account on and Status ACTIVE/ADMIN,
 * registered, reachable (qualify), not in use. Null when it may.
 */
export function phoneUnusable(p: PhoneGate, pr: { registered: boolean; reachable?: boolean; inUse: boolean } | undefined): Unusable | null {
  const blocked = phoneBlockedReason(p);
  if (blocked) return { kind: 'blocked', reason: blocked };
  if (!pr?.registered) return { kind: 'unregistered', reason: `phone ${p.endpoint} is not registered` };
  if (pr.reachable === false) return { kind: 'unreachable', reason: `phone ${p.endpoint} is unreachable (qualify)` };
  if (pr.inUse) return { kind: 'inUse', reason: `phone ${p.endpoint} is in use` };
  return null;
}

/** Whether the DNC lists apply: always for ANYONE (VICIdial's filter), for USERONLY when the campaign says so. */
export function dncApplies(type: 'USERONLY' | 'ANYONE', filterUseronly: boolean): boolean {
  return type === 'ANYONE' || filterUseronly;
}

/** Why this agent cannot be rung now, or the phone to ring. */
function pickPhone(
  agent: CandidateAgent,
  presence: DialContext['presence'],
  busy: ReadonlySet<string>,
): { endpoint: string; idleSince: number } | { reason: string } {
  if (agent.phones.length === 0) return { reason: `agent ${agent.agentId} has no phone` };
  if (busy.has(agent.agentId)) return { reason: `agent ${agent.agentId} is on another callback` };
  const reasons: string[] = [];
  let best: { endpoint: string; idleSince: number } | null = null;
  for (const p of agent.phones) {
    const no = phoneUnusable(p, presence(p.endpoint));
    if (no) {
      reasons.push(no.reason);
      continue;
    }
    const pr = presence(p.endpoint)!;
    if (!best || pr.idleSince < best.idleSince) best = { endpoint: p.endpoint, idleSince: pr.idleSince };
  }
  return best ?? { reason: reasons.join('; ') };
}

/**
 * The one place that decides whether a LIVE callback is dialed now, waits, or fails.
 * Order matters: a DNC'd or undialable number fails before any agent is considered, so nobody is
 * rung for a call that cannot be placed.
 */
export function decideDial(ctx: DialContext): DialDecision {
  if (ctx.dncHit) {
    return { kind: 'fail', outcome: 'DNC', reason: ctx.dncReason ?? `number ${ctx.customerNumber} is on the do-not-call list` };
  }
  if (!ctx.outboundNumber) {
    return { kind: 'fail', outcome: 'NO_OUTBOUND_NUMBER', reason: 'no outbound-enabled number: the campaign has no caller number set' };
  }
  if (!ctx.outboundNumber.outboundEnabled) {
    return {
      kind: 'fail',
      outcome: 'NO_OUTBOUND_NUMBER',
      reason: `no outbound-enabled number: ${ctx.outboundNumber.e164} has outbound disabled`,
    };
  }
  const base = { callerId: ctx.outboundNumber.e164, trunkId: ctx.outboundNumber.trunkId };

  if (ctx.type === 'USERONLY') {
    const owner = ctx.agents.find((a) => a.agentId === ctx.ownerAgentId);
    if (!owner) return { kind: 'wait', reason: `owner agent ${ctx.ownerAgentId ?? '?'} is unknown` };
    const pick = pickPhone(owner, ctx.presence, ctx.busyAgents);
    if ('reason' in pick) return { kind: 'wait', reason: `waiting for owner ${owner.agentId}: ${pick.reason}` };
    return { kind: 'dial', agentId: owner.agentId, endpoint: pick.endpoint, ...base };
  }

  let best: { agentId: string; endpoint: string; idleSince: number } | null = null;
  for (const a of ctx.agents) {
    if (!a.onCampaign || ctx.declined?.has(a.agentId)) continue;
    const pick = pickPhone(a, ctx.presence, ctx.busyAgents);
    if ('reason' in pick) continue;
    // Longest idle first; ties go to the lower agent id so the choice is deterministic.
    if (!best || pick.idleSince < best.idleSince || (pick.idleSince === best.idleSince && a.agentId < best.agentId)) {
      best = { agentId: a.agentId, ...pick };
    }
  }
  if (!best) {
    const declined = ctx.declined?.size ? ` (declined lately by ${[...ctx.declined].sort().join(', ')})` : '';
    return { kind: 'wait', reason: `no agent of the campaign has a usable, registered, idle phone${declined}` };
  }
  return { kind: 'dial', agentId: best.agentId, endpoint: best.endpoint, ...base };
}
