// Two Asterisk servers on the lab (README "Running several servers"): server a (the lab's usual
// Asterisk) and server b (a second instance in the same chroot, its own ports and trunk), one daemon
// bound to each, one SQLite file. Judged by what the SIPp carriers and phones saw, not by our logs.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { bookCallback } from '../../src/app/book.js';
import { openDb, type Db } from '../../src/store/db.js';
import { attemptsOf, getCallback } from '../../src/store/callbacks.js';
import {
  agentPhone, carrier, carrierB, cli, DaemonProc, LAB_SERVER_B, startAsterisk, startAsteriskB, stopAsterisk, stopAsteriskB, tempDir, tryLab, waitFor, type Sipp,
} from '../lab/lab.js';

const lab = tryLab();
const inCi = process.env.CI === 'true';
if (!lab.ok && !inCi) console.warn(`\n*** servers end-to-end suite SKIPPED: ${lab.reason}\n*** (with CI=true this is a failure)\n`);

// Agents 1001, 1002 register on server a; 1003, 1004 on server b. One caller number goes out
// through each server's own trunk: carrier (a, SIPp on 5081) and carrier-b (b, SIPp on 5181).
const CENTER = {
  servers: [
    { id: 'a', ari_url: 'http://127.0.0.1:8088', ami_host: '127.0.0.1', ami_port: 5038 },
    { id: 'b', ari_url: LAB_SERVER_B.ariUrl, ami_host: '127.0.0.1', ami_port: LAB_SERVER_B.amiPort },
  ],
  trunks: [
    { id: 'carrier', server: 'a' },
    { id: 'carrier-b', server: 'b' },
  ],
  numbers: [{ number: '+15550100001', trunk: ['carrier', 'carrier-b'] }],
  campaigns: [{ id: 'ANSWER', name: 'Answers', time_zone: 'UTC', outbound_number: '+15550100001', calltime_check: 'off' }],
  lists: [{ id: 'L', campaign: 'ANSWER' }],
  agents: ['1001', '1002', '1003', '1004'].map((id) => ({ id, name: `Agent ${id}`, campaigns: ['ANSWER'] })),
  phones: [
    { endpoint: 'agent1001', agent: '1001', server: 'a' },
    { endpoint: 'agent1002', agent: '1002', server: 'a' },
    { endpoint: 'agent1003', agent: '1003', server: 'b' },
    { endpoint: 'agent1004', agent: '1004', server: 'b' },
  ],
  leads: Array.from({ length: 9 }, (_, i) => ({ id: `lead${i}`, list: 'L', phone: `+1555123${1000 + i}` })),
};

