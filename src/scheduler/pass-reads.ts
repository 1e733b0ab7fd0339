import type { NumberReads } from '../app/dial-number.js';
import type { ServerTrunk } from '../domain/server-placement.js';
import type { Conn } from '../store/conn.js';
import * as dir from '../store/directory.js';
import { numbersOfLead, numbersOfLeads } from '../store/lead-phones.js';
import type { CallbackRow, CampaignRow, LeadPhoneRow, LeadRow, NumberRow, PhoneRow } from '../store/schema.js';
import { trunksOfNumber } from '../store/servers.js';

// The rows scheduler/context.ts reads to decide about a ready callback. Read one by one, a burst of 500
// callbacks of one campaign read the same campaign, number and agent rows 500 times, and each callback's
// own rows with a statement per row: 17 % of the daemon's busy CPU in the burst profile (README
// "Performance"). A pass reads the shared rows once and its callbacks' rows READ_AHEAD at a time.
//
// The rows are at most a second old when used: the dial pass starts a new PassReads once its rows are
// older than MAX_READS_AGE_MS (dial-pass.ts), so an edit made during a long pass counts within it. What changes during a pass is not cached here:
// presence and the agents' calls (passed in live), a callback's attempts, the lead's dials today.

export interface ContextReads extends NumberReads {
  /** Reads ahead what `cb` and the callbacks after it in the pass need (nothing to do for the store's reads). */
  readAhead(cb: CallbackRow): Promise<void>;
  lead(id: string): Promise<LeadRow | undefined>;
  campaign(id: string): Promise<CampaignRow | undefined>;
  number(e164: string): Promise<NumberRow | undefined>;
  trunksOfNumber(e164: string): Promise<ServerTrunk[]>;
  agentIdsOfCampaign(campaignId: string): Promise<string[]>;
  agentExists(id: string): Promise<boolean>;
  isAgentOnCampaign(agentId: string, campaignId: string): Promise<boolean>;
  /** The phones of these agents; each agent's in endpoint order. */
  phonesOfAgents(ids: string[]): Promise<PhoneRow[]>;
  /** The AI voice agents among these, with their limits. */
  aiLimitsOf(ids: string[]): Promise<Map<string, { maxCalls: number }>>;
}

/** One statement per question, straight from the store: one callback read alone. */
export function storeReads(db: Conn): ContextReads {
  return {
    readAhead: async () => {},
    lead: async (id) => await dir.getLead(db, id),
    campaign: async (id) => await dir.getCampaign(db, id),
    number: async (e164) => await dir.getNumber(db, e164),
    trunksOfNumber: async (e164) => await trunksOfNumber(db, e164),
    agentIdsOfCampaign: async (id) => await dir.agentIdsOfCampaign(db, id),
    agentExists: async (id) => !!(await dir.getAgent(db, id)),
    isAgentOnCampaign: async (agentId, campaignId) => await dir.isAgentOnCampaign(db, agentId, campaignId),
    phonesOfAgents: async (ids) => await dir.phonesOfAgents(db, ids),
    aiLimitsOf: async (ids) => await dir.aiLimitsOf(db, ids),
    numbersOfLead: async (lead) => await numbersOfLead(db, lead),
    isDnc: async (e164, campaignId) => await dir.isDnc(db, e164, campaignId),
  };
}

/** Callbacks whose rows one read-ahead fetches: enough to amortise a statement, few enough that a pass stopped early (a full trunk) read little for nothing. */
export const READ_AHEAD = 50;

/** Remembers each key's answer (the promise, so concurrent askers share one read). */
function memo<K, V>(read: (k: K) => Promise<V>): (k: K) => Promise<V> {
  const seen = new Map<K, Promise<V>>();
  return (k) => {
    let p = seen.get(k);
    if (!p) seen.set(k, (p = read(k)));
    return p;
  };
}

const dncKey = (campaignId: string, e164: string) => `${campaignId}\n${e164}`;

/** The reads of one scheduler pass over `batch` (its ready callbacks, in pass order). Anything not read ahead is read from the store and kept. */
export class PassReads implements ContextReads {
  private readonly position = new Map<number, number>();
  /** Callbacks before this position were read ahead, or passed over. */
  private readUpTo = 0;
  private readonly leads = new Map<string, LeadRow | undefined>();
  private readonly numbers = new Map<string, LeadPhoneRow[]>();
  private readonly agents = new Map<string, boolean>();
  private readonly phones = new Map<string, PhoneRow[]>();
  private readonly dnc = new Map<string, boolean>();

  constructor(
    private readonly db: Conn,
    private readonly batch: readonly CallbackRow[],
    private readonly readAheadSize = READ_AHEAD,
  ) {
    batch.forEach((cb, i) => this.position.set(cb.id, i));
  }

