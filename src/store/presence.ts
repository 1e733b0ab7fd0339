import { and, asc, eq, inArray, ne, sql } from 'drizzle-orm';
import type { Conn } from './conn.js';
import { first, op, sqliteClient, transaction } from './engine.js';
import type { phonePresence } from './schema.js';
import { DEFAULT_SERVER } from '../domain/server-placement.js';

export type PresenceRow = typeof phonePresence.$inferSelect;
/** What a daemon writes: the server is its own (writePresence's argument). */
export type PresenceWrite = Omit<PresenceRow, 'serverId'>;

/**
 * Replaces this server's picture in one transaction: phones gone from its AMI disappear, other
 * servers' rows stay (each daemon writes its own server). An endpoint that is a phone of another
 * server is not written: that server's daemon tells its state. Another endpoint (a trunk) seen by
 * two servers is kept as the last writer saw it.
 * SQLite: one statement prepared once per write: building and compiling a drizzle insert per phone
 * cost 8 % of the daemon's CPU during a 500-call burst (bench/burst.ts, CPU profile), as this runs
 * every 250 ms while phones change state. PostgreSQL: four statements whatever the number of phones
 * (a round trip per phone would be hundreds per write).
 */
export const writePresence = op('writePresence', (db: Conn, rows: PresenceWrite[], serverId: string = DEFAULT_SERVER): Promise<void> =>
  transaction(db, async (tx) => {
    if (tx.kind === 'sqlite') return writeSqlite(tx, rows, serverId);
    const { phonePresence: pp, phones } = tx.t;
    // Two daemons serving one server (takeover pairs) write the same rows: one at a time, or the
    // second's insert meets the first's uncommitted rows (a unique violation seen on the lab).
    // SQLite needs nothing: BEGIN IMMEDIATE already serialises writers.
    await tx.q.execute(sql`SELECT pg_advisory_xact_lock(hashtext('callbackd presence'), hashtext(${serverId}))`);
    await tx.q.delete(pp).where(eq(pp.serverId, serverId));
    if (rows.length === 0) return;
    const endpoints = rows.map((r) => r.endpoint);
    const elsewhere = new Set(
      (await tx.q.select({ e: phones.endpoint }).from(phones).where(and(inArray(phones.endpoint, endpoints), ne(phones.serverId, serverId)))).map((r) => r.e),
    );
    const mine = rows.filter((r) => !elsewhere.has(r.endpoint));
    if (mine.length === 0) return;
    // A trunk another server saw last: this server's sighting replaces it.
    await tx.q.delete(pp).where(and(inArray(pp.endpoint, mine.map((r) => r.endpoint)), ne(pp.serverId, serverId)));
    await tx.q.insert(pp).values(mine.map((r) => ({ ...r, serverId })));
  }),
);

function writeSqlite(tx: Conn, rows: PresenceWrite[], serverId: string): void {
  const c = sqliteClient(tx);
  const insert = c.prepare(
    `INSERT INTO phone_presence (endpoint, registered, reachable, contact_uri, device_state, in_use, changed_at, written_at, server_id)
     SELECT @endpoint, @registered, @reachable, @contactUri, @deviceState, @inUse, @changedAt, @writtenAt, @serverId
     WHERE NOT EXISTS (SELECT 1 FROM phones WHERE endpoint = @endpoint AND server_id <> @serverId)`,
  );
  const takeOver = c.prepare(
    `DELETE FROM phone_presence WHERE endpoint = @endpoint AND server_id <> @serverId
     AND NOT EXISTS (SELECT 1 FROM phones WHERE endpoint = @endpoint AND server_id <> @serverId)`,
  );
  c.prepare('DELETE FROM phone_presence WHERE server_id = ?').run(serverId);
  for (const r of rows) {
    takeOver.run({ endpoint: r.endpoint, serverId });
    insert.run({ ...r, registered: r.registered ? 1 : 0, reachable: r.reachable ? 1 : 0, inUse: r.inUse ? 1 : 0, serverId });
  }
}

export const readPresence = op('readPresence', async (db: Conn): Promise<PresenceRow[]> => {
  const { phonePresence: pp } = db.t;
  return await db.q.select().from(pp).orderBy(asc(pp.endpoint));
});

export const lastPresenceWrite = op('lastPresenceWrite', async (db: Conn): Promise<number | null> => {
  const { phonePresence: pp } = db.t;
  const r = first(await db.q.select({ t: sql<number | null>`max(${pp.writtenAt})`.mapWith((v) => (v === null ? null : Number(v))) }).from(pp));
  return r?.t ?? null;
});
