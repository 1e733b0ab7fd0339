import { asc, eq, sql } from 'drizzle-orm';
import { DEFAULT_SERVER, type ServerTrunk } from '../domain/server-placement.js';
import type { LegacyConn } from './conn.js';
import { numberTrunks, numbers, servers, trunks, type ServerRow } from './schema.js';

// Asterisk servers (sql/0016_servers.sql): the directory's rows, and which trunks carry a number.

export const upsertServer = (db: LegacyConn, r: typeof servers.$inferInsert) =>
  db.insert(servers).values(r).onConflictDoUpdate({ target: servers.id, set: r }).run();

export const getServer = (db: LegacyConn, id: string): ServerRow | undefined => db.select().from(servers).where(eq(servers.id, id)).get();

export const allServers = (db: LegacyConn): ServerRow[] => db.select().from(servers).orderBy(asc(servers.id)).all();

/** How many servers the directory holds (0: one Asterisk, the implicit `default`; no filter needed). */
export const serverCount = (db: LegacyConn): number => db.select({ n: sql<number>`count(*)` }).from(servers).get()?.n ?? 0;

/**
 * The server a daemon filters its work by: its own once the directory names any server (or it is
 * bound to one other than the implicit default), else null: one Asterisk, no filter, no extra reads.
 */
export function serverFilterOf(db: LegacyConn, serverId: string | undefined): string | null {
  return serverId !== undefined && (serverId !== DEFAULT_SERVER || serverCount(db) > 0) ? serverId : null;
}

/** The number's trunks: every row of number_trunks, and numbers.trunk_id, each with its server. */
export function trunksOfNumber(db: LegacyConn, e164: string): ServerTrunk[] {
  return db.all<ServerTrunk>(sql`
    SELECT t.id AS trunkId, t.server_id AS serverId FROM ${trunks} t
    WHERE t.id IN (SELECT ${numbers.trunkId} FROM ${numbers} WHERE ${numbers.e164} = ${e164})
       OR t.id IN (SELECT ${numberTrunks.trunkId} FROM ${numberTrunks} WHERE ${numberTrunks.e164} = ${e164})
    ORDER BY t.id`);
}

/** Replaces the trunks that carry a number (the import writes every trunk it names). */
export function setNumberTrunks(db: LegacyConn, e164: string, trunkIds: readonly string[]): void {
  db.delete(numberTrunks).where(eq(numberTrunks.e164, e164)).run();
  for (const trunkId of new Set(trunkIds)) db.insert(numberTrunks).values({ e164, trunkId }).run();
}
