import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { AlertStyle } from './domain/agent-view.js';
import { isValidZone } from './domain/due.js';
import { isRegion } from './domain/phone-number.js';
import { parseCalendar } from './domain/windows.js';
import { CallbackdError, ErrorCodes, messageOf } from './errors.js';
import { checkEntries, formatProblems, knownIn, phoneE164, readSource, serverNames, type Checked, type Path, type Problem, type Source } from './import-check.js';
import { DEFAULT_SERVER } from './domain/server-placement.js';
import { setNumberTrunks, upsertServer } from './store/servers.js';
import type { Conn } from './store/conn.js';
import { transaction } from './store/engine.js';
import * as dir from './store/directory.js';
import { writeLeadsPhones, type NewLeadPhone } from './store/lead-phones.js';
import { PHONE_LABELS, PHONE_STATUSES } from './store/schema.js';

// The import file format is documented in README ("Import file"); examples/callcenter.yaml is a
// complete one. Field names are snake_case as admins write them in YAML.
// YAML reads an unquoted +15551230001 or 1001 as a number: numbers are taken as the text they were.
const text = (t: z.ZodString, numberAs: (n: number) => string = String) => z.preprocess((v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? numberAs(v as number) : v), t);
const E164 = text(z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number like +15551230001'), (n) => `+${n}`);
const Phone = text(z.string().min(1)); // E.164, or national in the campaign's default_region
const Zone = z.string().refine(isValidZone, 'must be an IANA time zone like America/New_York');
const Id = text(z.string().min(1).max(64).regex(/^[A-Za-z0-9_.@-]+$/, 'letters, digits, _ . @ - only'));
const strict = <T extends z.ZodRawShape>(shape: T) => z.object(shape).strict();
/** on | off; a YAML 1.1 reader's true/false for an unquoted on/off is taken as meant. */
const OnOff = z.preprocess((v) => (v === true ? 'on' : v === false ? 'off' : v), z.enum(['off', 'on']));
/** Retry delays are seconds; a month is more than any carrier or person asks for. */
const MONTH_S = 30 * 86_400;
/** Numbers per lead: ipSCAPE has 3, VICIdial 3 plus ALT/ADDR3; 10 leaves room without inviting lists. */
export const MAX_LEAD_PHONES = 10;

/** One of a lead's numbers (`phones:`): dialed in the order listed; its own DNC flag and zone. */
export const LeadPhoneEntry = strict({
  number: Phone,
  label: z.enum(PHONE_LABELS).default('mobile'),
  time_zone: Zone.optional(),
  dnc: z.boolean().default(false),
});

/** One lead as an admin writes it: a `leads:` entry of an import file, or a row of a CSV (src/import-csv.ts). */
export const LeadEntry = strict({
  id: Id,
  list: Id,
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  /** One number; or `phones` for several (exactly one of the two). */
  phone: Phone.optional(),
  phones: z.array(LeadPhoneEntry).min(1, 'give at least one number').max(MAX_LEAD_PHONES, `at most ${MAX_LEAD_PHONES} numbers per lead`).optional(),
  time_zone: Zone.optional(),
});
export type LeadEntry = z.infer<typeof LeadEntry>;

/** A problem of one lead: the field, and within it where (`phones` → [2, 'number']). */
export type LeadProblem = { field: keyof LeadEntry; at?: Path; message: string };

/**
 * The checks of one lead beyond its schema, the same for the YAML and the CSV import: its list must
 * be known; `phone` or `phones` (not both, not neither); every number must read as a number (E.164,
 * or national in the region of its list's campaign) and appear once. `numbers` are in dial order
 * (null when any is wrong); `e164` is the first.
 */
export function checkLeadRefs(l: LeadEntry, listKnown: boolean, region: string): { e164: string | null; numbers: NewLeadPhone[] | null; problems: LeadProblem[] } {
  const problems: LeadProblem[] = [];
  if (!listKnown) problems.push({ field: 'list', message: `no list "${l.list}"` });
  const numbers: NewLeadPhone[] = [];
  if (l.phone !== undefined && l.phones !== undefined) problems.push({ field: 'phones', message: 'give phone (one number) or phones (several), not both' });
  else if (l.phone === undefined && l.phones === undefined) problems.push({ field: 'phone', message: 'a lead needs phone (one number) or phones (several)' });
  else if (l.phone !== undefined) {
    const r = phoneE164(l.phone, region);
    if (r.ok) numbers.push({ e164: r.e164, label: 'mobile', dnc: false, timeZone: null });
    else problems.push({ field: 'phone', message: r.error });
  } else {
    l.phones!.forEach((p, k) => {
      const r = phoneE164(p.number, region);
      if (!r.ok) problems.push({ field: 'phones', at: [k, 'number'], message: r.error });
      else if (numbers.some((n) => n.e164 === r.e164)) problems.push({ field: 'phones', at: [k, 'number'], message: `${r.e164} is listed twice for this lead` });
      else numbers.push({ e164: r.e164, label: p.label, dnc: p.dnc, timeZone: p.time_zone ?? null });
    });
  }
  const ok = problems.every((p) => p.field === 'list') && numbers.length > 0;
  return { e164: ok ? numbers[0]!.e164 : null, numbers: ok ? numbers : null, problems };
}

/** The stored row of a checked lead (its numbers are written by storeLead). */
export const leadRow = (l: LeadEntry, e164: string, now: number) => ({
  id: l.id,
  listId: l.list,
  firstName: l.first_name ?? null,
  lastName: l.last_name ?? null,
  phoneE164: e164,
  timeZone: l.time_zone ?? null,
  updatedAt: now,
});

export const ImportSchema = strict({
  // Asterisk servers (README "Running several servers"). No secrets here: each daemon has its own.
  // A field left out = the daemon's own ari/ami setting. None listed = the implicit server `default`.
  servers: z
    .array(
      strict({
        id: Id,
        ari_url: z.string().url().refine((u) => /^https?:/.test(u), 'must be an http:// or https:// URL').optional(),
        ari_username: z.string().min(1).optional(),
        ami_host: z.string().min(1).optional(),
        ami_port: z.number().int().min(1).max(65535).optional(),
        ami_username: z.string().min(1).optional(),
      }),
    )
    .default([]),
  trunks: z
    .array(
      strict({
        id: Id,
        max_channels: z.number().int().min(0).default(0),
        calls_per_second: z.number().min(0).default(0),
        server: Id.optional(), // the server the trunk is configured on; default `default`
      }),
    )
    .default([]),
  numbers: z
    // trunk: one, or one per server the number goes out from (the first is the number's main trunk).
    .array(strict({ number: E164, trunk: z.union([Id, z.array(Id).min(1)]), outbound_enabled: z.boolean().default(true), description: z.string().optional() }))
    .default([]),
  campaigns: z
    .array(
      strict({
        id: Id,
        name: z.string().min(1),
        time_zone: Zone,
        outbound_number: E164.optional(),
        dial_order: z.enum(['agent_first', 'customer_first']).default('agent_first'),
        max_attempts: z.number().int().min(1).max(100).default(3),
        retry_delays: strict({
          busy: z.number().int().min(0).max(MONTH_S).default(300),
          no_answer: z.number().int().min(0).max(MONTH_S).default(900),
          congestion: z.number().int().min(0).max(MONTH_S).default(120),
          max: z.number().int().min(0).max(MONTH_S).default(3600),
        }).default({}),
        agent_ring_seconds: z.number().int().min(5).max(300).default(20),
        customer_ring_seconds: z.number().int().min(5).max(300).default(30),
        // Callback rules (README "Callback rules").
        scheduled_callbacks: z.boolean().default(true),
        my_callback_default: z.enum(['useronly', 'anyone']).default('useronly'),
        days_limit: z.number().int().min(0).max(3650).default(0),
        // How far ahead any callback may be booked (issue 12): bounds every booking, edit and hook.
        max_days_ahead: z.number().int().min(1).max(3650).default(365),
        hours_block: z.number().int().min(0).max(8760).default(0),
        active_limit: z.number().int().min(0).max(100_000).default(0),
        calltime_check: z.enum(['refuse', 'move', 'off']).default('refuse'),
        calling_windows: z.record(z.string()).optional(),
        holidays: z.array(z.string()).default([]),
        lead_daily_cap: z.number().int().min(0).max(1000).default(0),
        auto_reschedule: z.enum(['off', 'next_day', 'next_week']).default('off'),
        useronly_move_minutes: z.number().int().min(0).max(525_600).default(0),
        allow_unassigned_agents: z.boolean().default(false),
        dnc_filter_useronly: z.boolean().default(true),
        default_region: z.string().refine(isRegion, 'must be a two-letter region like US or GB').default('US'),
        count_mode: z.enum(['live', 'active', 'all_active']).default('all_active'),
        display_days: z.number().int().min(0).max(3650).default(0),
        // How the agent's callbacks alert line looks (README "Callback rules"; VICIdial's callbacks alert).
        callback_alert: z.enum(['none', 'red', 'blink', 'blink_red', 'red_defer', 'blink_defer', 'blink_red_defer']).default('blink_red_defer'),
        // Mail the owner of a USERONLY callback when it goes LIVE (README "Events, webhooks, email, reports").
        email_when_live: z.boolean().default(false),
        // Record answered calls (ARI bridge recording) and keep them this many days (README "Recording").
        record: z.enum(['off', 'agent_and_customer']).default('off'),
        recording_retention_days: z.number().int().min(1).max(3650).default(90),
        // After NO_ANSWER/BUSY the next attempt dials the lead's next number (README "Several numbers per lead").
        alt_dial: OnOff.default('off'),
        // Before the bridge (README "Whisper, accept and the customer's choice").
        whisper: z.enum(['off', 'name', 'digits']).default('off'),
        agent_accept: OnOff.default('off'),
        accept_timeout_seconds: z.number().int().min(2).max(60).default(8),
        customer_choice: OnOff.default('off'),
        snooze_minutes: z.number().int().min(1).max(1440).default(15),
        // An inbound callback not placed this long after the caller arrived ends FAILED/EXPIRED (README "Inbound callbacks keep their place").
        inbound_callback_expiry_hours: z.number().int().min(0).max(8760).default(96),
      }).superRefine((c, ctx) => {
        const cal = parseCalendar(c.calling_windows, c.holidays);
        if (!cal.ok) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [c.calling_windows ? 'calling_windows' : 'holidays'], message: cal.error });
      }),
    )
    .default([]),
  lists: z.array(strict({ id: Id, campaign: Id, name: z.string().min(1).optional() })).default([]),
  agents: z
    .array(
      strict({
        id: Id,
        name: z.string().min(1),
        campaigns: z.array(Id).default([]),
        scheduled_callbacks: z.boolean().default(true),
        agent_only_callbacks: z.boolean().default(true),
        time_zone: Zone.optional(),
        active_limit: z.number().int().min(0).optional(),
        email: z.string().email().max(254).optional(),
        // An AI voice agent (README "AI voice agents"): a bot's endpoint taking up to max_calls callbacks at once.
        kind: z.enum(['human', 'ai']).default('human'),
        max_calls: z.number().int().min(1).max(1000).optional(),
      })
      .refine((a) => a.kind === 'ai' || a.max_calls === undefined || a.max_calls === 1, { message: 'max_calls is for kind: ai (a human agent takes one call at a time)', path: ['max_calls'] }),
    )
    .default([]),
  phones: z
    .array(
      strict({
        endpoint: Id,
        agent: Id,
        active_account: z.boolean().default(true),
        status: z.enum(PHONE_STATUSES).default('ACTIVE'),
        server: Id.optional(), // the server the phone registers on; default `default`
      }),
    )
    .default([]),
  leads: z.array(LeadEntry).default([]),
  users: z
    .array(
      strict({
        id: Id,
        role: z.enum(['agent', 'manager', 'admin']),
        agent: Id.optional(), // role agent: the agent this user is (default: the same id)
        campaigns: z.array(Id).default([]), // role manager: the campaigns managed
        lead_modify: z.boolean().default(false), // role manager: may edit callbacks
      }),
    )
    .default([]),
  dnc: z.array(strict({ number: Phone, campaign: Id.optional(), region: z.string().refine(isRegion, 'must be a two-letter region like US').optional() })).default([]),
});
export type ImportFile = z.infer<typeof ImportSchema>;

