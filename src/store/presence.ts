import { asc, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { phonePresence } from './schema.js';

export type PresenceRow = typeof phonePresence.$inferSelect;

/**
 * Replaces the whole picture in one transaction: phones gone from AMI disappear. One statement
 * prepared once per write: building and compiling a drizzle insert per phone cost 8 % of the
 * daemon's CPU during a 500-call burst (bench/burst.ts, CPU profile), as this runs every 250 ms
 * while phones change state.
 */
export function writePresence(db: Db, rows: PresenceRow[]): void {
  const c = db.$client;
  const insert = c.prepare(
    'INSERT INTO phone_presence (endpoint, registered, reachable, contact_uri, device_state, in_use, changed_at, written_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  c.transaction(() => {
    c.prepare('DELETE FROM phone_presence').run();
    for (const r of rows) insert.run(r.endpoint, r.registered ? 1 : 0, r.reachable ? 1 : 0, r.contactUri, r.deviceState, r.inUse ? 1 : 0, r.changedAt, r.writtenAt);
  })();
}

export function readPresence(db: Db): PresenceRow[] {
  return db.select().from(phonePresence).orderBy(asc(phonePresence.endpoint)).all();
}

export function lastPresenceWrite(db: Db): number | null {
  return db.select({ t: sql<number | null>`max(${phonePresence.writtenAt})` }).from(phonePresence).get()?.t ?? null;
}
