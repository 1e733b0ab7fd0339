import { and, asc, desc, eq, gt, gte, inArray, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import { toE164 } from '../domain/phone-number.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import type { Db } from '../store/db.js';
import { callAttempts, callbacks, leads, type CallbackRow } from '../store/schema.js';
import type { Principal } from './auth.js';

// Listing and searching callbacks for managers and agents, scoped to what the principal may see,
// with keyset (cursor) pagination so page 1000 costs what page 1 does.

export interface ListQuery {
  state?: string[];
  type?: 'USERONLY' | 'ANYONE';
  campaign?: string[];
  list?: string[];
  agent?: string[];
  from?: number;
  to?: number;
  disposition?: string[];
  sort?: 'due' | 'id';
  order?: 'asc' | 'desc';
  limit: number;
  cursor?: string;
}

export interface ListedCallback extends CallbackRow {
  listId: string;
  lastCalledAt: number | null;
}

function scope(p: Principal): SQL | undefined {
  if (p.role === 'admin') return undefined;
  if (p.role === 'manager') return p.campaigns.length ? inArray(callbacks.campaignId, p.campaigns) : sql`0`;
  const own = eq(callbacks.ownerAgentId, p.agentId ?? '');
  return p.campaigns.length ? or(own, and(eq(callbacks.type, 'ANYONE'), inArray(callbacks.campaignId, p.campaigns))) : own;
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

export function listCallbacksPage(db: Db, p: Principal, q: ListQuery): { items: ListedCallback[]; nextCursor: string | null } {
  const key = q.sort === 'id' ? callbacks.id : callbacks.dueAt;
  const desc_ = q.order === 'desc';
  const where: (SQL | undefined)[] = [
    scope(p),
    q.state?.length ? inArray(callbacks.state, q.state as CallbackRow['state'][]) : undefined,
    q.type ? eq(callbacks.type, q.type) : undefined,
    q.campaign?.length ? inArray(callbacks.campaignId, q.campaign) : undefined,
    q.list?.length ? inArray(leads.listId, q.list) : undefined,
    q.agent?.length ? inArray(callbacks.ownerAgentId, q.agent) : undefined,
    q.from !== undefined ? gte(callbacks.dueAt, q.from) : undefined,
    q.to !== undefined ? lte(callbacks.dueAt, q.to) : undefined,
    q.disposition?.length ? inArray(callbacks.lastOutcome, q.disposition) : undefined,
  ];
  if (q.cursor) {
    const [v, id] = decode(q.cursor);
    where.push(desc_ ? or(lt(key, v), and(eq(key, v), lt(callbacks.id, id))) : or(gt(key, v), and(eq(key, v), gt(callbacks.id, id))));
  }
  const rows = db
    .select({ cb: callbacks, listId: leads.listId, lastCalledAt: sql<number | null>`(SELECT max(${callAttempts.startedAt}) FROM ${callAttempts} WHERE ${callAttempts.callbackId} = ${callbacks.id})` })
    .from(callbacks)
    .innerJoin(leads, eq(leads.id, callbacks.leadId))
    .where(and(...where))
    .orderBy(desc_ ? desc(key) : asc(key), desc_ ? desc(callbacks.id) : asc(callbacks.id))
    .limit(q.limit + 1)
    .all();
  const items = rows.slice(0, q.limit).map((r) => ({ ...r.cb, listId: r.listId, lastCalledAt: r.lastCalledAt }));
  const last = items.at(-1);
  const nextCursor = rows.length > q.limit && last ? encode(q.sort === 'id' ? last.id : last.dueAt, last.id) : null;
  return { items, nextCursor };
}

/** Callbacks of every lead with this number, typed in E.164 or national format. */
export function searchByPhone(db: Db, p: Principal, phone: string, region: string, limit: number): { e164: string; items: CallbackRow[] } {
  const n = toE164(phone, region);
  if (!n.ok) throw new CallbackdError(ErrorCodes.INPUT_INVALID, n.error);
  const items = db
    .select({ cb: callbacks })
    .from(callbacks)
    .innerJoin(leads, eq(leads.id, callbacks.leadId))
    .where(and(eq(leads.phoneE164, n.e164), scope(p)))
    .orderBy(desc(callbacks.dueAt))
    .limit(limit)
    .all()
    .map((r) => r.cb);
  return { e164: n.e164, items };
}
