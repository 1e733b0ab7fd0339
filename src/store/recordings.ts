import { and, eq, isNotNull, isNull, lt, sql, type SQL } from 'drizzle-orm';
import type { Conn, Tables } from './conn.js';
import { affected, first, op } from './engine.js';

// Call recordings in the call log (call_attempts.recording_*): the stored recording's name, or
// why an answered call has none, and when the retention sweep deleted it.

/**
 * The attempt's call is still ours and still up: its lease token (the claim's, or the one a takeover
 * gave it) and no end written yet. A daemon that lost the database and came back after a peer took
 * the call over writes nothing (issue 16 item 4), as stampAttempt.
 */
function callStillOurs(a: Tables['callAttempts'], attemptId: number, token: string): SQL {
  return and(eq(a.id, attemptId), eq(a.leaseToken, token), isNull(a.endedAt))!;
}

/** The recording started for this attempt; false (nothing written) once the lease moved on or the call ended. */
export const setRecordingName = op('setRecordingName', async (db: Conn, attemptId: number, token: string, name: string): Promise<boolean> => {
  const { callAttempts: a } = db.t;
  return affected(await db.q.update(a).set({ recordingName: name, recordingNote: null }).where(callStillOurs(a, attemptId, token))) > 0;
});

/** Why this attempt's call is not recorded; fenced as setRecordingName. */
export const setRecordingNote = op('setRecordingNote', async (db: Conn, attemptId: number, token: string, note: string): Promise<boolean> => {
  const { callAttempts: a } = db.t;
  return affected(await db.q.update(a).set({ recordingNote: note }).where(callStillOurs(a, attemptId, token))) > 0;
});

/** Same, found by the recording's name (an ARI RecordingFailed event names only the recording). */
export const setRecordingNoteByName = op('setRecordingNoteByName', async (db: Conn, name: string, note: string): Promise<boolean> => {
  const { callAttempts: a } = db.t;
  return affected(await db.q.update(a).set({ recordingNote: note }).where(eq(a.recordingName, name))) > 0;
});

/** Same, only while the call is still up (no talk time written yet): false once it has ended. */
export const setRecordingNoteWhileCallUp = op('setRecordingNoteWhileCallUp', async (db: Conn, name: string, note: string): Promise<boolean> => {
  const { callAttempts: a } = db.t;
  return affected(await db.q.update(a).set({ recordingNote: note }).where(and(eq(a.recordingName, name), isNull(a.durationMs)))) > 0;
});

/** The attempt's live-or-stored recording name, if one was started and not deleted. */
export const recordingNameOf = op('recordingNameOf', async (db: Conn, attemptId: number): Promise<string | null> => {
  const { callAttempts: a } = db.t;
  const r = first(await db.q.select({ name: a.recordingName }).from(a).where(and(eq(a.id, attemptId), isNull(a.recordingDeletedAt))).limit(1));
  return r?.name ?? null;
});

export interface AttemptRecording {
  name: string | null;
  note: string | null;
  deletedAt: number | null;
}

/** The recording columns of attempt `seq` of a callback; undefined when there is no such attempt. */
export const recordingOfAttempt = op('recordingOfAttempt', async (db: Conn, callbackId: number, seq: number): Promise<AttemptRecording | undefined> => {
  const { callAttempts: a } = db.t;
  return first(
    await db.q
      .select({ name: a.recordingName, note: a.recordingNote, deletedAt: a.recordingDeletedAt })
      .from(a)
      .where(and(eq(a.callbackId, callbackId), eq(a.seq, seq)))
      .limit(1),
  );
});

/**
 * Recordings past their campaign's retention (counted from the call's end), oldest first. With
 * `serverId`: only calls placed through that server's trunks (its Asterisk holds the files).
 * The retention is turned into milliseconds on the column side as a BIGINT: on PostgreSQL
 * `integer * 86400000` overflows past 24 days, and `now - …` would type `now` as an integer.
 */
export const expiredRecordings = op(
  'expiredRecordings',
  async (db: Conn, now: number, limit: number = 200, serverId: string | null = null): Promise<{ attemptId: number; name: string }[]> => {
    const { callAttempts: a, callbacks, campaigns } = db.t;
    return await db.q
      .select({ attemptId: a.id, name: sql<string>`${a.recordingName}` })
      .from(a)
      .innerJoin(callbacks, eq(callbacks.id, a.callbackId))
      .innerJoin(campaigns, eq(campaigns.id, callbacks.campaignId))
      .where(
        and(
          isNotNull(a.recordingName),
          isNull(a.recordingDeletedAt),
          isNotNull(a.endedAt),
          lt(sql`${a.endedAt} + ${campaigns.recordingRetentionDays} * CAST(86400000 AS BIGINT)`, now),
          serverId === null ? undefined : sql`${a.trunkId} IN (SELECT id FROM trunks WHERE server_id = ${serverId})`,
        ),
      )
      .orderBy(a.endedAt)
      .limit(limit);
  },
);

export const markRecordingDeleted = op('markRecordingDeleted', async (db: Conn, attemptId: number, now: number): Promise<void> => {
  const { callAttempts: a } = db.t;
  await db.q.update(a).set({ recordingDeletedAt: now }).where(eq(a.id, attemptId));
});
