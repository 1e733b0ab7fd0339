import { decideCreate, type CallbackType } from '../domain/create-rules.js';
import { keptArrival } from '../domain/queue-place.js';
import { parseDue } from '../domain/due.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import { writeAudit } from '../store/audit.js';
import { markReplaced, openCallbackOfLead } from '../store/callback-changes.js';
import { getCallback, insertCallback } from '../store/callbacks.js';
import type { Conn } from '../store/conn.js';
import * as dir from '../store/directory.js';
import type { CallbackRow, CampaignRow } from '../store/schema.js';
import { leadZone, resolveZone } from './calendar.js';
import { askedPosition } from './booking-number.js';
import { leadForBooking, type LeadForBooking } from './lead-for-booking.js';
import { agentFacts, campaignRules, ownerOpenUseronly } from './rule-facts.js';
import { transaction } from '../store/engine.js';

// Kept for callers written before app/calendar.ts (scheduler, agi routes); new code imports calendar.js.
export { campaignCalendar, leadZone, resolveZone } from './calendar.js';

// Booking a callback, for every entry point (CLI, API, FastAGI): load the facts, ask the pure
// rules (domain/create-rules.ts), write the result and its audit rows in one transaction.

export interface BookInput {
  /** The lead, by id; or `byPhone` (found or created in the booking's transaction). */
  leadId?: string;
  byPhone?: Exclude<LeadForBooking, { id: string }>;
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
  /** The number the customer asked to be called on: a position (1, 2…) or one of the lead's numbers. */
  number?: string | null;
  /** A conversation handed over by a human or AI agent, kept with the callback. */
  transcript?: string;
  /** When the caller joined the line (an inbound caller's request; domain/queue-place.ts). */
  arrivedAt?: number | null;
  /** Who, for the audit log: a user id, 'cli', 'agi'. */
  actor: string;
  /**
   * May this booker replace (cancel) the lead's open callback? Absent: yes (the CLI on the
   * database, an admin's tool). Refused: 409 naming no id the booker may not see.
   */
  mayReplace?: (existing: { id: number; campaignId: string; type: CallbackType; ownerAgentId: string | null }) => boolean;
}

export interface BookResult {
  callback: CallbackRow;
  notices: string[];
  replaced: number | null;
}

export async function bookCallback(db: Conn, input: BookInput, now: number): Promise<BookResult> {
  // IMMEDIATE: the booking reads, then writes. A deferred transaction whose snapshot another
  // process wrote past (a daemon's presence or claim) fails at once with SQLITE_BUSY_SNAPSHOT
  // instead of waiting; seen with two daemons on one file (test/e2e/servers.e2e.test.ts).
  return transaction(db, async (tx) => {
    const lead = await leadForBooking(tx, input.byPhone ?? { id: input.leadId! }, now);
    const campaignId = (await dir.campaignOfLead(tx, lead.id))!;
    const campaign = (await dir.getCampaign(tx, campaignId))!;
    const booker = input.bookedByAgentId ? await dir.getAgent(tx, input.bookedByAgentId) : undefined;
    if (input.bookedByAgentId && !booker) throw new CallbackdError(ErrorCodes.RULE_OWNER_UNKNOWN, `no agent "${input.bookedByAgentId}"`);
    const ownerId = input.ownerAgentId ?? booker?.id ?? null;
    const owner = ownerId ? await dir.getAgent(tx, ownerId) : undefined;

    const typedZone = resolveZone(input.zone, lead, campaign, owner ?? booker);
    const due = parseDue(input.due, typedZone, now);
    if (!due.ok) throw new CallbackdError(ErrorCodes.INPUT_INVALID, due.error);

    const phonePosition = await askedPosition(tx, lead, campaign, { number: input.number, byPhone: input.byPhone?.phone });
    const existing = await openCallbackOfLead(tx, lead.id, campaignId);
    const zone = leadZone(lead, campaign);
    const d = decideCreate(
      { dueAt: due.dueAt, type: input.type, ownerAgentId: input.ownerAgentId, maxAttempts: input.maxAttempts, forceDial: input.forceDial, calltimeCheck: input.calltimeCheck, bookedByAgent: booker ? agentFacts(booker) : null },
      { campaign: campaignRules(campaign), zone, owner: owner ? agentFacts(owner) : undefined, ownerOnCampaign: !ownerId || await dir.isAgentOnCampaign(tx, ownerId, campaignId), ownerOpenUseronly: await ownerOpenUseronly(tx, ownerId), existing: existing ?? null, now },
    );
    if (!d.ok) throw new CallbackdError(d.code, d.message);
    if (existing && d.replaces !== null && input.mayReplace && !input.mayReplace({ ...existing, campaignId })) {
      throw new CallbackdError(ErrorCodes.CONFLICT, `this lead already has an open callback in campaign ${campaignId} that you may not change; ask a manager to change or cancel it`);
    }

    const id = await insertCallback(
      tx,
      {
        leadId: lead.id,
        campaignId,
        type: d.type,
        ownerAgentId: d.ownerAgentId,
        dueAt: d.dueAt,
        // The zone the promise was made in: the lead's, so "2 pm" stays 2 pm on the lead's clock.
        dueZone: zone,
        maxAttempts: d.maxAttempts,
        notes: input.notes ?? null,
        hiddenUntil: d.hiddenUntil,
        forceDial: d.forceDial,
        createdBy: input.actor,
        context: input.transcript ?? null,
        phonePosition,
        // A caller asking again keeps the place their replaced request had (domain/queue-place.ts).
        arrivedAt: keptArrival(input.arrivedAt ?? null, d.replaces !== null ? (existing?.arrivedAt ?? null) : null),
      },
      now,
    );
    if (d.replaces !== null) {
      if (!await markReplaced(tx, d.replaces, id, now)) throw new CallbackdError(ErrorCodes.RULE_LEAD_BUSY, `callback ${d.replaces} for this lead started dialing meanwhile; try again after that call`);
      await writeAudit(tx, { at: now, actor: input.actor, action: 'replace', callbackId: d.replaces, before: existing, after: { state: 'CANCELLED', replacedBy: id }, reason: 'a lead has one open callback per campaign' });
    }
    await writeAudit(tx, { at: now, actor: input.actor, action: 'create', callbackId: id, after: { type: d.type, owner: d.ownerAgentId, dueAt: d.dueAt, forceDial: d.forceDial }, reason: d.notices.join('; ') || null });
    return { callback: (await getCallback(tx, id))!, notices: d.notices, replaced: d.replaces };
  });
}
