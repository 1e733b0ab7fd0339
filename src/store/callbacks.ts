import { and, asc, eq, gt, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import { CallbackdError, ErrorCodes } from '../errors.js';
import { writeAudit } from './audit.js';
import { lineOrder } from './queue-place.js';
import type { Conn, Tables } from './conn.js';
import { affected, first, op, transaction } from './engine.js';
import type { AttemptResult, Next as Finish } from '../domain/attempt-end.js';
import type { CallAttemptRow, CallbackRow } from './schema.js';

// The callbacks' life cycle in the store: insert, ACTIVE → LIVE, the claim (LIVE → DIALING under a
// lease), the writes of a call in progress (fenced by the lease token), its end, and recovery.
// One body per function for both engines (store/conn.ts); `c.kind` branches only where SQL differs.

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

export const insertCallback = op('insertCallback', async (db: Conn, cb: NewCallback, now: number): Promise<number> => {
  const t = db.t.callbacks;
  const [row] = await db.q
    .insert(t)
    .values({ ...cb, state: 'ACTIVE', createdAt: now, updatedAt: now })
    .returning({ id: t.id });
  return row!.id;
});

export const getCallback = op('getCallback', async (db: Conn, id: number): Promise<CallbackRow | undefined> =>
  first(await db.q.select().from(db.t.callbacks).where(eq(db.t.callbacks.id, id)).limit(1)),
);

/** ACTIVE → LIVE for everything due. Returns how many became LIVE. */
export const promoteDue = op('promoteDue', async (db: Conn, now: number): Promise<number> => {
  const t = db.t.callbacks;
  return affected(
    await db.q
      .update(t)
      .set({ state: 'LIVE', nextAttemptAt: sql`coalesce(${t.nextAttemptAt}, ${t.dueAt})`, updatedAt: now })
      .where(and(eq(t.state, 'ACTIVE'), lte(t.dueAt, now))),
  );
});

/**
 * The earliest future instant at which the scheduler has something to do, or null. LIVE rows
 * already due are left out: they wait for an agent or a trunk, and those changes nudge the loop.
 */
export const nextWakeAt = op('nextWakeAt', async (db: Conn, now: number): Promise<number | null> => {
  const t = db.t.callbacks;
  // min(int8) is int8 on PostgreSQL (a number through the engine's parser); mapWith keeps it a number either way.
  const a = first(await db.q.select({ t: sql<number | null>`min(${t.dueAt})`.mapWith(Number) }).from(t).where(eq(t.state, 'ACTIVE')));
  const b = first(
    await db.q
      .select({ t: sql<number | null>`min(${t.nextAttemptAt})`.mapWith(Number) })
      .from(t)
      .where(and(eq(t.state, 'LIVE'), gt(t.nextAttemptAt, now))),
  );
  const ts = [a?.t, b?.t].filter((x): x is number => typeof x === 'number');
  return ts.length ? Math.min(...ts) : null;
});

/**
 * LIVE callbacks whose next attempt is due, in line order (domain/queue-place.ts: an inbound
 * caller's arrival, else the due time). With `serverId` (several servers
 * in the directory): only those a daemon on that server may place (placeableOn).
 */
export const liveReady = op('liveReady', async (db: Conn, now: number, limit: number, serverId: string | null = null): Promise<CallbackRow[]> => {
  const t = db.t.callbacks;
  return await db.q
    .select()
    .from(t)
    .where(and(eq(t.state, 'LIVE'), lte(t.nextAttemptAt, now), serverId === null ? undefined : placeableOn(t, serverId)))
    .orderBy(...lineOrder(t))
    .limit(limit);
});

/**
 * The server filter of the claim path, coarse on purpose (domain/server-placement decides per agent):
 * the candidate agents (the owner, or the campaign's agents) have a phone on the server, and the
 * campaign's number has a trunk there. A callback no server can take (owner without any phone, a
 * campaign without a number) passes everywhere, so some daemon still writes why it waits or fails.
 */
function placeableOn(cb: Tables['callbacks'], serverId: string): SQL {
  return sql`(
    CASE ${cb.type}
      WHEN 'USERONLY' THEN EXISTS (SELECT 1 FROM phones p WHERE p.agent_id = ${cb.ownerAgentId} AND p.server_id = ${serverId})
        OR NOT EXISTS (SELECT 1 FROM phones p WHERE p.agent_id = ${cb.ownerAgentId})
      ELSE EXISTS (SELECT 1 FROM agent_campaigns ac JOIN phones p ON p.agent_id = ac.agent_id WHERE ac.campaign_id = ${cb.campaignId} AND p.server_id = ${serverId})
        OR NOT EXISTS (SELECT 1 FROM agent_campaigns ac JOIN phones p ON p.agent_id = ac.agent_id WHERE ac.campaign_id = ${cb.campaignId})
    END
    AND NOT EXISTS (
      SELECT 1 FROM campaigns c JOIN numbers n ON n.e164 = c.outbound_number
      WHERE c.id = ${cb.campaignId}
        AND NOT EXISTS (SELECT 1 FROM trunks t WHERE t.server_id = ${serverId}
          AND (t.id = n.trunk_id OR t.id IN (SELECT nt.trunk_id FROM number_trunks nt WHERE nt.e164 = n.e164)))
    )
  )`;
}

/** Records why a LIVE callback waits; written only when the reason changes. */
export const setWaitReason = op('setWaitReason', async (db: Conn, id: number, reason: string | null, now: number, server: string | null = null): Promise<void> => {
  const t = db.t.callbacks;
  const text = reason === null || server === null ? reason : serverReason(server, reason);
  await db.q
    .update(t)
    .set({ waitReason: text, updatedAt: now })
    .where(
      and(
        eq(t.id, id),
        eq(t.state, 'LIVE'),
        // IS DISTINCT FROM, not SQLite's `IS NOT` (a syntax error on PostgreSQL): the same meaning on both.
        text === null ? sql`${t.waitReason} IS NOT NULL` : sql`${t.waitReason} IS DISTINCT FROM ${text}`,
        notAnotherServers(db, server),
      ),
    );
});

/** Several servers: a reason says whose it is ("server b: …"). */
const serverReason = (server: string, reason: string) => `server ${server}: ${reason}`;

/**
 * Several servers: a daemon does not overwrite another server's reason. Each server's reason names
 * its own phones or trunk, so two daemons rewriting each other's made a write per pass each, every
 * pass nudging the other (measured: 26 writes in half a second for one callback). The first
 * server's explanation stands until the callback is claimed or that server's reason changes.
 */
function notAnotherServers(db: Conn, server: string | null): SQL | undefined {
  if (server === null) return undefined;
  const w = db.t.callbacks.waitReason;
  const own = `server ${server}: `;
  // "Is it some server's reason": GLOB is SQLite's case-sensitive match; PostgreSQL's LIKE is the
  // case-sensitive one there (SQLite's LIKE ignores ASCII case, so it would not mean the same).
  const anyServers = db.kind === 'pg' ? sql`${w} LIKE 'server %: %'` : sql`${w} GLOB 'server *: *'`;
  return sql`(${w} IS NULL OR substr(${w}, 1, ${own.length}) = ${own} OR NOT (${anyServers}))`;
}

/** A LIVE callback that may not be dialed before `until` (calling window, daily cap). */
export const deferLive = op('deferLive', async (db: Conn, id: number, until: number, reason: string, now: number): Promise<void> => {
  const t = db.t.callbacks;
  await db.q
    .update(t)
    .set({ nextAttemptAt: until, waitReason: reason, updatedAt: now })
    .where(and(eq(t.id, id), eq(t.state, 'LIVE')));
});

/**
 * A LIVE USERONLY callback waits for its owner: the reason, and the owner's clock for
 * useronly_move_minutes started unless already running. Written only when something changes.
 */
export const waitForOwner = op('waitForOwner', async (db: Conn, id: number, reason: string, now: number, server: string | null = null): Promise<void> => {
  const t = db.t.callbacks;
  const text = server === null ? reason : serverReason(server, reason);
  await db.q
    .update(t)
    .set({ waitReason: text, ownerWaitingSince: sql`coalesce(${t.ownerWaitingSince}, ${now})`, updatedAt: now })
    .where(
      and(
        eq(t.id, id),
        eq(t.state, 'LIVE'),
        or(isNull(t.ownerWaitingSince), and(sql`${t.waitReason} IS DISTINCT FROM ${text}`, notAnotherServers(db, server))),
      ),
    );
});

/** USERONLY → ANYONE, with the reason in the audit log. False if it was no longer LIVE USERONLY. */
export const convertToAnyone = op('convertToAnyone', (db: Conn, id: number, actor: string, reason: string, now: number): Promise<boolean> =>
  transaction(db, async (tx) => {
    const t = tx.t.callbacks;
    const before = first(await tx.q.select({ type: t.type, owner: t.ownerAgentId }).from(t).where(eq(t.id, id)).limit(1));
    const changed = affected(
      await tx.q
        .update(t)
        .set({ type: 'ANYONE', ownerWaitingSince: null, waitReason: `now ANYONE: ${reason}`, updatedAt: now })
        .where(and(eq(t.id, id), eq(t.state, 'LIVE'), eq(t.type, 'USERONLY'))),
    );
    if (changed !== 1) return false;
    await writeAudit(tx, { at: now, actor, action: 'convert-to-anyone', callbackId: id, before, after: { type: 'ANYONE', owner: before?.owner ?? null }, reason });
    return true;
  }),
);

/** When customer legs were dialed for this lead (any callback) since `since`. */
export const customerDialsOfLead = op('customerDialsOfLead', async (db: Conn, leadId: string, since: number): Promise<number[]> => {
  const { callAttempts: a, callbacks: t } = db.t;
  const rows = await db.q
    .select({ t: a.customerDialedAt })
    .from(a)
    .innerJoin(t, eq(t.id, a.callbackId))
    .where(and(eq(t.leadId, leadId), gt(a.customerDialedAt, since)));
  return rows.map((r) => r.t!);
});

/** A LIVE callback that can never be placed (DNC, no outbound number): FAILED, nothing dialed. */
export const failLive = op('failLive', async (db: Conn, id: number, outcome: string, reason: string, now: number): Promise<boolean> => {
  const t = db.t.callbacks;
  return (
    affected(
      await db.q
        .update(t)
        .set({ state: 'FAILED', lastOutcome: outcome, failReason: reason, waitReason: null, updatedAt: now })
        .where(and(eq(t.id, id), eq(t.state, 'LIVE'))),
    ) === 1
  );
});

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
  /**
   * Why the claim was refused (it then returns null): 'taken' = a peer daemon holds the row right now
   * (PostgreSQL, SKIP LOCKED), 'moved' = it is no longer LIVE (claimed, edited or cancelled meanwhile).
   */
  refused?: (why: ClaimRefusal) => void;
}

