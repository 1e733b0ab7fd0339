import { and, desc, eq, inArray, lt, ne, sql } from 'drizzle-orm';
import type { Conn } from './conn.js';
import { affected, first, op } from './engine.js';
import type { CallbackRow } from './schema.js';

// The writes people make to callbacks (book, replace, edit, cancel, purge) and the reads their
// rules need. Each runs on the caller's transaction (app/book.ts, app/edit.ts).

/** States in which a callback can still be changed or cancelled: it has not started dialing. */
export const EDITABLE = ['ACTIVE', 'LIVE'] as const;
export const FINISHED = ['COMPLETED', 'NO_ANSWER', 'BUSY', 'FAILED', 'CANCELLED'] as const;

export type OpenCallback = Pick<CallbackRow, 'id' | 'state' | 'type' | 'ownerAgentId' | 'arrivedAt'>;

/** The lead's newest open (ACTIVE, LIVE or DIALING) callback in a campaign: one promise per lead. */
export const openCallbackOfLead = op('openCallbackOfLead', async (db: Conn, leadId: string, campaignId: string): Promise<OpenCallback | undefined> => {
  const { callbacks } = db.t;
  return first(
    await db.q
      .select({ id: callbacks.id, state: callbacks.state, type: callbacks.type, ownerAgentId: callbacks.ownerAgentId, arrivedAt: callbacks.arrivedAt })
      .from(callbacks)
      .where(and(eq(callbacks.leadId, leadId), eq(callbacks.campaignId, campaignId), inArray(callbacks.state, ['ACTIVE', 'LIVE', 'DIALING'])))
      .orderBy(desc(callbacks.id))
      .limit(1),
  );
});

/** The owner's open USERONLY callbacks (what active_limit counts), leaving out callback `except`. */
export const countOwnerOpenUseronly = op('countOwnerOpenUseronly', async (db: Conn, ownerId: string, except?: number): Promise<number> => {
  const { callbacks } = db.t;
  const r = first(
    await db.q
      .select({ n: sql<number>`count(*)`.mapWith(Number) })
      .from(callbacks)
      .where(and(eq(callbacks.ownerAgentId, ownerId), eq(callbacks.type, 'USERONLY'), inArray(callbacks.state, [...EDITABLE]), except === undefined ? undefined : ne(callbacks.id, except))),
  );
  return r?.n ?? 0;
});

/** ACTIVE/LIVE → CANCELLED, replaced by callback `byId`. False if it started dialing meanwhile. */
export const markReplaced = op('markReplaced', async (db: Conn, id: number, byId: number, now: number): Promise<boolean> => {
  const { callbacks } = db.t;
  const r = await db.q
    .update(callbacks)
    .set({ state: 'CANCELLED', replacedBy: byId, failReason: `replaced by callback ${byId}`, waitReason: null, updatedAt: now })
    .where(and(eq(callbacks.id, id), inArray(callbacks.state, [...EDITABLE])));
  return affected(r) === 1;
});

/**
 * Applies `set` only while the callback is still at `version` and not dialing (optimistic
 * concurrency: a trigger bumps the version on every change). False if either no longer holds.
 */
export const updateIfUnchanged = op(
  'updateIfUnchanged',
  async (db: Conn, id: number, version: number, set: Partial<Conn['t']['callbacks']['$inferInsert']>): Promise<boolean> => {
    const { callbacks } = db.t;
    const r = await db.q.update(callbacks).set(set).where(and(eq(callbacks.id, id), eq(callbacks.version, version), inArray(callbacks.state, [...EDITABLE])));
    return affected(r) === 1;
  },
);

/** Open USERONLY callbacks of one agent (bulk reassign / convert), limited to `campaigns` unless null. */
export const openUseronlyOf = op('openUseronlyOf', async (db: Conn, agentId: string, campaigns: string[] | null): Promise<number[]> => {
  const { callbacks } = db.t;
  const rows = await db.q
    .select({ id: callbacks.id })
    .from(callbacks)
    .where(and(eq(callbacks.ownerAgentId, agentId), eq(callbacks.type, 'USERONLY'), inArray(callbacks.state, [...EDITABLE]), campaigns ? inArray(callbacks.campaignId, campaigns) : undefined));
  return rows.map((r) => r.id);
});

/**
 * Moves finished callbacks last changed before `before` (and their attempts and audit rows, with a
 * closing 'purge' entry) to callbacks_archive. `campaigns` limits it for a manager. Returns how many.
 */
export const archiveFinished = op('archiveFinished', async (db: Conn, before: number, campaigns: string[] | null, actor: string, now: number): Promise<number> => {
  const { callbacks, callAttempts, audit, callbacksArchive } = db.t;
  const old = await db.q
    .select()
    .from(callbacks)
    .where(and(inArray(callbacks.state, [...FINISHED]), lt(callbacks.updatedAt, before), campaigns ? inArray(callbacks.campaignId, campaigns) : undefined));
  for (const cb of old) {
    const attempts = await db.q.select().from(callAttempts).where(eq(callAttempts.callbackId, cb.id));
    const trail = await db.q.select().from(audit).where(eq(audit.callbackId, cb.id));
    await db.q.insert(callbacksArchive).values({ id: cb.id, archivedAt: now, row: cb, attempts: { attempts, audit: [...trail, { at: now, actor, action: 'purge' }] } });
    await db.q.update(callbacks).set({ replacedBy: null }).where(eq(callbacks.replacedBy, cb.id));
    await db.q.delete(callAttempts).where(eq(callAttempts.callbackId, cb.id));
    await db.q.delete(audit).where(eq(audit.callbackId, cb.id));
    await db.q.delete(callbacks).where(eq(callbacks.id, cb.id));
  }
  return old.length;
});
