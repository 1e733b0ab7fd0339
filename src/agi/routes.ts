import { DateTime } from 'luxon';
import { bookCallback, leadZone } from '../app/book.js';
import { phoneBlockedReason } from '../domain/phone.js';
import { toE164 } from '../domain/phone-number.js';
import { arrivalMaxAgeMs, arrivalOf } from '../domain/queue-place.js';
import { CallbackdError } from '../errors.js';
import { lastAnsweredCallbackId, phoneWithAgent } from '../store/agi-lookups.js';
import type { Conn } from '../store/conn.js';
import * as dir from '../store/directory.js';
import { attemptOfChannel, getCallback } from '../store/callbacks.js';
import { positionInLine } from '../store/queue-place.js';
import type { AgiSession } from './server.js';

// The dialplan hooks (README "Dialplan hooks"). Prompts are Asterisk's stock English sounds, so
// the lab and a fresh server have them. Every booking goes through app/book.ts like the CLI's.
// The server has authenticated the request (agi/auth.ts) before a route runs; what a route
// trusts beyond that comes from the AGI environment Asterisk fills in, never from the URL.

export interface RouteDeps {
  db: Conn;
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
 * booked in C at the next dialable moment (or N minutes from now). The caller keeps their place in
 * line: the callback carries their arrival (&arrived=${CALLBACKD_ARRIVED}, else their channel's
 * creation time) and is dialed in arrival order; CALLBACKD_POSITION tells the dialplan where they stand. L must be a list of C. A number that is a lead
 * of C is booked for that lead; otherwise a new lead is added to L (or C's first list): a lead
 * of another campaign is never moved.
 */
export function requestCallback(d: RouteDeps) {
  return async (s: AgiSession): Promise<void> => {
    const q = s.request.query;
    const campaignId = q.get('campaign') ?? s.request.args[0] ?? '';
    const campaign = await dir.getCampaign(d.db, campaignId);
    if (!campaign) {
      s.log.error({ campaign: campaignId }, `request-callback: no campaign "${campaignId}"; fix the AGI() URL (?campaign=ID)`);
      await status(s, 'ERROR', `no campaign ${campaignId}`);
      await play(s, 'please-try-call-later', 'goodbye');
      return;
    }
    const setup = await requestSetup(d.db, campaign.id, q.get('list'), q.get('minutes'));
    if ('error' in setup) {
      s.log.error({ campaign: campaign.id }, `request-callback: ${setup.error}; fix the AGI() URL`);
      await status(s, 'ERROR', setup.error);
      await play(s, 'please-try-call-later', 'goodbye');
      return;
    }
    const { minutes } = setup;
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
    // The caller keeps the place they had in the queue (README "Inbound callbacks keep their place").
    const arrival = arrivalOf(q.get('arrived'), s.request.env.agi_uniqueid, now, arrivalMaxAgeMs(campaign.inboundCallbackExpiryHours));
    let r;
    try {
      r = await bookCallback(
        d.db,
        {
          // The caller's lead in this campaign, else a new one in the list, created in the booking's
          // transaction (a refused booking leaves none); a lead of another campaign is never moved.
          byPhone: { phone: number.e164, campaignId: campaign.id, listId: setup.listId, firstName: s.request.env.agi_calleridname || null, source: 'agi' },
          due: minutes > 0 ? `+${minutes}m` : 'now',
          type: 'ANYONE',
          calltimeCheck: 'MOVE',
          notes: 'requested by phone',
          arrivedAt: arrival.at,
          actor: 'agi',
          // A caller's new request replaces a shared (ANYONE) one, never an agent's own promise.
          mayReplace: (existing) => existing.type === 'ANYONE',
        },
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
    const position = await positionInLine(d.db, r.callback);
    s.log.info({ callbackId: r.callback.id, number: number.e164, notices: r.notices, arrivedAt: arrival.at, arrivalFrom: arrival.source, position }, 'request-callback: booked');
    await status(s, 'BOOKED');
    await s.setVariable('CALLBACKD_ID', String(r.callback.id));
    // The shipped dialplan says it: "You are currently caller number <N>", then goodbye.
    await s.setVariable('CALLBACKD_POSITION', String(position));
    await play(s, 'auth-thankyou');
  };
}

/** The list new callers join and the minutes ahead, from the AGI() URL, or what is wrong with them. */
async function requestSetup(db: Conn, campaignId: string, list: string | null, minutes: string | null): Promise<{ listId: string | null; minutes: number } | { error: string }> {
  if (minutes !== null && !/^\d{1,6}$/.test(minutes)) return { error: `minutes=${minutes.slice(0, 20)} is not a whole number of minutes` };
  if (list !== null && (await dir.getList(db, list))?.campaignId !== campaignId) return { error: `list ${list.slice(0, 40)} is not a list of campaign ${campaignId}` };
  return { listId: list, minutes: Number(minutes ?? 0) };
}

/** "PJSIP/agent1001-0000002a" → "agent1001": the endpoint a channel belongs to (names may hold "-"). */
export function endpointOfChannel(channel: string | undefined): string {
  return /^PJSIP\/(.+)-[0-9a-f]+$/.exec(channel ?? '')?.[1] ?? '';
}

/**
 * agent-callback?minutes=N | ?at=HHMM: books a USERONLY callback for the lead the agent last spoke
 * to, N minutes from now or at the next HH:MM on the lead's clock. The agent is the owner of the
 * phone the call comes from (agi_channel, set by Asterisk; an ?endpoint= in the URL is ignored),
 * and that phone's Status and Active Account gate it as they gate ringing it. The agent's own
 * options and limits apply; a refusal plays "invalid" and logs the reason.
 */
export function agentCallback(d: RouteDeps) {
  return async (s: AgiSession): Promise<void> => {
    const q = s.request.query;
    const endpoint = endpointOfChannel(s.request.env.agi_channel);
    const refuse = async (why: string) => {
      s.log.warn({ endpoint }, `agent-callback refused: ${why}`);
      await status(s, 'REFUSED', why);
      await play(s, 'invalid', 'goodbye');
    };
    const owned = await phoneWithAgent(d.db, endpoint);
    if (!owned) return refuse(`phone ${endpoint || '(not a PJSIP channel)'} belongs to no agent`);
    const blocked = phoneBlockedReason(owned.phone);
    if (blocked) return refuse(blocked);
    const agent = owned.agent;
    const lastId = await lastAnsweredCallbackId(d.db, agent.id);
    const lastCb = lastId === undefined ? undefined : await getCallback(d.db, lastId);
    if (!lastCb) return refuse(`agent ${agent.id} has not spoken to a lead yet`);
    const lead = (await dir.getLead(d.db, lastCb.leadId))!;
    const campaign = (await dir.getCampaign(d.db, lastCb.campaignId))!;
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
      const r = await bookCallback(
        d.db,
        {
          leadId: lead.id, due, zone: 'lead', type: 'USERONLY', ownerAgentId: agent.id, bookedByAgentId: agent.id, actor: agent.id,
          // As in the API: an agent replaces only their own USERONLY callback.
          mayReplace: (existing) => existing.type === 'USERONLY' && existing.ownerAgentId === agent.id,
        },
        d.now(),
      );
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

/** One line of display text: runs of whitespace (newlines included) become one space. */
const oneLine = (t: string | null | undefined) => (t ?? '').replace(/\s+/g, ' ').trim();

/**
 * callback-info[?id=N]: sets CB_ID, CB_LEAD_NAME, CB_LEAD_PHONE, CB_NOTES, CB_ATTEMPT for a
 * whisper or screen-pop, on a channel callbackd itself placed: the channel's UNIQUEID (the
 * channel id callbackd gave it at originate) must be one of the callback's attempts. Any other
 * channel, or an ?id of another callback, gets NOT_FOUND and learns nothing.
 */
export function callbackInfo(d: RouteDeps) {
  return async (s: AgiSession): Promise<void> => {
    const asked = s.request.query.get('id') ?? s.request.args[0] ?? '';
    const uniqueid = s.request.env.agi_uniqueid ?? '';
    const attempt = uniqueid ? await attemptOfChannel(d.db, uniqueid) : undefined;
    const cb = attempt && (asked === '' || asked === String(attempt.callbackId)) ? await getCallback(d.db, attempt.callbackId) : undefined;
    if (!cb) {
      s.log.warn({ id: asked.slice(0, 40), uniqueid }, 'callback-info: not a channel callbackd placed for this callback; nothing said');
      await status(s, 'NOT_FOUND');
      return;
    }
    const lead = await dir.getLead(d.db, cb.leadId);
    await s.setVariable('CB_ID', String(cb.id));
    await s.setVariable('CB_LEAD_NAME', oneLine([lead?.firstName, lead?.lastName].filter(Boolean).join(' ')));
    await s.setVariable('CB_LEAD_PHONE', lead?.phoneE164 ?? '');
    await s.setVariable('CB_NOTES', oneLine(cb.notes));
    await s.setVariable('CB_ATTEMPT', String(cb.attempts));
    await status(s, 'OK');
  };
}
