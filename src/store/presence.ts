import { asc, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { phonePresence } from './schema.js';

export type PresenceRow = typeof phonePresence.$inferSelect;

/** Replaces the whole picture in one transaction: phones gone from AMI disappear. */
export function writePresence(db: Db, rows: PresenceRow[]): void {
  db.transaction((tx) => {
    tx.delete(phonePresence).run();
    for (const r of rows) tx.insert(phonePresence).values(r).run();
  });
}

export function readPresence(db: Db): PresenceRow[] {
  return db.select().from(phonePresence).orderBy(asc(phonePresence.endpoint)).all();
}

export function lastPresenceWrite(db: Db): number | null {
  return db.select({ t: sql<number | null>`max(${phonePresence.writtenAt})` }).from(phonePresence).get()?.t ?? null;
}
