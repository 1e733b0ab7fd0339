import { asc, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { phonePresence } from './schema.js';
import { DEFAULT_SERVER } from '../domain/server-placement.js';

export type PresenceRow = typeof phonePresence.$inferSelect;
/** What a daemon writes: the server is its own (writePresence's argument). */
export type PresenceWrite = Omit<PresenceRow, 'serverId'>;

/**
 * Replaces this server's picture in one transaction: phones gone from its AMI disappear, other
 * servers' rows stay (each daemon writes its own server). An endpoint that is a phone of another
 * server is not written: that server's daemon tells its state. Another endpoint (a trunk) seen by
 * two servers is kept as the last writer saw it. One statement
 * prepared once per write: building and compiling a drizzle insert per phone cost 8 % of the
 * daemon's CPU during a 500-call burst (bench/burst.ts, CPU profile), as this runs every 250 ms
 * while phones change state.
 */
export function writePresence(db: Db, rows: PresenceWrite[], serverId = DEFAULT_SERVER): void {
  const c = db.$client;
  const insert = c.prepare(
    `INSERT INTO phone_presence (endpoint, registered, reachable, contact_uri, device_state, in_use, changed_at, written_at, server_id)
     SELECT @endpoint, @registered, @reachable, @contactUri, @deviceState, @inUse, @changedAt, @writtenAt, @serverId
     WHERE NOT EXISTS (SELECT 1 FROM phones WHERE endpoint = @endpoint AND server_id <> @serverId)`,
  );
  const takeOver = c.prepare(
    `DELETE FROM phone_presence WHERE endpoint = @endpoint AND server_id <> @serverId
     AND NOT EXISTS (SELECT 1 FROM phones WHERE endpoint = @endpoint AND server_id <> @serverId)`,
  );
  c.transaction(() => {
    c.prepare('DELETE FROM phone_presence WHERE server_id = ?').run(serverId);
    for (const r of rows) {
      takeOver.run({ endpoint: r.endpoint, serverId });
      insert.run({ ...r, registered: r.registered ? 1 : 0, reachable: r.reachable ? 1 : 0, inUse: r.inUse ? 1 : 0, serverId });
    }
  })();
}

export function readPresence(db: Db): PresenceRow[] {
  return db.select().from(phonePresence).orderBy(asc(phonePresence.endpoint)).all();
}

export function lastPresenceWrite(db: Db): number | null {
  return db.select({ t: sql<number | null>`max(${phonePresence.writtenAt})` }).from(phonePresence).get()?.t ?? null;
}