describe.skipIf(!lab.ok && !inCi)('two Asterisk servers, one daemon each, one SQLite file', () => {
  let dir: string;
  let dbPath: string;
  let db: Db;
  let daemons: DaemonProc[] = [];
  const peers: Sipp[] = [];

  const add = (args: string[]) => {
    const r = cli(['callback', 'add', '--db', dbPath, '--json', ...args]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout).id as number;
  };

  beforeAll(() => {
    if (!lab.ok) throw new Error(`the lab could not start: ${lab.reason}`);
  });
  afterAll(() => {
    if (lab.ok) {
      stopAsteriskB();
      stopAsterisk();
    }
  });

  beforeEach(async () => {
    startAsterisk();
    startAsteriskB();
    dir = tempDir('servers');
    dbPath = join(dir, 'callbackd.db');
    const file = join(dir, 'center.yaml');
    writeFileSync(file, YAML.stringify(CENTER));
    const imp = cli(['import', file, '--db', dbPath]);
    expect(imp.code, imp.stderr).toBe(0);
    db = openDb(dbPath);
    // Each daemon's config names only its server: where that Asterisk is comes from the directory.
    daemons = ['a', 'b'].map((server) => {
      const own = join(dir, server);
      mkdirSync(own);
      return new DaemonProc({ db: dbPath, dir: own, extra: { instanceId: `lab-${server}`, server } }).start();
    });
    await Promise.all(daemons.map((d) => d.ready()));
  });

  afterEach(async (ctx) => {
    const codes = await Promise.all(daemons.map((d) => d.kill('SIGTERM')));
    expect(codes, 'exit codes after SIGTERM').toEqual([0, 0]);
    peers.splice(0).forEach((p) => p.stop());
    db.$client.close();
    if (ctx.task.result?.state === 'fail') for (const d of daemons) console.error(`--- daemon log ---\n${d.log.slice(-5000)}`);
  });

  it("a USERONLY callback whose owner's phone is on server b is placed by b's daemon, through b's trunk", async () => {
    const trunkA = carrier('answer', dir);
    const trunkB = carrierB(dir);
    const phoneA = await agentPhone(1001, dir);
    const phoneB = await agentPhone(1003, dir, { server: 'b' });
    peers.push(trunkA, trunkB, phoneA, phoneB);
    const id = add(['--lead', 'lead0', '--due', '+1s', '--owner', '1003']);
    await waitFor(`callback ${id} COMPLETED`, async () => (await getCallback(db, id))!.state === 'COMPLETED', 20000);

    const inv = trunkB.invites();
    expect(inv).toHaveLength(1);
    // The INVITE came from server b's SIP port: b's Asterisk placed the customer leg.
    expect(inv[0]!.header('Via')).toContain(`127.0.0.1:${LAB_SERVER_B.sipPort}`);
    expect(trunkA.invites()).toHaveLength(0);
    expect(phoneB.invites()).toHaveLength(1);
    expect(phoneA.invites()).toHaveLength(0);
    expect(await attemptsOf(db, id)).toMatchObject([{ agentId: '1003', phoneEndpoint: 'agent1003', trunkId: 'carrier-b', outcome: 'ANSWERED' }]);
    // b's daemon claimed it; a's never did.
    const claimed = new RegExp(`"callbackId":${id},[^\\n]*"msg":"claimed; dialing"`);
    expect(daemons[1]!.log).toMatch(claimed);
    expect(daemons[0]!.log).not.toMatch(claimed);
  });

  it('an ANYONE burst of 8 uses free agents on both servers; nothing dialed twice, nothing left DIALING', async () => {
    const trunkA = carrier('answer', dir);
    const trunkB = carrierB(dir);
    const phones = [await agentPhone(1001, dir), await agentPhone(1002, dir), await agentPhone(1003, dir, { server: 'b' }), await agentPhone(1004, dir, { server: 'b' })];
    peers.push(trunkA, trunkB, ...phones);
    // One instant for all eight, booked through the one booking path from this (third) process:
    // eight CLI runs take longer than the gap on a loaded 2-core box.
    const due = new Date(Date.now() + 1500).toISOString();
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) ids.push((await bookCallback(db, { leadId: `lead${i}`, due, type: 'ANYONE', actor: 'test' }, Date.now())).callback.id);
    const final = ['COMPLETED', 'NO_ANSWER', 'BUSY', 'FAILED', 'CANCELLED'];
    const stateOf = async (id: number) => (await getCallback(db, id))!.state;
    await waitFor('every callback final', async () => (await Promise.all(ids.map(stateOf))).every((s) => final.includes(s)), 90000, 200);

    const states = await Promise.all(ids.map(stateOf));
    expect(states).toEqual(Array(8).fill('COMPLETED'));
    const attempts = (await Promise.all(ids.map((id) => attemptsOf(db, id)))).flat();
    expect(attempts).toHaveLength(8); // one attempt each: nothing placed twice
    // Carrier INVITEs = counted attempts, each number once, each through its own server's trunk.
    const invited = [...trunkA.invites(), ...trunkB.invites()].map((m) => /sip:([^@]+)@/.exec(m.firstLine)![1]).sort();
    expect(invited).toEqual(attempts.map((a) => a.customerNumber).sort());
    expect(new Set(invited).size).toBe(8);
    for (const a of attempts) expect(a.trunkId).toBe(['1001', '1002'].includes(a.agentId!) ? 'carrier' : 'carrier-b');
    // Both servers worked: each placed some of the burst through its own trunk.
    expect(trunkA.invites().length).toBeGreaterThan(0);
    expect(trunkB.invites().length).toBeGreaterThan(0);
    expect(trunkA.invites().length + trunkB.invites().length).toBe(8);
    expect((db.$client.prepare("SELECT count(*) n FROM callbacks WHERE state = 'DIALING'").get() as { n: number }).n).toBe(0);
  });
});

