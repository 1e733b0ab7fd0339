import { and, asc, desc, eq, gt, gte, inArray, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import { CallbackdError, ErrorCodes } from '../errors.js';
import type { LegacyConn } from './conn.js';
import { leadHasNumber } from './lead-phones.js';
import { callAttempts, callbacks, leads, type CallbackRow } from './schema.js';

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

function scopeSql(s: Scope): SQL | undefined {
  if (s.kind === 'all') return undefined;
  if (s.kind === 'campaigns') {
    if (s.campaigns.length === 0) return sql`0`;
    if (s.campaigns.length === 1) return eq(callbacks.campaignId, s.campaigns[0]!);
    // Several campaigns: the unary + keeps SQLite from reading each campaign's rows through
    // callbacks_campaign_due and sorting them all (10 s for a manager's first page at 1M rows);
    // it walks callbacks_due in order instead and stops at the page's end (12 ms).
    return sql`+${callbacks.campaignId} IN (${sql.join(s.campaigns.map((c) => sql`${c}`), sql`, `)})`;
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

function filters(q: ListQuery): (SQL | undefined)[] {
  const some = <T>(xs: T[] | undefined) => (xs?.length ? xs : undefined);
  return [
    scopeSql(q.scope),
    some(q.ids) && inArray(callbacks.id, q.ids!),
    some(q.state) && inArray(callbacks.state, q.state as CallbackRow['state'][]),
    q.type && eq(callbacks.type, q.type),
    some(q.campaign) && inArray(callbacks.campaignId, q.campaign!),
    some(q.list) && inArray(leads.listId, q.list!),
    some(q.agent) && inArray(callbacks.ownerAgentId, q.agent!),
    // Any of the lead's numbers (0017), not only the first.
    q.phone !== undefined ? leadHasNumber(q.phone) : undefined,
    q.from !== undefined ? gte(callbacks.dueAt, q.from) : undefined,
    q.to !== undefined ? lte(callbacks.dueAt, q.to) : undefined,
    some(q.disposition) && inArray(callbacks.lastOutcome, q.disposition!),
  ];
}

export function listCallbacks(db: LegacyConn, q: ListQuery): Page {
  const key = q.sort === 'id' ? callbacks.id : callbacks.dueAt;
  const descending = q.order === 'desc';
  const where = filters(q);
  if (q.cursor) {
    const [v, id] = decode(q.cursor);
    where.push(descending ? or(lt(key, v), and(eq(key, v), lt(callbacks.id, id))) : or(gt(key, v), and(eq(key, v), gt(callbacks.id, id))));
  }
  const rows = db
    .select({ cb: callbacks, listId: leads.listId, lastCalledAt: sql<number | null>`(SELECT max(${callAttempts.startedAt}) FROM ${callAttempts} WHERE ${callAttempts.callbackId} = ${callbacks.id})` })
    .from(callbacks)
    .innerJoin(leads, eq(leads.id, callbacks.leadId))
    .where(and(...where))
    .orderBy(descending ? desc(key) : asc(key), descending ? desc(callbacks.id) : asc(callbacks.id))
    .limit(q.limit + 1)
    .all();
  const items = rows.slice(0, q.limit).map((r) => ({ ...r.cb, listId: r.listId, lastCalledAt: r.lastCalledAt }));
  const last = items.at(-1);
  const nextCursor = rows.length > q.limit && last ? encode(q.sort === 'id' ? last.id : last.dueAt, last.id) : null;
  return { items, nextCursor };
}

/** Every page of a listing, for internal readers that need them all (the agent view). */
export function listAllCallbacks(db: LegacyConn, q: Omit<ListQuery, 'limit' | 'cursor'>): ListedCallback[] {
  const out: ListedCallback[] = [];
  let cursor: string | undefined;
  do {
    const page = listCallbacks(db, { ...q, limit: 500, cursor });
    out.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

/** One callback as every view shows it, if the scope lets the reader see it. */
export function listedCallback(db: LegacyConn, id: number, scope: Scope = { kind: 'all' }): ListedCallback | undefined {
  return listCallbacks(db, { scope, ids: [id], limit: 1 }).items[0];
}

/**
 * Callbacks whose moment has come (ACTIVE past due, LIVE past their next attempt), and how many of
 * them are more than `lateMs` past it: what `callbackd status` and /readyz report.
 */
export function countDue(db: LegacyConn, now: number, lateMs: number): { dueNow: number; late: number } {
  const when = sql`CASE ${callbacks.state} WHEN 'ACTIVE' THEN ${callbacks.dueAt} ELSE coalesce(${callbacks.nextAttemptAt}, ${callbacks.dueAt}) END`;
  const r = db
    .select({ dueNow: sql<number>`count(*)`, late: sql<number>`coalesce(sum(${when} < ${now - lateMs}), 0)` })
    .from(callbacks)
    .where(and(inArray(callbacks.state, ['ACTIVE', 'LIVE']), sql`${when} <= ${now}`))
    .get();
  return { dueNow: r?.dueNow ?? 0, late: r?.late ?? 0 };
}
