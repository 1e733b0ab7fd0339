import { decideCreate, type CallbackType } from '../domain/create-rules.js';
import { parseDue } from '../domain/due.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import { writeAudit } from '../store/audit.js';
import { archiveFinished, EDITABLE, openUseronlyOf, updateIfUnchanged } from '../store/callback-changes.js';
import { getCallback } from '../store/callbacks.js';
import type { Conn } from '../store/conn.js';
import * as dir from '../store/directory.js';
import type { CallbackRow } from '../store/schema.js';
import { leadZone, resolveZone } from './calendar.js';
import { agentFacts, campaignRules, ownerOpenUseronly } from './rule-facts.js';
import { transaction } from '../store/engine.js';

// Changing callbacks after they are booked: reschedule, convert, reassign, move, notes, cancel,
// and the bulk forms. Same rules as booking (domain/create-rules.ts), an audit row per change, and
// optimistic concurrency: every write names the version it was based on (a trigger bumps it).

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

async function load(db: Conn, id: number): Promise<CallbackRow> {
  const cb = await getCallback(db, id);
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

export async function editCallback(db: Conn, id: number, input: EditInput, actor: string, now: number): Promise<CallbackRow> {
  return transaction(db, async (tx) => {
    const cb = await load(tx, id);
    checkVersion(cb, input.version);
    checkEditable(cb, 'changed');
    const campaignId = input.campaignId ?? cb.campaignId;
    const campaign = await dir.getCampaign(tx, campaignId);
    if (!campaign) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no campaign "${campaignId}"`);
    const lead = (await dir.getLead(tx, cb.leadId))!;
    const type = input.type ?? cb.type;
    const ownerId = input.ownerAgentId !== undefined ? input.ownerAgentId : cb.ownerAgentId;
    const owner = ownerId ? await dir.getAgent(tx, ownerId) : undefined;
    if (ownerId && !owner) throw new CallbackdError(ErrorCodes.RULE_OWNER_UNKNOWN, `no agent "${ownerId}"`);
    if (campaignId !== cb.campaignId) {
      // Moving: the target must be able to keep this promise the same way.
      if (!campaign.outboundNumber) throw new CallbackdError(ErrorCodes.CONFLICT, `campaign ${campaignId} has no outbound number: it cannot place this callback`);
      if (type === 'USERONLY' && ownerId && !await dir.isAgentOnCampaign(tx, ownerId, campaignId) && !campaign.allowUnassignedAgents) {
        throw new CallbackdError(ErrorCodes.CONFLICT, `agent ${ownerId} is not on campaign ${campaignId}, which does not allow unassigned agents; reassign or convert to ANYONE first`);
      }
    }
    let dueAt = cb.dueAt;
    if (input.due !== undefined) {
      const parsed = parseDue(input.due, resolveZone(input.zone, lead, campaign, owner), now);
      if (!parsed.ok) throw new CallbackdError(ErrorCodes.INPUT_INVALID, parsed.error);
      dueAt = parsed.dueAt;
    }
    // The same rules as a new booking; the time is only re-checked when it changes.
    const d = decideCreate(
      { dueAt, type, ownerAgentId: ownerId, forceDial: cb.forceDial || input.due === undefined },
      {
        campaign: campaignRules(campaign),
        zone: leadZone(lead, campaign),
        owner: owner ? agentFacts(owner) : undefined,
        // Judged when the owner or campaign changes; an old owner who left is the scheduler's to move.
        ownerOnCampaign: !ownerId || (input.ownerAgentId === undefined && campaignId === cb.campaignId) || await dir.isAgentOnCampaign(tx, ownerId, campaignId),
        ownerOpenUseronly: await ownerOpenUseronly(tx, ownerId, id),
        existing: null,
        now: input.due === undefined ? dueAt : now, // an unchanged time is not re-judged against the days limit
      },
    );
    if (!d.ok) throw new CallbackdError(d.code, d.message);
    const set: Parameters<typeof updateIfUnchanged>[3] = { type: d.type, ownerAgentId: d.ownerAgentId, campaignId, updatedAt: now };
    if (input.notes !== undefined) set.notes = input.notes;
    if (input.due !== undefined) Object.assign(set, { dueAt: d.dueAt, state: 'ACTIVE', nextAttemptAt: null, waitReason: null });
    if (input.ownerAgentId !== undefined || input.type !== undefined) set.ownerWaitingSince = null;
    if (!await updateIfUnchanged(tx, id, cb.version, set)) throw new CallbackdError(ErrorCodes.CONFLICT, `callback ${id} changed while it was being edited; reload it and try again`);
    const after = await load(tx, id);
    await writeAudit(tx, { at: now, actor, action: 'edit', callbackId: id, before: pick(cb), after: pick(after), reason: (input.due !== undefined && d.notices.join('; ')) || null });
    return after;
  });
}

export async function cancelCallback(db: Conn, id: number, version: number | undefined, actor: string, reason: string | null, now: number): Promise<CallbackRow> {
  return transaction(db, async (tx) => {
    const cb = await load(tx, id);
    checkVersion(cb, version);
    checkEditable(cb, 'cancelled');
    const set = { state: 'CANCELLED' as const, failReason: reason ? `cancelled: ${reason}` : `cancelled by ${actor}`, waitReason: null, nextAttemptAt: null, updatedAt: now };
    if (!await updateIfUnchanged(tx, id, cb.version, set)) throw new CallbackdError(ErrorCodes.CONFLICT, `callback ${id} started dialing meanwhile; it can no longer be cancelled`);
    const after = await load(tx, id);
    await writeAudit(tx, { at: now, actor, action: 'cancel', callbackId: id, before: pick(cb), after: pick(after), reason });
    return after;
  });
}

export interface BulkResult {
  changed: number[];
  refused: { id: number; code: string; message: string }[];
}

/** Applies `one` to each id; one refusal does not stop the others, and each says why. */
export async function bulk(ids: number[], one: (id: number) => unknown): Promise<BulkResult> {
  const out: BulkResult = { changed: [], refused: [] };
  for (const id of ids) {
    try {
      await one(id);
      out.changed.push(id);
    } catch (err) {
      if (!(err instanceof CallbackdError)) throw err;
      out.refused.push({ id, code: err.code, message: err.message });
    }
  }
  return out;
}

/**
 * All of one agent's open USERONLY callbacks (within `campaigns` unless null) to another owner, or
 * to ANYONE: each edited on its own, with its own audit row and refusal.
 */
export async function reassignAll(db: Conn, fromAgent: string, to: { owner: string } | 'ANYONE', campaigns: string[] | null, actor: string, now: number): Promise<BulkResult> {
  const change: EditInput = to === 'ANYONE' ? { type: 'ANYONE' } : { ownerAgentId: to.owner };
  return await bulk(await openUseronlyOf(db, fromAgent, campaigns), (id) => editCallback(db, id, change, actor, now));
}

/**
 * Moves finished callbacks not touched for `days` days (and their attempts and audit rows) to
 * callbacks_archive. Returns how many. `campaigns` limits it for a manager.
 */
export async function purgeFinished(db: Conn, days: number, campaigns: string[] | null, actor: string, now: number): Promise<number> {
  return transaction(db, async (tx) => await archiveFinished(tx, now - days * 86_400_000, campaigns, actor, now));
}

function pick(cb: CallbackRow) {
  return { state: cb.state, type: cb.type, owner: cb.ownerAgentId, campaign: cb.campaignId, dueAt: cb.dueAt, notes: cb.notes, version: cb.version };
}
