// A CBDAPP_ global whose adopter dies too (README "PostgreSQL: several daemons, and takeover";
// src/asterisk/stale-claims.ts). Daemon a places a call and is killed while the customer rings;
// daemon b (the same instance, restarted as another ARI application) adopts the ringing leg and
// points it at itself with the global CBDAPP_<channel id>, and is killed too. The leg rings out with
// nobody to delete the global: it is still in Asterisk. A fresh daemon's sweep deletes it, and keeps
// the global of a leg that is still up (one this test places itself). Judged by Asterisk's own
// `dialplan show globals` and its channels.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { expect, it } from 'vitest';
import YAML from 'yaml';
import { AmiClient } from '../../src/asterisk/ami.js';
import { AriClient } from '../../src/asterisk/ari.js';
import { asteriskClaimsPort, StaleClaimSweep, SWEEP_BATCH } from '../../src/asterisk/stale-claims.js';
import { attemptsOf } from '../../src/store/callbacks.js';
import { describeOnLab } from '../lab/e2e-fixture.js';
import { agentPhone, asteriskGlobals, carrier, DaemonProc, waitFor } from '../lab/lab.js';

// The customer's phone rings 30 s (carrier-noanswer never answers): past both kills.
const EXTRA = {
  campaigns: [{ id: 'RINGLONG', name: 'Rings long', time_zone: 'UTC', outbound_number: '+15550100003', max_attempts: 1, customer_ring_seconds: 30, calltime_check: 'off' }],
  lists: [{ id: 'L-RINGLONG', campaign: 'RINGLONG' }],
  agents: [{ id: '1001', name: 'Alice', campaigns: ['ANSWER', 'RINGLONG'] }],
  leads: [{ id: 'ringlong', list: 'L-RINGLONG', phone: '+15551230021' }],
};

const labAri = () => new AriClient({ url: 'http://127.0.0.1:8088', username: 'callbackd', password: 'lab-ari-secret', app: 'claim-sweep-test', requestTimeoutMs: 3000, reconnect: { initialDelayMs: 1000, maxDelayMs: 1000 }, log: pino({ level: 'silent' }) });

