import type { AriClient } from '../asterisk/ari.js';
import type { Logger } from '../log.js';
import type { Conn } from '../store/conn.js';
import * as rec from '../store/recordings.js';
import { serverFilterOf } from '../store/servers.js';

// The retention sweep: recordings older than their campaign's recording_retention_days (from the
// call's end) are deleted from Asterisk (ARI DELETE /recordings/stored/{name}) and marked deleted
// in the call log. A recording Asterisk no longer has counts as deleted; one that cannot be
// deleted now (ARI away) is tried again at the next sweep.

/** One sweep; returns how many recordings were deleted. */
export async function sweepRecordings(d: { db: Conn; ari: AriClient; log: Logger; now: () => number; serverId?: string }): Promise<number> {
  let n = 0;
  // Several servers: only this server's recordings (another Asterisk's are not found here, and
  // "not found" would count them as deleted while their files stay).
  for (const r of await rec.expiredRecordings(d.db, d.now(), 200, await serverFilterOf(d.db, d.serverId))) {
    try {
      await d.ari.deleteStoredRecording(r.name);
    } catch (err) {
      d.log.warn({ recording: r.name, err: (err as Error).message }, 'could not delete an expired recording; will retry');
      break; // ARI is likely away: the rest waits for the next sweep
    }
    await rec.markRecordingDeleted(d.db, r.attemptId, d.now());
    n++;
  }
  if (n > 0) d.log.info({ deleted: n }, 'deleted recordings past their retention');
  return n;
}

/** Runs the sweep every `everyMs` (and once soon after start); returns a stop function. */
export function startRecordingRetention(d: { db: Conn; ari: AriClient; log: Logger; now: () => number; serverId?: string }, everyMs = 3_600_000): () => void {
  const run = () => void sweepRecordings(d).catch((err) => d.log.error({ err: (err as Error).message }, 'recording retention sweep failed'));
  const first = setTimeout(run, 10_000);
  const t = setInterval(run, everyMs);
  first.unref?.();
  t.unref?.();
  return () => {
    clearTimeout(first);
    clearInterval(t);
  };
}
