// Inbound callbacks keep their place in line (issue 17 item 4) on the real lab: caller A calls the
// "call me back" DID first and takes their time to press 1; caller B calls 3 s later and presses 1
// at once, so B is booked first. No agent is registered yet, so both wait; when agent 1001
// registers, A's customer must be dialed first (the carrier SIPp's own log is the judge), because
// A's channel was created first (the arrival callbackd reads from the channel's UNIQUEID). Each
// caller hears "You are currently caller number <N>" from the shipped dialplan (Asterisk's log).
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeOnLab } from '../lab/e2e-fixture.js';
import { agentPhone, carrier, REPO, Sipp, sleep, waitFor } from '../lab/lab.js';
import { attemptsOf } from '../../src/store/callbacks.js';

const MESSAGES_LOG = join(process.env.CALLBACKD_LAB_CACHE ?? '/var/cache/callbackd-lab', 'sid-asterisk/var/log/asterisk-lab/messages.log');
const A = '+15552220001';
const B = '+15552220002';

/** A customer calling the lab's "call me back" DID from `number`, pressing 1 after `pressAfterMs`. */
function callerInLine(name: string, number: string, pressAfterMs: number, port: number, dir: string): Sipp {
  return new Sipp(name, [
    '127.0.0.1:5060', '-sf', join(REPO, 'test/lab/sipp/caller-queue.xml'), '-s', 'callback', '-m', '1',
    '-key', 'caller', number, '-d', String(pressAfterMs),
    '-i', '127.0.0.1', '-p', String(port), '-mp', String(16000 + (port - 5070) * 20),
  ], dir).start();
}

describeOnLab('inbound callbacks keep their place in line', { name: 'queue-place suite', prefix: 'queue-place' }, (t) => {
  it('B books before A, A arrived first: A is position 1 and A\'s customer is dialed first', async () => {
    const trunk = carrier('answer', t.dir);
    t.peers.push(trunk);
    await t.startDaemon({ agi: { enabled: true, headerTimeoutMs: 1500 } });
    const logFrom = statSync(MESSAGES_LOG).size;

    const a = callerInLine('caller-a', A, 11_000, 5070, t.dir); // arrives first, presses 1 late
    t.peers.push(a);
    await sleep(3000);
    const b = callerInLine('caller-b', B, 1_500, 5071, t.dir); // arrives 3 s later, presses 1 at once
    t.peers.push(b);
    expect(await b.exited, 'caller B (INVITE, INFO "1", BYE from Asterisk)').toBe(0);
    expect(await a.exited, 'caller A').toBe(0);

    const rows = t.db.$client
      .prepare("SELECT c.id, l.phone_e164 phone, c.arrived_at arrivedAt, c.created_at createdAt FROM callbacks c JOIN leads l ON l.id = c.lead_id WHERE c.created_by = 'agi' ORDER BY c.id")
      .all() as { id: number; phone: string; arrivedAt: number; createdAt: number }[];
    expect(rows.map((r) => r.phone), 'booked in the order B, A').toEqual([B, A]);
    const [rb, ra] = rows as [(typeof rows)[0], (typeof rows)[0]];
    expect(ra.arrivedAt, "A's arrival (its channel's creation) is before B's").toBeLessThan(rb.arrivedAt);
    expect(ra.createdAt).toBeGreaterThan(rb.createdAt);
    expect(t.daemon.log).toMatch(new RegExp(`"callbackId":${ra.id},[^\\n]*"arrivalFrom":"channel","position":1,`));
    expect(t.daemon.log).toMatch(new RegExp(`"callbackId":${rb.id},[^\\n]*"arrivalFrom":"channel","position":1,`));
    // The shipped dialplan said each caller's place with Asterisk's stock prompts.
    const said = readFileSync(MESSAGES_LOG, 'utf8').slice(logFrom);
    expect(said.match(/Playback\("PJSIP\/lab-caller-[0-9a-f]+", "queue-thereare"\)/g) ?? []).toHaveLength(2);
    expect(said.match(/SayNumber\("PJSIP\/lab-caller-[0-9a-f]+", "1"\)/g) ?? []).toHaveLength(2);

    // Nobody could take them until now: the agent's phone registers, and the line is served in order.
    const agent = await agentPhone(1001, t.dir);
    t.peers.push(agent);
    await t.untilState(ra.id, ['COMPLETED'], 30_000);
    await t.untilState(rb.id, ['COMPLETED'], 30_000);
    const dialed = trunk.invites().map((m) => /sip:([^@]+)@/.exec(m.firstLine)?.[1]);
    expect(dialed, 'the carrier was asked for A first, then B').toEqual([A, B]);
    const [att] = await attemptsOf(t.db, ra.id);
    const [btt] = await attemptsOf(t.db, rb.id);
    expect(att!.customerDialedAt!).toBeLessThan(btt!.customerDialedAt!);
    await waitFor('both callers were bridged to the agent', () => agent.invites().length === 2, 5000);
  }, 90_000);
});
