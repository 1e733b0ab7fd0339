import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { AriHttpError } from '../../../src/asterisk/ari-rest.js';
import { CallbackdError, ErrorCodes } from '../../../src/errors.js';
import { Scheduler } from '../../../src/scheduler/scheduler.js';
import * as store from '../../../src/store/callbacks.js';
import type { TestEngine } from '../engine.js';
import { FakeAri, until } from '../fakes.js';
import { DIALER_CENTER, runningSchedulerEachTest } from '../fixture.js';

// issue 15 under a burst: a bridge that could not be made (a create that failed or timed out on
// our side) must not cost an answered customer the call. This fake keeps bridges as Asterisk
// does: adding a channel to a bridge that does not exist is "404 Bridge not found".

class BridgingAri extends FakeAri {
  bridges = new Map<string, Set<string>>();
  /** createBridge calls still to fail, and how. */
  failCreates: (() => Error)[] = [];
  creates = 0;
  override async createBridge(...[id]: string[]) {
    if (id === undefined) throw new Error('no bridge id');
    this.creates++;
    const fail = this.failCreates.shift();
    if (fail) throw fail();
    if (!this.bridges.has(id)) this.bridges.set(id, new Set());
  }
  override async addToBridge(...[bridgeId, channelId]: string[]) {
    const b = this.bridges.get(bridgeId!);
    if (!b) throw new AriHttpError(404, 'POST', `/bridges/${bridgeId}/addChannel`, 'ARI POST addChannel → HTTP 404: Bridge not found');
    b.add(channelId!);
  }
  override async destroyBridge(...[id]: string[]) {
    this.bridges.delete(id!);
  }
}

let db: TestEngine;
let ari: BridgingAri;
let sched: Scheduler;
const log = pino({ level: process.env.TEST_LOG ?? 'silent' });

runningSchedulerEachTest(DIALER_CENTER, () => new BridgingAri(), (t) => ({ db, ari, sched } = t), log);

const timeout = () => new CallbackdError(ErrorCodes.ARI_TIMEOUT, 'ARI POST /bridges/x got no answer within 5000 ms');
const http500 = () => new AriHttpError(500, 'POST', '/bridges/x', 'ARI POST /bridges/x → HTTP 500: Internal Server Error');
const up = (id: string) => ari.event({ type: 'StasisStart', channel: { id, name: 'PJSIP/x', state: 'Up' } });

async function customerFirstAnswered() {
  const id = await store.insertCallback(db, { leadId: 'lead2', campaignId: 'CF', type: 'ANYONE', ownerAgentId: null, dueAt: Date.now(), dueZone: 'UTC', maxAttempts: 3, notes: null }, Date.now());
  sched.nudge();
  await until('the customer leg', () => ari.originates.length === 1);
  const a = (await store.attemptsOf(db, id))[0]!;
  up(a.customerChannelId);
  await until('the agent to be rung', () => ari.originates.length === 2);
  return { id, a };
}

describe('a bridge that could not be made is made again; the answered customer stays', () => {
  for (const [name, fail] of [['timed out on our side', timeout], ['answered HTTP 500', http500]] as const) {
    it(`customer-first: createBridge ${name} once when the customer answered → the call is still bridged`, async () => {
      ari.failCreates.push(fail);
      const { id, a } = await customerFirstAnswered();
      expect(ari.bridges.has(a.bridgeId)).toBe(false); // the park found no bridge
      up(a.agentChannelId);
      await until('bridged', async () => (await store.getCallback(db, id))!.state === 'COMPLETED');
      expect((await store.attemptsOf(db, id))[0]!.outcome).toBe('ANSWERED');
      expect([...ari.bridges.get(a.bridgeId)!].sort()).toEqual([a.agentChannelId, a.customerChannelId].sort());
      expect(ari.hangups).toEqual([]); // nobody hung up
      expect(ari.creates).toBe(2);
    });
  }

  it('agent-first: createBridge fails twice (park and first join) → retried, bridged, nobody hung up', async () => {
    ari.failCreates.push(timeout, http500);
    const id = await store.insertCallback(db, { leadId: 'lead1', campaignId: 'C', type: 'USERONLY', ownerAgentId: 'a1', dueAt: Date.now(), dueZone: 'UTC', maxAttempts: 3, notes: null }, Date.now());
    sched.nudge();
    await until('the agent leg', () => ari.originates.length === 1);
    const a = (await store.attemptsOf(db, id))[0]!;
    up(a.agentChannelId);
    await until('the customer leg', () => ari.originates.length === 2);
    up(a.customerChannelId);
    await until('bridged', async () => (await store.getCallback(db, id))!.state === 'COMPLETED');
    expect((await store.attemptsOf(db, id))[0]!.outcome).toBe('ANSWERED');
    expect(ari.bridges.get(a.bridgeId)!.size).toBe(2);
    expect(ari.hangups).toEqual([]);
    expect(ari.creates).toBe(3);
  });

  it('the bridge vanished after the park (destroyed under us) → made again when the agent answers', async () => {
    const { id, a } = await customerFirstAnswered();
    await until('the customer parked', () => ari.bridges.get(a.bridgeId)?.has(a.customerChannelId) === true);
    ari.bridges.delete(a.bridgeId);
    up(a.agentChannelId);
    await until('bridged', async () => (await store.getCallback(db, id))!.state === 'COMPLETED');
    expect([...ari.bridges.get(a.bridgeId)!].sort()).toEqual([a.agentChannelId, a.customerChannelId].sort());
    expect(ari.hangups).toEqual([]);
  });

  it('a customer who left while we retried is not "could not bridge": the attempt ends as the customer left', async () => {
    // Every create fails: the join keeps retrying until the customer's leg is gone.
    ari.failCreates.push(...Array.from({ length: 20 }, () => timeout));
    const { id, a } = await customerFirstAnswered();
    up(a.agentChannelId);
    await until('a retry', () => ari.creates >= 3);
    ari.event({ type: 'ChannelDestroyed', channel: { id: a.customerChannelId, name: 'PJSIP/x', state: 'Up' }, cause: 16 });
    await until('settled', async () => (await store.attemptsOf(db, id))[0]!.outcome !== null, 5000);
    expect((await store.attemptsOf(db, id))[0]!.outcome).toBe('AGENT_NO_ANSWER'); // as before: released, called again later
    expect(ari.hangups).toContain(a.agentChannelId);
    expect(ari.hangups).not.toContain(a.customerChannelId);
  });
});
