// Seeds for the outbox conformance tests (events, emails, webhooks): a campaign, a lead and an agent,
// and callbacks whose changes the 0010 triggers turn into events, on either engine (drizzle through c.t).
import { eq } from 'drizzle-orm';
import type { Conn } from '../../../src/store/conn.js';
import { transaction } from '../../../src/store/engine.js';

/** Well past 2^31 ms: int8 columns must come back as exact numbers. */
export const T = 1_790_000_000_000;

export async function seedDirectory(c: Conn, o: { emailWhenLive?: boolean; agentEmail?: string | null; agentZone?: string | null } = {}): Promise<void> {
  await c.q.insert(c.t.campaigns).values({ id: 'K', name: 'Kampagne', timeZone: 'Europe/Berlin', emailWhenLive: o.emailWhenLive ?? true, updatedAt: T });
  await c.q.insert(c.t.lists).values({ id: 'L', campaignId: 'K', name: 'List', updatedAt: T });
  await c.q.insert(c.t.leads).values({ id: 'lead1', listId: 'L', firstName: 'Ada', lastName: 'Lovelace', phoneE164: '+4930123456', updatedAt: T });
  await c.q
    .insert(c.t.agents)
    .values({ id: 'a1', name: 'Agent One', email: o.agentEmail === undefined ? 'a1@example.test' : o.agentEmail, timeZone: o.agentZone ?? null, updatedAt: T });
}

/** A new USERONLY callback of a1 (one callback.created event); its id. */
export async function book(c: Conn, at = T, type: 'USERONLY' | 'ANYONE' = 'USERONLY'): Promise<number> {
  const [r] = await c.q
    .insert(c.t.callbacks)
    .values({ leadId: 'lead1', campaignId: 'K', type, ownerAgentId: 'a1', dueAt: at + 3_600_000, dueZone: 'Europe/Berlin', maxAttempts: 3, notes: 'call after lunch', createdAt: at, updatedAt: at })
    .returning({ id: c.t.callbacks.id });
  return r!.id;
}

/** A change of state (one event: callback.live from ACTIVE, callback.cancelled, …). */
export async function setState(c: Conn, id: number, state: 'LIVE' | 'ACTIVE' | 'CANCELLED' | 'DIALING', at = T + 1000): Promise<void> {
  await c.q.update(c.t.callbacks).set({ state, updatedAt: at }).where(eq(c.t.callbacks.id, id));
}

/**
 * PostgreSQL: a transaction on `other` that writes an event (a callback goes LIVE) and stays open until
 * `commit()`: the late committer of the outbox-order tests.
 */
export async function openWriter(other: Conn, id: number): Promise<{ commit: () => Promise<void> }> {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let wrote!: () => void;
  const written = new Promise<void>((r) => (wrote = r));
  const done = transaction(other, async (tx) => {
    await setState(tx, id, 'LIVE');
    wrote();
    await gate;
  });
  await Promise.race([written, done]);
  return {
    commit: async () => {
      release();
      await done;
    },
  };
}
