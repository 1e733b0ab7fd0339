import { and, eq, inArray, lt, sql } from 'drizzle-orm';
import { decideCreate, type CallbackType } from '../domain/create-rules.js';
import { parseDue } from '../domain/due.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import type { Db } from '../store/db.js';
import * as dir from '../store/directory.js';
import { audit, callAttempts, callbacks, callbacksArchive, type CallbackRow } from '../store/schema.js';
import { campaignRules } from './book.js';
import { leadZone, resolveZone } from './calendar.js';

// Changing callbacks after they are booked: reschedule, convert, reassign, move, notes, cancel,
// and the bulk forms. Same rules as booking (domain/create-rules.ts), an audit row per change, and
// optimistic concurrency: every write names the version it was based on (a trigger bumps it).

export const EDITABLE = ['ACTIVE', 'LIVE'] as const;
const FINISHED = ['COMPLETED', 'NO_ANSWER', 'BUSY', 'FAILED', 'CANCELLED'] as const;

export interface EditInput {
  /** The version the change is based on; omitted only by bulk operations, which use the current one. */
  version?: number;
  due?: string;
  zone?: string;
  type?: CallbackType;
  ownerAgentId?: string | null;
  campaignId?: string;
  notes?: string | null;
}

function load(db: Db, id: number): CallbackRow {
  const cb = db.select().from(callbacks).where(eq(callbacks.id, id)).get();
  if (!cb) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no callback ${id}`);
  return cb;
}

function checkVersion(cb: CallbackRow, version: number | undefined): void {
  if (version !== undefined && version !== cb.version) {
    throw new CallbackdError(ErrorCodes.CONFLICT, `callback ${cb.id} changed since you read it (your version ${version}, now ${cb.version}); reload it and try again`, { version: cb.version });
  }
}

function checkEditable(cb: CallbackRow, what: string): void {
  if (!(EDITABLE as readonly string[]).includes(cb.state)) {
    throw new CallbackdError(ErrorCodes.CONFLICT, `callback ${cb.id} is ${cb.state}: it can be ${what} only before it dials (ACTIVE or LIVE)`, { state: cb.state });
  }
}

export function editCallback(db: Db, id: number, input: EditInput, actor: string, now: number): CallbackRow {
  return db.transaction((tx) => {
    const cb = load(tx as unknown as Db, id);
    checkVersion(cb, input.version);
    checkEditable(cb, 'changed');
    const campaignId = input.campaignId ?? cb.campaignId;
    const campaign = dir.getCampaign(tx, campaignId);
    if (!campaign) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no campaign "${campaignId}"`);
    const lead = dir.getLead(tx, cb.leadId)!;
    const type = input.type ?? cb.type;
    const ownerId = input.ownerAgentId !== undefined ? input.ownerAgentId : cb.ownerAgentId;
    const owner = ownerId ? dir.getAgent(tx, ownerId) : undefined;
    if (ownerId && !owner) throw new CallbackdError(ErrorCodes.RULE_OWNER_UNKNOWN, `no agent "${ownerId}"`);
    if (campaignId !== cb.campaignId) {
      // Moving: the target must be able to keep this promise the same way.
      if (!campaign.outboundNumber) throw new CallbackdError(ErrorCodes.CONFLICT, `campaign ${campaignId} has no outbound number: it cannot place this callback`);
      if (type === 'USERONLY' && ownerId && !dir.isAgentOnCampaign(tx, ownerId, campaignId) && !campaign.allowUnassignedAgents) {
        throw new CallbackdError(ErrorCodes.CONFLICT, `agent ${ownerId} is not on campaign ${campaignId}, which does not allow unassigned agents; reassign or convert to ANYONE first`);
      }
    }
    let dueAt = cb.dueAt;
    if (input.due !== undefined) {
      const parsed = parseDue(input.due, resolveZone(input.zone, lead, campaign, owner), now);
      if (!parsed.ok) throw new CallbackdError(ErrorCodes.INPUT_INVALID, parsed.error);
      dueAt = parsed.dueAt;
    }
    const ownerOpen = ownerId
      ? (tx.select({ n: sql<number>`count(*)` }).from(callbacks)
          .where(and(eq(callbacks.ownerAgentId, ownerId), eq(callbacks.type, 'USERONLY'), inArray(callbacks.state, ['ACTIVE', 'LIVE']), sql`${callbacks.id} <> ${id}`))
          .get()?.n ?? 0)
      : 0;
    // The same rules as a new booking; the time is only re-checked when it changes.
    const d = decideCreate(
      { dueAt, type, ownerAgentId: ownerId, forceDial: cb.forceDial || input.due === undefined },
      {
        campaign: campaignRules(campaign),
        zone: leadZone(lead, campaign),
        owner: owner ? { id: owner.id, scheduledCallbacks: owner.scheduledCallbacks, agentOnlyCallbacks: owner.agentOnlyCallbacks, activeLimit: owner.activeLimit } : undefined,
        ownerOpenUseronly: ownerOpen,
        existing: null,
        now: input.due === undefined ? dueAt : now, // an unchanged time is not re-judged against the days limit
      },
    );
    if (!d.ok) throw new CallbackdError(d.code, d.message);
    const set: Partial<typeof callbacks.$inferInsert> = { type: d.type, ownerAgentId: d.ownerAgentId, campaignId, updatedAt: now };
    if (input.notes !== undefined) set.notes = input.notes;
    if (input.due !== undefined) Object.assign(set, { dueAt: d.dueAt, state: 'ACTIVE', nextAttemptAt: null, waitReason: null });
    if (input.ownerAgentId !== undefined || input.type !== undefined) set.ownerWaitingSince = null;
    const changed = tx.update(callbacks).set(set).where(and(eq(callbacks.id, id), eq(callbacks.version, cb.version), inArray(callbacks.state, [...EDITABLE]))).run().changes;
    if (changed !== 1) throw new CallbackdError(ErrorCodes.CONFLICT, `callback ${id} changed while it was being edited; reload it and try again`);
    const after = load(tx as unknown as Db, id);
    tx.insert(audit).values({ at: now, actor, action: 'edit', callbackId: id, before: pick(cb), after: pick(after), reason: (input.due !== undefined && d.notices.join('; ')) || null }).run();
    return after;
  });
}

