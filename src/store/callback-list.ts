import { and, asc, desc, eq, gt, gte, inArray, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import { CallbackdError, ErrorCodes } from '../errors.js';
import type { Conn } from './conn.js';
import { first, op } from './engine.js';
import { leadHasNumber } from './lead-phones.js';
import type { CallbackRow } from './schema.js';

// The one listing of callbacks (API, CLI, agent view, search, a single callback): filtered,
// sorted, and paged by keyset (cursor) so page 1000 costs what page 1 does.

/** Which callbacks a reader may see (app/auth.ts maps a principal to one of these). */
export type Scope =
  | { kind: 'all' }
  | { kind: 'campaigns'; campaigns: string[] }
  /** An agent: their own callbacks, and ANYONE callbacks of their campaigns. */
  | { kind: 'agent'; agentId: string; campaigns: string[] };

export interface ListQuery {
  scope: Scope;
  ids?: number[];
  state?: string[];
  type?: 'USERONLY' | 'ANYONE';
  campaign?: string[];
  list?: string[];
  /** Owner agent ids. */
  agent?: string[];
  /** One of the lead's numbers, E.164. */
  phone?: string;
  from?: number;
  to?: number;
  disposition?: string[];
  sort?: 'due' | 'id';
  order?: 'asc' | 'desc';
  limit: number;
  cursor?: string;
}

/** A callback row with what every view of it shows besides: its list and when it was last called. */
export interface ListedCallback extends CallbackRow {
  listId: string;
  lastCalledAt: number | null;
}

export interface Page {
  items: ListedCallback[];
  nextCursor: string | null;
}

function scopeSql(c: Conn, s: Scope): SQL | undefined {
  const { callbacks } = c.t;
  if (s.kind === 'all') return undefined;
  if (s.kind === 'campaigns') {
    if (s.campaigns.length === 0) return sql`false`;
    if (s.campaigns.length === 1) return eq(callbacks.campaignId, s.campaigns[0]!);
    // Several campaigns: the unary + keeps SQLite from reading each campaign's rows through
    // callbacks_campaign_due and sorting them all (10 s for a manager's first page at 1M rows);
    // it walks callbacks_due in order instead and stops at the page's end (12 ms). The + is
    // SQLite's planner hint only (on PostgreSQL it is an error on text).
    if (c.kind === 'pg') return inArray(callbacks.campaignId, s.campaigns);
    return sql`+${callbacks.campaignId} IN (${sql.join(s.campaigns.map((x) => sql`${x}`), sql`, `)})`;
  }
  const own = eq(callbacks.ownerAgentId, s.agentId);
  return s.campaigns.length ? or(own, and(eq(callbacks.type, 'ANYONE'), inArray(callbacks.campaignId, s.campaigns))) : own;
}

const encode = (v: number, id: number) => Buffer.from(JSON.stringify([v, id])).toString('base64url');
function decode(c: string): [number, number] {
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString()) as unknown;
    if (Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x))) return v as [number, number];
  } catch {
    /* fall through */
  }
  throw new CallbackdError(ErrorCodes.INPUT_INVALID, 'cursor is not one this API gave out; start again without it');
}

function filters(c: Conn, q: ListQuery): (SQL | undefined)[] {
  const { callbacks, leads } = c.t;
  const some = <T>(xs: T[] | undefined) => (xs?.length ? xs : undefined);
  return [
    scopeSql(c, q.scope),
    some(q.ids) && inArray(callbacks.id, q.ids!),
    some(q.state) && inArray(callbacks.state, q.state as CallbackRow['state'][]),
    q.type && eq(callbacks.type, q.type),
    some(q.campaign) && inArray(callbacks.campaignId, q.campaign!),
    some(q.list) && inArray(leads.listId, q.list!),
    some(q.agent) && inArray(callbacks.ownerAgentId, q.agent!),
    // Any of the lead's numbers (0017), not only the first.
    q.phone !== undefined ? leadHasNumber(q.phone, c.t) : undefined,
    q.from !== undefined ? gte(callbacks.dueAt, q.from) : undefined,
    q.to !== undefined ? lte(callbacks.dueAt, q.to) : undefined,
    some(q.disposition) && inArray(callbacks.lastOutcome, q.disposition!),
  ];
}

export const listCallbacks = op('listCallbacks', async (db: Conn, q: ListQuery): Promise<Page> => {
  const { callbacks, leads, callAttempts } = db.t;
  const key = q.sort === 'id' ? callbacks.id : callbacks.dueAt;
  const descending = q.order === 'desc';
  const where = filters(db, q);
  if (q.cursor) {
    const [v, id] = decode(q.cursor);
    where.push(descending ? or(lt(key, v), and(eq(key, v), lt(callbacks.id, id))) : or(gt(key, v), and(eq(key, v), gt(callbacks.id, id))));
  }
  const rows = await db.q
    .select({
      cb: callbacks,
      listId: leads.listId,
      lastCalledAt: sql<number | null>`(SELECT max(${callAttempts.startedAt}) FROM ${callAttempts} WHERE ${callAttempts.callbackId} = ${callbacks.id})`.mapWith((v) => (v === null ? null : Number(v))),
    })
    .from(callbacks)
    .innerJoin(leads, eq(leads.id, callbacks.leadId))
    .where(and(...where))
    .orderBy(descending ? desc(key) : asc(key), descending ? desc(callbacks.id) : asc(callbacks.id))
    .limit(q.limit + 1);
  const items = rows.slice(0, q.limit).map((r) => ({ ...r.cb, listId: r.listId, lastCalledAt: r.lastCalledAt }));
  const last = items.at(-1);
  const nextCursor = rows.length > q.limit && last ? encode(q.sort === 'id' ? last.id : last.dueAt, last.id) : null;
  return { items, nextCursor };
});

/** Every page of a listing, for internal readers that need them all (the agent view). */
export async function listAllCallbacks(db: Conn, q: Omit<ListQuery, 'limit' | 'cursor'>): Promise<ListedCallback[]> {
  const out: ListedCallback[] = [];
  let cursor: string | undefined;
  do {
    const page = await listCallbacks(db, { ...q, limit: 500, cursor });
    out.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

/** One callback as every view shows it, if the scope lets the reader see it. */
export async function listedCallback(db: Conn, id: number, scope: Scope = { kind: 'all' }): Promise<ListedCallback | undefined> {
  return (await listCallbacks(db, { scope, ids: [id], limit: 1 })).items[0];
}

/**
 * Callbacks whose moment has come (ACTIVE past due, LIVE past their next attempt), and how many of
 * them are more than `lateMs` past it: what `callbackd status` and /readyz report.
 */
export const countDue = op('countDue', async (db: Conn, now: number, lateMs: number): Promise<{ dueNow: number; late: number }> => {
  const { callbacks } = db.t;
  const when = sql`CASE ${callbacks.state} WHEN 'ACTIVE' THEN ${callbacks.dueAt} ELSE coalesce(${callbacks.nextAttemptAt}, ${callbacks.dueAt}) END`;
  const r = first(
    await db.q
      .select({ dueNow: sql<number>`count(*)`.mapWith(Number), late: sql<number>`count(*) FILTER (WHERE ${when} < ${now - lateMs})`.mapWith(Number) })
      .from(callbacks)
      .where(and(inArray(callbacks.state, ['ACTIVE', 'LIVE']), sql`${when} <= ${now}`)),
  );
  return { dueNow: r?.dueNow ?? 0, late: r?.late ?? 0 };
});
