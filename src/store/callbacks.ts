import { and, eq, gt, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import { writeAudit } from './audit.js';
import { lineOrder } from './queue-place.js';
import type { Conn, Tables } from './conn.js';
import { affected, first, op, transaction } from './engine.js';
import type { CallbackRow } from './schema.js';

// The callbacks' life cycle in the store up to the claim: insert, ACTIVE → LIVE, what the scheduler
// reads, and the one write per decision that dials nothing. The claim and everything after it (a
// call attempt under a lease) is ./call-attempts.ts, re-exported here. One body per function for
// both engines (store/conn.ts); `c.kind` branches only where the SQL must differ.

// Read by tests and callers written before store/audit.ts.
export { auditOf } from './audit.js';
export * from './call-attempts.js';
export * from './claim.js';

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
