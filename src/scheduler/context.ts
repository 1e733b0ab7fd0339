import type { CandidateAgent, DialContext } from '../domain/eligibility.js';
import type { PhonePresence } from '../domain/eligibility.js';
import type { RetryPolicy } from '../domain/retry.js';
import type { Conn } from '../store/conn.js';
import type { CallAttemptRow, CallbackRow, CampaignRow, LeadRow } from '../store/schema.js';
import type { SessionPlan } from '../dialer/session.js';
import { campaignCalendar, leadZone } from '../app/book.js';
import type { AdmitFacts, TrunkAdmission } from '../domain/admit.js';
import { customerDialsOfLead } from '../store/callbacks.js';
import { storeReads, type ContextReads } from './pass-reads.js';
import { trunkOnServer } from '../domain/server-placement.js';
import type { LeadNumber } from '../domain/alt-dial.js';
import { chooseDialNumber } from '../app/dial-number.js';
import { agentAnswersOf } from '../store/call-prompts.js';
import { promptOptionsOf, recentlyDeclined } from '../domain/call-prompts.js';

export interface LoadedCallback {
  cb: CallbackRow;
  lead: LeadRow;
  campaign: CampaignRow;
  ctx: DialContext;
  /** The lead's number this attempt dials (or waits for); null when every number is DNC'd. */
  number: LeadNumber | null;
}

export function retryPolicyOf(c: CampaignRow, maxAttempts: number): RetryPolicy {
  return {
    maxAttempts,
    busySec: c.retryBusySec,
    noAnswerSec: c.retryNoAnswerSec,
    congestionSec: c.retryCongestionSec,
    maxDelaySec: c.retryMaxSec,
  };
}

/** Reads what the pure eligibility rule needs about one LIVE callback. */
export async function loadDialContext(
  db: Conn,
  cb: CallbackRow,
  presence: (endpoint: string) => PhonePresence | undefined,
  /** Agents this daemon is dialing for, with how many callbacks each (AI agents take several). */
  busyAgents: ReadonlyMap<string, number>,
  now: number,
  serverId: string | null = null,
  /** A scheduler pass's reads (scheduler/pass-reads.ts); alone, straight from the store. */
  reads: ContextReads = storeReads(db),
): Promise<LoadedCallback | { missing: string }> {
  await reads.readAhead(cb);
  const lead = await reads.lead(cb.leadId);
  if (!lead) return { missing: `lead ${cb.leadId} no longer exists` };
  const campaign = await reads.campaign(cb.campaignId);
  if (!campaign) return { missing: `campaign ${cb.campaignId} no longer exists` };
  const num = campaign.outboundNumber ? await reads.number(campaign.outboundNumber) : undefined;
  const agentIds = cb.type === 'USERONLY' ? (cb.ownerAgentId ? [cb.ownerAgentId] : []) : await reads.agentIdsOfCampaign(cb.campaignId);
  const phones = await reads.phonesOfAgents(agentIds);
  const aiLimits = await reads.aiLimitsOf(agentIds); // AI voice agents: several calls at once (domain/ai-agent.ts)
  const agents: CandidateAgent[] = [];
  for (const id of agentIds) {
    if (cb.type !== 'ANYONE' && !(await reads.agentExists(id))) continue;
    agents.push({
      agentId: id,
      onCampaign: cb.type === 'ANYONE' || (await reads.isAgentOnCampaign(id, cb.campaignId)),
      phones: phones.filter((p) => p.agentId === id).map((p) => ({ endpoint: p.endpoint, activeAccount: p.activeAccount, status: p.status, serverId: p.serverId })),
      ...(aiLimits.has(id) ? { ai: aiLimits.get(id)! } : {}),
    });
  }
  // Which of the lead's numbers (alt-dial, per-number DNC and window): its own call, see dial-number.ts.
  const choice = await chooseDialNumber(db, cb, lead, campaign, now, reads);
  const number = choice.kind === 'none' ? null : choice.number;
  return {
    cb,
    lead,
    campaign,
    number,
    ctx: {
      type: cb.type,
      ownerAgentId: cb.ownerAgentId,
      customerNumber: number?.e164 ?? lead.phoneE164,
      dncHit: choice.kind === 'none',
      ...(choice.kind === 'none' ? { dncReason: choice.reason } : {}),
      outboundNumber: num
        ? { e164: num.e164, outboundEnabled: num.outboundEnabled, trunkId: num.trunkId, ...(serverId === null ? {} : { trunks: await reads.trunksOfNumber(num.e164) }) }
        : null,
      ...(serverId === null ? {} : { serverId }),
      agents,
      presence,
      busyAgents: new Set(busyAgents.keys()),
      agentCalls: busyAgents,
      declined: cb.type === 'ANYONE' ? recentlyDeclined(await agentAnswersOf(db, cb.id), now) : undefined,
    },
  };
}

