import { asc, eq } from 'drizzle-orm';
import { DEFAULT_SERVER } from '../domain/server-placement.js';
import type { Conn } from './conn.js';
import type { Entry, Section } from './directory-admin.js';
import { first, op } from './engine.js';
import { numbersOfLead } from './lead-phones.js';

// One directory entry read back as an import-file entry (README "Import file"): the body that
// PUT /admin/{entity}/{id} takes, so "read, change one option, save" keeps everything else,
// including what lives in other tables (an agent's campaigns, a number's trunks, a lead's numbers).
// Each function is the inverse of its section's write in src/import.ts. An optional option that is
// not set is left out (as an admin would leave it out of the file).

/** Drops the keys whose value is null or undefined (an unset optional option). */
const set = (e: Record<string, unknown>): Entry => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== null && v !== undefined));
/** A trunk's or phone's server, left out when it is the implicit one (the import's default). */
const serverOf = (id: string) => (id === DEFAULT_SERVER ? undefined : id);
const lower = <T extends string>(v: T) => v.toLowerCase();

async function trunkEntry(db: Conn, id: string): Promise<Entry | undefined> {
  const s = db.t;
  const t = first(await db.q.select().from(s.trunks).where(eq(s.trunks.id, id)).limit(1));
  return t && set({ id: t.id, max_channels: t.maxChannels, calls_per_second: t.callsPerSecond, server: serverOf(t.serverId) });
}

/** `trunk: a`, or `[a, b, …]` with the main trunk first when the number goes out over several. */
async function numberEntry(db: Conn, e164: string): Promise<Entry | undefined> {
  const s = db.t;
  const n = first(await db.q.select().from(s.numbers).where(eq(s.numbers.e164, e164)).limit(1));
  if (!n) return undefined;
  const others = (await db.q.select({ t: s.numberTrunks.trunkId }).from(s.numberTrunks).where(eq(s.numberTrunks.e164, e164)).orderBy(asc(s.numberTrunks.trunkId))).map((r) => r.t).filter((t) => t !== n.trunkId);
  return set({ number: n.e164, trunk: others.length ? [n.trunkId, ...others] : n.trunkId, outbound_enabled: n.outboundEnabled, description: n.description });
}

async function campaignEntry(db: Conn, id: string): Promise<Entry | undefined> {
  const s = db.t;
  const c = first(await db.q.select().from(s.campaigns).where(eq(s.campaigns.id, id)).limit(1));
  if (!c) return undefined;
  return set({
    id: c.id,
    name: c.name,
    time_zone: c.timeZone,
    outbound_number: c.outboundNumber,
    dial_order: lower(c.dialOrder),
    max_attempts: c.maxAttempts,
    retry_delays: { busy: c.retryBusySec, no_answer: c.retryNoAnswerSec, congestion: c.retryCongestionSec, max: c.retryMaxSec },
    agent_ring_seconds: c.agentRingSec,
    customer_ring_seconds: c.customerRingSec,
    scheduled_callbacks: c.scheduledCallbacks,
    my_callback_default: lower(c.myCallbackDefault),
    days_limit: c.daysLimit,
    max_days_ahead: c.maxDaysAhead,
    hours_block: c.hoursBlock,
    active_limit: c.activeLimit,
    calltime_check: lower(c.calltimeCheck),
    calling_windows: c.callingWindows,
    holidays: c.holidays,
    lead_daily_cap: c.leadDailyCap,
    auto_reschedule: lower(c.autoReschedule),
    useronly_move_minutes: c.useronlyMoveMinutes,
    allow_unassigned_agents: c.allowUnassignedAgents,
    dnc_filter_useronly: c.dncFilterUseronly,
    default_region: c.defaultRegion,
    count_mode: lower(c.countMode),
    display_days: c.displayDays,
    callback_alert: lower(c.callbackAlert),
    email_when_live: c.emailWhenLive,
    record: c.record,
    recording_retention_days: c.recordingRetentionDays,
    alt_dial: c.altDial,
    whisper: c.whisper,
    agent_accept: c.agentAccept,
    accept_timeout_seconds: c.acceptTimeoutSeconds,
    customer_choice: c.customerChoice,
    snooze_minutes: c.snoozeMinutes,
    inbound_callback_expiry_hours: c.inboundCallbackExpiryHours,
  });
}

