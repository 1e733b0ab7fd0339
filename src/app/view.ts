import { DateTime } from 'luxon';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { agentSees, counted } from '../domain/agent-view.js';
import { earliestDialable } from '../domain/windows.js';
import type { Db } from '../store/db.js';
import * as dir from '../store/directory.js';
import { callbacks, type CallbackRow, type CampaignRow } from '../store/schema.js';
import { campaignCalendar, leadZone } from './book.js';

// How callbacks are shown: the promise (scheduled instant) next to the earliest instant
// callbackd may actually dial it, and why the two differ.

export interface Dialable {
  earliestDialableAt: number | null;
  /** Empty when the callback can be dialed at its scheduled instant. */
  why: string;
}

export function dialableOf(db: Db, cb: CallbackRow, now: number, cache = new Map<string, CampaignRow | undefined>()): Dialable {
  if (cb.state !== 'ACTIVE' && cb.state !== 'LIVE') return { earliestDialableAt: null, why: '' };
  if (!cache.has(cb.campaignId)) cache.set(cb.campaignId, dir.getCampaign(db, cb.campaignId));
  const campaign = cache.get(cb.campaignId);
  const lead = dir.getLead(db, cb.leadId);
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

export interface AgentView {
  agentId: string;
  live: number;
  active: number;
  /** The number the agent's counter shows: each campaign counts by its own count_mode. */
  counted: number;
  callbacks: CallbackRow[];
}

export function agentView(db: Db, agentId: string, now: number): AgentView {
  const rows = db
    .select()
    .from(callbacks)
    .where(and(eq(callbacks.ownerAgentId, agentId), eq(callbacks.type, 'USERONLY'), inArray(callbacks.state, ['ACTIVE', 'LIVE'])))
    .orderBy(asc(callbacks.dueAt), asc(callbacks.id))
    .all();
  const campaigns = new Map<string, CampaignRow | undefined>();
  const opts = (id: string) => {
    if (!campaigns.has(id)) campaigns.set(id, dir.getCampaign(db, id));
    const c = campaigns.get(id);
    return { countMode: c?.countMode ?? 'ALL_ACTIVE', displayDays: c?.displayDays ?? 0 };
  };
  const seen = rows.filter((cb) => agentSees(cb, opts(cb.campaignId), agentId, now));
  return {
    agentId,
    live: seen.filter((c) => c.state === 'LIVE').length,
    active: seen.filter((c) => c.state === 'ACTIVE').length,
    counted: seen.filter((c) => counted(c.state, opts(c.campaignId).countMode)).length,
    callbacks: seen,
  };
}
