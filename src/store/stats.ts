import { count } from 'drizzle-orm';
import type { Conn } from './conn.js';
import { op } from './engine.js';
import { CALLBACK_STATES } from './schema.js';

// Figures read for /metrics at scrape time.

export type CallbackState = (typeof CALLBACK_STATES)[number];

/** Callbacks per state, every state present (0 when none), so a state never lacks a series. */
export const countCallbacksByState = op('countCallbacksByState', async (c: Conn): Promise<Record<CallbackState, number>> => {
  const counts = Object.fromEntries(CALLBACK_STATES.map((s) => [s, 0])) as Record<CallbackState, number>;
  const cb = c.t.callbacks;
  // count() maps pg's int8 count to a number (a string otherwise)
  const rows = await c.q.select({ state: cb.state, n: count() }).from(cb).groupBy(cb.state);
  for (const r of rows) counts[r.state] = r.n;
  return counts;
});

/** Every configured trunk's id, so an idle trunk reports 0 calls in progress. */
export const trunkIds = op('trunkIds', async (c: Conn): Promise<string[]> =>
  (await c.q.select({ id: c.t.trunks.id }).from(c.t.trunks).orderBy(c.t.trunks.id)).map((r) => r.id));
