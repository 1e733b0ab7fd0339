// Several numbers per lead, alt-dial (issue 17 item 1) on the real lab: the carrier SIPp answers
// 486 Busy for number 1 and answers number 2, so attempt 1 is BUSY on number 1 and attempt 2 is
// answered on number 2 and bridged to the agent; a DNC-flagged number 2 is never INVITEd (attempt 2
// goes to number 3). The carrier's own message log is the judge of what was dialed.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDb, type Db } from '../../src/store/db.js';
import { attemptsOf, getCallback } from '../../src/store/callbacks.js';
import { agentPhone, cli, DaemonProc, REPO, Sipp, startAsterisk, stopAsterisk, tempDir, tryLab, waitFor } from '../lab/lab.js';
import { answersAndHangups } from './carrier-log.js';

const lab = tryLab();
const inCi = process.env.CI === 'true';
if (!lab.ok && !inCi) console.warn(`\n*** altdial suite SKIPPED: ${lab.reason}\n*** (with CI=true this is a failure)\n`);

/** On the "carrier" trunk's port, in place of carrier-answer.xml: busy for numbers ending in 486. */
function carrierByNumber(dir: string): Sipp {
  return new Sipp('carrier-by-number', ['-sf', join(REPO, 'test/lab/sipp/carrier-by-number.xml'), '-d', '500', '-i', '127.0.0.1', '-p', '5081', '-mp', '17010'], dir).start();
}

describe.skipIf(!lab.ok && !inCi)('alt-dial: the next attempt dials the next number', () => {
  let dir: string;
  let dbPath: string;
  let db: Db;
  let daemon: DaemonProc;
  const peers: Sipp[] = [];

  beforeAll(() => {
    if (!lab.ok) throw new Error(`the lab could not start: ${lab.reason}`);
    startAsterisk();
  });
  afterAll(() => {
    if (lab.ok) stopAsterisk();
  });
  beforeEach(async () => {
    dir = tempDir('altdial');
    dbPath = join(dir, 'callbackd.db');
    for (const f of ['callcenter.yaml', 'altdial.yaml']) {
      const imp = cli(['import', join(REPO, 'test/e2e', f), '--db', dbPath]);
      expect(imp.code, imp.stderr).toBe(0);
    }
    db = openDb(dbPath);
  });
  afterEach(async (ctx) => {
    await daemon?.kill('SIGTERM');
    peers.splice(0).forEach((p) => p.stop());
    db.$client.close();
    if (ctx.task.result?.state === 'fail') console.error(`--- daemon log (${dir}) ---\n${daemon?.log.slice(-8000)}`);
  });

  /** Books the lead's callback for agent 1001 now and waits until it is answered and bridged. */
  const callUntilBridged = async (lead: string) => {
    const carrier = carrierByNumber(dir);
    const agent = await agentPhone(1001, dir);
    peers.push(carrier, agent);
    daemon = new DaemonProc({ db: dbPath, dir }).start();
    await daemon.ready();
    const r = cli(['callback', 'add', '--db', dbPath, '--json', '--lead', lead, '--due', 'now', '--owner', '1001']);
    expect(r.code, r.stderr).toBe(0);
    const id = JSON.parse(r.stdout).id as number;
    await waitFor('COMPLETED', () => getCallback(db, id)!.state === 'COMPLETED', 30000);
    // The carrier's own log: every INVITE it received, by called number, and the call it answered.
    const invited = carrier.invites().map((m) => /sip:([^@]+)@/.exec(m.firstLine)?.[1]);
    await waitFor('the answered call to end', () => answersAndHangups(carrier.messageFile).every((c) => c.hungUpAt !== null) && answersAndHangups(carrier.messageFile).length > 0, 10000);
    return { id, invited, answered: answersAndHangups(carrier.messageFile), attempts: attemptsOf(db, id) };
  };

  it('attempt 1: number 1 is BUSY; attempt 2: number 2 is answered and bridged to the agent', async () => {
    const { id, invited, answered, attempts } = await callUntilBridged('alt-busy-then-answer');
    expect(invited).toEqual(['+15551230486', '+15551230487']);
    expect(answered.map((c) => c.number)).toEqual(['+15551230487']);
    expect(attempts.map((a) => [a.seq, a.phonePosition, a.customerNumber, a.outcome, a.sipCode])).toEqual([
      [1, 1, '+15551230486', 'BUSY', 486],
      [2, 2, '+15551230487', 'ANSWERED', null],
    ]);
    expect(attempts[1]!.agentAnsweredAt).not.toBeNull();
    expect(attempts[1]!.customerAnsweredAt).not.toBeNull();
    expect(getCallback(db, id)).toMatchObject({ state: 'COMPLETED', attempts: 2 });
    // The call log as the CLI prints it names the number of each attempt.
    const show = cli(['callback', 'show', String(id), '--db', dbPath]);
    expect(show.stdout).toMatch(/-> \+15551230486 \(number 1\) via carrier/);
    expect(show.stdout).toMatch(/-> \+15551230487 \(number 2\) via carrier/);
  }, 60_000);

  it('a DNC-flagged number 2 is skipped: attempt 2 goes to number 3, and number 2 is never INVITEd', async () => {
    const { invited, answered, attempts } = await callUntilBridged('alt-dnc-second');
    expect(invited).toEqual(['+15551231486', '+15551231489']);
    expect(answered.map((c) => c.number)).toEqual(['+15551231489']);
    expect(attempts.map((a) => [a.phonePosition, a.customerNumber, a.outcome])).toEqual([
      [1, '+15551231486', 'BUSY'],
      [3, '+15551231489', 'ANSWERED'],
    ]);
  }, 60_000);
});
