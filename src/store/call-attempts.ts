import { and, asc, eq, gt, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import { CallbackdError, ErrorCodes } from '../errors.js';
import { writeAudit } from './audit.js';
import type { Conn, Tables } from './conn.js';
import { affected, first, op, transaction } from './engine.js';
import type { AttemptResult, Next as Finish } from '../domain/attempt-end.js';
import type { CallAttemptRow, CallbackRow } from './schema.js';

// A call attempt in the store after its claim (./claim.ts): the writes of the call in progress, each
// fenced by the lease token, its end, and recovery's reads and takeover. Re-exported by ./callbacks.ts,
// where callers import it from.

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

/**
 * The customer leg is about to be dialed: it now counts as an attempt. Returns the attempt number.
 * Once per attempt row: the dialer retries this write while the database is unreachable, and a
 * connection cut after the server committed would otherwise count the same call twice.
 */
export const countCustomerAttempt = op('countCustomerAttempt', (db: Conn, id: number, token: string, attemptId: number, now: number): Promise<number> =>
  transaction(db, async (tx) => {
    const t = tx.t.callbacks;
    const a0 = tx.t.callAttempts;
    const counted = first(await tx.q.select({ n: a0.customerAttempt }).from(a0).where(and(eq(a0.id, attemptId), eq(a0.leaseToken, token))))?.n ?? null;
    if (counted !== null) {
      if (!first(await tx.q.select({ id: t.id }).from(t).where(leaseHeld(t, id, token)))) throw lost(id, token);
      return counted;
    }
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
 * DIALING rows that this instance may recover: its own, or any whose lease has expired (owner null:
 * only those, the takeover sweep of a peer's calls: Scheduler.adoptExpired). With `serverId`: only attempts whose trunk is on that server (another server's channels are not
 * visible to this daemon's Asterisk: asking it would end a call that is still up there).
 */
export const recoverable = op(
  'recoverable',
  async (db: Conn, owner: string | null, now: number, serverId: string | null = null): Promise<{ cb: CallbackRow; attempt: CallAttemptRow | undefined }[]> => {
    const { callbacks: t, callAttempts: a, trunks } = db.t;
    const expired = lte(t.leaseExpiresAt, now);
    const rows = await db.q
      .select()
      .from(t)
      .where(and(eq(t.state, 'DIALING'), owner === null ? expired : or(eq(t.leaseOwner, owner), expired)));
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
