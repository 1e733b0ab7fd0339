import { DateTime } from 'luxon';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { describeCause } from '../domain/outcome.js';
import { agentResponseInWords, customerChoiceInWords } from '../domain/call-prompts.js';
import { recordingShown } from '../domain/recording.js';
import { mayDialAt } from '../domain/windows.js';
import type { Conn } from '../store/conn.js';
import * as dir from '../store/directory.js';
import { attemptsOf } from '../store/callbacks.js';
import { callbacksOfLead, callbacksWithLeads } from '../store/console-reads.js';
import type { CallbackRow, CampaignRow, LeadRow } from '../store/schema.js';
import { canSee, type Principal } from './auth.js';
import { campaignCalendar, leadZone } from './book.js';

// What the console shows next to a callback that the callback view itself does not carry: the
// lead's number and name, whether its campaign is in calling hours, today's windows, the call log
// in words. Decided here, once; the console only lays it out.

const iso = (t: number | null | undefined) => (t === null || t === undefined ? null : new Date(t).toISOString());

export function national(e164: string): string {
  return parsePhoneNumberFromString(e164)?.formatNational() ?? e164;
}

const leadName = (l: LeadRow | undefined) => (l ? [l.firstName, l.lastName].filter(Boolean).join(' ') || null : null);

/** "In calling hours now" on the campaign's clock: what a manager means by a running campaign. */
export function campaignRunning(c: CampaignRow, now: number): boolean {
  return mayDialAt(now, c.timeZone, campaignCalendar(c));
}

/** Today's calling windows of the lead (its own date), as instants. */
export function windowsToday(c: CampaignRow, zone: string, now: number): { start: string; end: string }[] {
  const cal = campaignCalendar(c);
  const day = DateTime.fromMillis(now, { zone }).startOf('day');
  if (cal.holidays.has(day.toISODate()!)) return [];
  return (cal.week[day.weekday as 1 | 2 | 3 | 4 | 5 | 6 | 7] ?? []).map((w) => ({ start: day.plus({ seconds: w.start }).toISO()!, end: day.plus({ seconds: w.end }).toISO()! }));
}

export async function rowFacts(db: Conn, p: Principal, ids: number[], now: number) {
  // One read and one calendar per campaign on the page, not per row.
  const campaigns = new Map<string, { c: CampaignRow; running: boolean } | undefined>();
  const byId = new Map((await callbacksWithLeads(db, ids)).map((r) => [r.cb.id, r]));
  for (const { cb } of byId.values()) {
    if (campaigns.has(cb.campaignId)) continue;
    const c = await dir.getCampaign(db, cb.campaignId);
    campaigns.set(cb.campaignId, c ? { c, running: campaignRunning(c, now) } : undefined);
  }
  const camp = (id: string) => campaigns.get(id);
  return ids
    .map((id) => byId.get(id))
    .filter((r): r is NonNullable<typeof r> => r !== undefined && canSee(p, r.cb))
    .map(({ cb, lead }) => {
      const c = camp(cb.campaignId);
      return {
        id: cb.id,
        phone: lead?.phoneE164 ?? null,
        phoneNational: lead ? national(lead.phoneE164) : null,
        leadName: leadName(lead ?? undefined),
        campaignName: c?.c.name ?? cb.campaignId,
        campaignRunning: c?.running ?? false,
      };
    });
}

/** Talk time of an attempt in seconds, when it was bridged. */
const talkSeconds = (durationMs: number | null) => (durationMs === null ? null : Math.round(durationMs / 100) / 10);

/** Where the console plays an attempt's recording (the API route, same session), or why there is none. */
function attemptRecording(callbackId: number, a: { seq: number; recordingName: string | null; recordingNote: string | null; recordingDeletedAt: number | null }, retentionDays: number | null) {
  const shown = recordingShown({ name: a.recordingName, note: a.recordingNote, deletedAt: a.recordingDeletedAt }, retentionDays);
  return { url: shown.playable ? `/callbacks/${callbackId}/attempts/${a.seq}/recording` : null, note: shown.note };
}

export async function callbackFacts(db: Conn, cb: CallbackRow, now: number) {
  const lead = await dir.getLead(db, cb.leadId);
  const c = await dir.getCampaign(db, cb.campaignId);
  const zone = lead && c ? leadZone(lead, c) : cb.dueZone;
  const owner = cb.ownerAgentId ? await dir.getAgent(db, cb.ownerAgentId) : undefined;
  return {
    lead: { id: cb.leadId, name: leadName(lead), phone: lead?.phoneE164 ?? null, phoneNational: lead ? national(lead.phoneE164) : null, zone, list: lead?.listId ?? null },
    campaign: c
      ? { id: c.id, name: c.name, running: campaignRunning(c, now), zone: c.timeZone, dialOrder: c.dialOrder, myCallbackDefault: c.myCallbackDefault, windowsToday: windowsToday(c, zone, now) }
      : null,
    agentZone: owner?.timeZone ?? null,
    nextAttemptAt: iso(cb.nextAttemptAt),
    pastDue: cb.dueAt < now && (cb.state === 'ACTIVE' || cb.state === 'LIVE'),
    attempts: (await attemptsOf(db, cb.id)).map((a) => ({
      seq: a.seq,
      agent: a.agentId,
      phone: a.phoneEndpoint,
      callerId: a.callerId,
      number: a.customerNumber,
      numberPosition: a.phonePosition,
      trunk: a.trunkId,
      startedAt: iso(a.startedAt),
      agentRingingAt: iso(a.agentRingingAt),
      agentAnsweredAt: iso(a.agentAnsweredAt),
      customerRingingAt: iso(a.customerRingingAt),
      customerAnsweredAt: iso(a.customerAnsweredAt),
      endedAt: iso(a.endedAt),
      outcome: a.outcome,
      cause: a.cause === null && a.sipCode === null ? null : describeCause(a.cause, a.sipCode),
      talkSeconds: talkSeconds(a.durationMs),
      agentAnswer: agentResponseInWords(a.agentResponse),
      customerChoice: customerChoiceInWords(a.customerChoice),
      recording: attemptRecording(cb.id, a, c?.recordingRetentionDays ?? null),
    })),
    previous: (await callbacksOfLead(db, cb.leadId))
      .filter((o) => o.id !== cb.id)
      .map((o) => ({ ...o, dueAt: iso(o.dueAt)! })),
  };
}

export { canSee };
