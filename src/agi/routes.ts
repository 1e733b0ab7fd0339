import { and, desc, eq, isNotNull } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { bookCallback, leadZone } from '../app/book.js';
import { toE164 } from '../domain/phone-number.js';
import { CallbackdError } from '../errors.js';
import type { Db } from '../store/db.js';
import * as dir from '../store/directory.js';
import { callAttempts } from '../store/schema.js';
import { getCallback } from '../store/callbacks.js';
import type { AgiSession } from './server.js';

// The dialplan hooks (README "Dialplan hooks"). Prompts are Asterisk's stock English sounds, so
// the lab and a fresh server have them. Every booking goes through app/book.ts like the CLI's.

export interface RouteDeps {
  db: Db;
  now: () => number;
  /** Wakes the scheduler: a callback booked "now" should not wait for the next poll. */
  nudge: () => void;
}

const DIGIT_WAIT_MS = 6000;

/** Plays prompts; a digit pressed during them is returned ('' if none). */
async function play(s: AgiSession, ...files: string[]): Promise<string> {
  for (const f of files) {
    const r = await s.command('STREAM FILE', f, '0123456789*#');
    if (r.result !== '0' && r.result !== '-1') return String.fromCharCode(Number(r.result));
  }
  return '';
}

async function waitDigit(s: AgiSession, ms: number): Promise<string> {
  const r = await s.command('WAIT FOR DIGIT', ms);
  const code = Number(r.result);
  return code > 0 ? String.fromCharCode(code) : '';
}

/** Reads the status back to dialplan, so an admin can branch on it. */
async function status(s: AgiSession, value: string, detail = ''): Promise<void> {
  await s.setVariable('CALLBACKD_STATUS', value).catch(() => undefined);
  if (detail) await s.setVariable('CALLBACKD_DETAIL', detail).catch(() => undefined);
}

/**
 * request-callback?campaign=C[&minutes=N][&ask=1][&list=L]: the caller's own number (or, with
 * ask=1 or no usable caller ID, digits they type) is confirmed with "1", then an ANYONE callback is
 * booked in C at the next dialable moment (or N minutes from now). Requests are dialed first come,
 * first served: same due instant, lower id first.
 */
export function requestCallback(d: RouteDeps) {
  return async (s: AgiSession): Promise<void> => {
    const q = s.request.query;
    const campaignId = q.get('campaign') ?? s.request.args[0] ?? '';
    const campaign = dir.getCampaign(d.db, campaignId);
    if (!campaign) {
      s.log.error({ campaign: campaignId }, `request-callback: no campaign "${campaignId}"; fix the AGI() URL (?campaign=ID)`);
      await status(s, 'ERROR', `no campaign ${campaignId}`);
      await play(s, 'please-try-call-later', 'goodbye');
      return;
    }
    const minutes = Number(q.get('minutes') ?? 0);
    let number = q.get('ask') === '1' ? null : toE164(s.request.env.agi_callerid ?? '', campaign.defaultRegion);
    if (!number || !number.ok) {
      const r = await s.command('GET DATA', 'vm-enter-num-to-call', 10000, 15);
      number = toE164(r.result, campaign.defaultRegion);
      if (!number.ok) {
        s.log.warn({ typed: r.result, callerId: s.request.env.agi_callerid }, 'request-callback: no usable number; nothing booked');
        await status(s, 'NO_NUMBER');
        await play(s, 'invalid', 'goodbye');
        return;
      }
    }
    // "You entered <number>. If this is correct, press 1."
    let digit = await play(s, 'you-entered');
    if (!digit) {
      const r = await s.command('SAY DIGITS', number.e164.replace(/\D/g, ''), '0123456789*#');
      if (r.result !== '0' && r.result !== '-1') digit = String.fromCharCode(Number(r.result));
    }
    if (!digit) digit = await play(s, 'if-correct-press', 'digits/1');
    if (!digit) digit = await waitDigit(s, DIGIT_WAIT_MS);
    if (digit !== '1') {
      s.log.info({ digit }, 'request-callback: not confirmed; nothing booked');
      await status(s, 'NOT_CONFIRMED');
      await play(s, 'cancelled', 'goodbye');
      return;
    }
    const now = d.now();
    // The caller becomes a lead of the campaign unless the number already is one.
    let lead = dir.leadByPhone(d.db, campaign.id, number.e164);
    if (!lead) {
      const listId = q.get('list') ?? dir.firstListOf(d.db, campaign.id);
      if (!listId) {
        s.log.error({ campaign: campaign.id }, `request-callback: campaign ${campaign.id} has no list for new callers; import one`);
        await status(s, 'ERROR', 'campaign has no list');
        await play(s, 'please-try-call-later', 'goodbye');
        return;
      }
      const id = `agi-${number.e164.slice(1)}`;
      dir.upsertLead(d.db, { id, listId, firstName: s.request.env.agi_calleridname || null, lastName: null, phoneE164: number.e164, timeZone: null, updatedAt: now });
      lead = dir.getLead(d.db, id)!;
    }
    let r;
    try {
      r = bookCallback(
        d.db,
        { leadId: lead.id, due: minutes > 0 ? `+${minutes}m` : 'now', type: 'ANYONE', calltimeCheck: 'MOVE', notes: 'requested by phone', actor: 'agi' },
        now,
      );
    } catch (err) {
      if (!(err instanceof CallbackdError)) throw err;
      s.log.warn({ number: number.e164, code: err.code }, `request-callback refused: ${err.message}`);
      await status(s, 'REFUSED', err.message);
      await play(s, 'please-try-call-later', 'goodbye');
      return;
    }
    d.nudge();
    s.log.info({ callbackId: r.callback.id, number: number.e164, notices: r.notices }, 'request-callback: booked');
    await status(s, 'BOOKED');
    await s.setVariable('CALLBACKD_ID', String(r.callback.id));
    await play(s, 'auth-thankyou', 'goodbye');
  };
}

