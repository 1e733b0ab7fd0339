import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AriClient } from '../../src/asterisk/ari.js';
import { onRecordingEvent, recordingNameFor } from '../../src/dialer/recording.js';
import { sweepRecordings } from '../../src/dialer/recording-retention.js';
import { importFile } from '../../src/import.js';
import { createLogger } from '../../src/log.js';
import { insertCallback } from '../../src/store/callbacks.js';
import { openDb, type Db } from '../../src/store/db.js';
import { recordingOfAttempt, setRecordingName } from '../../src/store/recordings.js';

// The retention sweep and the call log's recording columns, on SQLite; Asterisk's side (ARI
// DELETE /recordings/stored/{name}) is a recording fake of our own adapter.

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-28T12:00:00Z');
let db: Db;

beforeEach(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cbd-rec-'));
  db = openDb(join(dir, 'db.sqlite'));
  const f = join(dir, 'cc.yaml');
  writeFileSync(
    f,
    `trunks: [{ id: t }]
campaigns:
  - { id: SHORT, name: S, time_zone: UTC, record: agent_and_customer, recording_retention_days: 7 }
  - { id: LONG, name: L, time_zone: UTC, record: agent_and_customer, recording_retention_days: 90 }
lists: [{ id: LS, campaign: SHORT }, { id: LL, campaign: LONG }]
leads:
  - { id: s, list: LS, phone: "+15551230001" }
  - { id: l, list: LL, phone: "+15551230002" }
`,
  );
  await importFile(db, f, NOW);
});

/** One ended, recorded attempt of a new callback of `campaign`, ended `daysAgo` before NOW. */
async function recordedCall(campaign: string, lead: string, daysAgo: number): Promise<{ attemptId: number; name: string; callbackId: number }> {
  const callbackId = await insertCallback(db, { leadId: lead, campaignId: campaign, type: 'ANYONE', ownerAgentId: null, dueAt: NOW, dueZone: 'UTC', maxAttempts: 3, notes: null }, NOW);
  const bridge = `cbd-${callbackId}-1-abcd-bridge`;
  const r = db.$client
    .prepare(
      `INSERT INTO call_attempts (callback_id, seq, dial_order, caller_id, customer_number, trunk_id, agent_channel_id, customer_channel_id, bridge_id, lease_token, started_at, ended_at, outcome)
       VALUES (?, 1, 'AGENT_FIRST', '+1', '+2', 't', 'a', 'c', ?, 'tok', ?, NULL, 'ANSWERED')`,
    )
    .run(callbackId, bridge, NOW - daysAgo * DAY - 60_000);
  const attemptId = Number(r.lastInsertRowid);
  const name = recordingNameFor(bridge);
  // Named while the call is up (fenced: lease token, no end yet), then ended.
  expect(await setRecordingName(db, attemptId, 'tok', name)).toBe(true);
  db.$client.prepare('UPDATE call_attempts SET ended_at = ? WHERE id = ?').run(NOW - daysAgo * DAY, attemptId);
  return { attemptId, name, callbackId };
}

function fakeAri(fail = false) {
  const deleted: string[] = [];
  const ari = {
    deleteStoredRecording: async (name: string) => {
      if (fail) throw new Error('ARI DELETE /recordings/stored → connect ECONNREFUSED');
      deleted.push(name);
    },
  } as unknown as AriClient;
  return { ari, deleted };
}

const log = createLogger('silent');

describe('recording retention', () => {
  it("deletes recordings past their campaign's retention, from Asterisk and in the call log; keeps the others", async () => {
    const oldShort = await recordedCall('SHORT', 's', 8);
    const newShort = await recordedCall('SHORT', 's', 6);
    const oldLong = await recordedCall('LONG', 'l', 30);
    const { ari, deleted } = fakeAri();
    expect(await sweepRecordings({ db, ari, log, now: () => NOW })).toBe(1);
    expect(deleted).toEqual([oldShort.name]);
    expect((await recordingOfAttempt(db, oldShort.callbackId, 1))!.deletedAt).toBe(NOW);
    expect((await recordingOfAttempt(db, newShort.callbackId, 1))!.deletedAt).toBeNull();
    expect((await recordingOfAttempt(db, oldLong.callbackId, 1))!.deletedAt).toBeNull();
    // Once deleted it is not asked for again.
    expect(await sweepRecordings({ db, ari, log, now: () => NOW })).toBe(0);
    expect(deleted).toHaveLength(1);
  });

  it('ARI away: nothing is marked deleted, and the next sweep deletes it', async () => {
    const old = await recordedCall('SHORT', 's', 10);
    expect(await sweepRecordings({ db, ari: fakeAri(true).ari, log, now: () => NOW })).toBe(0);
    expect((await recordingOfAttempt(db, old.callbackId, 1))!.deletedAt).toBeNull();
    const ok = fakeAri();
    expect(await sweepRecordings({ db, ari: ok.ari, log, now: () => NOW })).toBe(1);
    expect(ok.deleted).toEqual([old.name]);
  });
});

describe('recording in the call log', () => {
  const event = (type: string, recording: Record<string, unknown>) => ({ type, recording }) as Parameters<typeof onRecordingEvent>[2];
  const talked = (attemptId: number) => db.$client.prepare('UPDATE call_attempts SET duration_ms = 3000 WHERE id = ?').run(attemptId);

  it('the name is derived from the callback and attempt; a RecordingFailed event notes why the file is incomplete', async () => {
    const call = await recordedCall('SHORT', 's', 0);
    expect(call.name).toBe(`cbd-${call.callbackId}-1-abcd-rec`);
    await onRecordingEvent(db, log, event('RecordingFailed', { name: call.name, cause: 'Failed to answer channel' }));
    expect(await recordingOfAttempt(db, call.callbackId, 1)).toEqual({ name: call.name, note: 'recording failed during the call: Failed to answer channel', deletedAt: null });
    await onRecordingEvent(db, log, event('RecordingFailed', { name: 'someone-elses-recording', cause: 'x' })); // not ours: nothing written
    expect((await recordingOfAttempt(db, call.callbackId, 1))!.note).toMatch(/Failed to answer channel/);
  });

  it('RecordingFinished while the call is still up (Asterisk could not write: disk full) is noted; after the call it is the normal end', async () => {
    const cut = await recordedCall('SHORT', 's', 0);
    await onRecordingEvent(db, log, event('RecordingFinished', { name: cut.name, duration: 1 }));
    expect((await recordingOfAttempt(db, cut.callbackId, 1))!.note).toBe(
      'recording stopped after 1 s while the call went on: Asterisk could not write the file (the recording disk is full or not writable); what was recorded before stays playable',
    );
    const normal = await recordedCall('LONG', 'l', 0);
    talked(normal.attemptId); // the call closed (talk time written) before the recording was stopped
    await onRecordingEvent(db, log, event('RecordingFinished', { name: normal.name, duration: 3 }));
    expect(await recordingOfAttempt(db, normal.callbackId, 1)).toEqual({ name: normal.name, note: null, deletedAt: null });
  });
});