async function listEntry(db: Conn, id: string): Promise<Entry | undefined> {
  const s = db.t;
  const l = first(await db.q.select().from(s.lists).where(eq(s.lists.id, id)).limit(1));
  return l && { id: l.id, campaign: l.campaignId, name: l.name };
}

async function agentEntry(db: Conn, id: string): Promise<Entry | undefined> {
  const s = db.t;
  const a = first(await db.q.select().from(s.agents).where(eq(s.agents.id, id)).limit(1));
  if (!a) return undefined;
  const campaigns = (await db.q.select({ c: s.agentCampaigns.campaignId }).from(s.agentCampaigns).where(eq(s.agentCampaigns.agentId, id)).orderBy(asc(s.agentCampaigns.campaignId))).map((r) => r.c);
  return set({
    id: a.id,
    name: a.name,
    campaigns,
    scheduled_callbacks: a.scheduledCallbacks,
    agent_only_callbacks: a.agentOnlyCallbacks,
    time_zone: a.timeZone,
    active_limit: a.activeLimit,
    email: a.email,
    kind: a.kind,
    // A human takes one call at a time (the import refuses another max_calls for kind: human).
    max_calls: a.kind === 'ai' ? a.maxCalls : undefined,
  });
}

async function phoneEntry(db: Conn, endpoint: string): Promise<Entry | undefined> {
  const s = db.t;
  const p = first(await db.q.select().from(s.phones).where(eq(s.phones.endpoint, endpoint)).limit(1));
  return p && set({ endpoint: p.endpoint, agent: p.agentId, active_account: p.activeAccount, status: p.status, server: serverOf(p.serverId) });
}

/** `phone:` when the lead has one plain number (what `phone:` writes), else `phones:` in dial order. */
async function leadEntry(db: Conn, id: string): Promise<Entry | undefined> {
  const s = db.t;
  const l = first(await db.q.select().from(s.leads).where(eq(s.leads.id, id)).limit(1));
  if (!l) return undefined;
  const nums = await numbersOfLead(db, l);
  const plain = nums.length === 1 && nums[0]!.label === 'mobile' && !nums[0]!.dnc && nums[0]!.timeZone === null;
  return set({
    id: l.id,
    list: l.listId,
    first_name: l.firstName,
    last_name: l.lastName,
    ...(plain ? { phone: nums[0]!.e164 } : { phones: nums.map((p) => set({ number: p.e164, label: p.label, time_zone: p.timeZone, dnc: p.dnc })) }),
    time_zone: l.timeZone,
  });
}

async function userEntry(db: Conn, id: string): Promise<Entry | undefined> {
  const s = db.t;
  const u = first(await db.q.select().from(s.users).where(eq(s.users.id, id)).limit(1));
  return u && set({ id: u.id, role: u.role, agent: u.agentId, campaigns: u.campaigns, lead_modify: u.leadModify });
}

const ENTRY: Record<Section, (db: Conn, id: string) => Promise<Entry | undefined>> = {
  trunks: trunkEntry,
  numbers: numberEntry,
  campaigns: campaignEntry,
  lists: listEntry,
  agents: agentEntry,
  phones: phoneEntry,
  leads: leadEntry,
  users: userEntry,
};

/** One entry as the import file writes it (the PUT body that leaves it unchanged), or undefined. */
export const importEntry = op('importEntry', (db: Conn, section: Section, id: string): Promise<Entry | undefined> => ENTRY[section](db, id));