export type ClaimRefusal = 'taken' | 'moved';

/**
 * The one atomic claim: LIVE → DIALING with owner, lease token, lease expiry and the next dial
 * sequence stamped together, and the call_attempts row with the pre-generated channel ids written in
 * the same transaction. After a crash the ids are how recovery asks Asterisk whether the call exists.
 * Null when refused (`i.refused` says why).
 *
 * SQLite has one writer: the compare-and-set UPDATE alone is exact. On PostgreSQL several daemons claim
 * from the same rows; the row is first locked with SKIP LOCKED, so a row a peer is claiming right now is
 * passed over at once ('taken') instead of waiting for the peer's commit and then finding it moved.
 */
export const claimForDial = op('claimForDial', async (db: Conn, i: ClaimInput): Promise<CallAttemptRow | null> => {
  const out = await transaction(
    db,
    async (tx): Promise<CallAttemptRow | ClaimRefusal> => {
      const t = tx.t.callbacks;
      if (tx.kind === 'pg') {
        const row = first(await tx.q.select({ state: t.state }).from(t).where(eq(t.id, i.callbackId)).for('update', { skipLocked: true }));
        if (!row) return 'taken';
        if (row.state !== 'LIVE') return 'moved';
      }
      const [claimed] = await tx.q
        .update(t)
        .set({
          state: 'DIALING',
          leaseOwner: i.owner,
          leaseToken: i.token,
          leaseExpiresAt: i.now + i.leaseMs,
          dialSeq: sql`${t.dialSeq} + 1`,
          waitReason: null,
          updatedAt: i.now,
        })
        .where(and(eq(t.id, i.callbackId), eq(t.state, 'LIVE')))
        .returning({ seq: t.dialSeq });
      if (!claimed) return 'moved';
      const [attempt] = await tx.q
        .insert(tx.t.callAttempts)
        .values({
          callbackId: i.callbackId,
          seq: claimed.seq,
          dialOrder: i.dialOrder,
          agentId: i.agentId,
          phoneEndpoint: i.phoneEndpoint,
          callerId: i.callerId,
          customerNumber: i.customerNumber,
          phonePosition: i.phonePosition ?? null,
          trunkId: i.trunkId,
          ...i.ids(claimed.seq),
          leaseToken: i.token,
          startedAt: i.now,
        })
        .returning();
      return attempt!;
    },
    { retry: true },
  );
  if (typeof out === 'string') {
    i.refused?.(out);
    return null;
  }
  return out;
});