/**
 * Everything admit() needs about one ready callback, read in one place. `trunkFull` is a reason
 * already found for the campaign's trunk in this pass (then nothing else is read); `trunk` asks the
 * limiter about a trunk.
 */
export async function readAdmitFacts(
  db: Conn,
  cb: CallbackRow,
  now: number,
  presence: (endpoint: string) => PhonePresence | undefined,
  busyAgents: ReadonlyMap<string, number>,
  trunkFull: string | null,
  trunk: (trunkId: string) => TrunkAdmission,
  serverId: string | null = null,
  reads: ContextReads = storeReads(db),
): Promise<{ facts: AdmitFacts; loaded: LoadedCallback | null }> {
  if (trunkFull !== null) return { facts: { kind: 'trunkFull', reason: trunkFull }, loaded: null };
  const loaded = await loadDialContext(db, cb, presence, busyAgents, now, serverId, reads);
  if ('missing' in loaded) return { facts: { kind: 'missing', reason: loaded.missing }, loaded: null };
  const { campaign, lead, ctx, number } = loaded;
  const facts: AdmitFacts = {
    kind: 'loaded',
    now,
    cb,
    campaign,
    leadId: lead.id,
    // The chosen number's window: when none is in window, the one that opens first (the gate defers to it).
    zone: number?.zone ?? leadZone(lead, campaign),
    calendar: campaignCalendar(campaign),
    leadDialsLast24h: campaign.leadDailyCap > 0 ? await customerDialsOfLead(db, lead.id, now - 86_400_000) : [],
    ctx,
    trunk: ((t) => (t === null ? null : trunk(t)))(trunkHere(ctx)),
  };
  return { facts, loaded };
}

/** The trunk this daemon would use for the campaign's number; null when none (decideDial says why). */
export function trunkHere(ctx: DialContext): string | null {
  const n = ctx.outboundNumber;
  if (!n) return null;
  if (ctx.serverId === undefined || !n.trunks) return n.trunkId;
  const t = trunkOnServer(n.e164, n.trunks, ctx.serverId);
  return 'trunkId' in t ? t.trunkId : null;
}

/** What the agent's phone shows when it rings: who the callback is for. */
export function agentCallerId(lead: LeadRow): string {
  const name = [lead.firstName, lead.lastName].filter(Boolean).join(' ') || lead.phoneE164;
  return `"CB ${name.replace(/["\\]/g, '')}" <${lead.phoneE164}>`;
}

/** Everything a call session needs to know about its callback, from the rows. */
/** The window the dialer checks again before the customer leg: the dialed number's (alt-dial), else the lead's; none when force-dialed. */
export function customerWindow(cb: CallbackRow, campaign: CampaignRow, lead: LeadRow, numberZone?: string): SessionPlan['window'] {
  return cb.forceDial ? null : { zone: numberZone ?? leadZone(lead, campaign), calendar: campaignCalendar(campaign) };
}

export function sessionPlanFor(cb: CallbackRow, attempt: CallAttemptRow, token: string, campaign: CampaignRow, lead: LeadRow, numberZone?: string): SessionPlan {
  return {
    callback: cb,
    attempt,
    token,
    agentRingSec: campaign.agentRingSec,
    customerRingSec: campaign.customerRingSec,
    retry: retryPolicyOf(campaign, cb.maxAttempts),
    reschedule: { mode: campaign.autoReschedule, type: cb.type, dueAt: cb.dueAt, zone: leadZone(lead, campaign), calendar: campaignCalendar(campaign) },
    window: customerWindow(cb, campaign, lead, numberZone),
    agentCallerId: agentCallerId(lead),
    record: campaign.record === 'agent_and_customer',
    prompts: promptOptionsOf(campaign),
    lead: { firstName: lead.firstName, lastName: lead.lastName },
  };
}
