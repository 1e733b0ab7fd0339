import { triggerLateness } from '../metrics.js';
import type { Conn } from '../store/conn.js';
import * as dir from '../store/directory.js';
import { attemptsEndedSince, countByStateDue, legsInProgressByTrunk } from '../store/console-reads.js';
import type { Principal } from './auth.js';
import { phoneViews } from './phone-view.js';

// The supervisor's dashboard: one read of what the daemon sees, scoped to the viewer's campaigns.

export interface Links {
  ari: boolean;
  ami: boolean;
  presence: boolean;
}

/** The trigger-lateness histogram since the daemon started (per-bucket counts, not cumulative). */
export async function latenessBuckets(): Promise<{ le: string; count: number }[]> {
  const m = await triggerLateness.get();
  const cumulative = m.values.filter((v) => v.metricName?.endsWith('_bucket')).map((v) => ({ le: String(v.labels.le), n: v.value }));
  return cumulative.map((b, i) => ({ le: b.le, count: b.n - (i > 0 ? cumulative[i - 1]!.n : 0) }));
}

export async function dashboard(db: Conn, p: Principal, a: { from: number; to: number }, links: Links) {
  const scope = p.role === 'admin' ? null : p.campaigns;
  const hours = new Map<string, Record<string, number>>();
  for (const r of await attemptsEndedSince(db, a.from, scope)) {
    if (r.endedAt === null || r.endedAt >= a.to) continue;
    const hour = new Date(Math.floor(r.endedAt / 3_600_000) * 3_600_000).toISOString();
    const row = hours.get(hour) ?? {};
    const k = r.outcome ?? 'UNKNOWN';
    row[k] = (row[k] ?? 0) + 1;
    hours.set(hour, row);
  }
  const inUse = await legsInProgressByTrunk(db);
  return {
    links,
    phones: (await phoneViews(db)).phones,
    byState: await countByStateDue(db, a.from, a.to, scope),
    lateness: await latenessBuckets(),
    outcomesPerHour: [...hours].map(([hour, outcomes]) => ({ hour, outcomes })),
    trunks: (await dir.allTrunks(db)).map((t) => ({ id: t.id, inUse: inUse.get(t.id) ?? 0, maxChannels: t.maxChannels })),
  };
}
