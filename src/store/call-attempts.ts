import { and, asc, eq, gt, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import { CallbackdError, ErrorCodes } from '../errors.js';
import { writeAudit } from './audit.js';
import type { Conn, Tables } from './conn.js';
import { affected, first, op, transaction } from './engine.js';
import type { AttemptResult, Next as Finish } from '../domain/attempt-end.js';
import type { CallAttemptRow, CallbackRow } from './schema.js';
import { agentVerdict, OPEN_ATTEMPT_HORIZON_MS, trunkVerdict, type LimitVerdict } from '../domain/channel-limits.js';

// A call attempt in the store: the claim (LIVE → DIALING under a lease, with its call_attempts row),
// the writes of the call in progress, each fenced by the lease token, its end, and recovery's
// reads and takeover. Re-exported by ./callbacks.ts, where callers import it from.

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
  /** The claim would break a cluster-wide limit (trunk channels, calls per second, agent busy): it returns null. */
  limited?: (r: LimitRefused) => void;
}

export type ClaimRefusal = 'taken' | 'moved';
export type LimitRefused = Extract<LimitVerdict, { ok: false }>;

/**
 * The one atomic claim: LIVE → DIALING with owner, lease token, lease expiry and the next dial
 * sequence stamped together, and the call_attempts row with the pre-generated channel ids written in
 * the same transaction. After a crash the ids are how recovery asks Asterisk whether the call exists.
 * Null when refused (`i.refused` or `i.limited` says why).
 *
 * SQLite has one writer: the compare-and-set UPDATE alone is exact. On PostgreSQL several daemons claim
 * from the same rows; the row is first locked with SKIP LOCKED, so a row a peer is claiming right now is
 * passed over at once ('taken') instead of waiting for the peer's commit and then finding it moved.
 *
 * Then the cluster-wide limits (issue 16 item 3, underLimits): the trunk's open attempts below its
 * max_channels, its last leg start at least 1/cps ago, the agent on no other open attempt (an AI agent:
 * below max_calls), all counted over every daemon's rows inside this transaction.
 */
export const claimForDial = op('claimForDial', async (db: Conn, i: ClaimInput): Promise<CallAttemptRow | null> => {
  const out = await transaction(
    db,
    async (tx): Promise<CallAttemptRow | ClaimRefusal | LimitRefused> => {
      const t = tx.t.callbacks;
      const q = tx.q.select({ state: t.state }).from(t).where(eq(t.id, i.callbackId));
      const row = first(await (tx.kind === 'pg' ? q.for('update', { skipLocked: true }) : q));
      if (!row) return tx.kind === 'pg' ? 'taken' : 'moved';
      if (row.state !== 'LIVE') return 'moved';
      const limits = await underLimits(tx, i.trunkId, i.agentId, i.now);
      if (!limits.ok) return limits;
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
      if (limits.rated) {
        const ts = tx.t.trunkStarts;
        await tx.q.insert(ts).values({ trunkId: i.trunkId, lastStartAt: i.now }).onConflictDoUpdate({ target: ts.trunkId, set: { lastStartAt: i.now } });
      }
      return attempt!;
    },
    { retry: true },
  );
  if (typeof out === 'string') {
    i.refused?.(out);
    return null;
  }
  if ('why' in out) {
    i.limited?.(out);
    return null;
  }
  return out;
});

/** Open attempts (the call not over) that count against a trunk or an agent at `now` (OPEN_ATTEMPT_HORIZON_MS). */
function openAt(a: Tables['callAttempts'], now: number): SQL {
  return and(isNull(a.endedAt), gt(a.startedAt, now - OPEN_ATTEMPT_HORIZON_MS))!;
}

