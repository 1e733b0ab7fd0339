// Two Asterisk servers on the lab (README "Running several servers"): server a (the lab's usual
// Asterisk) and server b (a second instance in the same chroot, its own ports and trunk), one daemon
// bound to each, one PostgreSQL database (a real cluster: the setup issue 16 is about; the daemons,
// the CLI and the test's reads all go to it). Judged by what the SIPp carriers and phones saw, not
// by our logs.
import { sql } from 'drizzle-orm';
import { beforeEach, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { bookCallback } from '../../src/app/book.js';
import { attemptsOf } from '../../src/store/callbacks.js';
import { all } from '../../src/store/engine.js';
import { describeOnLab } from '../lab/e2e-fixture.js';
import { agentPhone, carrier, carrierB, DaemonProc, LAB_SERVER_B, waitFor } from '../lab/lab.js';

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

describeOnLab('two Asterisk servers, one daemon each, one PostgreSQL database', { name: 'servers end-to-end suite', prefix: 'servers', serverB: true, database: 'pg', extraImport: YAML.stringify(CENTER) }, (t) => {
  const add = (args: string[]) => t.add(args, { quiet: true });

  beforeEach(async () => {
    expect(t.dbPath).toMatch(/^postgres:\/\//);
    // Each daemon's config names only its server: where that Asterisk is comes from the directory.
    const [a, b] = ['a', 'b'].map((server) => {
      const own = join(t.dir, server);
      mkdirSync(own);
      return new DaemonProc({ db: t.dbPath, dir: own, extra: { instanceId: `lab-${server}`, server } }).start();
    }) as [DaemonProc, DaemonProc];
    t.daemon = a;
    t.others.push(b);
    await Promise.all([a, b].map((d) => d.ready()));
    for (const d of [a, b]) expect(d.log).toMatch(/"db":"pg 127\.0\.0\.1:\d+\/t_[0-9a-f]+"/);
  });

  it("a USERONLY callback whose owner's phone is on server b is placed by b's daemon, through b's trunk", async () => {
    const trunkA = carrier('answer', t.dir);
    const trunkB = carrierB(t.dir);
    const phoneA = await agentPhone(1001, t.dir);
    const phoneB = await agentPhone(1003, t.dir, { server: 'b' });
    t.peers.push(trunkA, trunkB, phoneA, phoneB);
    const id = add(['--lead', 'lead0', '--due', '+1s', '--owner', '1003']);
    await waitFor(`callback ${id} COMPLETED`, async () => (await t.cb(id)).state === 'COMPLETED', 20000);

    const inv = trunkB.invites();
    expect(inv).toHaveLength(1);
    // The INVITE came from server b's SIP port: b's Asterisk placed the customer leg.
    expect(inv[0]!.header('Via')).toContain(`127.0.0.1:${LAB_SERVER_B.sipPort}`);
    expect(trunkA.invites()).toHaveLength(0);
    expect(phoneB.invites()).toHaveLength(1);
    expect(phoneA.invites()).toHaveLength(0);
    expect(await attemptsOf(t.engine, id)).toMatchObject([{ agentId: '1003', phoneEndpoint: 'agent1003', trunkId: 'carrier-b', outcome: 'ANSWERED' }]);
    // b's daemon claimed it; a's never did.
    const claimed = new RegExp(`"callbackId":${id},[^\\n]*"msg":"claimed; dialing"`);
    expect(t.others[0]!.log).toMatch(claimed);
    expect(t.daemon.log).not.toMatch(claimed);
    // Each daemon's /metrics says which server it serves (callbackd_info, README "Running several servers").
    for (const [d, server] of [[t.daemon, 'a'], [t.others[0]!, 'b']] as const) {
      const port = Number(/"port":(\d+),"msg":"HTTP API listening"/.exec(d.log)![1]);
      const info = (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).split('\n').filter((l) => l.startsWith('callbackd_info'));
      expect(info).toEqual([`callbackd_info{server="${server}",instance_id="lab-${server}",database="pg"} 1`]);
    }
  });

  it('an ANYONE burst of 8 uses free agents on both servers; nothing dialed twice, nothing left DIALING', async () => {
    const trunkA = carrier('answer', t.dir);
    const trunkB = carrierB(t.dir);
    const phones = [await agentPhone(1001, t.dir), await agentPhone(1002, t.dir), await agentPhone(1003, t.dir, { server: 'b' }), await agentPhone(1004, t.dir, { server: 'b' })];
    t.peers.push(trunkA, trunkB, ...phones);
    // One instant for all eight, booked through the one booking path from this (third) process:
    // eight CLI runs take longer than the gap on a loaded 2-core box.
    const due = new Date(Date.now() + 1500).toISOString();
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) ids.push((await bookCallback(t.engine, { leadId: `lead${i}`, due, type: 'ANYONE', actor: 'test' }, Date.now())).callback.id);
    const final = ['COMPLETED', 'NO_ANSWER', 'BUSY', 'FAILED', 'CANCELLED'];
    const stateOf = async (id: number) => (await t.cb(id)).state;
    await waitFor('every callback final', async () => (await Promise.all(ids.map(stateOf))).every((s) => final.includes(s)), 90000, 200);

    const states = await Promise.all(ids.map(stateOf));
    expect(states).toEqual(Array(8).fill('COMPLETED'));
    const attempts = (await Promise.all(ids.map((id) => attemptsOf(t.engine, id)))).flat();
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
    expect(await all(t.engine, sql`SELECT id FROM callbacks WHERE state = 'DIALING'`)).toEqual([]);
  });
});

