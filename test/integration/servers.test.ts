import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadConfig } from '../../src/config.js';
import { applyImport, importFile, parseImport } from '../../src/import.js';
import type { AriClient } from '../../src/asterisk/ari.js';
import { bindServer } from '../../src/server-binding.js';
import * as store from '../../src/store/callbacks.js';
import { openDb, type Db } from '../../src/store/db.js';
import { allPhones } from '../../src/store/directory.js';
import { allServers, getServer, trunksOfNumber } from '../../src/store/servers.js';
import { testApi, TWO_SERVERS as FILE } from './fixture.js';
import { runCli } from './cli-run.js';
import { sweepRecordings } from '../../src/dialer/recording-retention.js';
import { setRecordingName } from '../../src/store/recordings.js';
import { createLogger } from '../../src/log.js';
import { writePresence } from '../../src/store/presence.js';

// Several Asterisk servers on one SQLite file (README "Running several servers"): the directory's
// servers, the import's references, ops and recordings. Two schedulers (two daemons, one per server)
// sharing callbacks, on both engines: test/integration/scheduler/servers.test.ts.


const tmp = () => mkdtempSync(join(tmpdir(), 'cbd-servers-'));
const dbs: Db[] = [];
afterEach(async () => {
  for (const d of dbs.splice(0)) d.$client.close();
});


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
