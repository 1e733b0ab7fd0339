import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { bookCallback } from '../../src/app/book.js';
import type { AriClient } from '../../src/asterisk/ari.js';
import type { Presence } from '../../src/asterisk/presence.js';
import { loadConfig } from '../../src/config.js';
import { TrunkLimiter } from '../../src/dialer/trunk-limits.js';
import { applyImport, importFile, parseImport } from '../../src/import.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { bindServer } from '../../src/server-binding.js';
import * as store from '../../src/store/callbacks.js';
import { openDb, type Db } from '../../src/store/db.js';
import { allPhones } from '../../src/store/directory.js';
import { allServers, getServer, trunksOfNumber } from '../../src/store/servers.js';
import { FakeAri, FakePresence, pass, until } from './fakes.js';
import { testApi } from './fixture.js';
import { runCli } from './cli-run.js';
import { sweepRecordings } from '../../src/dialer/recording-retention.js';
import { setRecordingName } from '../../src/store/recordings.js';
import { createLogger } from '../../src/log.js';
import { writePresence } from '../../src/store/presence.js';

// Several Asterisk servers on one SQLite file (README "Running several servers"): the directory's
// servers, the import's references, and two schedulers (two daemons, one per server) sharing
// callbacks: each places only what its server can, and nothing is claimed twice.

const FILE = {
  servers: [
    { id: 'a', ari_url: 'http://127.0.0.1:8088', ami_host: '127.0.0.1', ami_port: 5038 },
    { id: 'b', ari_url: 'http://127.0.0.1:8089', ami_host: '127.0.0.1', ami_port: 5039, ari_username: 'cb-b' },
  ],
  trunks: [
    { id: 'carrier-a', server: 'a' },
    { id: 'carrier-b', server: 'b' },
  ],
  numbers: [{ number: '+15550100001', trunk: ['carrier-a', 'carrier-b'] }],
  campaigns: [{ id: 'C', name: 'C', time_zone: 'UTC', outbound_number: '+15550100001', calltime_check: 'off', my_callback_default: 'anyone' }],
  lists: [{ id: 'L', campaign: 'C' }],
  agents: ['a1', 'a2', 'b1', 'b2'].map((id) => ({ id, name: id, campaigns: ['C'] })),
  phones: [
    { endpoint: 'pa1', agent: 'a1', server: 'a' },
    { endpoint: 'pa2', agent: 'a2', server: 'a' },
    { endpoint: 'pb1', agent: 'b1', server: 'b' },
    { endpoint: 'pb2', agent: 'b2', server: 'b' },
  ],
  leads: Array.from({ length: 8 }, (_, i) => ({ id: `l${i}`, list: 'L', phone: `+1212555${String(i).padStart(4, '0')}` })),
};

const tmp = () => mkdtempSync(join(tmpdir(), 'cbd-servers-'));
const running: Scheduler[] = [];
const dbs: Db[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop(0);
  for (const d of dbs.splice(0)) d.$client.close();
});

