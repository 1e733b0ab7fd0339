import type { AriClient } from '../asterisk/ari.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import * as rec from '../store/recordings.js';

// Call recording (campaign option `record: agent_and_customer`): an ARI bridge recording started
// when agent and customer are bridged, stopped when the call ends. Recording never stands in the
// call's way: a recording that cannot start (disk full, no permission) leaves the call going on
// and says why in the call log (call_attempts.recording_note).

/** The stored recording's name: the attempt's bridge id (callback, attempt seq, unique tag) with -rec. */
export function recordingNameFor(bridgeId: string): string {
  return bridgeId.replace(/-bridge$/, '') + '-rec';
}

/** Starts recording the attempt's bridge; on failure the call log says why, and the call goes on. */
export async function startRecording(d: { db: Db; ari: AriClient; log: Logger }, attempt: { id: number; bridgeId: string }): Promise<void> {
  const name = recordingNameFor(attempt.bridgeId);
  try {
    await d.ari.recordBridge(attempt.bridgeId, name);
    rec.setRecordingName(d.db, attempt.id, name);
    d.log.info({ recording: name }, 'recording the call');
  } catch (err) {
    const why = `not recorded: Asterisk refused to start the recording (${(err as Error).message})`;
    rec.setRecordingNote(d.db, attempt.id, why);
    d.log.warn({ recording: name, err: (err as Error).message }, 'could not start recording; the call goes on');
  }
}

/** Stops the attempt's recording, if it has one (the bridge's end stops it too; this is explicit). */
export async function stopRecording(d: { db: Db; ari: AriClient }, attemptId: number): Promise<void> {
  const name = rec.recordingNameOf(d.db, attemptId);
  if (name) await d.ari.stopRecording(name).catch(() => undefined);
}

/**
 * ARI says a recording failed after it started (e.g. the disk filled up): the call log keeps
 * the name (what was written so far stays playable) and says why it is incomplete.
 */
export function recordingFailed(db: Db, log: Logger, name: string, cause: string | undefined): void {
  if (rec.setRecordingNoteByName(db, name, `recording failed during the call: ${cause ?? 'Asterisk gave no reason'}`)) {
    log.warn({ recording: name, cause }, 'recording failed; the call went on');
  }
}
