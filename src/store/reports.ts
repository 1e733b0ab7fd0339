import type { Scope } from './callback-list.js';
import type { Db } from './db.js';

// The rows behind GET /reports/callbacks: one per callback due in [from, to), with its first
// customer dial and the agent of its first attempt, read with iterate() so a year of callbacks
// is never held in memory at once.

export interface ReportSourceRow {
  id: number;
  campaignId: string;
  ownerAgentId: string | null;
  dueAt: number;
  state: string;
  forceDial: number;
  leadZone: string;
  firstDialAt: number | null;
  firstAgentId: string | null;
}

export function reportRows(db: Db, q: { scope: Scope; from: number; to: number; campaign?: string[]; agent?: string[] }): IterableIterator<ReportSourceRow> {
  const where: string[] = ['c.due_at >= ?', 'c.due_at < ?'];
  const args: unknown[] = [q.from, q.to];
  const inList = (col: string, xs: string[]) => {
    where.push(`${col} IN (${xs.map(() => '?').join(',')})`);
    args.push(...xs);
  };
  if (q.scope.kind === 'campaigns') {
    if (q.scope.campaigns.length === 0) where.push('0');
    else inList('c.campaign_id', q.scope.campaigns);
  } else if (q.scope.kind === 'agent') {
    where.push(`(c.owner_agent_id = ?${q.scope.campaigns.length ? ` OR (c.type = 'ANYONE' AND c.campaign_id IN (${q.scope.campaigns.map(() => '?').join(',')}))` : ''})`);
    args.push(q.scope.agentId, ...q.scope.campaigns);
  }
  if (q.campaign?.length) inList('c.campaign_id', q.campaign);
  if (q.agent?.length) inList('c.owner_agent_id', q.agent);
  return db.$client
    .prepare(
      `SELECT c.id, c.campaign_id AS campaignId, c.owner_agent_id AS ownerAgentId, c.due_at AS dueAt, c.state, c.force_dial AS forceDial,
         coalesce(l.time_zone, k.time_zone) AS leadZone,
         (SELECT min(a.customer_dialed_at) FROM call_attempts a WHERE a.callback_id = c.id) AS firstDialAt,
         (SELECT a.agent_id FROM call_attempts a WHERE a.callback_id = c.id ORDER BY a.seq LIMIT 1) AS firstAgentId
       FROM callbacks c JOIN leads l ON l.id = c.lead_id JOIN campaigns k ON k.id = c.campaign_id
       WHERE ${where.join(' AND ')}`,
    )
    .iterate(...args) as IterableIterator<ReportSourceRow>;
}