function daemon(path: string, serverId: string, presence = new FakePresence()) {
  const db = openDb(path);
  dbs.push(db);
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

describe('servers in the directory', () => {
  it('imports servers, trunks and phones on them, and the trunks of a number; a file without servers keeps the default', async () => {
    const db = openDb(join(tmp(), 'db.sqlite'));
    dbs.push(db);
    expect(await allServers(db)).toEqual([]);
    await applyImport(db, parseImport(YAML.stringify(FILE), 'f'), 1);
    expect((await allServers(db)).map((s) => [s.id, s.ariUrl, s.amiPort])).toEqual([
      ['a', 'http://127.0.0.1:8088', 5038],
      ['b', 'http://127.0.0.1:8089', 5039],
    ]);
    expect((await allPhones(db)).map((p) => `${p.endpoint}@${p.serverId}`)).toEqual(['pa1@a', 'pa2@a', 'pb1@b', 'pb2@b']);
    expect(await trunksOfNumber(db, '+15550100001')).toEqual([
      { trunkId: 'carrier-a', serverId: 'a' },
      { trunkId: 'carrier-b', serverId: 'b' },
    ]);
    // A later file naming one trunk: that number now goes out there only.
    await applyImport(db, parseImport(YAML.stringify({ numbers: [{ number: '+15550100001', trunk: 'carrier-b' }] }), 'g'), 2);
    expect(await trunksOfNumber(db, '+15550100001')).toEqual([{ trunkId: 'carrier-b', serverId: 'b' }]);
    // No servers, no server: fields: the implicit default server, as before.
    await applyImport(db, parseImport(YAML.stringify({ trunks: [{ id: 't' }], agents: [{ id: 'z', name: 'z' }], phones: [{ endpoint: 'pz', agent: 'z' }] }), 'h'), 3);
    expect((await allPhones(db)).find((p) => p.endpoint === 'pz')?.serverId).toBe('default');
  });

  it('an unknown server is a problem with its line and a did-you-mean; nothing is imported', async () => {
    const dir = tmp();
    const db = openDb(join(dir, 'db.sqlite'));
    dbs.push(db);
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'servers:\n  - id: east\ntrunks:\n  - id: t1\n    server: eastt\nagents:\n  - id: a\n    name: A\nphones:\n  - endpoint: p1\n    agent: a\n    server: west\n',
    );
    let msg = '';
    try {
      await importFile(db, file, 1);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg.split('\n').slice(1)).toEqual([
      '  line 5: trunks[0] (t1).server: no server "eastt"; did you mean "east"?',
      '  line 12: phones[0] (p1).server: no server "west" (servers: east, default)',
    ]);
    expect(await allServers(db)).toEqual([]);
  });

  it("a daemon's server: the directory's ARI/AMI settings, its own secrets; an unknown one is refused with a did-you-mean", async () => {
    const db = openDb(join(tmp(), 'db.sqlite'));
    dbs.push(db);
    await applyImport(db, parseImport(YAML.stringify(FILE), 'f'), 1);
    const config = loadConfig(undefined, { CALLBACKD_SERVER: 'b', CALLBACKD_ARI_PASSWORD: 'shared', CALLBACKD_SERVER_B_ARI_PASSWORD: 'only-b', CALLBACKD_AMI_SECRET: 's' });
    expect(config.server).toBe('b');
    expect(config.ari.password).toBe('only-b');
    const bound = bindServer(config, await getServer(db, 'b'), ['a', 'b', 'default']);
    expect(bound).toMatchObject({ ari: { url: 'http://127.0.0.1:8089', username: 'cb-b', password: 'only-b' }, ami: { host: '127.0.0.1', port: 5039, username: 'callbackd', secret: 's' } });
    // The default server: the daemon's own settings, untouched.
    const dflt = loadConfig(undefined, { CALLBACKD_ARI_PASSWORD: 'x', CALLBACKD_AMI_SECRET: 'y' });
    expect(bindServer(dflt, await getServer(db, 'default'), ['a', 'b', 'default'])).toEqual({ ari: dflt.ari, ami: dflt.ami });
    expect(bindServer({ ...dflt, server: 'bb' }, undefined, ['a', 'b', 'default'])).toEqual({
      error: 'server: "bb" is not in the directory (known: a, b, default); did you mean "b"?; add it to the import file\'s servers: section and run callbackd import',
    });
  });
});

