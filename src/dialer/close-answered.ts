import type { AriClient } from '../asterisk/ari.js';
import type { Conn } from '../store/conn.js';
import * as store from '../store/callbacks.js';
import { stopRecording } from './recording.js';
import type { WriteQueue } from './write-queue.js';

// Closing an answered call, in one place: used by the session when one side hangs up, by the
// scheduler for a bridged call that outlived its session, and by recovery after a restart.

export interface AnsweredCall {
  attemptId: number;
  bridgeId: string;
  /** When the customer answered (ms); null = unknown, recorded as 0 s of talk. */
  customerAnsweredAt: number | null;
}

/**
 * Hangs up the legs still up, removes the bridge and records the call's end (once). With `writes`,
 * the end is written through that queue: a database locked by another process delays it, and the
 * hangups do not wait for it.
 */
export async function closeAnsweredCall(d: { db: Conn; ari: AriClient; now: () => number }, call: AnsweredCall, hangUp: readonly string[], writes?: WriteQueue): Promise<void> {
  const now = d.now();
  const write = async () => await store.closeAnsweredAttempt(d.db, call.attemptId, now, call.customerAnsweredAt !== null ? now - call.customerAnsweredAt : 0);
  if (writes) writes.push('answered call end', write);
  else await write();
  await stopRecording(d, call.attemptId);
  await Promise.all(hangUp.map((ch) => d.ari.hangup(ch).catch(() => undefined)));
  await d.ari.destroyBridge(call.bridgeId).catch(() => undefined);
}
