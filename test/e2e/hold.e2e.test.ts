// Hold, don't drop (issue 15): a leg answered while callbackd is away is held by
// dialplan/callbackd-hold.conf and adopted when callbackd is back; one held past the hold time hears
// the apology, and the call log says so. On the real lab, like core.e2e.test.ts.
import { expect, it } from 'vitest';
import { join } from 'node:path';
import { attemptsOf } from '../../src/store/callbacks.js';
import { describeOnLab } from '../lab/e2e-fixture.js';
import { agentPhone, REPO, Sipp, sleep, waitFor } from '../lab/lab.js';
import { answersAndHangups, setHoldSeconds } from './carrier-log.js';

/** The customer on the 'slow' trunk (rings 6 s) who stays on the line up to 20 s once answered. */
function patientCustomer(dir: string): Sipp {
  return new Sipp('carrier-patient', ['-sf', join(REPO, 'test/lab/sipp/carrier-patient.xml'), '-d', '6000', '-i', '127.0.0.1', '-p', '5086', '-mp', '17060'], dir).start();
}

describeOnLab('hold, do not drop: calls answered while callbackd is away', { name: 'hold suite', prefix: 'hold', exitCode: () => null }, (t) => {
  const { peers } = t;
  const add = (args: string[]) => t.add(args);
  const cb = async (id: number) => await t.cb(id);
  const start = () => t.startDaemon();

  /** A patient customer rings for a callback of agent 1001's, and callbackd is SIGKILLed then. */
  const killedWhileTheCustomerRings = async () => {
    const customer = patientCustomer(t.dir);
    const agent = await agentPhone(1001, t.dir);
    peers.push(customer, agent);
    await start();
    const id = add(['--lead', 'slow', '--due', 'now', '--owner', '1001']);
    await waitFor('the customer to ring', async () => (await attemptsOf(t.db, id))[0]?.customerRingingAt);
    await t.daemon.kill('SIGKILL');
    return { customer, agent, id };
  };

  it('the customer answers while callbackd is down: held, adopted after the restart, bridged; the attempt is ANSWERED', async () => {
    const { customer, agent, id } = await killedWhileTheCustomerRings();
    await waitFor('the customer to answer', () => answersAndHangups(customer.messageFile).length === 1, 15000);
    await sleep(1500); // held for a while, as during a supervised restart
    await start();
    const done = await waitFor('COMPLETED', async () => (await cb(id)).state === 'COMPLETED' && await cb(id), 20000);
    expect(done.attempts).toBe(1);
    const [a] = await attemptsOf(t.db, id);
    expect(a!.outcome).toBe('ANSWERED');
    const [call] = answersAndHangups(customer.messageFile);
    // The answer time is the one the dialplan recorded (epoch seconds), not the adoption's.
    expect(Math.abs(a!.customerAnsweredAt! - call!.answeredAt)).toBeLessThan(1500);
    expect(customer.invites()).toHaveLength(1);
    expect(agent.invites()).toHaveLength(1);
    expect(call!.hungUpAt).toBeNull(); // still talking: not dropped
    expect(t.daemon.log).toMatch(/adopted an answered call|agent and customer bridged/);
  }, 60_000);

  it('callbackd stays down longer than the hold time: the customer hears the apology, the attempt says APOLOGISED, and the callback is retried', async () => {
    await setHoldSeconds(2);
    const { customer, id } = await killedWhileTheCustomerRings();
    // Asterisk hangs up on the held customer after the hold time and the apology.
    const [held] = await waitFor('Asterisk to hang up the held customer', () => {
      const byAsterisk = answersAndHangups(customer.messageFile).filter((c) => c.hungUpBy === 'asterisk');
      return byAsterisk.length > 0 && byAsterisk;
    }, 20000);
    expect(held!.hungUpAt! - held!.answeredAt).toBeGreaterThanOrEqual(2000);
    await setHoldSeconds(20);
    await start();
    await waitFor('the first attempt to be settled', async () => (await attemptsOf(t.db, id))[0]?.outcome, 15000);
    const first = (await attemptsOf(t.db, id))[0]!;
    expect(first.outcome).toBe('APOLOGISED');
    expect(first.customerAnsweredAt).not.toBeNull();
    expect(first.detail).toMatch(/apology/);
    // Retried per the campaign's policy (SLOW: the congestion back-off), not dropped and not final.
    const after = await cb(id);
    expect(after.state).toBe('LIVE');
    expect(after.attempts).toBe(1);
    expect(after.nextAttemptAt!).toBeGreaterThan(first.endedAt!);
    expect(after.waitReason).toMatch(/apologised on attempt 1 of \d+; retry in \d+ s/);
    expect(customer.invites()).toHaveLength(1);
  }, 90_000);
});
