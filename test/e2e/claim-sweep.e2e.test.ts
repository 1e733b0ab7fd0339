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
import { AriClient } from '../../src/asterisk/ari.js';
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
    const ari = new AriClient({ url: 'http://127.0.0.1:8088', username: 'callbackd', password: 'lab-ari-secret', app: 'claim-sweep-test', requestTimeoutMs: 3000, reconnect: { initialDelayMs: 1000, maxDelayMs: 1000 }, log: pino({ level: 'silent' }) });
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
});