/**
 * The cluster-wide limits for one claim, read inside its transaction. SQLite: BEGIN IMMEDIATE already
 * holds the one write lock, so counting then inserting is exact. PostgreSQL (READ COMMITTED): two claims
 * for the same trunk on two daemons would both count C-1 and both insert, so claims are serialised per
 * agent and per trunk with transaction-scoped advisory locks, always agent first, then trunk: one fixed
 * order, so two claims cannot wait for each other in a cycle (the callback row, locked before, is
 * never waited for: SKIP LOCKED). Advisory rather than row locks: a trunk or an agent has no row that
 * every claim may lock (trunk_starts only exists for rate-limited trunks; agents of an ANYONE campaign
 * can be missing from the directory), and the locks are released at COMMIT, after which the next
 * claim's statements (each its own snapshot in READ COMMITTED) see the attempt row just inserted.
 * An unlimited trunk takes no lock, so its claims stay parallel. Key collisions (hashtext is 32-bit)
 * only make two unrelated claims take turns.
 */
async function underLimits(tx: Conn, trunkId: string, agentId: string, now: number): Promise<{ ok: true; rated: boolean } | LimitRefused> {
  const { trunks, agents, callAttempts: a, trunkStarts: ts } = tx.t;
  const trunk = first(await tx.q.select({ maxChannels: trunks.maxChannels, callsPerSecond: trunks.callsPerSecond }).from(trunks).where(eq(trunks.id, trunkId)));
  const limit = { maxChannels: trunk?.maxChannels ?? 0, callsPerSecond: trunk?.callsPerSecond ?? 0 };
  const limited = limit.maxChannels > 0 || limit.callsPerSecond > 0;
  if (tx.kind === 'pg') {
    await tx.q.execute(sql`SELECT pg_advisory_xact_lock(hashtext('callbackd agent'), hashtext(${agentId}))`);
    if (limited) await tx.q.execute(sql`SELECT pg_advisory_xact_lock(hashtext('callbackd trunk'), hashtext(${trunkId}))`);
  }
  const count = sql<number>`count(*)`.mapWith(Number);
  const agentRow = first(await tx.q.select({ kind: agents.kind, maxCalls: agents.maxCalls }).from(agents).where(eq(agents.id, agentId)));
  const agentOpen = first(await tx.q.select({ n: count }).from(a).where(and(eq(a.agentId, agentId), openAt(a, now))))?.n ?? 0;
  const agent = agentVerdict(agentId, agentRow ?? null, agentOpen);
  if (!agent.ok) return agent;
  if (!limited) return { ok: true, rated: false };
  const inUse = limit.maxChannels > 0 ? (first(await tx.q.select({ n: count }).from(a).where(and(eq(a.trunkId, trunkId), openAt(a, now))))?.n ?? 0) : 0;
  const last = limit.callsPerSecond > 0 ? (first(await tx.q.select({ at: ts.lastStartAt }).from(ts).where(eq(ts.trunkId, trunkId)))?.at ?? null) : null;
  const verdict = trunkVerdict(trunkId, limit, inUse, last, now);
  return verdict.ok ? { ok: true, rated: limit.callsPerSecond > 0 } : verdict;
}

/** What every daemon has open right now, for the scheduler's per-pass pre-check (one read per pass). */
export interface ClusterLoad {
  /** Open attempts per trunk. */
  trunks: Map<string, number>;
  /** Open attempts per agent. */
  agents: Map<string, number>;
  /** Each rate-limited trunk's last leg start. */
  lastStarts: Map<string, number>;
}

export const clusterLoad = op('clusterLoad', async (db: Conn, now: number): Promise<ClusterLoad> => {
  const { callAttempts: a, trunkStarts: ts } = db.t;
  const rows = await db.q
    .select({ trunkId: a.trunkId, agentId: a.agentId, n: sql<number>`count(*)`.mapWith(Number) })
    .from(a)
    .where(openAt(a, now))
    .groupBy(a.trunkId, a.agentId);
  const load: ClusterLoad = { trunks: new Map(), agents: new Map(), lastStarts: new Map() };
  for (const r of rows) {
    load.trunks.set(r.trunkId, (load.trunks.get(r.trunkId) ?? 0) + r.n);
    if (r.agentId !== null) load.agents.set(r.agentId, (load.agents.get(r.agentId) ?? 0) + r.n);
  }
  for (const r of await db.q.select().from(ts)) load.lastStarts.set(r.trunkId, r.lastStartAt);
  return load;
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
