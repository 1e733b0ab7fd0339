// Several numbers per lead, alt-dial (issue 17 item 1) on the real lab: the carrier SIPp answers
// 486 Busy for number 1 and answers number 2, so attempt 1 is BUSY on number 1 and attempt 2 is
// answered on number 2 and bridged to the agent; a DNC-flagged number 2 is never INVITEd (attempt 2
// goes to number 3). The carrier's own message log is the judge of what was dialed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { attemptsOf } from '../../src/store/callbacks.js';
import { describeOnLab } from '../lab/e2e-fixture.js';
import { agentPhone, cli, REPO, Sipp, waitFor } from '../lab/lab.js';
import { answersAndHangups } from './carrier-log.js';

/** On the "carrier" trunk's port, in place of carrier-answer.xml: busy for numbers ending in 486. */
function carrierByNumber(dir: string): Sipp {
  return new Sipp('carrier-by-number', ['-sf', join(REPO, 'test/lab/sipp/carrier-by-number.xml'), '-d', '500', '-i', '127.0.0.1', '-p', '5081', '-mp', '17010'], dir).start();
}

const extraImport = readFileSync(join(REPO, 'test/e2e/altdial.yaml'), 'utf8');

describeOnLab('alt-dial: the next attempt dials the next number', { name: 'altdial suite', prefix: 'altdial', extraImport }, (t) => {
  /** Books the lead's callback for agent 1001 now and waits until it is answered and bridged. */
  const callUntilBridged = async (lead: string) => {
    const carrier = carrierByNumber(t.dir);
    const agent = await agentPhone(1001, t.dir);
    t.peers.push(carrier, agent);
    await t.startDaemon();
    const id = t.add(['--lead', lead, '--due', 'now', '--owner', '1001']);
    await t.untilState(id, ['COMPLETED'], 30000);
    // The carrier's own log: every INVITE it received, by called number, and the call it answered.
    const invited = carrier.invites().map((m) => /sip:([^@]+)@/.exec(m.firstLine)?.[1]);
    const answered = () => answersAndHangups(carrier.messageFile);
    await waitFor('the answered call to end', () => answered().length > 0 && answered().every((c) => c.hungUpAt !== null), 10000);
    return { id, invited, answered: answered(), attempts: await attemptsOf(t.db, id) };
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
    expect(await t.cb(id)).toMatchObject({ state: 'COMPLETED', attempts: 2 });
    // The call log as the CLI prints it names the number of each attempt.
    const show = cli(['callback', 'show', String(id), '--db', t.dbPath]);
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
