import { earliestDialable } from '../domain/windows.js';
import { ReportBuilder, type ReportDim, type ReportRow } from '../domain/report.js';
import type { Conn } from '../store/conn.js';
import * as dir from '../store/directory.js';
import type { Scope } from '../store/callback-list.js';
import { reportRows } from '../store/reports.js';
import { campaignCalendar } from './calendar.js';

// Promise-keeping report (GET /reports/callbacks, `callbackd report`): rows from the store, the
// moment each callback could first be dialed from the campaign's calling windows (the same
// function the scheduler uses), the arithmetic in domain/report.ts.

export interface ReportQuery {
  scope: Scope;
  from: number;
  to: number;
  campaign?: string[];
  agent?: string[];
  by: ReportDim[];
  onTimeSec: number;
}

/** YYYY-MM-DD of an instant in a zone; cached per zone and hour, so a million rows cost little. */
function dayOf(): (t: number, zone: string) => string {
  const fmts = new Map<string, Intl.DateTimeFormat>();
  const cache = new Map<string, string>();
  return (t, zone) => {
    const key = `${zone}|${Math.floor(t / 3_600_000)}`;
    let d = cache.get(key);
    if (d === undefined) {
      let f = fmts.get(zone);
      if (!f) fmts.set(zone, (f = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' })));
      d = f.format(t);
      if (cache.size > 100_000) cache.clear();
      cache.set(key, d);
    }
    return d;
  };
}

export async function callbackReport(db: Conn, q: ReportQuery): Promise<ReportRow[]> {
  const b = new ReportBuilder(new Set(q.by), q.onTimeSec);
  const campaigns = new Map<string, { zone: string; calendar: ReturnType<typeof campaignCalendar> } | null>();
  const day = dayOf();
  for await (const r of reportRows(db, q)) {
    if (!campaigns.has(r.campaignId)) {
      const c = await dir.getCampaign(db, r.campaignId);
      campaigns.set(r.campaignId, c ? { zone: c.timeZone, calendar: campaignCalendar(c) } : null);
    }
    const c = campaigns.get(r.campaignId);
    const reference = r.forceDial || !c ? r.dueAt : earliestDialable(r.dueAt, r.leadZone, c.calendar);
    b.add({
      campaignId: r.campaignId,
      agentId: r.ownerAgentId ?? r.firstAgentId ?? '',
      day: day(r.dueAt, c?.zone ?? 'UTC'),
      state: r.state,
      reference,
      firstDialAt: r.firstDialAt,
    });
  }
  return b.rows();
}
