import type { AlertStyle } from './domain/agent-view.js';
import { DEFAULT_SERVER } from './domain/server-placement.js';
import { trunksOf, type ImportFile } from './import-schema.js';
import { leadRow } from './import-lead.js';
import type { Conn } from './store/conn.js';
import * as dir from './store/directory.js';
import { writeLeadsPhones, type NewLeadPhone } from './store/lead-phones.js';
import { setNumberTrunks, upsertServer } from './store/servers.js';

// Writing a checked import file (src/import.ts checks it first, in the same transaction): every
// section upserted by the admin's own ids, so re-importing a file changes nothing.

export interface ImportCounts {
  servers: number;
  trunks: number;
  numbers: number;
  campaigns: number;
  lists: number;
  agents: number;
  phones: number;
  leads: number;
  dnc: number;
  users: number;
}

type Campaign = ImportFile['campaigns'][number];

/** A campaign entry as its stored row (the file's snake_case and lower-case enums → the store's). */
const campaignRow = (c: Campaign, now: number): Parameters<typeof dir.upsertCampaign>[1] => ({
  id: c.id,
  name: c.name,
  timeZone: c.time_zone,
  outboundNumber: c.outbound_number ?? null,
  dialOrder: c.dial_order === 'customer_first' ? 'CUSTOMER_FIRST' : 'AGENT_FIRST',
  maxAttempts: c.max_attempts,
  retryBusySec: c.retry_delays.busy,
  retryNoAnswerSec: c.retry_delays.no_answer,
  retryCongestionSec: c.retry_delays.congestion,
  retryMaxSec: c.retry_delays.max,
  agentRingSec: c.agent_ring_seconds,
  customerRingSec: c.customer_ring_seconds,
  updatedAt: now,
  scheduledCallbacks: c.scheduled_callbacks,
  myCallbackDefault: c.my_callback_default === 'anyone' ? 'ANYONE' : 'USERONLY',
  daysLimit: c.days_limit,
  maxDaysAhead: c.max_days_ahead,
  hoursBlock: c.hours_block,
  activeLimit: c.active_limit,
  calltimeCheck: c.calltime_check.toUpperCase() as 'REFUSE' | 'MOVE' | 'OFF',
  callingWindows: c.calling_windows ?? null,
  holidays: c.holidays,
  leadDailyCap: c.lead_daily_cap,
  autoReschedule: c.auto_reschedule.toUpperCase() as 'OFF' | 'NEXT_DAY' | 'NEXT_WEEK',
  useronlyMoveMinutes: c.useronly_move_minutes,
  allowUnassignedAgents: c.allow_unassigned_agents,
  dncFilterUseronly: c.dnc_filter_useronly,
  defaultRegion: c.default_region,
  countMode: c.count_mode.toUpperCase() as 'LIVE' | 'ACTIVE' | 'ALL_ACTIVE',
  displayDays: c.display_days,
  callbackAlert: c.callback_alert.toUpperCase() as AlertStyle,
  emailWhenLive: c.email_when_live,
  record: c.record,
  recordingRetentionDays: c.recording_retention_days,
  altDial: c.alt_dial,
  whisper: c.whisper,
  agentAccept: c.agent_accept,
  acceptTimeoutSeconds: c.accept_timeout_seconds,
  customerChoice: c.customer_choice,
  snoozeMinutes: c.snooze_minutes,
  inboundCallbackExpiryHours: c.inbound_callback_expiry_hours,
});

/** Writes a checked file on `tx` (the caller's transaction); the counts per section. */
export async function writeImport(tx: Conn, f: ImportFile, leadPhones: Map<number, NewLeadPhone[]>, dncNumbers: Map<number, string>, now: number): Promise<ImportCounts> {
  for (const s of f.servers) {
    await upsertServer(tx, {
      id: s.id, ariUrl: s.ari_url ?? null, ariUsername: s.ari_username ?? null, amiHost: s.ami_host ?? null, amiPort: s.ami_port ?? null, amiUsername: s.ami_username ?? null, updatedAt: now,
    });
  }
  for (const t of f.trunks) {
    await dir.upsertTrunk(tx, { id: t.id, maxChannels: t.max_channels, callsPerSecond: t.calls_per_second, serverId: t.server ?? DEFAULT_SERVER, updatedAt: now });
  }
  for (const n of f.numbers) {
    const trunks = trunksOf(n);
    await dir.upsertNumber(tx, { e164: n.number, trunkId: trunks[0]!, outboundEnabled: n.outbound_enabled, description: n.description ?? null, updatedAt: now });
    await setNumberTrunks(tx, n.number, trunks);
  }
  for (const c of f.campaigns) await dir.upsertCampaign(tx, campaignRow(c, now));
  for (const l of f.lists) await dir.upsertList(tx, { id: l.id, campaignId: l.campaign, name: l.name ?? l.id, updatedAt: now });
  for (const a of f.agents) {
    await dir.upsertAgent(tx, {
      id: a.id,
      name: a.name,
      scheduledCallbacks: a.scheduled_callbacks,
      agentOnlyCallbacks: a.agent_only_callbacks,
      timeZone: a.time_zone ?? null,
      activeLimit: a.active_limit ?? null,
      email: a.email ?? null,
      kind: a.kind,
      maxCalls: a.max_calls ?? 1,
      updatedAt: now,
    });
    await dir.setAgentCampaigns(tx, a.id, a.campaigns);
  }
  for (const p of f.phones) {
    await dir.upsertPhone(tx, { endpoint: p.endpoint, agentId: p.agent, activeAccount: p.active_account, status: p.status, serverId: p.server ?? DEFAULT_SERVER, updatedAt: now });
  }
  // A few statements per thousand leads rather than three per lead (plan B9; a round trip each on
  // PostgreSQL): the same rows as storeLead would write, lead by lead (test/integration/store/import.test.ts).
  await dir.upsertLeads(tx, f.leads.map((l, i) => leadRow(l, leadPhones.get(i)![0]!.e164, now)));
  await writeLeadsPhones(tx, new Map(f.leads.map((l, i) => [l.id, leadPhones.get(i)!])));
  for (const u of f.users) {
    await dir.upsertUser(tx, { id: u.id, role: u.role, agentId: u.role === 'agent' ? (u.agent ?? u.id) : (u.agent ?? null), campaigns: u.campaigns, leadModify: u.lead_modify, updatedAt: now });
  }
  for (const [i, d] of f.dnc.entries()) await dir.addDnc(tx, { phoneE164: dncNumbers.get(i)!, campaignId: d.campaign ?? '', createdAt: now });
  return {
    servers: f.servers.length,
    trunks: f.trunks.length,
    numbers: f.numbers.length,
    campaigns: f.campaigns.length,
    lists: f.lists.length,
    agents: f.agents.length,
    phones: f.phones.length,
    leads: f.leads.length,
    dnc: f.dnc.length,
    users: f.users.length,
  };
}
