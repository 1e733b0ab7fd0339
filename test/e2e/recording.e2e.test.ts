// Recording (issue 15 item 4), on the real lab: a campaign with record: agent_and_customer records
// the bridged call with ARI; the WAV is playable (RIFF/WAVE header) and as long as the talk time,
// served by the API to a manager of that campaign and a 404 to an agent who may not see the callback.
import { expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { attemptsOf } from '../../src/store/callbacks.js';
import { describeOnLab } from '../lab/e2e-fixture.js';
import { agentPhone, carrier, cli, waitFor } from '../lab/lab.js';

/** Where the lab's Asterisk writes recordings (astspooldir/recording, test/lab/asterisk.sh makes it). */
const RECORDING_DIR = join(process.env.CALLBACKD_LAB_CACHE ?? '/var/cache/callbackd-lab', 'sid-asterisk/var/spool/asterisk-lab/recording');

/** The parts of a WAV file a player needs: format, rate, channels, sample size, and the audio's length. */
function readWav(b: Buffer): { format: number; channels: number; rate: number; bits: number; seconds: number } {
  expect(b.toString('ascii', 0, 4)).toBe('RIFF');
  expect(b.toString('ascii', 8, 12)).toBe('WAVE');
  let off = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number } | null = null;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    if (id === 'fmt ') fmt = { format: b.readUInt16LE(off + 8), channels: b.readUInt16LE(off + 10), rate: b.readUInt32LE(off + 12), bits: b.readUInt16LE(off + 22) };
    if (id === 'data') {
      expect(fmt, 'a fmt chunk before the data').not.toBeNull();
      const bytes = Math.min(size, b.length - off - 8);
      return { ...fmt!, seconds: bytes / (fmt!.rate * fmt!.channels * (fmt!.bits / 8)) };
    }
    off += 8 + size + (size % 2);
  }
  throw new Error('no data chunk in the WAV file');
}

// The ANSWER campaign records; and the people: a manager of ANSWER, and agent 1005 of ANSWER
// (a plain agent: 1004's phone grants admin) who may not see another agent's USERONLY callback.
const RECORDING_CENTER = [
  'campaigns:',
  '  - { id: ANSWER, name: Answers, time_zone: America/New_York, outbound_number: "+15550100001", record: agent_and_customer, recording_retention_days: 30 }',
  'agents:',
  '  - { id: "1005", name: Eve, campaigns: [ANSWER] }',
  'phones:',
  '  - { endpoint: agent1005, agent: "1005", status: ACTIVE }',
  'users:',
  '  - { id: boss, role: manager, campaigns: [ANSWER] }',
  '  - { id: "1005", role: agent }',
].join('\n');

describeOnLab('recording answered calls (record: agent_and_customer)', { name: 'recording suite', prefix: 'rec', extraImport: RECORDING_CENTER, exitCode: () => null }, (t) => {
  const { peers } = t;

  /** Starts the daemon and books a callback of agent 1001's on ANSWER; resolves when its call has ended. */
  const oneAnsweredCall = async () => {
    await t.startDaemon();
    const id = t.add(['--lead', 'answer', '--due', 'now', '--owner', '1001']);
    await t.untilCallEnded(id);
    return id;
  };

  it('an answered call is recorded: a playable WAV as long as the talk, served to the campaign manager, 404 to an agent who may not see the callback', async () => {
    const trunk = carrier('answer', t.dir); // answers after 0.5 s, hangs up after 3 s of talk
    const phone = await agentPhone(1001, t.dir);
    peers.push(trunk, phone);
    const token = (user: string) => {
      const r = cli(['token', 'create', '--user', user, '--db', t.dbPath]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.trim();
    };
    const bossToken = token('boss');
    const agentToken = token('1005');
    const id = await oneAnsweredCall();
    const [a] = await attemptsOf(t.db, id);
    expect(a!.outcome).toBe('ANSWERED');
    expect(a!.recordingNote).toBeNull();
    expect(a!.recordingName).toBe(`cbd-${id}-1-${a!.bridgeId.split('-')[3]}-rec`);
    const talkMs = a!.durationMs!;
    expect(talkMs).toBeGreaterThan(2000);

    const port = await t.apiPort();
    const get = (tok: string, path: string) => fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${tok}` } });
    // Asterisk finishes writing the file when the bridge is gone; the API streams what ARI serves.
    const res = await waitFor('the recording to be served', async () => {
      const x = await get(bossToken, `/callbacks/${id}/attempts/1/recording`);
      return x.status === 200 ? x : (await x.body?.cancel(), false);
    }, 10000, 250);
    expect(res.headers.get('content-type')).toMatch(/^audio\/wav/);
    const wav = readWav(Buffer.from(await res.arrayBuffer()));
    expect(wav.format).toBe(1); // PCM
    expect(wav.channels).toBe(1);
    expect(wav.rate).toBeGreaterThanOrEqual(8000);
    expect(wav.bits).toBe(16);
    // As long as the talk: the bridge forms at the customer's answer and ends at the hangup.
    expect(Math.abs(wav.seconds * 1000 - talkMs), `wav ${wav.seconds}s vs talk ${talkMs}ms`).toBeLessThan(700);
    console.info(`recording: ${wav.seconds.toFixed(2)} s of ${wav.rate} Hz audio for ${talkMs} ms of talk`);
    // The call log the manager reads names the recording.
    const shown = (await (await get(bossToken, `/callbacks/${id}`)).json()) as { callAttempts: { recordingName: string | null; recordingNote: string | null }[] };
    expect(shown.callAttempts[0]).toMatchObject({ recordingName: a!.recordingName, recordingNote: null });

    // The agent who may not see this USERONLY callback of 1001's gets the same 404 as a missing callback.
    const hidden = await get(agentToken, `/callbacks/${id}/attempts/1/recording`);
    const missing = await get(agentToken, `/callbacks/999999/attempts/1/recording`);
    expect(hidden.status).toBe(404);
    expect(missing.status).toBe(404);
    const [hb, mb] = [(await hidden.json()) as { code: string; message: string }, (await missing.json()) as { code: string; message: string }];
    expect(hb.code).toBe(mb.code);
    expect(hb.message).toBe(`no callback ${id}`);
    // No recording for an attempt that does not exist.
    expect((await get(bossToken, `/callbacks/${id}/attempts/2/recording`)).status).toBe(404);
    expect(t.daemon.log).toMatch(/recording the call/);
  }, 60_000);

  it('the recording cannot start (Asterisk cannot write its recording dir): the call goes on and is talked through, the call log says why it was not recorded', async () => {
    const trunk = carrier('answer', t.dir);
    const phone = await agentPhone(1001, t.dir);
    peers.push(trunk, phone);
    rmSync(RECORDING_DIR, { recursive: true, force: true }); // the next Asterisk start makes it again
    const id = await oneAnsweredCall();
    const [a] = await attemptsOf(t.db, id);
    expect(a!.outcome).toBe('ANSWERED');
    expect(a!.durationMs!).toBeGreaterThan(2000); // talked through: not cut when recording failed
    expect(a!.recordingName).toBeNull();
    expect(a!.recordingNote).toMatch(/^not recorded: Asterisk refused to start the recording \(.*HTTP 500/);
    expect(trunk.invites()).toHaveLength(1);
  }, 60_000);
});