/** The callback row is DIALING under this lease token: every write of a call in progress checks it. */
function leaseHeld(t: Tables['callbacks'], id: number, token: string): SQL {
  return and(eq(t.id, id), eq(t.leaseToken, token), eq(t.state, 'DIALING'))!;
}

function lost(id: number, token: string): CallbackdError {
  return new CallbackdError(ErrorCodes.LEASE_LOST, `callback ${id}: lease ${token} is no longer held; not writing`);
}

export const renewLease = op('renewLease', async (db: Conn, id: number, token: string, until: number): Promise<boolean> => {
  const t = db.t.callbacks;
  return affected(await db.q.update(t).set({ leaseExpiresAt: until }).where(leaseHeld(t, id, token))) === 1;
});

/** Timestamps on the open attempt row; guarded by the attempt's lease token and still-open state. */
export const stampAttempt = op(
  'stampAttempt',
  async (
    db: Conn,
    attemptId: number,
    token: string,
    fields: Partial<Pick<CallAttemptRow, 'agentRingingAt' | 'agentAnsweredAt' | 'customerRingingAt' | 'customerAnsweredAt'>>,
  ): Promise<void> => {
    const a = db.t.callAttempts;
    await db.q
      .update(a)
      .set(fields)
      .where(and(eq(a.id, attemptId), eq(a.leaseToken, token), isNull(a.outcome)));
  },
);

