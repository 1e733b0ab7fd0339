import { phoneBlockedReason, type PhoneGate } from './phone.js';
import { canPlaceOn, DEFAULT_SERVER, type ServerTrunk } from './server-placement.js';
import { aiAgentBusyReason, type AiLimit, type AiLoad } from './ai-agent.js';

export interface PhonePresence {
  registered: boolean;
  inUse: boolean;
  /** When the phone last became idle (ms); unknown = 0, i.e. longest idle. */
  idleSince: number;
}

export interface CandidateAgent {
  agentId: string;
  onCampaign: boolean;
  /** serverId: where the phone registers (unset = the default server). */
  phones: (PhoneGate & { serverId?: string })[];
  /** Set for an AI voice agent (domain/ai-agent.ts): several calls at once, device state not read. */
  ai?: AiLimit;
}

export interface DialContext {
  type: 'USERONLY' | 'ANYONE';
  ownerAgentId: string | null;
  customerNumber: string;
  dncHit: boolean;
  /** Why dncHit, when the lead has several numbers (domain/alt-dial.ts); default names customerNumber. */
  dncReason?: string;
  /** trunks: every trunk carrying the number, with its server (unset = trunkId on the default server). */
  outboundNumber: { e164: string; outboundEnabled: boolean; trunkId: string; trunks?: ServerTrunk[] } | null;
  /** The server this daemon places calls on; unset = no server check (one Asterisk). */
  serverId?: string;
  /** USERONLY: the owner only. ANYONE: every agent of the campaign. */
  agents: CandidateAgent[];
  presence: (endpoint: string) => PhonePresence | undefined;
  /** Agents this daemon is already dialing for. */
  busyAgents: ReadonlySet<string>;
  /** How many callbacks this daemon is dialing for each busy agent (AI agents take several); absent = 1 each. */
  agentCalls?: ReadonlyMap<string, number>;
  /** ANYONE: agents who declined this callback lately (domain/call-prompts.ts recentlyDeclined); not offered it again. */
  declined?: ReadonlySet<string>;
}

export type DialDecision =
  | { kind: 'dial'; agentId: string; endpoint: string; callerId: string; trunkId: string }
  | { kind: 'wait'; reason: string }
  | { kind: 'fail'; outcome: 'DNC' | 'NO_OUTBOUND_NUMBER'; reason: string };

export type Unusable = { kind: 'blocked' | 'unregistered' | 'unreachable' | 'inUse' | 'full'; reason: string };

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

/**
 * phoneUnusable for an agent's phone: an AI endpoint (domain/ai-agent.ts) shows "in use" from its
 * first call on, so its device state is no reason; its limit is max_calls, counted per agent.
 */
export function agentPhoneUnusable(p: PhoneGate, pr: Parameters<typeof phoneUnusable>[1], ai: boolean): Unusable | null {
  return phoneUnusable(p, ai && pr ? { ...pr, inUse: false } : pr);
}

/**
 * Why callbackd would not ring this phone now, as `callbackd agents`, the API and the console show
 * it: the phone rule, and for an AI agent its max_calls (all daemons' calls) instead of "in use".
 */