/** A number's trunks as listed: `trunk: a` or `trunk: [a, b]`. */
const trunksOf = (n: { trunk: string | string[] }): string[] => (Array.isArray(n.trunk) ? n.trunk : [n.trunk]);

/** Parses and checks an import file's text; throws IMPORT_INVALID listing every schema problem. */
export function parseImport(text: string, source: string): ImportFile {
  const src = sourceOf(text, source);
  const { ok, problems } = checkEntries(ImportSchema, src.raw);
  if (problems.length) throw invalid(src, problems, '');
  return plain(ok);
}

function sourceOf(text: string, name: string): Source {
  const src = readSource(text, name);
  if ('error' in src) throw new CallbackdError(ErrorCodes.IMPORT_INVALID, src.error);
  const raw = src.raw as Record<string, unknown[] | null> | null;
  const empty = raw === null || raw === undefined || (typeof raw === 'object' && Object.values(raw).every((v) => Array.isArray(v) && v.length === 0));
  if (empty) throw new CallbackdError(ErrorCodes.IMPORT_INVALID, `${name} has nothing to import (an empty file, or only empty sections)`);
  return src;
}

function invalid(src: Source, problems: Problem[], tail: string): CallbackdError {
  const lines = formatProblems(src, problems);
  return new CallbackdError(ErrorCodes.IMPORT_INVALID, `${src.name}: ${lines.length} problem(s), nothing imported${tail}:\n  ${lines.join('\n  ')}`, lines);
}

