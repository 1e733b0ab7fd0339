import type { AriClient } from '../asterisk/ari.js';
import type { AriEvent } from '../asterisk/ari-events.js';
import { recordingCutNote, recordingFailedNote, recordingRefusedNote } from '../domain/recording.js';
import type { Logger } from '../log.js';
import type { Conn } from '../store/conn.js';
import * as rec from '../store/recordings.js';
import type { WriteQueue } from './write-queue.js';

// Call recording (campaign option `record: agent_and_customer`): an ARI bridge recording started
// when agent and customer are bridged, stopped when the call ends. Recording never stands in the
// call's way: a recording that cannot start (disk full, no permission) leaves the call going on
// and says why in the call log (call_attempts.recording_note).

/** The stored recording's name: the attempt's bridge id (callback, attempt seq, unique tag) with -rec. */
export function recordingNameFor(bridgeId: string): string {
  return bridgeId.replace(/-bridge$/, '') + '-rec';
}

/**
 * Starts recording the attempt's bridge; on failure the call log says why, and the call goes on.
 * The call log is written through the call's write queue (a database that is down or locked delays
 * it, in turn with the call's other writes), fenced by the lease token (store/recordings.ts).
 */
export async function startRecording(d: { db: Conn; ari: AriClient; log: Logger }, attempt: { id: number; bridgeId: string }, token: string, writes: WriteQueue): Promise<void> {
  const name = recordingNameFor(attempt.bridgeId);
  let refused: string | null = null;
  try {
    await d.ari.recordBridge(attempt.bridgeId, name);
    d.log.info({ recording: name }, 'recording the call');
  } catch (err) {
    refused = recordingRefusedNote((err as Error).message);
    d.log.warn({ recording: name, err: (err as Error).message }, 'could not start recording; the call goes on');
  }
  writes.push('recording', async () => {
    const written = refused === null ? await rec.setRecordingName(d.db, attempt.id, token, name) : await rec.setRecordingNote(d.db, attempt.id, token, refused);
    if (!written) d.log.warn({ recording: name }, 'recording not written to the call log: another daemon took the call over, or it ended');
  });
}

/** Stops the attempt's recording, if it has one (the bridge's end stops it too; this is explicit). */
export async function stopRecording(d: { db: Conn; ari: AriClient }, attemptId: number): Promise<void> {
  // A database that cannot answer (stopped, restarting) must not keep the legs from being hung up
  // after this: the bridge's end stops the recording anyway.
  const name = await rec.recordingNameOf(d.db, attemptId).catch(() => null);
  if (name) await d.ari.stopRecording(name).catch(() => undefined);
}

/**
 * ARI's recording events for our bridges. RecordingFailed says so; RecordingFinished while the
 * call is still up means Asterisk stopped writing by itself (a full disk: see recordingCutNote).
 * Either way the call log keeps the name (what was written stays playable) and says why it is
 * incomplete; the call itself is never touched.
 */
export async function onRecordingEvent(db: Conn, log: Logger, e: AriEvent): Promise<void> {
  const r = (e.recording ?? {}) as { name?: string; cause?: string; duration?: number };
  if (!r.name) return;
  if (e.type === 'RecordingFailed') {
    if (await rec.setRecordingNoteByName(db, r.name, recordingFailedNote(r.cause ?? null))) log.warn({ recording: r.name, cause: r.cause }, 'recording failed; the call goes on');
  } else if (e.type === 'RecordingFinished') {
    if (await rec.setRecordingNoteWhileCallUp(db, r.name, recordingCutNote(typeof r.duration === 'number' ? r.duration : null))) {
      log.warn({ recording: r.name, seconds: r.duration }, 'Asterisk stopped the recording during the call (disk full?); the call goes on');
    }
  }
}
