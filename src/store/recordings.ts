import { and, eq, isNotNull, isNull, lt, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { callAttempts, callbacks, campaigns } from './schema.js';

// Call recordings in the call log (call_attempts.recording_*): the stored recording's name, or
// why an answered call has none, and when the retention sweep deleted it.

/** The recording started for this attempt. */
export function setRecordingName(db: Db, attemptId: number, name: string): void {
  db.update(callAttempts).set({ recordingName: name, recordingNote: null }).where(eq(callAttempts.id, attemptId)).run();
}

/** Why this attempt's call is not (or no longer completely) recorded. */
export function setRecordingNote(db: Db, attemptId: number, note: string): void {
  db.update(callAttempts).set({ recordingNote: note }).where(eq(callAttempts.id, attemptId)).run();
}

/** Same, found by the recording's name (an ARI RecordingFailed event names only the recording). */
export function setRecordingNoteByName(db: Db, name: string, note: string): boolean {
  return db.update(callAttempts).set({ recordingNote: note }).where(eq(callAttempts.recordingName, name)).run().changes > 0;
}

/** Same, only while the call is still up (no talk time written yet): false once it has ended. */
export function setRecordingNoteWhileCallUp(db: Db, name: string, note: string): boolean {
  return db.update(callAttempts).set({ recordingNote: note }).where(and(eq(callAttempts.recordingName, name), isNull(callAttempts.durationMs))).run().changes > 0;
}

/** The attempt's live-or-stored recording name, if one was started and not deleted. */
export function recordingNameOf(db: Db, attemptId: number): string | null {
  const r = db
    .select({ name: callAttempts.recordingName })
    .from(callAttempts)
    .where(and(eq(callAttempts.id, attemptId), isNull(callAttempts.recordingDeletedAt)))
    .get();
  return r?.name ?? null;
}

export interface AttemptRecording {
  name: string | null;
  note: string | null;
  deletedAt: number | null;
}

/** The recording columns of attempt `seq` of a callback; undefined when there is no such attempt. */
export function recordingOfAttempt(db: Db, callbackId: number, seq: number): AttemptRecording | undefined {
  return db
    .select({ name: callAttempts.recordingName, note: callAttempts.recordingNote, deletedAt: callAttempts.recordingDeletedAt })
    .from(callAttempts)
    .where(and(eq(callAttempts.callbackId, callbackId), eq(callAttempts.seq, seq)))
    .get();
}

/** Recordings past their campaign's retention (counted from the call's end), oldest first. */
/** With `serverId`: only calls placed through that server's trunks (its Asterisk holds the files). */
export function expiredRecordings(db: Db, now: number, limit = 200, serverId: string | null = null): { attemptId: number; name: string }[] {
  return db
    .select({ attemptId: callAttempts.id, name: sql<string>`${callAttempts.recordingName}` })
    .from(callAttempts)
    .innerJoin(callbacks, eq(callbacks.id, callAttempts.callbackId))
    .innerJoin(campaigns, eq(campaigns.id, callbacks.campaignId))
    .where(
      and(
        isNotNull(callAttempts.recordingName),
        isNull(callAttempts.recordingDeletedAt),
        isNotNull(callAttempts.endedAt),
        lt(callAttempts.endedAt, sql`${now} - ${campaigns.recordingRetentionDays} * 86400000`),
        serverId === null ? undefined : sql`${callAttempts.trunkId} IN (SELECT id FROM trunks WHERE server_id = ${serverId})`,
      ),
    )
    .orderBy(callAttempts.endedAt)
    .limit(limit)
    .all();
}

export function markRecordingDeleted(db: Db, attemptId: number, now: number): void {
  db.update(callAttempts).set({ recordingDeletedAt: now }).where(eq(callAttempts.id, attemptId)).run();
}