/**
 * agent-callback?endpoint=${CHANNEL(endpoint)}&minutes=N | &at=HHMM: books a USERONLY callback for
 * the lead the agent last spoke to, N minutes from now or at the next HH:MM on the lead's clock.
 * The agent's own options and limits apply; a refusal plays "invalid" and logs the reason.
 */
export function agentCallback(d: RouteDeps) {
  return async (s: AgiSession): Promise<void> => {
    const q = s.request.query;
    const endpoint = q.get('endpoint') || /^PJSIP\/(.+)-[0-9a-f]+$/.exec(s.request.env.agi_channel ?? '')?.[1] || '';
    const agent = dir.agentOfPhone(d.db, endpoint);
    const refuse = async (why: string) => {
      s.log.warn({ endpoint }, `agent-callback refused: ${why}`);
      await status(s, 'REFUSED', why);
      await play(s, 'invalid', 'goodbye');
    };
    if (!agent) return refuse(`phone ${endpoint || '(unknown)'} belongs to no agent`);
    const last = d.db
      .select({ callbackId: callAttempts.callbackId })
      .from(callAttempts)
      .where(and(eq(callAttempts.agentId, agent.id), isNotNull(callAttempts.customerAnsweredAt)))
      .orderBy(desc(callAttempts.customerAnsweredAt))
      .get();
    const lastCb = last ? getCallback(d.db, last.callbackId) : undefined;
    if (!lastCb) return refuse(`agent ${agent.id} has not spoken to a lead yet`);
    const lead = dir.getLead(d.db, lastCb.leadId)!;
    const campaign = dir.getCampaign(d.db, lastCb.campaignId)!;
    let due: string;
    const minutes = q.get('minutes');
    const at = q.get('at');
    if (minutes && /^\d{1,4}$/.test(minutes) && Number(minutes) > 0) due = `+${Number(minutes)}m`;
    else if (at && /^([01]\d|2[0-3])[0-5]\d$/.test(at)) {
      const zone = leadZone(lead, campaign);
      let t = DateTime.fromMillis(d.now(), { zone }).set({ hour: Number(at.slice(0, 2)), minute: Number(at.slice(2)), second: 0, millisecond: 0 });
      if (t.toMillis() <= d.now()) t = t.plus({ days: 1 });
      due = t.toFormat("yyyy-LL-dd'T'HH:mm");
    } else return refuse(`"${minutes ?? at ?? ''}" is not minutes (*55N) or a time HHMM (*56HHMM)`);
    try {
      const r = bookCallback(d.db, { leadId: lead.id, due, zone: 'lead', type: 'USERONLY', ownerAgentId: agent.id, bookedByAgentId: agent.id, actor: agent.id }, d.now());
      d.nudge();
      s.log.info({ callbackId: r.callback.id, lead: lead.id, agent: agent.id, notices: r.notices }, 'agent-callback: booked');
      await status(s, 'BOOKED');
      await s.setVariable('CALLBACKD_ID', String(r.callback.id));
      await play(s, 'auth-thankyou');
    } catch (err) {
      if (err instanceof CallbackdError) return refuse(err.message);
      throw err;
    }
  };
}

/**
 * callback-info[?id=N]: sets CB_ID, CB_LEAD_NAME, CB_LEAD_PHONE, CB_NOTES, CB_ATTEMPT for a
 * whisper or screen-pop. Without ?id the channel's CALLBACKD_ID variable is used (callbackd sets
 * it on the channels it originates).
 */
export function callbackInfo(d: RouteDeps) {
  return async (s: AgiSession): Promise<void> => {
    let id = s.request.query.get('id') ?? s.request.args[0] ?? '';
    if (!id) id = (await s.command('GET VARIABLE', 'CALLBACKD_ID')).data ?? '';
    const cb = /^\d+$/.test(id) ? getCallback(d.db, Number(id)) : undefined;
    if (!cb) {
      s.log.warn({ id }, 'callback-info: no such callback');
      await status(s, 'NOT_FOUND');
      return;
    }
    const lead = dir.getLead(d.db, cb.leadId);
    await s.setVariable('CB_ID', String(cb.id));
    await s.setVariable('CB_LEAD_NAME', [lead?.firstName, lead?.lastName].filter(Boolean).join(' '));
    await s.setVariable('CB_LEAD_PHONE', lead?.phoneE164 ?? '');
    await s.setVariable('CB_NOTES', (cb.notes ?? '').replace(/[\r\n]+/g, ' '));
    await s.setVariable('CB_ATTEMPT', String(cb.attempts));
    await status(s, 'OK');
  };
}
