import { DateTime } from 'luxon';
import { z } from 'zod';
import { MAX_DUE_AHEAD_MS } from '../domain/due.js';
import { earliestDialable } from '../domain/windows.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import { listedCallback, type ListedCallback, type Scope } from '../store/callback-list.js';
import type { Conn } from '../store/conn.js';
import * as dir from '../store/directory.js';
import { CALLBACK_STATES, type CallbackRow, type CampaignRow } from '../store/schema.js';
import { campaignCalendar, leadZone } from './calendar.js';
import { chooseDialNumber, leadNumbers } from './dial-number.js';

// The one view of a callback: what the API answers, the CLI prints (text and --json), and events
// and the console show. The promise (scheduled instant) sits next to the earliest instant
// callbackd may actually dial it, and why the two differ.

export const CallbackView = z.object({
  id: z.number(),
  version: z.number().describe('send it back when changing the callback; a stale one gets 409'),
  state: z.enum(CALLBACK_STATES),
  type: z.enum(['USERONLY', 'ANYONE']),
  owner: z.string().nullable(),
  lead: z.string(),
  list: z.string(),
  campaign: z.string(),
  dueAt: z.string().describe('the promise: the scheduled instant (UTC)'),
  dueLocal: z.string().describe("the same instant on the lead's clock"),
  dueZone: z.string(),
  earliestDialableAt: z.string().nullable().describe('when callbackd may actually dial it (calling hours, retries, caps)'),
  earliestDialableWhy: z.string().describe('why the two differ; empty when they do not'),
  nextAttemptAt: z.string().nullable(),
  lastCalledAt: z.string().nullable(),
  attempts: z.number(),
  maxAttempts: z.number(),
  lastOutcome: z.string().nullable(),
  lastCause: z.number().nullable(),
  lastSipCode: z.number().nullable(),
  waitReason: z.string().nullable(),
  failReason: z.string().nullable(),
  notes: z.string().nullable(),
  forceDial: z.boolean(),
  hiddenUntil: z.string().nullable().describe("hidden from the owner's list until then (hours block)"),
  replacedBy: z.number().nullable(),
  numbers: z
    .array(z.object({ position: z.number(), number: z.string(), label: z.string(), dnc: z.boolean().describe("its own flag or a DNC list that applies"), zone: z.string() }))
    .optional()
    .describe("the lead's numbers in dial order (shown when one callback is read, not in lists)"),
  nextNumber: z
    .object({ position: z.number(), number: z.string(), why: z.string().describe('numbers skipped and why (DNC, outside their window); empty when none') })
    .nullable()
    .optional()
    .describe('the number the next attempt dials (ACTIVE/LIVE), from the same rule the scheduler uses; null when every number is DNC'),
  dueOutOfRange: z.boolean().describe('the stored due time is beyond what callbackd can schedule (a booking from before max_days_ahead): shown as its raw value, never dialed; reschedule or cancel it'),
});
export type CallbackViewT = z.infer<typeof CallbackView>;

export interface Dialable {
  earliestDialableAt: number | null;
  /** Empty when the callback can be dialed at its scheduled instant. */
  why: string;
}

export type CampaignCache = Map<string, CampaignRow | undefined>;

export async function dialableOf(db: Conn, cb: CallbackRow, now: number, cache: CampaignCache = new Map()): Promise<Dialable> {
  if (cb.state !== 'ACTIVE' && cb.state !== 'LIVE') return { earliestDialableAt: null, why: '' };
  if (outOfRange(cb.dueAt, now)) return { earliestDialableAt: null, why: 'due time out of range: reschedule or cancel it' };
  if (!cache.has(cb.campaignId)) cache.set(cb.campaignId, await dir.getCampaign(db, cb.campaignId));
  const campaign = cache.get(cb.campaignId);
  const lead = await dir.getLead(db, cb.leadId);
  if (!campaign || !lead) return { earliestDialableAt: null, why: 'lead or campaign missing' };
  // A LIVE callback cannot go before its next attempt (retry, window, daily cap), nor before now.
  const from = cb.state === 'LIVE' ? Math.max(now, cb.nextAttemptAt ?? cb.dueAt) : cb.dueAt;
  const waiting = from > cb.dueAt ? (cb.waitReason ?? 'waiting for its next attempt') : '';
  if (cb.forceDial) return { earliestDialableAt: from, why: waiting || 'force-dial: calling hours ignored' };
  const zone = leadZone(lead, campaign);
  const at = earliestDialable(from, zone, campaignCalendar(campaign));
  if (at === null) return { earliestDialableAt: null, why: `no calling window within a year in ${zone}` };
  if (at > from) return { earliestDialableAt: at, why: `outside calling hours in ${zone}; first dialable ${DateTime.fromMillis(at, { zone }).toFormat('ccc yyyy-LL-dd HH:mm')}` };
  return { earliestDialableAt: at, why: waiting };
}

