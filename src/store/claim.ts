import { and, eq, gt, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import type { Conn, Tables } from './conn.js';
import { first, op, transaction } from './engine.js';
import type { CallAttemptRow } from './schema.js';
import { agentVerdict, OPEN_ATTEMPT_HORIZON_MS, trunkVerdict, type LimitVerdict } from '../domain/channel-limits.js';

// The claim: LIVE → DIALING under a lease, with its call_attempts row, inside the cluster-wide limits
// (trunk channels and calls per second, one call per agent), one or a batch per transaction; and the
// cluster's load the scheduler reads once per pass. Re-exported by ./callbacks.ts.

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
  /**
   * Customer-first: the customer is dialed right after the claim, so the claim also counts the customer
   * attempt (what countCustomerAttempt writes), in the same UPDATE. Only when the caller checked the
   * calling window at this claim's instant.
   */
  countCustomer?: boolean;
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
 * from the same rows: a row a peer is claiming right now is passed over at once ('taken', rowStates).
 *
 * Then the cluster-wide limits (issue 16 item 3, underLimits): the trunk's open attempts below its
 * max_channels, its last leg start at least 1/cps ago, the agent on no other open attempt (an AI agent:
 * below max_calls), all counted over every daemon's rows inside this transaction.
 */
export const claimForDial = op('claimForDial', async (db: Conn, i: ClaimInput): Promise<CallAttemptRow | null> => (await claimBatch(db, [i]))[0]!);

/**
 * Several claims in one transaction, each decided on its own as claimForDial decides it (a refused or
 * limited one does not stop the others); null for each one refused. Why: a burst of 500 callbacks due at
 * one instant spent a BEGIN/COMMIT, the mutex and a tick per claim (README "Performance", session 6).
 * On PostgreSQL every agent's and limited trunk's advisory lock is taken first, in one sorted order
 * (agents, then trunks), so two daemons' batches cannot wait for each other in a cycle.
 */
export const claimBatch = op('claimBatch', async (db: Conn, inputs: readonly ClaimInput[]): Promise<(CallAttemptRow | null)[]> => {
  if (inputs.length === 0) return [];
  const outs = await transaction(
    db,
    async (tx) => {
      const states = await rowStates(tx, inputs);
      const live = inputs.filter((i) => states.get(i.callbackId) === 'LIVE');
      const trunks = await trunkLimits(tx, live);
      if (tx.kind === 'pg') await lockInOrder(tx, live, trunks);
      const r: (CallAttemptRow | ClaimRefusal | LimitRefused)[] = [];
      for (const i of inputs) {
        const state = states.get(i.callbackId);
        r.push(state === undefined ? (tx.kind === 'pg' ? 'taken' : 'moved') : state !== 'LIVE' ? 'moved' : await claimOne(tx, i, trunks.get(i.trunkId)!));
      }
      return r;
    },
    { retry: true },
  );
  return outs.map((out, k) => {
    const i = inputs[k]!;
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
});

/**
 * The batch's callback rows' states, in one read. SQLite has one writer: the compare-and-set UPDATE
 * (claimOne) is exact. On PostgreSQL several daemons claim from the same rows; the rows are locked first
 * with SKIP LOCKED, so a row a peer is claiming right now is missing here and passed over at once
 * ('taken') instead of waiting for the peer's commit and then finding it moved, and before any advisory
 * lock is waited for (a claim of the same row would otherwise wait on the peer's agent and trunk locks).
 */
async function rowStates(tx: Conn, inputs: readonly ClaimInput[]): Promise<Map<number, string>> {
  const t = tx.t.callbacks;
  const q = tx.q.select({ id: t.id, state: t.state }).from(t).where(inArray(t.id, inputs.map((i) => i.callbackId)));
  return new Map((await (tx.kind === 'pg' ? q.for('update', { skipLocked: true }) : q)).map((r) => [r.id, r.state]));
}

type TrunkLimit = { maxChannels: number; callsPerSecond: number };

/** The trunks' limits, one read per trunk of the batch. */
async function trunkLimits(tx: Conn, inputs: readonly ClaimInput[]): Promise<Map<string, TrunkLimit>> {
  const { trunks } = tx.t;
  const out = new Map<string, TrunkLimit>();
  for (const id of new Set(inputs.map((i) => i.trunkId))) {
    const row = first(await tx.q.select({ maxChannels: trunks.maxChannels, callsPerSecond: trunks.callsPerSecond }).from(trunks).where(eq(trunks.id, id)));
    out.set(id, { maxChannels: row?.maxChannels ?? 0, callsPerSecond: row?.callsPerSecond ?? 0 });
  }
  return out;
}

const isLimited = (l: TrunkLimit) => l.maxChannels > 0 || l.callsPerSecond > 0;

/**
 * PostgreSQL (READ COMMITTED): two claims for the same trunk on two daemons would both count C-1 and
 * both insert, so claims are serialised per agent and per trunk with transaction-scoped advisory locks,
 * always agents first, then trunks, each sorted: one fixed order, so two batches cannot wait for each
 * other in a cycle (the callback rows, locked before, are never waited for: SKIP LOCKED). Advisory rather
 * than row locks: a trunk or an agent has no row that every claim may lock (trunk_starts only exists
 * for rate-limited trunks; agents of an ANYONE campaign can be missing from the directory), and the
 * locks are released at COMMIT, after which the next claim's statements (each its own snapshot in READ
 * COMMITTED) see the attempt rows just inserted. An unlimited trunk takes no lock, so its claims stay
 * parallel. Key collisions (hashtext is 32-bit) only make two unrelated claims take turns, or, rarer, two
 * batches deadlock, which PostgreSQL breaks and the transaction's retry runs again.
 */
async function lockInOrder(tx: Conn, inputs: readonly ClaimInput[], trunks: Map<string, TrunkLimit>): Promise<void> {
  for (const agentId of [...new Set(inputs.map((i) => i.agentId))].sort()) {
    await tx.q.execute(sql`SELECT pg_advisory_xact_lock(hashtext('callbackd agent'), hashtext(${agentId}))`);
  }
  for (const [trunkId, limit] of [...trunks].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (isLimited(limit)) await tx.q.execute(sql`SELECT pg_advisory_xact_lock(hashtext('callbackd trunk'), hashtext(${trunkId}))`);
  }
}

/**
 * One claim inside the batch's transaction, as claimForDial describes it. A customer-first claim also
 * counts the customer attempt in its UPDATE (`countCustomer`): the customer is the leg dialed next, and
 * one transaction fewer per call is what a burst needs.
 */
async function claimOne(tx: Conn, i: ClaimInput, trunk: TrunkLimit): Promise<CallAttemptRow | ClaimRefusal | LimitRefused> {
  const t = tx.t.callbacks;
  const limits = await underLimits(tx, i.trunkId, trunk, i.agentId, i.now);
  if (!limits.ok) return limits;
  const [claimed] = await tx.q
    .update(t)
    .set({
      state: 'DIALING',
      leaseOwner: i.owner,
      leaseToken: i.token,
      leaseExpiresAt: i.now + i.leaseMs,
      dialSeq: sql`${t.dialSeq} + 1`,
      ...(i.countCustomer ? { attempts: sql`${t.attempts} + 1` } : {}),
      waitReason: null,
      updatedAt: i.now,
    })
    .where(and(eq(t.id, i.callbackId), eq(t.state, 'LIVE')))
    .returning({ seq: t.dialSeq, attempts: t.attempts });
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
      ...(i.countCustomer ? { customerAttempt: claimed.attempts, customerDialedAt: i.now } : {}),
    })
    .returning();
  if (limits.rated) {
    const ts = tx.t.trunkStarts;
    await tx.q.insert(ts).values({ trunkId: i.trunkId, lastStartAt: i.now }).onConflictDoUpdate({ target: ts.trunkId, set: { lastStartAt: i.now } });
  }
  return attempt!;
}

/** Open attempts (the call not over) that count against a trunk or an agent at `now` (OPEN_ATTEMPT_HORIZON_MS). */
function openAt(a: Tables['callAttempts'], now: number): SQL {
  return and(isNull(a.endedAt), gt(a.startedAt, now - OPEN_ATTEMPT_HORIZON_MS))!;
}

/**
 * The cluster-wide limits for one claim, read inside its transaction. SQLite: BEGIN IMMEDIATE already
 * holds the one write lock, so counting then inserting is exact. PostgreSQL: the batch holds the agent's
 * and the trunk's advisory locks (lockInOrder).
 */
async function underLimits(tx: Conn, trunkId: string, limit: TrunkLimit, agentId: string, now: number): Promise<{ ok: true; rated: boolean } | LimitRefused> {
  const { agents, callAttempts: a, trunkStarts: ts } = tx.t;
  const count = sql<number>`count(*)`.mapWith(Number);
  const agentRow = first(await tx.q.select({ kind: agents.kind, maxCalls: agents.maxCalls }).from(agents).where(eq(agents.id, agentId)));
  const agentOpen = first(await tx.q.select({ n: count }).from(a).where(and(eq(a.agentId, agentId), openAt(a, now))))?.n ?? 0;
  const agent = agentVerdict(agentId, agentRow ?? null, agentOpen);
  if (!agent.ok) return agent;
  if (!isLimited(limit)) return { ok: true, rated: false };
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
