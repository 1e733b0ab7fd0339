// A batch's refused claim is written (its wait reason) only after every claimed call of the batch has
// started: when that write fails (the database gone right after the batch's commit) the committed
// claims still have their sessions and are dialed (scheduler/dial-pass.ts claimPending). Found in review.
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as store from '../../../src/store/callbacks.js';
import { FakeAri, until } from '../fakes.js';
import { cleanupEngines, secondConnection } from '../engine.js';
import { callCenter, importedEngine, testScheduler } from '../fixture.js';

vi.mock('../../../src/store/callbacks.js', async (orig) => {
  const real = await orig<typeof import('../../../src/store/callbacks.js')>();
  return {
    ...real,
    // Another daemon's open attempt is not in this pass's read (it came right after it).
    clusterLoad: async () => ({ trunks: new Map(), agents: new Map(), lastStarts: new Map() }),
    // The database drops for a moment right after the batch committed.
    setWaitReason: async () => {
      throw new Error('database unreachable (connection terminated)');
    },
  };
});

afterEach(async () => { await cleanupEngines(); });

describe('a batch with a refused claim', () => {
  it('a failing wait-reason write for the refused one does not keep the claimed one from being dialed', async () => {
    const file = callCenter({ campaigns: [{ id: 'CU', name: 'U', time_zone: 'UTC', outbound_number: '+15550100001' }], lists: [{ id: 'LU', campaign: 'CU' }],
      leads: [{ id: 'x1', list: 'LU', phone: '+15551230001' }, { id: 'x2', list: 'LU', phone: '+15551230002' }, { id: 'x3', list: 'LU', phone: '+15551230003' }] });
    file.agents = file.agents!.map((a) => ({ ...a, campaigns: ['C1', 'CU'] }));
    const now = Date.now();
    const db = await importedEngine(file, now);
    const peer = await secondConnection(db);
    const ins = (leadId: string, owner: string, dueAt: number) => store.insertCallback(db, { leadId, campaignId: 'CU', type: 'USERONLY', ownerAgentId: owner, dueAt, dueZone: 'UTC', maxAttempts: 3, notes: null }, now);
    const theirs = await ins('x3', 'a1', now - 3000);
    await store.promoteDue(db, now);
    const pa = await store.claimForDial(peer, { callbackId: theirs, owner: 'peer', token: 'peer-tok', leaseMs: 60_000, now: Date.now(), dialOrder: 'AGENT_FIRST', agentId: 'a1', phoneEndpoint: 'p1',
      callerId: '+15550100001', customerNumber: '+15551230003', trunkId: 'carrier', ids: (s) => ({ agentChannelId: `pa-${s}`, customerChannelId: `pc-${s}`, bridgeId: `pb-${s}` }) });
    expect(pa).not.toBeNull();
    const first = await ins('x1', 'a1', now - 2000); // a1 busy on the peer: limited
    const second = await ins('x2', 'a2', now - 1000); // a2 free: claimed in the same batch
    const ari = new FakeAri();
    const sched = testScheduler(db, ari, pino({ level: 'silent' }));
    sched.start();
    ari.emit('connected');
    sched.nudge();
    await until('the second callback claimed', async () => (await store.getCallback(db, second))!.state === 'DIALING', 3000);
    await until('the claimed callback dialed', () => ari.originates.length > 0, 3000);
    expect((await store.getCallback(db, first))!.state).toBe('LIVE'); // refused: its agent is on the peer's call
    await sched.stop(0);
    expect(ari.originates.map((o) => o.endpoint)).toEqual(['PJSIP/p2']) // a2's phone, not a1's;
  }, 15000);
});
