import { and, eq, type Column } from 'drizzle-orm';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import { CallbackdError, ErrorCodes } from '../errors.js';
import type { LegacyConn } from './conn.js';
import * as schema from './schema.js';

// The directory as the admin API edits it, one section (table) at a time. Writes go through the
// import (src/import.ts); reading, deleting and the DNC list are here.

export const SECTIONS = ['trunks', 'numbers', 'campaigns', 'lists', 'agents', 'phones', 'leads', 'users'] as const;
export type Section = (typeof SECTIONS)[number];

const TABLES: Record<Section, { table: SQLiteTable; key: Column }> = {
  trunks: { table: schema.trunks, key: schema.trunks.id },
  numbers: { table: schema.numbers, key: schema.numbers.e164 },
  campaigns: { table: schema.campaigns, key: schema.campaigns.id },
  lists: { table: schema.lists, key: schema.lists.id },
  agents: { table: schema.agents, key: schema.agents.id },
  phones: { table: schema.phones, key: schema.phones.endpoint },
  leads: { table: schema.leads, key: schema.leads.id },
  users: { table: schema.users, key: schema.users.id },
};

export type Entry = Record<string, unknown>;

export function listEntries(db: LegacyConn, section: Section, limit: number): Entry[] {
  return db.select().from(TABLES[section].table).limit(limit).all() as Entry[];
}

export function getEntry(db: LegacyConn, section: Section, id: string): Entry | undefined {
  const t = TABLES[section];
  const row = db.select().from(t.table).where(eq(t.key, id)).get() as Entry | undefined;
  // A lead shows its numbers in dial order (0017).
  if (section === 'leads' && row) return { ...row, phones: db.select().from(schema.leadPhones).where(eq(schema.leadPhones.leadId, id)).orderBy(schema.leadPhones.position).all() };
  return row;
}

/** Deletes one entry (an agent with its campaign links). CONFLICT while something still uses it. */
export function deleteEntry(db: LegacyConn, section: Section, id: string): void {
  try {
    db.transaction((tx) => {
      if (section === 'agents') tx.delete(schema.agentCampaigns).where(eq(schema.agentCampaigns.agentId, id)).run();
      // A lead's numbers go with it (a lead still used by callbacks is refused below and nothing is deleted).
      if (section === 'leads') tx.delete(schema.leadPhones).where(eq(schema.leadPhones.leadId, id)).run();
      tx.delete(TABLES[section].table).where(eq(TABLES[section].key, id)).run();
    });
  } catch (err) {
    if (err instanceof Error && /FOREIGN KEY/.test(err.message)) {
      throw new CallbackdError(ErrorCodes.CONFLICT, `${section.slice(0, -1)} "${id}" is still used (by callbacks, leads, phones or numbers); remove those first`);
    }
    throw err;
  }
}

export type DncKey = { phoneE164: string; campaignId: string };

export const listDnc = (db: LegacyConn) => db.select().from(schema.dnc).all();

/** Removes one DNC entry; false if it was not there. */
export function removeDnc(db: LegacyConn, k: DncKey): boolean {
  return db.delete(schema.dnc).where(and(eq(schema.dnc.phoneE164, k.phoneE164), eq(schema.dnc.campaignId, k.campaignId))).run().changes === 1;
}
