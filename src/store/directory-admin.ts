import { and, eq } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { CallbackdError, ErrorCodes } from '../errors.js';
import type { Conn } from './conn.js';
import { affected, first, op, storeErrorKind, transaction } from './engine.js';

// The directory as the admin API edits it, one section (table) at a time. Writes go through the
// import (src/import.ts); reading, deleting and the DNC list are here.

export const SECTIONS = ['trunks', 'numbers', 'campaigns', 'lists', 'agents', 'phones', 'leads', 'users'] as const;
export type Section = (typeof SECTIONS)[number];

/** The section's table on this connection's engine, and its key column. */
function tableOf(c: Conn, section: Section): { table: PgTable; key: PgColumn } {
  const t = c.t;
  switch (section) {
    case 'trunks':
      return { table: t.trunks, key: t.trunks.id };
    case 'numbers':
      return { table: t.numbers, key: t.numbers.e164 };
    case 'campaigns':
      return { table: t.campaigns, key: t.campaigns.id };
    case 'lists':
      return { table: t.lists, key: t.lists.id };
    case 'agents':
      return { table: t.agents, key: t.agents.id };
    case 'phones':
      return { table: t.phones, key: t.phones.endpoint };
    case 'leads':
      return { table: t.leads, key: t.leads.id };
    case 'users':
      return { table: t.users, key: t.users.id };
  }
}

export type Entry = Record<string, unknown>;

/** The first `limit` entries of a section, by key (the same order on both engines). */
export const listEntries = op('listEntries', async (c: Conn, section: Section, limit: number): Promise<Entry[]> => {
  const t = tableOf(c, section);
  return (await c.q.select().from(t.table).orderBy(t.key).limit(limit)) as Entry[];
});

export const getEntry = op('getEntry', async (c: Conn, section: Section, id: string): Promise<Entry | undefined> => {
  const t = tableOf(c, section);
  const row = first(await c.q.select().from(t.table).where(eq(t.key, id)).limit(1)) as Entry | undefined;
  // A lead shows its numbers in dial order (0017).
  const lp = c.t.leadPhones;
  if (section === 'leads' && row) return { ...row, phones: await c.q.select().from(lp).where(eq(lp.leadId, id)).orderBy(lp.position) };
  return row;
});

/** Deletes one entry (an agent with its campaign links). CONFLICT while something still uses it. */
export const deleteEntry = op('deleteEntry', async (c: Conn, section: Section, id: string): Promise<void> => {
  try {
    await transaction(c, async (tx) => {
      if (section === 'agents') await tx.q.delete(tx.t.agentCampaigns).where(eq(tx.t.agentCampaigns.agentId, id));
      // A lead's numbers go with it (a lead still used by callbacks is refused below and nothing is deleted).
      if (section === 'leads') await tx.q.delete(tx.t.leadPhones).where(eq(tx.t.leadPhones.leadId, id));
      const t = tableOf(tx, section);
      await tx.q.delete(t.table).where(eq(t.key, id));
    });
  } catch (err) {
    if (storeErrorKind(err) === 'fk') {
      throw new CallbackdError(ErrorCodes.CONFLICT, `${section.slice(0, -1)} "${id}" is still used (by callbacks, leads, phones or numbers); remove those first`);
    }
    throw err;
  }
});

export type DncKey = { phoneE164: string; campaignId: string };
export type DncRow = Conn['t']['dnc']['$inferSelect'];

export const listDnc = op('listDnc', async (c: Conn): Promise<DncRow[]> =>
  await c.q.select().from(c.t.dnc).orderBy(c.t.dnc.phoneE164, c.t.dnc.campaignId));

/** Removes one DNC entry; false if it was not there. */
export const removeDnc = op('removeDnc', async (c: Conn, k: DncKey): Promise<boolean> => {
  const d = c.t.dnc;
  return affected(await c.q.delete(d).where(and(eq(d.phoneE164, k.phoneE164), eq(d.campaignId, k.campaignId)))) === 1;
});