  async readAhead(cb: CallbackRow): Promise<void> {
    const i = this.position.get(cb.id);
    if (i === undefined || i < this.readUpTo) return;
    const chunk = this.batch.slice(i, i + this.readAheadSize);
    this.readUpTo = i + chunk.length;
    const leadIds = chunk.map((c) => c.leadId).filter((id) => !this.leads.has(id));
    const leads = await dir.leadsByIds(this.db, leadIds);
    for (const id of leadIds) this.leads.set(id, undefined);
    for (const l of leads) this.leads.set(l.id, l);
    for (const [id, rows] of await numbersOfLeads(this.db, leads)) this.numbers.set(id, rows);
    const owners = [...new Set(chunk.flatMap((c) => (c.type === 'USERONLY' && c.ownerAgentId ? [c.ownerAgentId] : [])))].filter((a) => !this.agents.has(a));
    const found = new Set((await dir.agentsByIds(this.db, owners)).map((a) => a.id));
    for (const a of owners) this.agents.set(a, found.has(a));
    await this.readPhones(owners);
    await this.readDnc(chunk);
  }

  private async readPhones(agentIds: readonly string[]): Promise<void> {
    const missing = agentIds.filter((a) => !this.phones.has(a));
    if (missing.length === 0) return;
    for (const a of missing) this.phones.set(a, []);
    for (const p of await dir.phonesOfAgents(this.db, missing)) this.phones.get(p.agentId)!.push(p);
  }

  /** Per campaign, which of the chunk's leads' numbers a DNC list holds (used when the campaign's DNC lists apply). */
  private async readDnc(chunk: readonly CallbackRow[]): Promise<void> {
    const byCampaign = new Map<string, Set<string>>();
    for (const c of chunk) {
      const phones = byCampaign.get(c.campaignId) ?? new Set<string>();
      byCampaign.set(c.campaignId, phones);
      for (const p of this.numbers.get(c.leadId) ?? []) if (!this.dnc.has(dncKey(c.campaignId, p.e164))) phones.add(p.e164);
    }
    for (const [campaignId, phones] of byCampaign) {
      if (phones.size === 0) continue;
      const hits = await dir.dncAmong(this.db, [...phones], campaignId);
      for (const p of phones) this.dnc.set(dncKey(campaignId, p), hits.has(p));
    }
  }

  async lead(id: string): Promise<LeadRow | undefined> {
    if (!this.leads.has(id)) this.leads.set(id, await dir.getLead(this.db, id));
    return this.leads.get(id);
  }

  async numbersOfLead(lead: LeadRow): Promise<LeadPhoneRow[]> {
    if (!this.numbers.has(lead.id)) this.numbers.set(lead.id, await numbersOfLead(this.db, lead));
    return this.numbers.get(lead.id)!;
  }

  async isDnc(e164: string, campaignId: string): Promise<boolean> {
    const k = dncKey(campaignId, e164);
    if (!this.dnc.has(k)) this.dnc.set(k, await dir.isDnc(this.db, e164, campaignId));
    return this.dnc.get(k)!;
  }

  async agentExists(id: string): Promise<boolean> {
    if (!this.agents.has(id)) this.agents.set(id, !!(await dir.getAgent(this.db, id)));
    return this.agents.get(id)!;
  }

  /** Grouped by agent, each agent's in the store's endpoint order (the caller takes them per agent). */
  async phonesOfAgents(ids: string[]): Promise<PhoneRow[]> {
    await this.readPhones(ids);
    return [...new Set(ids)].flatMap((a) => this.phones.get(a)!);
  }

  readonly campaign = memo(async (id: string) => await dir.getCampaign(this.db, id));
  readonly number = memo(async (e164: string) => await dir.getNumber(this.db, e164));
  readonly trunksOfNumber = memo(async (e164: string) => await trunksOfNumber(this.db, e164));
  readonly agentIdsOfCampaign = memo(async (id: string) => await dir.agentIdsOfCampaign(this.db, id));
  private readonly campaignAgents = memo(async (id: string) => new Set(await this.agentIdsOfCampaign(id)));
  private readonly aiAgents = memo(async (_: 'all') => await dir.aiAgentLimits(this.db));

  async isAgentOnCampaign(agentId: string, campaignId: string): Promise<boolean> {
    return (await this.campaignAgents(campaignId)).has(agentId);
  }

  async aiLimitsOf(ids: string[]): Promise<Map<string, { maxCalls: number }>> {
    return ids.length === 0 ? new Map() : dir.limitsAmong(await this.aiAgents('all'), ids);
  }
}