const plain = (c: Checked<ImportFile>): ImportFile => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, (v as { v: unknown }[]).map((e) => e.v)])) as ImportFile;
const indexed = (f: ImportFile): Checked<ImportFile> =>
  Object.fromEntries(Object.entries(f).map(([k, v]) => [k, (v as unknown[]).map((e, i) => ({ i, v: e }))])) as Checked<ImportFile>;

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

/** References and duplicates: every problem of the entries that passed their schema. */
async function referenceProblems(tx: Conn, f: Checked<ImportFile>, raw: unknown): Promise<{ problems: Problem[]; leadPhones: Map<number, NewLeadPhone[]>; dncNumbers: Map<number, string> }> {
  const problems: Problem[] = [];
  const known = knownIn(tx, raw);
  const knownServers = await serverNames(tx, raw);
  const need = (ok: boolean, path: Path, message: string) => ok || problems.push({ path, message });
  // for-of, not forEach: `known` may ask the database, and each answer is awaited in file order.
  for (const { i, v: n } of f.numbers) for (const t of trunksOf(n)) need(await known('trunks', t), ['numbers', i, 'trunk'], `no trunk "${t}"`);
  const server = async (path: Path, id: string | undefined) => id === undefined || need(await known('servers', id), path, `no server "${id}"${knownServers.suggest(id)}`);
  for (const { i, v: t } of f.trunks) await server(['trunks', i, 'server'], t.server);
  for (const { i, v: p } of f.phones) await server(['phones', i, 'server'], p.server);
  for (const { i, v: c } of f.campaigns) need(!c.outbound_number || await known('numbers', c.outbound_number), ['campaigns', i, 'outbound_number'], `${c.outbound_number} is not in numbers`);
  for (const { i, v: l } of f.lists) need(await known('campaigns', l.campaign), ['lists', i, 'campaign'], `no campaign "${l.campaign}"`);
  for (const { i, v: a } of f.agents) for (const c of a.campaigns) need(await known('campaigns', c), ['agents', i, 'campaigns'], `no campaign "${c}"`);
  for (const { i, v: p } of f.phones) need(await known('agents', p.agent), ['phones', i, 'agent'], `no agent "${p.agent}"`);
  for (const { i, v: u } of f.users) {
    if (u.role === 'agent') need(await known('agents', u.agent ?? u.id), ['users', i, 'agent'], `no agent "${u.agent ?? u.id}"`);
    for (const c of u.campaigns) need(await known('campaigns', c), ['users', i, 'campaigns'], `no campaign "${c}"`);
  }
  for (const { i, v: d } of f.dnc) need(!d.campaign || await known('campaigns', d.campaign), ['dnc', i, 'campaign'], `no campaign "${d.campaign}"`);
  // Every number is stored in E.164; national ones are read in their campaign's region.
  // Asked once per campaign and per list (not per lead: 10,000 leads of one list are one lookup).
  const regions = new Map<string, Promise<string>>();
  const regionOfCampaign = async (id: string | undefined): Promise<string> => {
    if (!id) return 'US';
    if (!regions.has(id)) regions.set(id, (async () => (f.campaigns.find((c) => c.v.id === id)?.v.default_region ?? (await dir.getCampaign(tx, id))?.defaultRegion) || 'US')());
    return regions.get(id)!;
  };
  const listCampaigns = new Map<string, Promise<string | undefined>>();
  const campaignOfList = (id: string): Promise<string | undefined> => {
    if (!listCampaigns.has(id)) listCampaigns.set(id, (async () => f.lists.find((l) => l.v.id === id)?.v.campaign ?? (await dir.getList(tx, id))?.campaignId)());
    return listCampaigns.get(id)!;
  };
  const e164 = (out: Map<number, string>, i: number, path: Path, typed: string, region: string) => {
    const r = phoneE164(typed, region);
    if (r.ok) out.set(i, r.e164);
    else problems.push({ path, message: r.error });
  };
  const leadPhones = new Map<number, NewLeadPhone[]>();
  for (const { i, v: l } of f.leads) {
    const r = checkLeadRefs(l, await known('lists', l.list), await regionOfCampaign(await campaignOfList(l.list)));
    for (const p of r.problems) problems.push({ path: ['leads', i, p.field, ...(p.at ?? [])], message: p.message });
    if (r.numbers) leadPhones.set(i, r.numbers);
  }
  const dncNumbers = new Map<number, string>();
  for (const { i, v: d } of f.dnc) e164(dncNumbers, i, ['dnc', i, 'number'], d.number, d.region ?? await regionOfCampaign(d.campaign));
  const dup = <T>(section: keyof ImportFile, entries: { i: number; v: T }[], key: (v: T) => string) => {
    const seen = new Set<string>();
    for (const { i, v } of entries) {
      const k = key(v);
      if (seen.has(k)) problems.push({ path: [section, i], message: 'listed twice' });
      seen.add(k);
    }
  };
  dup('servers', f.servers, (s) => s.id);
  dup('trunks', f.trunks, (t) => t.id);
  dup('numbers', f.numbers, (n) => n.number);
  dup('campaigns', f.campaigns, (c) => c.id);
  dup('lists', f.lists, (l) => l.id);
  dup('agents', f.agents, (a) => a.id);
  dup('phones', f.phones, (p) => p.endpoint);
  dup('leads', f.leads, (l) => l.id);
  dup('users', f.users, (u) => u.id);
  return { problems, leadPhones, dncNumbers };
}

