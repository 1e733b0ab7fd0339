// Call recordings in words: whether an attempt's recording can be played, and why it cannot (or
// why it is incomplete), as an admin reads it in the call log. Pure: the API serves the file and
// the console shows the player only when recordingShown says it is playable.

/** The recording columns of one call_attempts row. */
export interface RecordingColumns {
  name: string | null;
  note: string | null;
  deletedAt: number | null;
}

export interface RecordingShown {
  /** A stored recording exists for this attempt (it may be incomplete: see note). */
  playable: boolean;
  /** Why there is no recording, why it is incomplete, or that retention deleted it; null = nothing to say. */
  note: string | null;
}

export function recordingShown(r: RecordingColumns, retentionDays: number | null): RecordingShown {
  if (r.name && r.deletedAt !== null) {
    return { playable: false, note: retentionDays === null ? 'deleted (retention)' : `deleted after ${retentionDays} day${retentionDays === 1 ? '' : 's'} (the campaign's retention)` };
  }
  if (r.name) return { playable: true, note: r.note };
  return { playable: false, note: r.note };
}

/** Asterisk refused to start recording the bridge (e.g. its recording dir is missing or read-only). */
export function recordingRefusedNote(reason: string): string {
  return `not recorded: Asterisk refused to start the recording (${reason})`;
}

/**
 * Asterisk ended the recording while the call was still up. With our options (no time or silence
 * limit, no DTMF to stop) the only way is a failed write: Asterisk 22 then logs "No space left on
 * device" and reports the recording as finished, not failed, so this is how a full disk shows.
 */
export function recordingCutNote(seconds: number | null): string {
  // ARI counts whole seconds: 0 means it stopped within the first second.
  const kept = seconds === null ? '' : seconds === 0 ? ' within its first second' : ` after ${seconds} s`;
  return `recording stopped${kept} while the call went on: Asterisk could not write the file (the recording disk is full or not writable); what was recorded before stays playable`;
}

/** ARI's RecordingFailed, with Asterisk's own cause. */
export function recordingFailedNote(cause: string | null): string {
  return `recording failed during the call: ${cause || 'Asterisk gave no reason'}`;
}
