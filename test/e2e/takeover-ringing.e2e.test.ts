// A takeover whose customer never answers (issue 16 item 4; README "PostgreSQL: several daemons, and
// takeover"): two daemons on the lab's Asterisk share one PostgreSQL database; the one placing the
// call is killed while the customer rings; the survivor adopts the ringing leg, pointing it at its own
// application through the global CBDAPP_<channel id>. The customer never answers, so the leg never
// enters the hold dialplan that would read the global: the survivor deletes it when the leg ends.
// Judged by Asterisk's own `dialplan show globals` and the carrier's SIPp log.
import { expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { attemptsOf } from '../../src/store/callbacks.js';
import { describeOnLab } from '../lab/e2e-fixture.js';
import { agentPhone, asteriskGlobals, carrier, DaemonProc, waitFor } from '../lab/lab.js';

const LEASE_MS = 6000; // takeover within ~9 s of the kill
// The customer's phone rings 30 s (carrier-noanswer never answers): long past the takeover.
const EXTRA = {
  campaigns: [{ id: 'RINGLONG', name: 'Rings long', time_zone: 'UTC', outbound_number: '+15550100003', max_attempts: 1, customer_ring_seconds: 30, calltime_check: 'off' }],
  lists: [{ id: 'L-RINGLONG', campaign: 'RINGLONG' }],
  agents: [{ id: '1001', name: 'Alice', campaigns: ['ANSWER', 'RINGLONG'] }],
  leads: [{ id: 'ringlong', list: 'L-RINGLONG', phone: '+15551230021' }],
};

describeOnLab('takeover of a leg that rings until it is given up', { name: 'ringing takeover suite', prefix: 'tko-ring', database: 'pg', extraImport: YAML.stringify(EXTRA) }, (t) => {
  it('the survivor adopts the ringing customer leg; when it ends unanswered, no CBDAPP_ global is left in Asterisk', async () => {
    const trunk = carrier('noanswer', t.dir);
    const phone = await agentPhone(1001, t.dir);
    t.peers.push(trunk, phone);
    const [a, b] = ['a', 'b'].map((name) => {
      const own = join(t.dir, name);
      mkdirSync(own);
      // Each daemon its own ARI application (Asterisk gives an application to one WebSocket at a time).
      return new DaemonProc({ db: t.dbPath, dir: own, extra: { instanceId: `tko-${name}`, ari: { app: `callbackd-${name}` }, scheduler: { leaseMs: LEASE_MS } } }).start();
    }) as [DaemonProc, DaemonProc];
    t.daemon = a;
    t.others.push(b);
    await Promise.all([a.ready(), b.ready()]);
    expect(asteriskGlobals('CBDAPP_')).toEqual([]);

    const id = t.add(['--lead', 'ringlong', '--due', 'now', '--owner', '1001']);
    const ringing = await waitFor('the customer to ring', async () => (await attemptsOf(t.engine, id))[0]?.customerRingingAt != null && (await t.cb(id)), 20000);
    const victim = ringing.leaseOwner === 'tko-a' ? a : b;
    const survivor = victim === a ? b : a;
    const app = survivor === a ? 'callbackd-a' : 'callbackd-b';
    await victim.kill('SIGKILL');
    t.daemon = survivor;
    t.others.splice(0);

    await waitFor('the survivor to adopt the call', () => /recovering a call that was in progress/.test(survivor.log), 20000, 100);
    const [attempt] = await attemptsOf(t.engine, id);
    // Adopted while ringing: the customer leg points at the survivor's application.
    expect(asteriskGlobals('CBDAPP_')).toEqual([`CBDAPP_${attempt!.customerChannelId}=${app}`]);
    expect(attempt!.customerAnsweredAt).toBeNull();

    // Asterisk gives up the ringing leg (it never answered, never entered the dialplan).
    await waitFor('the attempt to end', async () => (await attemptsOf(t.engine, id))[0]?.outcome, 40000, 200);
    const [ended] = await attemptsOf(t.engine, id);
    expect(ended).toMatchObject({ outcome: 'NO_ANSWER', customerAnsweredAt: null });
    expect((await t.cb(id)).state).not.toBe('DIALING');
    expect(trunk.invites()).toHaveLength(1); // adopted, not dialed again
    const left = await waitFor('no CBDAPP_ global left', () => asteriskGlobals('CBDAPP_').length === 0, 5000).catch(() => false);
    if (!left) expect(asteriskGlobals('CBDAPP_'), 'CBDAPP_ globals left in Asterisk').toEqual([]);
  }, 120_000);
});