describe('two daemons, one per server, one SQLite file', () => {
  it("a USERONLY callback is placed by its owner's server, through that server's trunk", async () => {
    const path = join(tmp(), 'db.sqlite');
    const setup = openDb(path);
    dbs.push(setup);
    await applyImport(setup, parseImport(YAML.stringify(FILE), 'f'), Date.now());
    const A = daemon(path, 'a');
    const B = daemon(path, 'b');
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
    const path = join(tmp(), 'db.sqlite');
    const setup = openDb(path);
    dbs.push(setup);
    await applyImport(setup, parseImport(YAML.stringify(FILE), 'f'), Date.now());
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) ids.push((await bookCallback(setup, { leadId: `l${i}`, due: '+0s', actor: 'test', type: 'ANYONE' }, Date.now())).callback.id);
    const A = daemon(path, 'a');
    const B = daemon(path, 'b');
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
    const path = join(tmp(), 'db.sqlite');
    const setup = openDb(path);
    dbs.push(setup);
    await applyImport(setup, parseImport(YAML.stringify({ ...FILE, phones: [...FILE.phones, { endpoint: 'pa1-b', agent: 'a1', server: 'b' }] }), 'f'), Date.now());
    const id = (await bookCallback(setup, { leadId: 'l0', due: '+0s', actor: 'test', type: 'USERONLY', ownerAgentId: 'a1' }, Date.now())).callback.id;
    // The owner's phones are registered nowhere: each server has its own reason to wait.
    const away = () => {
      const p = new FakePresence();
      for (const ep of ['pa1', 'pa1-b']) p.phones.set(ep, { registered: false, inUse: false, idleSince: 0 });
      return p;
    };
    const A = daemon(path, 'a', away());
    const B = daemon(path, 'b', away());
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
    const db = openDb(join(tmp(), 'db.sqlite'));
    dbs.push(db);
    await applyImport(db, parseImport(YAML.stringify(FILE), 'f'), 1);
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

describe('ops: which server', () => {
  it('/readyz says the server and the database; the phone listings name each phone\'s server', async () => {
    const path = join(tmp(), 'db.sqlite');
    const db = openDb(path);
    dbs.push(db);
    await applyImport(db, parseImport(YAML.stringify(FILE), 'f'), 1);
    const api = await testApi(db, { ready: () => ({ ari: true, ami: true, presence: true, server: 'b', database: db.describe() }) });
    try {
      const r = await api.inject({ method: 'GET', url: '/readyz' });
      expect(r.statusCode).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ ready: true, server: 'b', database: { engine: 'sqlite', where: path } });
    } finally {
      await api.close();
    }
    // callbackd agents: each phone's server, and presence as each server's daemon wrote it.
    await writePresence(db, [{ endpoint: 'pb1', registered: true, reachable: true, contactUri: 'sip:pb1@127.0.0.1:5093', deviceState: 'NOT_INUSE', inUse: false, changedAt: 1, writtenAt: Date.now() }], 'b');
    const agents = await runCli(['agents', '--db', path, '--json']);
    expect(agents.code, agents.stderr).toBe(0);
    expect(JSON.parse(agents.stdout).phones.map((p: { endpoint: string; server: string; registered: boolean }) => [p.endpoint, p.server, p.registered])).toEqual([
      ['pa1', 'a', false], ['pa2', 'a', false], ['pb1', 'b', true], ['pb2', 'b', false],
    ]);
    const table = await runCli(['agents', '--db', path]);
    expect(table.stdout).toMatch(/^AGENT\s+PHONE\s+SERVER\s+STATUS/m);
    expect(table.stdout).toMatch(/^b1\s+pb1\s+b\s+ACTIVE\s+yes/m);
    // /metrics says the server in callbackd_info: test/integration/metrics-info.test.ts.
  });
});

describe('recording retention per server', () => {
  it("each daemon deletes only its own server's expired recordings (another Asterisk's are not its to count as gone)", async () => {
    const db = openDb(join(tmp(), 'db.sqlite'));
    dbs.push(db);
    await applyImport(db, parseImport(YAML.stringify({ ...FILE, campaigns: [{ ...FILE.campaigns[0], recording_retention_days: 1 }] }), 'f'), 1);
    const now = Date.now();
    const recorded = async (lead: string, trunk: string) => {
      const id = await store.insertCallback(db, { leadId: lead, campaignId: 'C', type: 'ANYONE', ownerAgentId: null, dueAt: now, dueZone: 'UTC', maxAttempts: 3, notes: null }, now);
      const r = db.$client
        .prepare(
          `INSERT INTO call_attempts (callback_id, seq, dial_order, caller_id, customer_number, trunk_id, agent_channel_id, customer_channel_id, bridge_id, lease_token, started_at, ended_at, outcome)
           VALUES (?, 1, 'AGENT_FIRST', '+1', '+2', ?, ?, ?, ?, 'tok', ?, NULL, 'ANSWERED')`,
        )
        .run(id, trunk, `a${id}`, `c${id}`, `b${id}`, now - 3 * 86_400_000);
      // Named while the call is up (fenced: lease token, no end yet), then ended.
      expect(await setRecordingName(db, Number(r.lastInsertRowid), 'tok', `rec-${trunk}`)).toBe(true);
      db.$client.prepare('UPDATE call_attempts SET ended_at = ? WHERE id = ?').run(now - 2 * 86_400_000, Number(r.lastInsertRowid));
    };
    await recorded('l0', 'carrier-a');
    await recorded('l1', 'carrier-b');
    const deleted: string[] = [];
    const ari = { deleteStoredRecording: async (name: string) => void deleted.push(name) } as unknown as AriClient;
    expect(await sweepRecordings({ db, ari, log: createLogger('silent'), now: () => now, serverId: 'b' })).toBe(1);
    expect(deleted).toEqual(['rec-carrier-b']);
    expect(await sweepRecordings({ db, ari, log: createLogger('silent'), now: () => now, serverId: 'a' })).toBe(1);
    expect(deleted).toEqual(['rec-carrier-b', 'rec-carrier-a']);
  });
});
