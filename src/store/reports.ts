import { sql, type SQL } from 'drizzle-orm';
import type { Scope } from './callback-list.js';
import type { Conn } from './conn.js';
import { all, op } from './engine.js';

// The rows behind GET /reports/callbacks: one per callback due in [from, to), with its first
// customer dial and the agent of its first attempt, read a page at a time (keyset on due time
// and id, so each page walks the due index) so a year of callbacks is never held in memory.

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

export interface ReportSourceQuery {
  scope: Scope;
  from: number;
  to: number;
  campaign?: string[];
  agent?: string[];
}

const PAGE = 2000;
const list = (xs: string[]) => sql.join(xs.map((x) => sql`${x}`), sql`, `);

function conditions(q: ReportSourceQuery): SQL[] {
  const where: SQL[] = [sql`c.due_at >= ${q.from}`, sql`c.due_at < ${q.to}`];
  if (q.scope.kind === 'campaigns') where.push(q.scope.campaigns.length ? sql`c.campaign_id IN (${list(q.scope.campaigns)})` : sql`false`);
  else if (q.scope.kind === 'agent') {
    const anyone = q.scope.campaigns.length ? sql` OR (c.type = 'ANYONE' AND c.campaign_id IN (${list(q.scope.campaigns)}))` : sql``;
    where.push(sql`(c.owner_agent_id = ${q.scope.agentId}${anyone})`);
  }
  if (q.campaign?.length) where.push(sql`c.campaign_id IN (${list(q.campaign)})`);
  if (q.agent?.length) where.push(sql`c.owner_agent_id IN (${list(q.agent)})`);
  return where;
}

// Aliases are quoted: PostgreSQL folds unquoted ones to lower case.
const readPage = op('reportRows', async (c: Conn, where: SQL[], after: [number, number] | null): Promise<ReportSourceRow[]> =>
  all<ReportSourceRow>(
    c,
    sql`SELECT c.id, c.campaign_id AS "campaignId", c.owner_agent_id AS "ownerAgentId", c.due_at AS "dueAt", c.state, c.force_dial AS "forceDial",
         coalesce(l.time_zone, k.time_zone) AS "leadZone",
         (SELECT min(a.customer_dialed_at) FROM call_attempts a WHERE a.callback_id = c.id) AS "firstDialAt",
         (SELECT a.agent_id FROM call_attempts a WHERE a.callback_id = c.id ORDER BY a.seq LIMIT 1) AS "firstAgentId"
       FROM callbacks c JOIN leads l ON l.id = c.lead_id JOIN campaigns k ON k.id = c.campaign_id
       WHERE ${sql.join(after ? [...where, sql`(c.due_at, c.id) > (${after[0]}, ${after[1]})`] : where, sql` AND `)}
       ORDER BY c.due_at, c.id LIMIT ${PAGE}`,
  ),
);

/** Every row of the report's window, in due order, a page at a time. */
export async function* reportRows(db: Conn, q: ReportSourceQuery): AsyncGenerator<ReportSourceRow> {
  const where = conditions(q);
  let after: [number, number] | null = null;
  for (;;) {
    const page = await readPage(db, where, after);
    for (const r of page) yield { ...r, id: Number(r.id), dueAt: Number(r.dueAt), forceDial: Number(r.forceDial), firstDialAt: r.firstDialAt === null ? null : Number(r.firstDialAt) };
    if (page.length < PAGE) return;
    const last = page.at(-1)!;
    after = [Number(last.dueAt), Number(last.id)];
  }
}
