import { asc, count, eq, inArray, or } from 'drizzle-orm';
import { DEFAULT_SERVER, type ServerTrunk } from '../domain/server-placement.js';
import type { Conn } from './conn.js';
import { first, op } from './engine.js';
import type { ServerRow } from './schema.js';

// Asterisk servers (sql/0016_servers.sql): the directory's rows, and which trunks carry a number.

export const upsertServer = op('upsertServer', async (c: Conn, r: Conn['t']['servers']['$inferInsert']): Promise<void> => {
  await c.q.insert(c.t.servers).values(r).onConflictDoUpdate({ target: c.t.servers.id, set: r });
});

export const getServer = op('getServer', async (c: Conn, id: string): Promise<ServerRow | undefined> =>
  first(await c.q.select().from(c.t.servers).where(eq(c.t.servers.id, id)).limit(1)));

export const allServers = op('allServers', async (c: Conn): Promise<ServerRow[]> => await c.q.select().from(c.t.servers).orderBy(asc(c.t.servers.id)));

/** How many servers the directory holds (0: one Asterisk, the implicit `default`; no filter needed). */
export const serverCount = op('serverCount', async (c: Conn): Promise<number> =>
  // count() reads pg's int8 count as a number too
  first(await c.q.select({ n: count() }).from(c.t.servers))?.n ?? 0);

/**
 * The server a daemon filters its work by: its own once the directory names any server (or it is
 * bound to one other than the implicit default), else null: one Asterisk, no filter, no extra reads.
 */
export const serverFilterOf = op('serverFilterOf', async (c: Conn, serverId: string | undefined): Promise<string | null> =>
  serverId !== undefined && (serverId !== DEFAULT_SERVER || (await serverCount(c)) > 0) ? serverId : null);

/** The number's trunks: every row of number_trunks, and numbers.trunk_id, each with its server. */
export const trunksOfNumber = op('trunksOfNumber', async (c: Conn, e164: string): Promise<ServerTrunk[]> => {
  const { trunks: t, numbers: n, numberTrunks: nt } = c.t;
  return await c.q
    .select({ trunkId: t.id, serverId: t.serverId })
    .from(t)
    .where(
      or(
        inArray(t.id, c.q.select({ id: n.trunkId }).from(n).where(eq(n.e164, e164))),
        inArray(t.id, c.q.select({ id: nt.trunkId }).from(nt).where(eq(nt.e164, e164))),
      ),
    )
    .orderBy(t.id);
});

/** Replaces the trunks that carry a number (the import writes every trunk it names). Two statements: run it inside a transaction. */
export const setNumberTrunks = op('setNumberTrunks', async (c: Conn, e164: string, trunkIds: readonly string[]): Promise<void> => {
  const nt = c.t.numberTrunks;
  await c.q.delete(nt).where(eq(nt.e164, e164));
  const ids = [...new Set(trunkIds)];
  if (ids.length) await c.q.insert(nt).values(ids.map((trunkId) => ({ e164, trunkId })));
});