/** The customer leg is about to be dialed: it now counts as an attempt. Returns the attempt number. */
export const countCustomerAttempt = op('countCustomerAttempt', (db: Conn, id: number, token: string, attemptId: number, now: number): Promise<number> =>
  transaction(db, async (tx) => {
    const t = tx.t.callbacks;
    const [row] = await tx.q
      .update(t)
      .set({ attempts: sql`${t.attempts} + 1`, updatedAt: now })
      .where(leaseHeld(t, id, token))
      .returning({ attempts: t.attempts });
    if (!row) throw lost(id, token);
    const a = tx.t.callAttempts;
    await tx.q.update(a).set({ customerAttempt: row.attempts, customerDialedAt: now }).where(eq(a.id, attemptId));
    return row.attempts;
  }),
);

export type { AttemptResult, Next as Finish } from '../domain/attempt-end.js';

/**
 * Closes the attempt row and moves the callback out of DIALING, in one transaction, only while
 * the lease is still ours. Throws LEASE_LOST otherwise, writing nothing.
 */
export const finishAttempt = op(
  'finishAttempt',
  (db: Conn, id: number, token: string, attemptId: number, result: AttemptResult, next: Finish, now: number): Promise<void> =>
    transaction(
      db,
      async (tx) => {
        const t = tx.t.callbacks;
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
        const changed = affected(await tx.q.update(t).set(set).where(leaseHeld(t, id, token)));
        if (changed !== 1) throw lost(id, token);
        if (next.state === 'ACTIVE') {
          await writeAudit(tx, { at: now, actor: 'scheduler', action: next.action ?? 'auto-reschedule', callbackId: id, after: { dueAt: next.dueAt }, reason: next.note });
        }
        const a = tx.t.callAttempts;
        await tx.q
          .update(a)
          .set({
            outcome: result.outcome,
            cause: result.cause,
            sipCode: result.sipCode,
            endedAt: result.endedAt,
            detail: result.detail,
            ...(result.customerAnsweredAt !== undefined ? { customerAnsweredAt: result.customerAnsweredAt } : {}),
          })
          .where(and(eq(a.id, attemptId), isNull(a.outcome)));
      },
      { retry: true },
    ),
);

