// FastAGI against a hostile client, on the real lab (issue 12): a flood of random bytes, half-open,
// slow and silent connections and unauthenticated requests, many at once, from the same address
// as Asterisk itself, while callbackd places a callback and a real caller asks for one through
// the shipped dialplan. Skipped (loudly) only outside CI when the lab cannot start.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { expect, it } from 'vitest';
import { describeOnLab } from '../lab/e2e-fixture.js';
import { agentDials, agentPhone, callIn, carrier, sleep, waitFor } from '../lab/lab.js';

const AGI_PORT = 4573;
const HEADER = 'agi_network: yes\nagi_network_script: request-callback?campaign=ANSWER\nagi_channel: PJSIP/agent1001-00000001\nagi_uniqueid: 1700000000.1\nagi_callerid: +15551230042\n';

type Kind = 'random bytes' | 'half-open' | 'slow drip' | 'silent' | 'no auth' | 'wrong auth';
const KINDS: Kind[] = ['random bytes', 'half-open', 'slow drip', 'silent', 'no auth', 'wrong auth'];

/** Keeps `workers` hostile connections open at all times until stopped; counts what came back. */
function flood(workers: number) {
  const stats = { opened: 0, bytesBack: 0, byKind: new Map<Kind, number>() };
  const open = new Set<Socket>();
  let stopped = false;
  const one = (kind: Kind): Promise<void> =>
    new Promise((resolve) => {
      const s = connect(AGI_PORT, '127.0.0.1');
      open.add(s);
      stats.opened++;
      stats.byKind.set(kind, (stats.byKind.get(kind) ?? 0) + 1);
      let drip: NodeJS.Timeout | undefined;
      s.on('connect', () => {
        if (kind === 'random bytes') s.end(randomBytes(1 + Math.floor(Math.random() * 4000)));
        else if (kind === 'half-open') s.end(HEADER.slice(0, 40)); // half a header, then our side closes
        else if (kind === 'slow drip') {
          let i = 0;
          drip = setInterval(() => (i < HEADER.length ? s.write(HEADER[i++]!) : undefined), 300);
        } else if (kind === 'no auth') s.write(`${HEADER}\n`); // a complete request, no auth=: then silence
        else if (kind === 'wrong auth') s.write(`${HEADER.replace('ANSWER', `ANSWER&auth=${'0'.repeat(40)}`)}\n`);
      });
      s.on('data', (d) => (stats.bytesBack += d.length));
      s.on('error', () => undefined);
      s.on('close', () => {
        clearInterval(drip);
        open.delete(s);
        resolve();
      });
    });
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let n = w; !stopped; n++) {
      await one(KINDS[n % KINDS.length]!);
      await sleep(20);
    }
  });
  return {
    stats,
    open: () => open.size,
    async stop() {
      stopped = true;
      for (const s of open) s.destroy();
      await Promise.all(loops);
    },
  };
}

// The shipped AGI defaults (loopback, 200 connections, 100 per address, 5 s header deadline).
const SUITE = { name: 'AGI hostile-client suite', prefix: 'agi-hostile', daemon: { agi: { enabled: true } } };

describeOnLab('FastAGI against a hostile client, on the real lab', SUITE, (t) => {
  const { peers } = t;
  const cb = async (id: number) => await t.cb(id);

  it('a flood of 150 hostile connections at once from Asterisk\'s own address: a placed callback completes, a real caller\'s request is booked and called back, no hostile client hears a byte', async () => {
    const trunk = carrier('answer', t.dir);
    const agent = await agentPhone(1001, t.dir);
    peers.push(trunk, agent);
    await t.daemon.ready();
    const f = flood(150);
    try {
      await waitFor('the flood to be at full strength', () => f.open() >= 100, 10000);
      const placed = t.add(['--lead', 'answer', '--due', '+1s', '--owner', '1001']);
      await waitFor(`callback ${placed} to complete`, async () => (await cb(placed)).state === 'COMPLETED', 30000);

      // A real caller through the shipped dialplan: Asterisk's own AGI connection gets through.
      const t0 = Date.now();
      const openedBefore = f.stats.opened;
      const caller = callIn('callback', t.dir);
      peers.push(caller);
      expect(await caller.exited, 'the caller scenario (INVITE, INFO "1", BYE from Asterisk)').toBe(0);
      const [row] = await waitFor('the booking', () => {
        const r = t.db.$client.prepare("SELECT id FROM callbacks WHERE created_by = 'agi'").all() as { id: number }[];
        return r.length === 1 && r;
      });
      expect(Date.now() - t0).toBeLessThan(20000);
      await waitFor(`the requested callback ${row!.id} to complete`, async () => (await cb(row!.id)).state === 'COMPLETED', 30000);
      expect(trunk.invites().map((m) => /sip:(\+\d+)@/.exec(m.firstLine)?.[1])).toEqual(['+15551230001', '+15551230099']);
      // The flood was still on: hostile clients kept connecting while the real calls were made (how many are
      // open at one instant dips as the server closes the oldest half-open ones to make room; 96 was seen).
      expect(f.stats.opened).toBeGreaterThan(openedBefore + 50);
      expect(f.open()).toBeGreaterThanOrEqual(50);
    } finally {
      await f.stop();
    }
    expect(f.stats.opened).toBeGreaterThan(300);
    for (const k of KINDS) expect(f.stats.byKind.get(k), k).toBeGreaterThan(10);
    expect(f.stats.bytesBack).toBe(0); // an unauthenticated client learns nothing, not even a route name
    expect(t.daemon.exitCode).toBeNull();
    // Refusals are logged, but a flood cannot flood the log: at most one line per kind per 10 s.
    const refusals = t.daemon.log.split('\n').filter((l) => /AGI request refused|not in agi.allow|AGI connection refused/.test(l));
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.length).toBeLessThan(20);
    expect(refusals.join('\n')).not.toMatch(/auth=[0-9a-f]{40}/); // no token in the log
  });

  it('agent-callback: a SUSPENDED phone dialing *5530 is refused; the phone is the channel\'s, whatever the URL says', async () => {
    const trunk = carrier('answer', t.dir);
    peers.push(trunk, await agentPhone(1002, t.dir));
    await t.daemon.ready();
    const dial = agentDials(1002, '*5530', t.dir);
    peers.push(dial);
    expect(await dial.exited).toBe(0);
    await waitFor('the refusal in the log', () => /agent-callback refused: phone agent1002 has status SUSPENDED/.test(t.daemon.log));
    expect(t.db.$client.prepare("SELECT count(*) n FROM callbacks WHERE created_by = '1002'").get()).toEqual({ n: 0 });
  });
});
