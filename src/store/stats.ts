import { sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { CALLBACK_STATES, callbacks, trunks } from './schema.js';

// Figures read for /metrics at scrape time.

export type CallbackState = (typeof CALLBACK_STATES)[number];

/** Callbacks per state, every state present (0 when none), so a state never lacks a series. */
export function countCallbacksByState(db: Db): Record<CallbackState, number> {
  const counts = Object.fromEntries(CALLBACK_STATES.map((s) => [s, 0])) as Record<CallbackState, number>;
  const rows = db.select({ state: callbacks.state, n: sql<number>`count(*)` }).from(callbacks).groupBy(callbacks.state).all();
  for (const r of rows) counts[r.state] = r.n;
  return counts;
}

/** Every configured trunk's id, so an idle trunk reports 0 calls in progress. */
export function trunkIds(db: Db): string[] {
  return db.select({ id: trunks.id }).from(trunks).orderBy(trunks.id).all().map((r) => r.id);
}