export function phoneShownUnusable(p: PhoneGate, pr: Parameters<typeof phoneUnusable>[1], agentId: string, ai: AiLoad | null): Unusable | null {
  const no = agentPhoneUnusable(p, pr, ai !== null);
  if (no || !ai) return no;
  const full = aiAgentBusyReason(agentId, ai.calls, ai);
  return full ? { kind: 'full', reason: full } : null;
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
  onServer: ReadonlySet<string> | null,
  calls?: ReadonlyMap<string, number>,
): { endpoint: string; idleSince: number } | { reason: string } {
  if (agent.phones.length === 0) return { reason: `agent ${agent.agentId} has no phone` };
  if (agent.ai) {
    const n = calls?.get(agent.agentId) ?? (busy.has(agent.agentId) ? 1 : 0);
    const full = aiAgentBusyReason(agent.agentId, n, agent.ai);
    if (full) return { reason: full };
  } else if (busy.has(agent.agentId)) return { reason: `agent ${agent.agentId} is on another callback` };
  const reasons: string[] = [];
  let best: { endpoint: string; idleSince: number } | null = null;
  for (const p of agent.phones) {
    if (onServer !== null && !onServer.has(p.endpoint)) continue;
    // An AI agent's limit is max_calls, counted above.
    const no = agentPhoneUnusable(p, presence(p.endpoint), agent.ai !== undefined);
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
  const num = ctx.outboundNumber;

  if (ctx.type === 'USERONLY') {
    const owner = ctx.agents.find((a) => a.agentId === ctx.ownerAgentId);
    if (!owner) return { kind: 'wait', reason: `owner agent ${ctx.ownerAgentId ?? '?'} is unknown` };
    const place = placement(ctx, owner, num);
    if ('reason' in place) return { kind: 'wait', reason: `waiting for owner ${owner.agentId}: ${place.reason}` };
    const pick = pickPhone(owner, ctx.presence, ctx.busyAgents, place.phones, ctx.agentCalls);
    if ('reason' in pick) return { kind: 'wait', reason: `waiting for owner ${owner.agentId}: ${pick.reason}` };
    return { kind: 'dial', agentId: owner.agentId, endpoint: pick.endpoint, callerId: num.e164, trunkId: place.trunkId };
  }

  let best: { agentId: string; endpoint: string; idleSince: number; trunkId: string } | null = null;
  let offServer: string | null = null;
  for (const a of ctx.agents) {
    if (!a.onCampaign || ctx.declined?.has(a.agentId)) continue;
    const place = placement(ctx, a, num);
    if ('reason' in place) {
      offServer ??= place.reason;
      continue;
    }
    const pick = pickPhone(a, ctx.presence, ctx.busyAgents, place.phones, ctx.agentCalls);
    if ('reason' in pick) continue;
    // Longest idle first; ties go to the lower agent id so the choice is deterministic.
    if (!best || pick.idleSince < best.idleSince || (pick.idleSince === best.idleSince && a.agentId < best.agentId)) {
      best = { agentId: a.agentId, ...pick, trunkId: place.trunkId };
    }
  }
  if (!best) {
    // A number with no trunk here is the same for every agent: say so rather than blame the phones.
    if (offServer?.startsWith('number ')) return { kind: 'wait', reason: offServer };
    const declined = ctx.declined?.size ? ` (declined lately by ${[...ctx.declined].sort().join(', ')})` : '';
    return { kind: 'wait', reason: `no agent of the campaign has a usable, registered, idle phone${declined}` };
  }
  return { kind: 'dial', agentId: best.agentId, endpoint: best.endpoint, callerId: num.e164, trunkId: best.trunkId };
}

/** With a server set: the trunk and the agent's phones on it (domain/server-placement); without: the number's trunk, every phone. */
function placement(
  ctx: DialContext,
  agent: CandidateAgent,
  num: NonNullable<DialContext['outboundNumber']>,
): { trunkId: string; phones: ReadonlySet<string> | null } | { reason: string } {
  if (ctx.serverId === undefined) return { trunkId: num.trunkId, phones: null };
  const trunks = num.trunks ?? [{ trunkId: num.trunkId, serverId: DEFAULT_SERVER }];
  const phones = agent.phones.map((p) => ({ endpoint: p.endpoint, serverId: p.serverId ?? DEFAULT_SERVER }));
  const r = canPlaceOn(ctx.serverId, phones, { e164: num.e164, trunks });
  // An agent without any phone keeps today's reason ("has no phone"), from pickPhone.
  if (!r.ok) return agent.phones.length === 0 ? { trunkId: '', phones: new Set() } : { reason: r.reason };
  return { trunkId: r.trunkId, phones: new Set(r.phones) };
}
