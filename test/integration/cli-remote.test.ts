import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { buildApi } from '../../src/api/server.js';
import { createToken } from '../../src/app/auth.js';
import { applyImport, parseImport } from '../../src/import.js';
import { openDb, type Db } from '../../src/store/db.js';
import { runCli } from './cli-run.js';

// The CLI through the daemon's API when it has a token, and through the database when the daemon
// is down. The CLI runs in this process (test/integration/cli-run.ts).

let db: Db;
let dbFile: string;
let api: FastifyInstance;
let url: string;
let token: string;

beforeEach(async () => {
  dbFile = join(mkdtempSync(join(tmpdir(), 'cbd-cli-')), 'db.sqlite');
  db = openDb(dbFile);
  await applyImport(db, parseImport(YAML.stringify({
    trunks: [{ id: 'carrier' }], numbers: [{ number: '+15550100001', trunk: 'carrier' }],
    campaigns: [{ id: 'C', name: 'C', time_zone: 'UTC', outbound_number: '+15550100001' }], lists: [{ id: 'L', campaign: 'C' }],
    agents: [{ id: 'a1', name: 'A', campaigns: ['C'] }], leads: [{ id: 'l1', list: 'L', phone: '+15551230001' }],
    users: [{ id: 'mgr', role: 'manager', campaigns: ['C'], lead_modify: true }, { id: 'viewer', role: 'manager', campaigns: ['C'] }],
  }), 'f'), Date.now());
  token = (await createToken(db, 'mgr', 'cli', Date.now())).token;
  api = await buildApi({ db, log: pino({ level: 'silent' }), now: Date.now, nudge: () => undefined, ready: () => ({ ari: true, ami: true, presence: true }), bodyLimit: 65536 });
  await api.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(api.server.address() as { port: number }).port}`;
});
afterEach(async () => {
  await api.close();
});

const run = (args: string[], env: Record<string, string>) => runCli([...args, '--db', dbFile], env);

describe('CLI through the API', () => {
  it('with a token, callback add/edit/cancel go through the API: the role applies and the audit names the user', async () => {
    const env = { CALLBACKD_TOKEN: token, CALLBACKD_API: url };
    const add = await run(['callback', 'add', '--lead', 'l1', '--due', '+1h', '--type', 'ANYONE', '--json'], env);
    expect(add.code, add.stderr).toBe(0);
    const id = JSON.parse(add.stdout).id as number;
    expect((await run(['callback', 'edit', String(id), '--notes', 'via api'], env)).code).toBe(0);
    const viewer = await run(['callback', 'cancel', String(id)], { CALLBACKD_TOKEN: (await createToken(db, 'viewer', null, Date.now())).token, CALLBACKD_API: url });
    expect(viewer).toMatchObject({ code: 1, stderr: expect.stringMatching(/editing callbacks needs the lead-modify permission \(API 403\)/) });
    expect((await run(['callback', 'cancel', String(id)], env)).code).toBe(0);
    const shown = JSON.parse((await run(['callback', 'show', String(id), '--json'], env)).stdout);
    expect(shown.audit.map((a: { actor: string; action: string }) => `${a.actor}:${a.action}`)).toEqual(['mgr:create', 'mgr:edit', 'mgr:cancel']);
    expect(shown.state).toBe('CANCELLED');
  });

  it('when the daemon is down, it says so and uses the database', async () => {
    await api.close();
    const r = await run(['callback', 'add', '--lead', 'l1', '--due', '+1h', '--json'], { CALLBACKD_TOKEN: token, CALLBACKD_API: url });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/the daemon's API is not reachable .*; using the database directly/);
    expect(JSON.parse(r.stdout).id).toBe(1);
  });
});

describe('one view of a callback', () => {
  it("the CLI prints the API's view, from the database and through the API alike (version included)", async () => {
    const env = { CALLBACKD_TOKEN: token, CALLBACKD_API: url };
    const viaApi = JSON.parse((await run(['callback', 'add', '--lead', 'l1', '--due', '+1h', '--type', 'ANYONE', '--json'], env)).stdout);
    const edited = await run(['callback', 'edit', String(viaApi.id), '--notes', 'hi'], {});
    expect(edited.code, edited.stderr).toBe(0);
    expect(edited.stdout).toMatch(/\(version 2\)/);
    const local = JSON.parse((await run(['callback', 'show', String(viaApi.id), '--json'], {})).stdout);
    const remote = JSON.parse((await run(['callback', 'show', String(viaApi.id), '--json'], env)).stdout);
    expect(Object.keys(local).sort()).toEqual(Object.keys(remote).sort());
    expect({ ...local, audit: undefined }).toEqual({ ...remote, audit: undefined });
    expect(local).toMatchObject({ version: 2, notes: 'hi', list: 'L', campaign: 'C', lastCalledAt: null });
  });
});