/**
 * After the callback is COMPLETED the call may go on; its end is written to the attempt only, once.
 * It runs after the lease is released, so it is not fenced by the token: the first end wins (`ended_at IS NULL`).
 */
export const closeAnsweredAttempt = op('closeAnsweredAttempt', async (db: Conn, attemptId: number, endedAt: number, durationMs: number): Promise<void> => {
  const a = db.t.callAttempts;
  await db.q.update(a).set({ endedAt, durationMs }).where(and(eq(a.id, attemptId), isNull(a.endedAt)));
});

/**
 * DIALING rows that this instance may recover: its own, or any whose lease has expired. With
 * `serverId`: only attempts whose trunk is on that server (another server's channels are not
 * visible to this daemon's Asterisk: asking it would end a call that is still up there).
 */
export const recoverable = op(
  'recoverable',
  async (db: Conn, owner: string, now: number, serverId: string | null = null): Promise<{ cb: CallbackRow; attempt: CallAttemptRow | undefined }[]> => {
    const { callbacks: t, callAttempts: a, trunks } = db.t;
    const rows = await db.q
      .select()
      .from(t)
      .where(and(eq(t.state, 'DIALING'), or(eq(t.leaseOwner, owner), lte(t.leaseExpiresAt, now))));
    const onServer = serverId === null ? null : new Set((await db.q.select({ id: trunks.id }).from(trunks).where(eq(trunks.serverId, serverId))).map((x) => x.id));
    const out: { cb: CallbackRow; attempt: CallAttemptRow | undefined }[] = [];
    for (const cb of rows) {
      const attempt = first(await db.q.select().from(a).where(and(eq(a.callbackId, cb.id), eq(a.seq, cb.dialSeq))).limit(1));
      if (onServer === null || !attempt || onServer.has(attempt.trunkId)) out.push({ cb, attempt });
    }
    return out;
  },
);

/** Takes over a DIALING row for recovery, with a fresh lease token. */
export const takeOverLease = op('takeOverLease', (db: Conn, id: number, oldToken: string | null, owner: string, token: string, until: number): Promise<boolean> =>
  transaction(db, async (tx) => {
    const t = tx.t.callbacks;
    const ok =
      affected(
        await tx.q
          .update(t)
          .set({ leaseOwner: owner, leaseToken: token, leaseExpiresAt: until })
          .where(and(eq(t.id, id), eq(t.state, 'DIALING'), oldToken === null ? isNull(t.leaseToken) : eq(t.leaseToken, oldToken))),
      ) === 1;
    if (ok) {
      const a = tx.t.callAttempts;
      await tx.q.update(a).set({ leaseToken: token }).where(and(eq(a.callbackId, id), isNull(a.outcome)));
    }
    return ok;
  }),
);

/** The attempt a channel belongs to. */
export const attemptOfChannel = op('attemptOfChannel', async (db: Conn, channelId: string): Promise<CallAttemptRow | undefined> => {
  const a = db.t.callAttempts;
  return first(await db.q.select().from(a).where(or(eq(a.agentChannelId, channelId), eq(a.customerChannelId, channelId))).limit(1));
});

/** Answered attempts (since `since`) whose end was never recorded. */
export const answeredNotEnded = op('answeredNotEnded', async (db: Conn, since: number, serverId: string | null = null): Promise<CallAttemptRow[]> => {
  const a = db.t.callAttempts;
  return await db.q
    .select()
    .from(a)
    .where(
      and(
        eq(a.outcome, 'ANSWERED'),
        isNull(a.endedAt),
        gt(a.startedAt, since),
        serverId === null ? undefined : sql`${a.trunkId} IN (SELECT id FROM trunks WHERE server_id = ${serverId})`,
      ),
    );
});

export const attemptsOf = op('attemptsOf', async (db: Conn, callbackId: number): Promise<CallAttemptRow[]> => {
  const a = db.t.callAttempts;
  return await db.q.select().from(a).where(eq(a.callbackId, callbackId)).orderBy(asc(a.seq));
});