/** A stored instant a Date can show and the scheduler can reach (a row from an old database may hold any number). */
const inRange = (t: number) => Number.isFinite(t) && Math.abs(t) <= 8.64e15;
/** Further ahead than any booking may be today (parseDue's bound), or not a showable instant at all. */
const outOfRange = (t: number, now: number) => !inRange(t) || t > now + MAX_DUE_AHEAD_MS;
const iso = (t: number | null) => (t === null ? null : inRange(t) ? new Date(t).toISOString() : `out of range (${t})`);

// The same text as toLocaleString('sv-SE', { timeZone }) (which by the spec uses exactly these
// fields), with the formatter built once per zone: building one per row cost ~80 ms per 1,000 rows
// (a CSV export of a million rows is a thousand such pages).
const formats = new Map<string, Intl.DateTimeFormat>();
function localFormat(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (!f) formats.set(zone, (f = new Intl.DateTimeFormat('sv-SE', { timeZone: zone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })));
  return f;
}

/** The view of a listed callback; pass one `cache` when viewing many of them. */
export async function callbackView(db: Conn, cb: ListedCallback, now: number, cache: CampaignCache = new Map()): Promise<CallbackViewT> {
  const d = await dialableOf(db, cb, now, cache);
  return {
    id: cb.id,
    version: cb.version,
    state: cb.state,
    type: cb.type,
    owner: cb.ownerAgentId,
    lead: cb.leadId,
    list: cb.listId,
    campaign: cb.campaignId,
    dueAt: iso(cb.dueAt)!,
    dueLocal: inRange(cb.dueAt) ? localFormat(cb.dueZone).format(cb.dueAt).replace(' ', 'T') : iso(cb.dueAt)!,
    dueZone: cb.dueZone,
    earliestDialableAt: iso(d.earliestDialableAt),
    earliestDialableWhy: d.why,
    nextAttemptAt: iso(cb.nextAttemptAt),
    lastCalledAt: iso(cb.lastCalledAt),
    attempts: cb.attempts,
    maxAttempts: cb.maxAttempts,
    lastOutcome: cb.lastOutcome,
    lastCause: cb.lastCause,
    lastSipCode: cb.lastSipCode,
    waitReason: cb.waitReason,
    failReason: cb.failReason,
    notes: cb.notes,
    forceDial: cb.forceDial,
    hiddenUntil: iso(cb.hiddenUntil),
    replacedBy: cb.replacedBy,
    dueOutOfRange: outOfRange(cb.dueAt, now),
  };
}

export async function viewMany(db: Conn, rows: ListedCallback[], now: number): Promise<CallbackViewT[]> {
  const cache: CampaignCache = new Map();
  const out: CallbackViewT[] = [];
  for (const cb of rows) out.push(await callbackView(db, cb, now, cache));
  return out;
}

/** The view of callback `id`; a reader outside `scope` is told it does not exist (ids do not leak). */
export async function viewById(db: Conn, id: number, now: number, scope: Scope = { kind: 'all' }): Promise<CallbackViewT> {
  const cb = await listedCallback(db, id, scope);
  if (!cb) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no callback ${id}`);
  return { ...await callbackView(db, cb, now), ...await numbersView(db, cb, now) };
}

/** The lead's numbers and the one the next attempt dials: one callback's view only (a list would read them per row). */
async function numbersView(db: Conn, cb: CallbackRow, now: number): Promise<Pick<CallbackViewT, 'numbers' | 'nextNumber'>> {
  const lead = await dir.getLead(db, cb.leadId);
  const campaign = await dir.getCampaign(db, cb.campaignId);
  if (!lead || !campaign) return {};
  const numbers = (await leadNumbers(db, cb, lead, campaign)).map((n) => ({ position: n.position, number: n.e164, label: n.label, dnc: n.dnc, zone: n.zone }));
  if (cb.state !== 'ACTIVE' && cb.state !== 'LIVE') return { numbers };
  // An ACTIVE callback is asked about its due time (when it will first be tried), a LIVE one about now.
  const c = await chooseDialNumber(db, cb, lead, campaign, cb.state === 'ACTIVE' ? Math.max(now, cb.dueAt) : now);
  if (c.kind === 'none') return { numbers, nextNumber: null };
  return { numbers, nextNumber: { position: c.number.position, number: c.number.e164, why: c.skipped.join('; ') } };
}