/** Writes the whole file in one transaction: on any error nothing is written. */
export async function applyImport(db: Conn, f: ImportFile, now: number): Promise<ImportCounts> {
  return transaction(db, async (tx) => {
    const checked = indexed(f);
    const r = await referenceProblems(tx, checked, f);
    if (r.problems.length) {
      const lines = formatProblems({ name: '', doc: null, lines: null, raw: f }, r.problems);
      throw new CallbackdError(ErrorCodes.IMPORT_INVALID, `${lines.length} problem(s), nothing imported:\n  ${lines.join('\n  ')}`, lines);
    }
    return await write(tx, f, r.leadPhones, r.dncNumbers, now);
  });
}

async function write(tx: Conn, f: ImportFile, leadPhones: Map<number, NewLeadPhone[]>, dncNumbers: Map<number, string>, now: number): Promise<ImportCounts> {
  {
    // Upserts keyed by the admin's own ids: re-importing a file changes nothing.
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
    for (const c of f.campaigns) {
      await dir.upsertCampaign(tx, {
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
    }
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
}

/** Reads, checks and writes an import file: every problem at once, in file order; nothing written unless all is well. */
export async function importFile(db: Conn, path: string, now: number): Promise<ImportCounts> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CallbackdError(ErrorCodes.IMPORT_INVALID, `cannot read ${path}: ${messageOf(err)}`);
  }
  const src = sourceOf(text, path);
  return transaction(db, async (tx) => {
    const { ok, problems } = checkEntries(ImportSchema, src.raw);
    const refs = await referenceProblems(tx, ok, src.raw);
    if (problems.length || refs.problems.length) throw invalid(src, [...problems, ...refs.problems], '');
    return await write(tx, plain(ok), refs.leadPhones, refs.dncNumbers, now);
  });
}
