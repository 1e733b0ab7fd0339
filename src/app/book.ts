import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { decideCreate, type AgentFacts, type CallbackType, type CampaignRules } from '../domain/create-rules.js';
import { parseDue } from '../domain/due.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import type { Db } from '../store/db.js';
import * as dir from '../store/directory.js';
import { audit, callbacks, type AgentRow, type CallbackRow, type CampaignRow } from '../store/schema.js';
import { campaignCalendar, leadZone, resolveZone } from './calendar.js';

// Kept for callers written before app/calendar.ts (scheduler, agi routes); new code imports calendar.js.
export { campaignCalendar, leadZone, resolveZone } from './calendar.js';

// Booking a callback, for every entry point (CLI, API, FastAGI): load the facts, ask the pure
// rules (domain/create-rules.ts), write the result and its audit rows in one transaction.

export interface BookInput {
  leadId: string;
  /** As typed: +10m, now, 2026-11-26T14:00 (read in `zone`), or ISO with an offset. */
  due: string;
  /** Where a wall-clock `due` is read: an IANA zone, or lead | campaign | agent. Default: lead. */
  zone?: string;
  type?: CallbackType;
  ownerAgentId?: string | null;
  maxAttempts?: number;
  notes?: string | null;
  forceDial?: boolean;
  calltimeCheck?: CampaignRow['calltimeCheck'];
  /** An agent booking (their own options apply); absent for managers, admins and the system. */
  bookedByAgentId?: string | null;
  /** Who, for the audit log: a user id, 'cli', 'agi'. */
  actor: string;
}

export interface BookResult {
  callback: CallbackRow;
  notices: string[];
  replaced: number | null;
}

export function campaignRules(c: CampaignRow): CampaignRules {
  return {
    id: c.id,
    scheduledCallbacks: c.scheduledCallbacks,
    myCallbackDefault: c.myCallbackDefault,
    daysLimit: c.daysLimit,
    hoursBlock: c.hoursBlock,
    activeLimit: c.activeLimit,
    calltimeCheck: c.calltimeCheck,
    calendar: campaignCalendar(c),
    maxAttempts: c.maxAttempts,
  };
}

const agentFacts = (a: AgentRow): AgentFacts => ({
  id: a.id,
  scheduledCallbacks: a.scheduledCallbacks,
  agentOnlyCallbacks: a.agentOnlyCallbacks,
  activeLimit: a.activeLimit,
});

export function bookCallback(db: Db, input: BookInput, now: number): BookResult {
  return db.transaction((tx) => {
    const lead = dir.getLead(tx, input.leadId);
    if (!lead) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no lead "${input.leadId}"`);
    const campaignId = dir.campaignOfLead(tx, lead.id)!;
    const campaign = dir.getCampaign(tx, campaignId)!;
    const booker = input.bookedByAgentId ? dir.getAgent(tx, input.bookedByAgentId) : undefined;
    if (input.bookedByAgentId && !booker) throw new CallbackdError(ErrorCodes.RULE_OWNER_UNKNOWN, `no agent "${input.bookedByAgentId}"`);
    const ownerId = input.ownerAgentId ?? booker?.id ?? null;
    const owner = ownerId ? dir.getAgent(tx, ownerId) : undefined;

    const typedZone = resolveZone(input.zone, lead, campaign, owner ?? booker);
    const due = parseDue(input.due, typedZone, now);
    if (!due.ok) throw new CallbackdError(ErrorCodes.INPUT_INVALID, due.error);

    const existing = tx
      .select({ id: callbacks.id, state: callbacks.state, type: callbacks.type, ownerAgentId: callbacks.ownerAgentId })
      .from(callbacks)
      .where(and(eq(callbacks.leadId, lead.id), eq(callbacks.campaignId, campaignId), inArray(callbacks.state, ['ACTIVE', 'LIVE', 'DIALING'])))
      .orderBy(desc(callbacks.id))
      .get();
    const ownerOpen = ownerId
      ? (tx
          .select({ n: sql<number>`count(*)` })
          .from(callbacks)
          .where(and(eq(callbacks.ownerAgentId, ownerId), eq(callbacks.type, 'USERONLY'), inArray(callbacks.state, ['ACTIVE', 'LIVE'])))
          .get()?.n ?? 0)
      : 0;

    const zone = leadZone(lead, campaign);
    const d = decideCreate(
      { dueAt: due.dueAt, type: input.type, ownerAgentId: input.ownerAgentId, maxAttempts: input.maxAttempts, forceDial: input.forceDial, calltimeCheck: input.calltimeCheck, bookedByAgent: booker ? agentFacts(booker) : null },
      { campaign: campaignRules(campaign), zone, owner: owner ? agentFacts(owner) : undefined, ownerOpenUseronly: ownerOpen, existing: existing ?? null, now },
    );
    if (!d.ok) throw new CallbackdError(d.code, d.message);

    const row = tx
      .insert(callbacks)
      .values({
        leadId: lead.id,
        campaignId,
        type: d.type,
        ownerAgentId: d.ownerAgentId,
        dueAt: d.dueAt,
        // The zone the promise was made in: the lead's, so "2 pm" stays 2 pm on the lead's clock.
        dueZone: zone,
        state: 'ACTIVE',
        maxAttempts: d.maxAttempts,
        notes: input.notes ?? null,
        hiddenUntil: d.hiddenUntil,
        forceDial: d.forceDial,
        createdBy: input.actor,
        createdAt: now,
        updatedAt: now,
      })
      .returning()
      .get();
    if (d.replaces !== null) {
      const changed = tx
        .update(callbacks)
        .set({ state: 'CANCELLED', replacedBy: row.id, failReason: `replaced by callback ${row.id}`, waitReason: null, updatedAt: now })
        .where(and(eq(callbacks.id, d.replaces), inArray(callbacks.state, ['ACTIVE', 'LIVE'])))
        .run().changes;
      if (changed !== 1) throw new CallbackdError(ErrorCodes.RULE_LEAD_BUSY, `callback ${d.replaces} for this lead started dialing meanwhile; try again after that call`);
      tx.insert(audit).values({ at: now, actor: input.actor, action: 'replace', callbackId: d.replaces, before: existing, after: { state: 'CANCELLED', replacedBy: row.id }, reason: 'a lead has one open callback per campaign' }).run();
    }
    tx.insert(audit).values({ at: now, actor: input.actor, action: 'create', callbackId: row.id, before: null, after: { type: d.type, owner: d.ownerAgentId, dueAt: d.dueAt, forceDial: d.forceDial }, reason: d.notices.join('; ') || null }).run();
    return { callback: row, notices: d.notices, replaced: d.replaces };
  });
}
