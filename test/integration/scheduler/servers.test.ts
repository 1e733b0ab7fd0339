// Two schedulers (two daemons, one per Asterisk server) on one database (README "Running several
// servers"), on both engines: each places only what its server can, and nothing is claimed twice.
// The directory side (servers in the import, ops, recordings) is test/integration/servers.test.ts.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { bookCallback } from '../../../src/app/book.js';
import type { AriClient } from '../../../src/asterisk/ari.js';
import type { Presence } from '../../../src/asterisk/presence.js';
import { TrunkLimiter } from '../../../src/dialer/trunk-limits.js';
import { applyImport, parseImport } from '../../../src/import.js';
import { Scheduler } from '../../../src/scheduler/scheduler.js';
import * as store from '../../../src/store/callbacks.js';
import { cleanupEngines, secondConnection, type TestEngine } from '../engine.js';
import { FakeAri, FakePresence, pass, until } from '../fakes.js';
import { importedEngine, TWO_SERVERS as FILE } from '../fixture.js';

const running: Scheduler[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop(0);
  await cleanupEngines();
});

/** A daemon bound to `serverId`, on its own connection to `setup`'s database. */
async function daemon(setup: TestEngine, serverId: string, presence = new FakePresence()) {
  const db = await secondConnection(setup);
  const ari = new FakeAri();
  const s = new Scheduler({
    db, ari: ari as unknown as AriClient, presence: presence as unknown as Presence, limiter: new TrunkLimiter(), log: pino({ level: 'silent' }),
    owner: `d-${serverId}`, serverId, leaseMs: 60_000, backstopPollMs: 600_000, externalWriteCheckMs: 20, agentRetryDelayMs: 30_000,
  });
  running.push(s);
  s.start();
  ari.emit('connected');
  return { db, ari, s };
}

describe('two daemons, one per server, one database', () => {
  it("a USERONLY callback is placed by its owner's server, through that server's trunk", async () => {
    const setup = await importedEngine(FILE, Date.now());
    const A = await daemon(setup, 'a');
    const B = await daemon(setup, 'b');
    const id = (await bookCallback(setup, { leadId: 'l0', due: '+0s', actor: 'test', type: 'USERONLY', ownerAgentId: 'b1' }, Date.now())).callback.id;
    A.s.nudge();
    B.s.nudge();
    await until('B rings its agent', () => B.ari.originates.length === 1);
    await pass(100);
    expect(A.ari.originates).toHaveLength(0);
    expect(B.ari.originates[0]!.endpoint).toBe('PJSIP/pb1');
    expect(await store.attemptsOf(setup, id)).toMatchObject([{ agentId: 'b1', phoneEndpoint: 'pb1', trunkId: 'carrier-b' }]);
    expect(await store.getCallback(setup, id)).toMatchObject({ state: 'DIALING', leaseOwner: 'd-b' });
  });

  it('an ANYONE burst uses free agents on both servers; each callback is claimed once', async () => {
    const setup = await importedEngine(FILE, Date.now());
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) ids.push((await bookCallback(setup, { leadId: `l${i}`, due: '+0s', actor: 'test', type: 'ANYONE' }, Date.now())).callback.id);
    const A = await daemon(setup, 'a');
    const B = await daemon(setup, 'b');
    // Four agents, two per server: four calls at once (the others wait for a free agent).
    await until('four agent legs', () => A.ari.originates.length + B.ari.originates.length === 4);
    await pass(150);
    expect(A.ari.originates.map((o) => o.endpoint).sort()).toEqual(['PJSIP/pa1', 'PJSIP/pa2']);
    expect(B.ari.originates.map((o) => o.endpoint).sort()).toEqual(['PJSIP/pb1', 'PJSIP/pb2']);
    const attempts = (await Promise.all(ids.map((id) => store.attemptsOf(setup, id)))).flat();
    expect(attempts).toHaveLength(4);
    expect(new Set(attempts.map((a) => a.callbackId)).size).toBe(4);
    for (const a of attempts) expect(a.trunkId).toBe(a.agentId!.startsWith('a') ? 'carrier-a' : 'carrier-b');
    // The ones not yet placed stay LIVE: a daemon never reaches for the other server's agents.
    expect((await Promise.all(ids.map(async (id) => (await store.getCallback(setup, id))!.state))).sort()).toEqual([...Array(4).fill('DIALING'), ...Array(4).fill('LIVE')]);
  });

  it("two servers waiting for one owner (a phone on each) do not rewrite each other's reason", async () => {
    const setup = await importedEngine({ ...FILE, phones: [...FILE.phones, { endpoint: 'pa1-b', agent: 'a1', server: 'b' }] }, Date.now());
    const id = (await bookCallback(setup, { leadId: 'l0', due: '+0s', actor: 'test', type: 'USERONLY', ownerAgentId: 'a1' }, Date.now())).callback.id;
    // The owner's phones are registered nowhere: each server has its own reason to wait.
    const away = () => {
      const p = new FakePresence();
      for (const ep of ['pa1', 'pa1-b']) p.phones.set(ep, { registered: false, inUse: false, idleSince: 0 });
      return p;
    };
    const A = await daemon(setup, 'a', away());
    const B = await daemon(setup, 'b', away());
    await until('a reason', async () => (await store.getCallback(setup, id))!.waitReason !== null);
    await pass(300);
    const v0 = (await store.getCallback(setup, id))!.version;
    for (let i = 0; i < 10; i++) {
      A.s.nudge();
      B.s.nudge();
      await pass(50);
    }
    expect((await store.getCallback(setup, id))!.version - v0, 'writes while nothing changed').toBe(0);
    expect((await store.getCallback(setup, id))!.waitReason).toMatch(/^server [ab]: waiting for owner a1: phone pa1(-b)? is not registered$/);
    expect(A.ari.originates.length + B.ari.originates.length).toBe(0);
  });

  it("the claim path's server filter: only what a daemon on the server could place", async () => {
    const db = await importedEngine(FILE, 1);
    const now = Date.now();
    const owned = async (lead: string, owner: string) => (await bookCallback(db, { leadId: lead, due: '+0s', actor: 'test', type: 'USERONLY', ownerAgentId: owner }, now)).callback.id;
    const [ua, ub] = [await owned('l0', 'a1'), await owned('l1', 'b1')];
    const any = (await bookCallback(db, { leadId: 'l2', due: '+0s', actor: 'test', type: 'ANYONE' }, now)).callback.id;
    await store.promoteDue(db, now + 1);
    const ready = async (s: string | null) => (await store.liveReady(db, now + 1, 100, s)).map((c) => c.id).sort();
    expect(await ready(null)).toEqual([ua, ub, any].sort());
    expect(await ready('a')).toEqual([ua, any].sort());
    expect(await ready('b')).toEqual([ub, any].sort());
    // The number goes out on b only: a takes nothing of campaign C.
    await applyImport(db, parseImport(YAML.stringify({ numbers: [{ number: '+15550100001', trunk: 'carrier-b' }] }), 'g'), 2);
    expect(await ready('a')).toEqual([]);
    expect(await ready('b')).toEqual([ub, any].sort());
  });
});