describeOnLab('the sweep of CBDAPP_ globals left by a dead adopter', { name: 'claim sweep suite', prefix: 'claim-sweep', extraImport: YAML.stringify(EXTRA) }, (t) => {
  it('a fresh daemon deletes the global of a leg that ended after its adopter died, and keeps a live leg\'s', async () => {
    const trunk = carrier('noanswer', t.dir);
    const phone = await agentPhone(1001, t.dir);
    t.peers.push(trunk, phone);
    const daemon = (name: string) => {
      const own = join(t.dir, name);
      mkdirSync(own);
      return new DaemonProc({ db: t.dbPath, dir: own, extra: { ari: { app: `callbackd-${name}` } } });
    };
    // The test's own ARI client, for a leg no daemon knows (REST only: no event socket).
    const ari = labAri();
    try {
      const a = (t.daemon = daemon('a').start());
      await a.ready();
      expect(asteriskGlobals('CBDAPP_')).toEqual([]);
      const id = t.add(['--lead', 'ringlong', '--due', 'now', '--owner', '1001']);
      await waitFor('the customer to ring', async () => (await attemptsOf(t.engine, id))[0]?.customerRingingAt != null, 20000);
      const [attempt] = await attemptsOf(t.engine, id);
      const customer = attempt!.customerChannelId;
      await a.kill('SIGKILL');

      // The adopter: its restart recovery points the ringing customer leg at its application.
      const b = (t.daemon = daemon('b').start());
      await waitFor('b to adopt the call', () => /recovering a call that was in progress/.test(b.log), 20000, 100);
      expect(asteriskGlobals('CBDAPP_')).toEqual([`CBDAPP_${customer}=callbackd-b`]);
      // A live leg with a global of its own (as an adopter's would be), ringing 120 s.
      const live = `sweep-live-${randomUUID()}`;
      await ari.originate({ channelId: live, endpoint: 'PJSIP/+15551230099@carrier-noanswer', callerId: '+15550100003', timeoutSec: 120, appArgs: 'none' });
      await ari.request('POST', '/asterisk/variable', { query: { variable: `CBDAPP_${live}`, value: 'callbackd-gone' } });
      await b.kill('SIGKILL');
      t.daemon = undefined as unknown as DaemonProc;

      // The adopted leg rings out; nobody is left to delete its global.
      await waitFor('the customer leg to end', async () => (await ari.getChannel(customer)) === null, 40000, 500);
      expect(await ari.getChannel(live)).not.toBeNull();
      expect(trunk.invites()).toHaveLength(2); // the customer (adopted by b, not dialed again) and the live leg
      expect(asteriskGlobals('CBDAPP_').sort()).toEqual([`CBDAPP_${customer}=callbackd-b`, `CBDAPP_${live}=callbackd-gone`].sort());

      // A fresh daemon: its first sweep (2 s after ARI and AMI are up) deletes the stale one only.
      const c = (t.daemon = daemon('c').start());
      await c.ready();
      await waitFor('the sweep to delete the stale global', () => /deleted CBDAPP_ globals whose leg ended/.test(c.log), 15000, 100);
      expect(asteriskGlobals('CBDAPP_')).toEqual([`CBDAPP_${live}=callbackd-gone`]);
      expect(c.log).toMatch(/"deleted":1,"checked":2/);
      expect(c.log).not.toMatch(/could not list Asterisk's globals/);
      expect(await ari.getChannel(live)).not.toBeNull();

      await ari.hangup(live);
      await ari.request('POST', '/asterisk/variable', { query: { variable: `CBDAPP_${live}` } });
    } finally {
      ari.stop();
    }
  }, 150_000);

  it('2,000 stale globals: listed in one AMI answer, swept 50 looks per run, while ARI answers a call\'s request at once', async () => {
    const trunk = carrier('noanswer', t.dir);
    t.peers.push(trunk);
    const ari = labAri();
    const ami = new AmiClient({ host: '127.0.0.1', port: 5038, username: 'callbackd', secret: 'lab-ami-secret', actionTimeoutMs: 5000, reconnect: { initialDelayMs: 200, maxDelayMs: 1000 }, log: pino({ level: 'silent' }) });
    const connected = new Promise<void>((r) => ami.once('connected', r));
    ami.start();
    try {
      await connected;
      const N = 2000;
      const stale = Array.from({ length: N }, (_, i) => `stale-${String(i).padStart(4, '0')}-${randomUUID()}`);
      await Promise.all(stale.map((id) => ari.request('POST', '/asterisk/variable', { query: { variable: `CBDAPP_${id}`, value: 'callbackd-dead' } })));
      const live = `sweep-live-${randomUUID()}`;
      await ari.originate({ channelId: live, endpoint: 'PJSIP/+15551230099@carrier-noanswer', callerId: '+15550100003', timeoutSec: 120, appArgs: 'none' });
      await ari.request('POST', '/asterisk/variable', { query: { variable: `CBDAPP_${live}`, value: 'callbackd-gone' } });
      expect(asteriskGlobals('CBDAPP_')).toHaveLength(N + 1);

      // Meanwhile a call's own request (the 'urgent' lane) every 50 ms: how long it waits.
      const urgent: number[] = [];
      let sweeping = true;
      const prober = (async () => {
        while (sweeping) {
          const t0 = performance.now();
          await ari.getChannel(live);
          urgent.push(performance.now() - t0);
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const sweep = new StaleClaimSweep(asteriskClaimsPort(ari, ami, pino({ level: 'silent' })));
      const runs: { checked: number; deleted: number; ms: number }[] = [];
      for (;;) {
        const t0 = performance.now();
        const r = await sweep.run();
        runs.push({ checked: r.checked, deleted: r.deleted, ms: Math.round(performance.now() - t0) });
        if (!r.more) break;
      }
      sweeping = false;
      await prober;
      urgent.sort((x, y) => x - y);
      const p99 = urgent[Math.floor(urgent.length * 0.99)]!;
      console.log(`claim sweep of ${N} stale globals: ${runs.length} runs, ${runs.reduce((n, r) => n + r.ms, 0)} ms in all, slowest run ${Math.max(...runs.map((r) => r.ms))} ms; urgent GET /channels p50 ${urgent[urgent.length >> 1]!.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${urgent.at(-1)!.toFixed(1)} ms (${urgent.length} probes)`);

      expect(runs.length).toBe(Math.ceil((N + 1) / SWEEP_BATCH));
      expect(runs.every((r) => r.checked <= SWEEP_BATCH)).toBe(true);
      expect(runs.reduce((n, r) => n + r.deleted, 0)).toBe(N);
      expect(asteriskGlobals('CBDAPP_')).toEqual([`CBDAPP_${live}=callbackd-gone`]);
      expect(await ari.getChannel(live)).not.toBeNull();
      expect(p99).toBeLessThan(250);

      await ari.hangup(live);
      await ari.request('POST', '/asterisk/variable', { query: { variable: `CBDAPP_${live}` } });
    } finally {
      ami.stop();
      ari.stop();
    }
  }, 150_000);
});
