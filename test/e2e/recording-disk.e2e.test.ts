// Recording with a full disk (issue 15 item 4), on the real lab: the lab Asterisk's recording
// directory becomes a tiny tmpfs that fills up a moment into the call. The call must go on and be
// talked through (the carrier, not Asterisk, hangs up after its full talk time) and the call log
// must say, in an admin's words, why the recording is incomplete. Needs root (mount); the tmpfs is
// unmounted after each test and again after the file.
import { afterAll, afterEach, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attemptsOf } from '../../src/store/callbacks.js';
import { describeOnLab } from '../lab/e2e-fixture.js';
import { agentPhone, carrier, waitFor, type Sipp } from '../lab/lab.js';
import { answersAndHangups } from './carrier-log.js';

/** Where the lab's Asterisk writes recordings (astspooldir/recording, test/lab/asterisk.sh makes it). */
const RECORDING_DIR = join(process.env.CALLBACKD_LAB_CACHE ?? '/var/cache/callbackd-lab', 'sid-asterisk/var/spool/asterisk-lab/recording');

const mounted = () => readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === RECORDING_DIR);
/** Unmounts the tmpfs; lazily if Asterisk still holds a file open on it (it is gone either way). */
const unmount = () => {
  if (!mounted()) return;
  try {
    execFileSync('umount', [RECORDING_DIR]);
  } catch {
    execFileSync('umount', ['-l', RECORDING_DIR]);
  }
};

const RECORDING_CENTER = 'campaigns:\n  - { id: ANSWER, name: Answers, time_zone: America/New_York, outbound_number: "+15550100001", record: agent_and_customer }\n';

describeOnLab('recording when the disk fills up during the call', { name: 'recording-disk suite', prefix: 'rec-disk', extraImport: RECORDING_CENTER }, (t) => {
  // Registered after the fixture's hooks, so they run before them (vitest runs after-hooks as a stack).
  afterEach(unmount);
  afterAll(unmount);

  /** Mounts a `size` tmpfs on the lab's recording dir; `fill` bytes of it taken by another file. */
  const tinyDisk = (size: string, fill = 0) => {
    mkdirSync(RECORDING_DIR, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', RECORDING_DIR]);
    expect(mounted()).toBe(true);
    if (fill > 0) {
      try {
        writeFileSync(join(RECORDING_DIR, 'filler.bin'), Buffer.alloc(fill, 1));
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC'); // full to the last byte: what we want
      }
    }
  };

  /** One answered call on ANSWER (the carrier talks 3 s, then hangs up); its attempt row once ended. */
  const talkedCall = async (trunk: Sipp) => {
    const phone = await agentPhone(1001, t.dir);
    t.peers.push(trunk, phone);
    await t.startDaemon();
    const id = t.add(['--lead', 'answer', '--due', 'now', '--owner', '1001']);
    const a = await t.untilCallEnded(id);
    expect(a.outcome).toBe('ANSWERED');
    // Talked through: the carrier hung up after its full 3 s, Asterisk did not cut the call.
    const calls = answersAndHangups(trunk.messageFile);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.hungUpBy).toBe('customer');
    expect(calls[0]!.hungUpAt! - calls[0]!.answeredAt).toBeGreaterThan(2800);
    expect(a.durationMs!).toBeGreaterThan(2500);
    expect(trunk.invites()).toHaveLength(1);
    await waitFor('the call log to say why', async () => (await attemptsOf(t.db, id))[0]?.recordingNote ?? false, 5000);
    const after = (await attemptsOf(t.db, id))[0]!;
    console.info(`disk-full attempt: talk ${after.durationMs} ms, recording ${after.recordingName}, note: ${after.recordingNote}`);
    expect(after.recordingName).toBe(a.recordingName);
    expect(t.daemon.log).toMatch(/Asterisk stopped the recording during the call/);
    return after;
  };

  /** The WAV Asterisk left on the full disk: its header and how many seconds of audio it holds. */
  const wavSeconds = (name: string) => {
    const b = readFileSync(join(RECORDING_DIR, `${name}.wav`));
    expect(b.toString('ascii', 0, 4)).toBe('RIFF');
    expect(b.toString('ascii', 8, 12)).toBe('WAVE');
    const rate = b.readUInt32LE(24);
    const dataBytes = Math.min(b.readUInt32LE(40), b.length - 44);
    return dataBytes / (rate * 2);
  };

  it('the disk fills a moment into the call: the call is talked through, the call log says the disk was full, what was written stays playable', async () => {
    // 8 kHz 16-bit mono is 16 kB a second: a 16 kB tmpfs is full about a second into the 3 s talk.
    tinyDisk('16k');
    const a = await talkedCall(carrier('answer', t.dir)); // answers after 0.5 s, hangs up after 3 s of talk
    // Asterisk 22 logs "No space left on device" and reports the recording as finished (not
    // failed) while the call is still up: the call log says the disk is full, and keeps the name.
    expect(a.recordingNote).toMatch(/^recording stopped (after \d+ s |within its first second )?while the call went on: Asterisk could not write the file \(the recording disk is full or not writable\)/);
    const seconds = wavSeconds(a.recordingName!);
    console.info(`kept: ${seconds.toFixed(2)} s of audio`);
    expect(seconds).toBeGreaterThan(0.3);
    expect(seconds).toBeLessThan(1.5);
  }, 60_000);

  it('the disk is full before the call: the call is talked through, the call log says the disk was full', async () => {
    tinyDisk('16k', 16 * 1024);
    const a = await talkedCall(carrier('answer', t.dir));
    expect(a.recordingNote).toMatch(/^recording stopped (after \d+ s |within its first second )?while the call went on: Asterisk could not write the file \(the recording disk is full or not writable\)/);
  }, 60_000);
});
