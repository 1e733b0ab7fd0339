import { and, asc, eq, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import { CallbackdError, ErrorCodes } from '../errors.js';
import { writeAudit } from './audit.js';
import { LINE_ORDER } from './queue-place.js';
import type { LegacyConn } from './conn.js';
import type { Db } from './db.js';
import type { AttemptResult, Next as Finish } from '../domain/attempt-end.js';
import { callAttempts, callbacks, trunks, type CallAttemptRow, type CallbackRow } from './schema.js';

// Read by tests and callers written before store/audit.ts.
export { auditOf } from './audit.js';

export interface NewCallback {
  leadId: string;
  campaignId: string;
  type: 'USERONLY' | 'ANYONE';
  ownerAgentId: string | null;
  dueAt: number;
  dueZone: string;
  maxAttempts: number;
  notes: string | null;
  /** Booking (app/book.ts) sets these; the defaults suit a plain insert. */
  hiddenUntil?: number | null;
  forceDial?: boolean;
  createdBy?: string | null;
  /** The conversation handed over with the booking (transcript). */
  context?: string | null;
  /** The lead's number (position) the booking asked to be called on first (0017). */
  phonePosition?: number | null;
  /** When the caller joined the line (inbound callbacks, 0022). */
  arrivedAt?: number | null;
}

export function insertCallback(db: LegacyConn, cb: NewCallback, now: number): number {
  const row = db
    .insert(callbacks)
    .values({ ...cb, state: 'ACTIVE', createdAt: now, updatedAt: now })
    .returning({ id: callbacks.id })
    .get();
  return row.id;
}

export function getCallback(db: LegacyConn, id: number): CallbackRow | undefined {
  return db.select().from(callbacks).where(eq(callbacks.id, id)).get();
}

/** ACTIVE → LIVE for everything due. Returns how many became LIVE. */
export function promoteDue(db: Db, now: number): number {
  return db
    .update(callbacks)
    .set({ state: 'LIVE', nextAttemptAt: sql`coalesce(${callbacks.nextAttemptAt}, ${callbacks.dueAt})`, updatedAt: now })
    .where(and(eq(callbacks.state, 'ACTIVE'), lte(callbacks.dueAt, now)))
    .run().changes;
}

/**
 * The earliest future instant at which the scheduler has something to do, or null. LIVE rows
 * already due are left out: they wait for an agent or a trunk, and those changes nudge the loop.
 */
export function nextWakeAt(db: Db, now: number): number | null {
  const a = db
    .select({ t: sql<number | null>`min(${callbacks.dueAt})` })
    .from(callbacks)
    .where(eq(callbacks.state, 'ACTIVE'))
    .get();
  const b = db
    .select({ t: sql<number | null>`min(${callbacks.nextAttemptAt})` })
    .from(callbacks)
    .where(and(eq(callbacks.state, 'LIVE'), sql`${callbacks.nextAttemptAt} > ${now}`))
    .get();
  const ts = [a?.t, b?.t].filter((t): t is number => typeof t === 'number');
  return ts.length ? Math.min(...ts) : null;
}

/**
 * LIVE callbacks whose next attempt is due, in line order (domain/queue-place.ts: an inbound
 * caller's arrival, else the due time). With `serverId` (several servers
 * in the directory): only those a daemon on that server may place (placeableOn).
 */
export function liveReady(db: Db, now: number, limit: number, serverId: string | null = null): CallbackRow[] {
  return db
    .select()
    .from(callbacks)
    .where(and(eq(callbacks.state, 'LIVE'), lte(callbacks.nextAttemptAt, now), serverId === null ? undefined : placeableOn(serverId)))
    .orderBy(...LINE_ORDER)
    .limit(limit)
    .all();
}

/**
 * The server filter of the claim path, coarse on purpose (domain/server-placement decides per agent):
 * the candidate agents (the owner, or the campaign's agents) have a phone on the server, and the
 * campaign's number has a trunk there. A callback no server can take (owner without any phone, a
 * campaign without a number) passes everywhere, so some daemon still writes why it waits or fails.
 */
function placeableOn(serverId: string): SQL {
  return sql`(
    CASE ${callbacks.type}
      WHEN 'USERONLY' THEN EXISTS (SELECT 1 FROM phones p WHERE p.agent_id = ${callbacks.ownerAgentId} AND p.server_id = ${serverId})
        OR NOT EXISTS (SELECT 1 FROM phones p WHERE p.agent_id = ${callbacks.ownerAgentId})
      ELSE EXISTS (SELECT 1 FROM agent_campaigns ac JOIN phones p ON p.agent_id = ac.agent_id WHERE ac.campaign_id = ${callbacks.campaignId} AND p.server_id = ${serverId})
        OR NOT EXISTS (SELECT 1 FROM agent_campaigns ac JOIN phones p ON p.agent_id = ac.agent_id WHERE ac.campaign_id = ${callbacks.campaignId})
    END
    AND NOT EXISTS (
      SELECT 1 FROM campaigns c JOIN numbers n ON n.e164 = c.outbound_number
      WHERE c.id = ${callbacks.campaignId}
        AND NOT EXISTS (SELECT 1 FROM trunks t WHERE t.server_id = ${serverId}
          AND (t.id = n.trunk_id OR t.id IN (SELECT nt.trunk_id FROM number_trunks nt WHERE nt.e164 = n.e164)))
    )
  )`;
}

/** Records why a LIVE callback waits; written only when the reason changes. */
export function setWaitReason(db: Db, id: number, reason: string | null, now: number, server: string | null = null): void {
  db.update(callbacks)
    .set({ waitReason: reason === null || server === null ? reason : serverReason(server, reason), updatedAt: now })
    .where(
      and(
        eq(callbacks.id, id),
        eq(callbacks.state, 'LIVE'),
        reason === null ? sql`${callbacks.waitReason} IS NOT NULL` : sql`${callbacks.waitReason} IS NOT ${server === null ? reason : serverReason(server, reason)}`,
        notAnotherServers(server),
      ),
    )
    .run();
}

/** Several servers: a reason says whose it is ("server b: …"). */
const serverReason = (server: string, reason: string) => `server ${server}: ${reason}`;

/**
 * Several servers: a daemon does not overwrite another server's reason. Each server's reason names
 * its own phones or trunk, so two daemons rewriting each other's made a write per pass each, every
 * pass nudging the other (measured: 26 writes in half a second for one callback). The first
 * server's explanation stands until the callback is claimed or that server's reason changes.
 */
function notAnotherServers(server: string | null): SQL | undefined {
  if (server === null) return undefined;
  const own = `server ${server}: `;
  return sql`(${callbacks.waitReason} IS NULL OR substr(${callbacks.waitReason}, 1, ${own.length}) = ${own} OR NOT (${callbacks.waitReason} GLOB 'server *: *'))`;
}

/** A LIVE callback that may not be dialed before `until` (calling window, daily cap). */
export function deferLive(db: Db, id: number, until: number, reason: string, now: number): void {
  db.update(callbacks)
    .set({ nextAttemptAt: until, waitReason: reason, updatedAt: now })
    .where(and(eq(callbacks.id, id), eq(callbacks.state, 'LIVE')))
    .run();
}

/**
 * A LIVE USERONLY callback waits for its owner: the reason, and the owner's clock for
 * useronly_move_minutes started unless already running. Written only when something changes.
 */
export function waitForOwner(db: Db, id: number, reason: string, now: number, server: string | null = null): void {
  const text = server === null ? reason : serverReason(server, reason);
  db.update(callbacks)
    .set({ waitReason: text, ownerWaitingSince: sql`coalesce(${callbacks.ownerWaitingSince}, ${now})`, updatedAt: now })
    .where(
      and(
        eq(callbacks.id, id),
        eq(callbacks.state, 'LIVE'),
        or(isNull(callbacks.ownerWaitingSince), and(sql`${callbacks.waitReason} IS NOT ${text}`, notAnotherServers(server))),
      ),
    )
    .run();
}

/** USERONLY → ANYONE, with the reason in the audit log. False if it was no longer LIVE USERONLY. */
export function convertToAnyone(db: Db, id: number, actor: string, reason: string, now: number): boolean {
  return db.transaction((tx) => {
    const before = tx.select({ type: callbacks.type, owner: callbacks.ownerAgentId }).from(callbacks).where(eq(callbacks.id, id)).get();
    const changed = tx
      .update(callbacks)
      .set({ type: 'ANYONE', ownerWaitingSince: null, waitReason: `now ANYONE: ${reason}`, updatedAt: now })
      .where(and(eq(callbacks.id, id), eq(callbacks.state, 'LIVE'), eq(callbacks.type, 'USERONLY')))
      .run().changes;
    if (changed !== 1) return false;
    writeAudit(tx, { at: now, actor, action: 'convert-to-anyone', callbackId: id, before, after: { type: 'ANYONE', owner: before?.owner ?? null }, reason });
    return true;
  });
}

/** When customer legs were dialed for this lead (any callback) since `since`. */
export function customerDialsOfLead(db: Db, leadId: string, since: number): number[] {
  return db
    .select({ t: callAttempts.customerDialedAt })
    .from(callAttempts)
    .innerJoin(callbacks, eq(callbacks.id, callAttempts.callbackId))
    .where(and(eq(callbacks.leadId, leadId), sql`${callAttempts.customerDialedAt} > ${since}`))
    .all()
    .map((r) => r.t!);
}

/** A LIVE callback that can never be placed (DNC, no outbound number): FAILED, nothing dialed. */
export function failLive(db: Db, id: number, outcome: string, reason: string, now: number): boolean {
  return (
    db
      .update(callbacks)
      .set({ state: 'FAILED', lastOutcome: outcome, failReason: reason, waitReason: null, updatedAt: now })
      .where(and(eq(callbacks.id, id), eq(callbacks.state, 'LIVE')))
      .run().changes === 1
  );
}

export interface ClaimInput {
  callbackId: number;
  owner: string;
  token: string;
  leaseMs: number;
  now: number;
  dialOrder: 'AGENT_FIRST' | 'CUSTOMER_FIRST';
  agentId: string;
  phoneEndpoint: string;
  callerId: string;
  customerNumber: string;
  /** Which of the lead's numbers (0017); null for callers that do not choose one. */
  phonePosition?: number | null;
  trunkId: string;
  /** Channel/bridge ids are chosen before anything is sent to Asterisk (see claimForDial). */
  ids: (seq: number) => { agentChannelId: string; customerChannelId: string; bridgeId: string };
}

/**
 * The one atomic claim: LIVE → DIALING with owner, lease token, lease expiry and the next dial
 * sequence stamped together, and the call_attempts row with the pre-generated channel ids written in
 * the same transaction. After a crash the ids are how recovery asks Asterisk whether the call exists.
 */
export function claimForDial(db: Db, c: ClaimInput): CallAttemptRow | null {
  return db.transaction((tx) => {
    const claimed = tx
      .update(callbacks)
      .set({
        state: 'DIALING',
        leaseOwner: c.owner,
        leaseToken: c.token,
        leaseExpiresAt: c.now + c.leaseMs,
        dialSeq: sql`${callbacks.dialSeq} + 1`,
        waitReason: null,
        updatedAt: c.now,
      })
      .where(and(eq(callbacks.id, c.callbackId), eq(callbacks.state, 'LIVE')))
      .returning({ seq: callbacks.dialSeq })
      .get();
    if (!claimed) return null;
    const ids = c.ids(claimed.seq);
    return tx
      .insert(callAttempts)
      .values({
        callbackId: c.callbackId,
        seq: claimed.seq,
        dialOrder: c.dialOrder,
        agentId: c.agentId,
        phoneEndpoint: c.phoneEndpoint,
        callerId: c.callerId,
        customerNumber: c.customerNumber,
        phonePosition: c.phonePosition ?? null,
        trunkId: c.trunkId,
        ...ids,
        leaseToken: c.token,
        startedAt: c.now,
      })
      .returning()
      .get();
  });
}

function leaseHeld(id: number, token: string): SQL {
  return and(eq(callbacks.id, id), eq(callbacks.leaseToken, token), eq(callbacks.state, 'DIALING'))!;
}

function lost(id: number, token: string): CallbackdError {
  return new CallbackdError(ErrorCodes.LEASE_LOST, `callback ${id}: lease ${token} is no longer held; not writing`);
}

export function renewLease(db: Db, id: number, token: string, until: number): boolean {
  return db.update(callbacks).set({ leaseExpiresAt: until }).where(leaseHeld(id, token)).run().changes === 1;
}

/** Timestamps on the open attempt row; guarded by the attempt's lease token and still-open state. */
export function stampAttempt(
  db: Db,
  attemptId: number,
  token: string,
  fields: Partial<Pick<CallAttemptRow, 'agentRingingAt' | 'agentAnsweredAt' | 'customerRingingAt' | 'customerAnsweredAt'>>,
): void {
  db.update(callAttempts)
    .set(fields)
    .where(and(eq(callAttempts.id, attemptId), eq(callAttempts.leaseToken, token), isNull(callAttempts.outcome)))
    .run();
}

/** The customer leg is about to be dialed: it now counts as an attempt. Returns the attempt number. */
export function countCustomerAttempt(db: Db, id: number, token: string, attemptId: number, now: number): number {
  return db.transaction((tx) => {
    const row = tx
      .update(callbacks)
      .set({ attempts: sql`${callbacks.attempts} + 1`, updatedAt: now })
      .where(leaseHeld(id, token))
      .returning({ attempts: callbacks.attempts })
      .get();
    if (!row) throw lost(id, token);
    tx.update(callAttempts)
      .set({ customerAttempt: row.attempts, customerDialedAt: now })
      .where(eq(callAttempts.id, attemptId))
      .run();
    return row.attempts;
  });
}

export type { AttemptResult, Next as Finish } from '../domain/attempt-end.js';

/**
 * Closes the attempt row and moves the callback out of DIALING, in one transaction, only while
 * the lease is still ours. Throws LEASE_LOST otherwise, writing nothing.
 */
export function finishAttempt(
  db: Db,
  id: number,
  token: string,
  attemptId: number,
  result: AttemptResult,
  next: Finish,
  now: number,
): void {
  db.transaction((tx) => {
    const base = {
      lastOutcome: result.outcome,
      lastCause: result.cause,
      lastSipCode: result.sipCode,
      leaseOwner: null,
      leaseToken: null,
      leaseExpiresAt: null,
      updatedAt: now,
    };
    const set =
      next.state === 'COMPLETED'
        ? { ...base, state: 'COMPLETED' as const, waitReason: null, nextAttemptAt: null }
        : next.state === 'LIVE'
          ? { ...base, state: 'LIVE' as const, nextAttemptAt: next.nextAttemptAt, waitReason: next.waitReason }
          : next.state === 'ACTIVE'
            ? { ...base, state: 'ACTIVE' as const, dueAt: next.dueAt, attempts: 0, nextAttemptAt: null, waitReason: next.note, ownerWaitingSince: null }
            : { ...base, state: next.state, failReason: next.failReason, waitReason: null, nextAttemptAt: null };
    const changed = tx.update(callbacks).set(set).where(leaseHeld(id, token)).run().changes;
    if (changed !== 1) throw lost(id, token);
    if (next.state === 'ACTIVE') {
      writeAudit(tx, { at: now, actor: 'scheduler', action: next.action ?? 'auto-reschedule', callbackId: id, after: { dueAt: next.dueAt }, reason: next.note });
    }
    tx.update(callAttempts)
      .set({
        outcome: result.outcome,
        cause: result.cause,
        sipCode: result.sipCode,
        endedAt: result.endedAt,
        detail: result.detail,
        ...(result.customerAnsweredAt !== undefined ? { customerAnsweredAt: result.customerAnsweredAt } : {}),
      })
      .where(and(eq(callAttempts.id, attemptId), isNull(callAttempts.outcome)))
      .run();
  });
}

/** After the callback is COMPLETED the call may go on; its end is written to the attempt only, once. */
export function closeAnsweredAttempt(db: Db, attemptId: number, endedAt: number, durationMs: number): void {
  db.update(callAttempts).set({ endedAt, durationMs }).where(and(eq(callAttempts.id, attemptId), isNull(callAttempts.endedAt))).run();
}

/**
 * DIALING rows that this instance may recover: its own, or any whose lease has expired. With
 * `serverId`: only attempts whose trunk is on that server (another server's channels are not
 * visible to this daemon's Asterisk: asking it would end a call that is still up there).
 */
export function recoverable(db: Db, owner: string, now: number, serverId: string | null = null): { cb: CallbackRow; attempt: CallAttemptRow | undefined }[] {
  const rows = db
    .select()
    .from(callbacks)
    .where(and(eq(callbacks.state, 'DIALING'), or(eq(callbacks.leaseOwner, owner), lte(callbacks.leaseExpiresAt, now))))
    .all();
  const onServer = serverId === null ? null : new Set(db.select({ id: trunks.id }).from(trunks).where(eq(trunks.serverId, serverId)).all().map((t) => t.id));
  return rows.map((cb) => ({
    cb,
    attempt: db
      .select()
      .from(callAttempts)
      .where(and(eq(callAttempts.callbackId, cb.id), eq(callAttempts.seq, cb.dialSeq)))
      .get(),
  })).filter((r) => onServer === null || !r.attempt || onServer.has(r.attempt.trunkId));
}

/** Takes over a DIALING row for recovery, with a fresh lease token. */
export function takeOverLease(db: Db, id: number, oldToken: string | null, owner: string, token: string, until: number): boolean {
  return db.transaction((tx) => {
    const ok =
      tx
        .update(callbacks)
        .set({ leaseOwner: owner, leaseToken: token, leaseExpiresAt: until })
        .where(and(eq(callbacks.id, id), eq(callbacks.state, 'DIALING'), oldToken === null ? isNull(callbacks.leaseToken) : eq(callbacks.leaseToken, oldToken)))
        .run().changes === 1;
    if (ok) {
      tx.update(callAttempts)
        .set({ leaseToken: token })
        .where(and(eq(callAttempts.callbackId, id), isNull(callAttempts.outcome)))
        .run();
    }
    return ok;
  });
}

/** The attempt a channel belongs to. */
export function attemptOfChannel(db: Db, channelId: string): CallAttemptRow | undefined {
  return db
    .select()
    .from(callAttempts)
    .where(or(eq(callAttempts.agentChannelId, channelId), eq(callAttempts.customerChannelId, channelId)))
    .get();
}

/** Answered attempts (since `since`) whose end was never recorded. */
export function answeredNotEnded(db: Db, since: number, serverId: string | null = null): CallAttemptRow[] {
  return db
    .select()
    .from(callAttempts)
    .where(and(
      eq(callAttempts.outcome, 'ANSWERED'), isNull(callAttempts.endedAt), sql`${callAttempts.startedAt} > ${since}`,
      serverId === null ? undefined : sql`${callAttempts.trunkId} IN (SELECT id FROM trunks WHERE server_id = ${serverId})`,
    ))
    .all();
}

export function attemptsOf(db: Db, callbackId: number): CallAttemptRow[] {
  return db.select().from(callAttempts).where(eq(callAttempts.callbackId, callbackId)).orderBy(asc(callAttempts.seq)).all();
}
