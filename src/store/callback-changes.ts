import { and, desc, eq, inArray, lt, ne, sql } from 'drizzle-orm';
import type { LegacyConn } from './conn.js';
import { audit, callAttempts, callbacks, callbacksArchive, type CallbackRow } from './schema.js';

// The writes people make to callbacks (book, replace, edit, cancel, purge) and the reads their
// rules need. Each runs on the caller's transaction (app/book.ts, app/edit.ts).

/** States in which a callback can still be changed or cancelled: it has not started dialing. */
export const EDITABLE = ['ACTIVE', 'LIVE'] as const;
export const FINISHED = ['COMPLETED', 'NO_ANSWER', 'BUSY', 'FAILED', 'CANCELLED'] as const;

export type OpenCallback = Pick<CallbackRow, 'id' | 'state' | 'type' | 'ownerAgentId' | 'arrivedAt'>;

/** The lead's newest open (ACTIVE, LIVE or DIALING) callback in a campaign: one promise per lead. */
export function openCallbackOfLead(db: LegacyConn, leadId: string, campaignId: string): OpenCallback | undefined {
  return db
    .select({ id: callbacks.id, state: callbacks.state, type: callbacks.type, ownerAgentId: callbacks.ownerAgentId, arrivedAt: callbacks.arrivedAt })
    .from(callbacks)
    .where(and(eq(callbacks.leadId, leadId), eq(callbacks.campaignId, campaignId), inArray(callbacks.state, ['ACTIVE', 'LIVE', 'DIALING'])))
    .orderBy(desc(callbacks.id))
    .get();
}

/** The owner's open USERONLY callbacks (what active_limit counts), leaving out callback `except`. */
export function countOwnerOpenUseronly(db: LegacyConn, ownerId: string, except?: number): number {
  return (
    db
      .select({ n: sql<number>`count(*)` })
      .from(callbacks)
      .where(and(eq(callbacks.ownerAgentId, ownerId), eq(callbacks.type, 'USERONLY'), inArray(callbacks.state, [...EDITABLE]), except === undefined ? undefined : ne(callbacks.id, except)))
      .get()?.n ?? 0
  );
}

/** ACTIVE/LIVE → CANCELLED, replaced by callback `byId`. False if it started dialing meanwhile. */
export function markReplaced(db: LegacyConn, id: number, byId: number, now: number): boolean {
  return (
    db
      .update(callbacks)
      .set({ state: 'CANCELLED', replacedBy: byId, failReason: `replaced by callback ${byId}`, waitReason: null, updatedAt: now })
      .where(and(eq(callbacks.id, id), inArray(callbacks.state, [...EDITABLE])))
      .run().changes === 1
  );
}

/**
 * Applies `set` only while the callback is still at `version` and not dialing (optimistic
 * concurrency: a trigger bumps the version on every change). False if either no longer holds.
 */
export function updateIfUnchanged(db: LegacyConn, id: number, version: number, set: Partial<typeof callbacks.$inferInsert>): boolean {
  return db.update(callbacks).set(set).where(and(eq(callbacks.id, id), eq(callbacks.version, version), inArray(callbacks.state, [...EDITABLE]))).run().changes === 1;
}

/** Open USERONLY callbacks of one agent (bulk reassign / convert), limited to `campaigns` unless null. */
export function openUseronlyOf(db: LegacyConn, agentId: string, campaigns: string[] | null): number[] {
  return db
    .select({ id: callbacks.id })
    .from(callbacks)
    .where(and(eq(callbacks.ownerAgentId, agentId), eq(callbacks.type, 'USERONLY'), inArray(callbacks.state, [...EDITABLE]), campaigns ? inArray(callbacks.campaignId, campaigns) : undefined))
    .all()
    .map((r) => r.id);
}

/**
 * Moves finished callbacks last changed before `before` (and their attempts and audit rows, with a
 * closing 'purge' entry) to callbacks_archive. `campaigns` limits it for a manager. Returns how many.
 */
export function archiveFinished(db: LegacyConn, before: number, campaigns: string[] | null, actor: string, now: number): number {
  const old = db
    .select()
    .from(callbacks)
    .where(and(inArray(callbacks.state, [...FINISHED]), lt(callbacks.updatedAt, before), campaigns ? inArray(callbacks.campaignId, campaigns) : undefined))
    .all();
  for (const cb of old) {
    const attempts = db.select().from(callAttempts).where(eq(callAttempts.callbackId, cb.id)).all();
    const trail = db.select().from(audit).where(eq(audit.callbackId, cb.id)).all();
    db.insert(callbacksArchive).values({ id: cb.id, archivedAt: now, row: cb, attempts: { attempts, audit: [...trail, { at: now, actor, action: 'purge' }] } }).run();
    db.update(callbacks).set({ replacedBy: null }).where(eq(callbacks.replacedBy, cb.id)).run();
    db.delete(callAttempts).where(eq(callAttempts.callbackId, cb.id)).run();
    db.delete(audit).where(eq(audit.callbackId, cb.id)).run();
    db.delete(callbacks).where(eq(callbacks.id, cb.id)).run();
  }
  return old.length;
}
