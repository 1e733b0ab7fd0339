import { countDue } from '../store/callback-list.js';
import type { Conn } from '../store/conn.js';
import { isUnreachable } from '../store/unreachable.js';
import { phoneViews } from './phone-view.js';

// What /readyz adds to the link states, and `callbackd status` prints: phones as AMI last showed
// them (the daemon writes presence on change and every 30 s) and callbacks waiting past their time.

/** A callback this far past its moment, not yet placed, is late. */
export const LATE_MS = 60_000;

export interface Readiness {
  phones: { total: number; registered: number; usable: number };
  callbacks: { dueNow: number; late: number; lateAfterSeconds: number };
}

export async function readiness(db: Conn, now: number): Promise<Readiness> {
  const { phones } = await phoneViews(db);
  return {
    phones: {
      total: phones.length,
      registered: phones.filter((p) => p.registered).length,
      usable: phones.filter((p) => p.ringable).length,
    },
    callbacks: { ...await countDue(db, now, LATE_MS), lateAfterSeconds: LATE_MS / 1000 },
  };
}

/**
 * The same facts, or why the database could not give them: stopped, restarting or cut off
 * (store/unreachable.ts). /readyz then answers 503 with `database.reachable: false` instead of a 500.
 * Any other error is a bug and stays one.
 */
export async function readinessOrUnreachable(db: Conn, now: number): Promise<({ reachable: true } & Readiness) | { reachable: false; error: string }> {
  try {
    return { reachable: true, ...await readiness(db, now) };
  } catch (err) {
    if (!isUnreachable(err)) throw err;
    return { reachable: false, error: (err as Error).message };
  }
}