export function cancelCallback(db: Db, id: number, version: number | undefined, actor: string, reason: string | null, now: number): CallbackRow {
  return db.transaction((tx) => {
    const cb = load(tx as unknown as Db, id);
    checkVersion(cb, version);
    checkEditable(cb, 'cancelled');
    const changed = tx
      .update(callbacks)
      .set({ state: 'CANCELLED', failReason: reason ? `cancelled: ${reason}` : `cancelled by ${actor}`, waitReason: null, nextAttemptAt: null, updatedAt: now })
      .where(and(eq(callbacks.id, id), eq(callbacks.version, cb.version), inArray(callbacks.state, [...EDITABLE])))
      .run().changes;
    if (changed !== 1) throw new CallbackdError(ErrorCodes.CONFLICT, `callback ${id} started dialing meanwhile; it can no longer be cancelled`);
    const after = load(tx as unknown as Db, id);
    tx.insert(audit).values({ at: now, actor, action: 'cancel', callbackId: id, before: pick(cb), after: pick(after), reason }).run();
    return after;
  });
}

export interface BulkResult {
  changed: number[];
  refused: { id: number; code: string; message: string }[];
}

/** Applies `one` to each id; one refusal does not stop the others, and each says why. */
export function bulk(ids: number[], one: (id: number) => void): BulkResult {
  const out: BulkResult = { changed: [], refused: [] };
  for (const id of ids) {
    try {
      one(id);
      out.changed.push(id);
    } catch (err) {
      if (!(err instanceof CallbackdError)) throw err;
      out.refused.push({ id, code: err.code, message: err.message });
    }
  }
  return out;
}

/** Open USERONLY callbacks of one agent (bulk reassign / convert), limited to `campaigns` unless null. */
export function openUseronlyOf(db: Db, agentId: string, campaigns: string[] | null): number[] {
  return db
    .select({ id: callbacks.id })
    .from(callbacks)
    .where(and(eq(callbacks.ownerAgentId, agentId), eq(callbacks.type, 'USERONLY'), inArray(callbacks.state, [...EDITABLE]), campaigns ? inArray(callbacks.campaignId, campaigns) : undefined))
    .all()
    .map((r) => r.id);
}

/**
 * Moves finished callbacks not touched for `days` days (and their attempts and audit rows) to
 * callbacks_archive. Returns how many. `campaigns` limits it for a manager.
 */
export function purgeFinished(db: Db, days: number, campaigns: string[] | null, actor: string, now: number): number {
  return db.transaction((tx) => {
    const old = tx
      .select()
      .from(callbacks)
      .where(and(inArray(callbacks.state, [...FINISHED]), lt(callbacks.updatedAt, now - days * 86_400_000), campaigns ? inArray(callbacks.campaignId, campaigns) : undefined))
      .all();
    for (const cb of old) {
      const attempts = tx.select().from(callAttempts).where(eq(callAttempts.callbackId, cb.id)).all();
      const trail = tx.select().from(audit).where(eq(audit.callbackId, cb.id)).all();
      tx.insert(callbacksArchive).values({ id: cb.id, archivedAt: now, row: cb, attempts: { attempts, audit: [...trail, { at: now, actor, action: 'purge' }] } }).run();
      tx.update(callbacks).set({ replacedBy: null }).where(eq(callbacks.replacedBy, cb.id)).run();
      tx.delete(callAttempts).where(eq(callAttempts.callbackId, cb.id)).run();
      tx.delete(audit).where(eq(audit.callbackId, cb.id)).run();
      tx.delete(callbacks).where(eq(callbacks.id, cb.id)).run();
    }
    return old.length;
  });
}

function pick(cb: CallbackRow) {
  return { state: cb.state, type: cb.type, owner: cb.ownerAgentId, campaign: cb.campaignId, dueAt: cb.dueAt, notes: cb.notes, version: cb.version };
}
