import { afterEach, describe, expect, it } from 'vitest';
import { bookCallback } from '../../src/app/book.js';
import { claimForDial, closeAnsweredAttempt, finishAttempt, promoteDue } from '../../src/store/callbacks.js';
import type { Db } from '../../src/store/db.js';
import { openCallsByAgent } from '../../src/store/phone-servers.js';
import { writePresence, type PresenceWrite } from '../../src/store/presence.js';
import { runCli } from './cli-run.js';
import { importedDb, NOW, testApi, tokensFor } from './fixture.js';

// Each phone's server and an AI agent's load (issue 16 item 5, README "Running several servers" and
// "AI voice agents"), through the one phone view: `callbackd agents`, GET /phones, GET /dashboard
// and /readyz's usable count, over a database two servers' daemons write presence to.

const FILE = {
  servers: [
    { id: 'a', ari_url: 'http://127.0.0.1:8088', ami_host: '127.0.0.1', ami_port: 5038 },
    { id: 'b', ari_url: 'http://127.0.0.1:8089', ami_host: '127.0.0.1', ami_port: 5039 },
  ],
  trunks: [{ id: 'carrier-a', server: 'a' }, { id: 'carrier-b', server: 'b' }],
  numbers: [{ number: '+15550100001', trunk: ['carrier-a', 'carrier-b'] }],
  campaigns: [{ id: 'C', name: 'C', time_zone: 'UTC', outbound_number: '+15550100001', calltime_check: 'off' }],
  lists: [{ id: 'L', campaign: 'C' }],
  agents: [
    { id: 'h1', name: 'Human on a', campaigns: ['C'] },
    { id: 'h2', name: 'Human on b', campaigns: ['C'] },
    { id: 'bot', name: 'Voice bot', kind: 'ai', max_calls: 2, campaigns: ['C'] },
  ],
  phones: [
    { endpoint: 'ph1', agent: 'h1', server: 'a' },
    { endpoint: 'ph2', agent: 'h2', server: 'b' },
    { endpoint: 'ai-bot', agent: 'bot', server: 'b' },
  ],
  leads: Array.from({ length: 4 }, (_, i) => ({ id: `l${i}`, list: 'L', phone: `+1212555010${i}` })),
  users: [{ id: 'root', role: 'admin' }],
};

const seen = (endpoint: string, inUse: boolean): PresenceWrite => ({
  endpoint, registered: true, reachable: true, contactUri: `sip:${endpoint}@127.0.0.1`, deviceState: inUse ? 'INUSE' : 'NOT_INUSE', inUse, changedAt: NOW, writtenAt: Date.now(),
});

let db: Db | undefined;
afterEach(() => db?.$client.close());

/** A callback of `lead` for the bot, claimed by a daemon on server b: one call in progress on the bot. */
async function botCall(d: Db, lead: string, seq: number) {
  const cb = (await bookCallback(d, { leadId: lead, due: new Date(NOW + 60_000).toISOString(), type: 'ANYONE', ownerAgentId: null, notes: null, actor: 'test' }, NOW)).callback;
  await promoteDue(d, NOW + 120_000);
  const attempt = await claimForDial(d, {
    callbackId: cb.id, owner: 'd-b', token: `t${seq}`, leaseMs: 60_000, now: NOW + 120_000, dialOrder: 'AGENT_FIRST', agentId: 'bot', phoneEndpoint: 'ai-bot',
    callerId: '+15550100001', customerNumber: `+1212555010${seq}`, trunkId: 'carrier-b', ids: (s) => ({ agentChannelId: `a-${cb.id}-${s}`, customerChannelId: `c-${cb.id}-${s}`, bridgeId: `b-${cb.id}-${s}` }),
  });
  expect(attempt).not.toBeNull();
  return { id: cb.id, token: `t${seq}`, attemptId: attempt!.id };
}

type Row = { endpoint: string; server: string; inUse: boolean; inUseText: string; ai: { calls: number; maxCalls: number } | null; ringable: boolean; why: string; notRungBecause: string | null };
const brief = (rows: Row[]) => rows.map((r) => [r.endpoint, r.server, r.inUseText, r.ringable, r.notRungBecause]);

describe('the phone view: each phone\'s server; an AI agent "AI, n of max_calls calls", not "in use"', () => {
  it('callbackd agents, GET /phones, GET /dashboard and /readyz agree as the bot takes calls up to max_calls and ends them', async () => {
    const made = await importedDb('phone-view', FILE);
    const d = (db = made.db);
    const tok = await tokensFor(d, FILE);
    // Each server's daemon writes what its AMI shows: the human on a and the bot are in use.
    await writePresence(d, [seen('ph1', true)], 'a');
    await writePresence(d, [seen('ph2', false), seen('ai-bot', true)], 'b');
    const api = await testApi(d);
    const get = async (url: string) => {
      const r = await api.inject({ method: 'GET', url, headers: { authorization: `Bearer ${tok.root}` } });
      expect(r.statusCode, r.body).toBe(200);
      return JSON.parse(r.body) as { phones: Row[]; presenceWrittenAt?: string };
    };
    try {
      // No call yet: the bot's device state says in use, which does not stop it (0 of 2).
      let phones = (await get('/phones')).phones;
      expect(brief(phones)).toEqual([
        ['ai-bot', 'b', 'AI, 0 of 2 calls', true, null], // in endpoint order, on both engines
        ['ph1', 'a', 'yes', false, 'phone ph1 is in use'],
        ['ph2', 'b', 'no', true, null],
      ]);
      expect(phones.find((p) => p.endpoint === 'ai-bot')).toMatchObject({ inUse: true, ai: { calls: 0, maxCalls: 2 }, why: '' });
      expect(phones.find((p) => p.endpoint === 'ph1')).toMatchObject({ ai: null, why: 'in use' });

      const first = await botCall(d, 'l0', 0);
      expect(await openCallsByAgent(d)).toEqual(new Map([['bot', 1]]));
      phones = (await get('/phones')).phones;
      expect(brief(phones)[0]).toEqual(['ai-bot', 'b', 'AI, 1 of 2 calls', true, null]);

      // The second call fills it: not rung now, and the reason is its limit, never "in use".
      const second = await botCall(d, 'l1', 1);
      const full = ['ai-bot', 'b', 'AI, 2 of 2 calls', false, 'AI agent bot is on 2 callbacks (max_calls 2)'];
      expect(brief((await get('/phones')).phones)[0]).toEqual(full);
      expect(brief((await get(`/dashboard?from=${new Date(NOW - 3_600_000).toISOString()}&to=${new Date(NOW + 3_600_000).toISOString()}`)).phones)).toEqual(brief((await get('/phones')).phones));
      const ready = JSON.parse((await api.inject({ method: 'GET', url: '/readyz' })).body) as { phones: { total: number; registered: number; usable: number } };
      expect(ready.phones).toEqual({ total: 3, registered: 3, usable: 1 }); // ph2 only: ph1 in use, the bot full

      const cli = await runCli(['agents', '--db', made.dbPath]);
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stdout).toMatch(/^AGENT\s+PHONE\s+SERVER\s+STATUS\s+REGISTERED\s+CONTACT\s+IN USE\s+LAST CHANGE\s+RINGABLE$/m);
      expect(cli.stdout).toMatch(/^h1\s+ph1\s+a\s+ACTIVE\s+yes\s+sip:ph1@127\.0\.0\.1\s+yes\s+\S+\s+no: in use$/m);
      expect(cli.stdout).toMatch(/^h2\s+ph2\s+b\s+ACTIVE\s+yes\s+sip:ph2@127\.0\.0\.1\s+no\s+\S+\s+yes$/m);
      expect(cli.stdout).toMatch(/^bot\s+ai-bot\s+b\s+ACTIVE\s+yes\s+sip:ai-bot@127\.0\.0\.1\s+AI, 2 of 2 calls\s+\S+\s+no: AI at max_calls$/m);
      const json = await runCli(['agents', '--db', made.dbPath, '--json']);
      expect(JSON.parse(json.stdout)).toEqual(await get('/phones')); // the CLI prints the API's view

      // An answered call counts until it ends; a call that ended without an answer no longer counts.
      await finishAttempt(d, first.id, first.token, first.attemptId, { outcome: 'ANSWERED', cause: 16, sipCode: 200, endedAt: null, detail: null }, { state: 'COMPLETED' }, NOW + 130_000);
      expect(await openCallsByAgent(d)).toEqual(new Map([['bot', 2]]));
      await finishAttempt(d, second.id, second.token, second.attemptId, { outcome: 'NO_ANSWER', cause: 19, sipCode: 480, endedAt: NOW + 140_000, detail: null }, { state: 'NO_ANSWER', failReason: 'no answer' }, NOW + 140_000);
      expect(brief((await get('/phones')).phones)[0]).toEqual(['ai-bot', 'b', 'AI, 1 of 2 calls', true, null]);
      await closeAnsweredAttempt(d, first.attemptId, NOW + 200_000, 70_000);
      expect(await openCallsByAgent(d)).toEqual(new Map());
      expect(brief((await get('/phones')).phones)[0]).toEqual(['ai-bot', 'b', 'AI, 0 of 2 calls', true, null]);
    } finally {
      await api.close();
    }
  });

  it('callbackd status prints the server and database /readyz names, and the bot under its limit as usable', async () => {
    const made = await importedDb('phone-view-status', FILE);
    const d = (db = made.db);
    await writePresence(d, [seen('ph2', false), seen('ai-bot', true)], 'b');
    await botCall(d, 'l0', 0);
    const api = await testApi(d, { ready: () => ({ ari: true, ami: true, presence: true, server: 'b', database: d.describe() }) });
    try {
      await api.listen({ host: '127.0.0.1', port: 0 });
      const url = `http://127.0.0.1:${(api.server.address() as { port: number }).port}`;
      const r = await runCli(['status', '--api', url]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.split('\n').slice(0, 4)).toEqual([
        `callbackd at ${url}: ready`,
        `  server b, database sqlite ${made.dbPath}`,
        '  ARI connected, AMI connected, presence loaded',
        '  phones: 2 registered, 2 usable now, of 3',
      ]);
    } finally {
      await api.close();
    }
  });

  it('an unregistered AI endpoint is not rung, though it has room for calls', async () => {
    const made = await importedDb('phone-view-ai', FILE);
    const d = (db = made.db);
    const tok = await tokensFor(d, FILE);
    const api = await testApi(d);
    try {
      const r = await api.inject({ method: 'GET', url: '/phones', headers: { authorization: `Bearer ${tok.root}` } });
      const bot = (JSON.parse(r.body) as { phones: Row[] }).phones.find((p) => p.endpoint === 'ai-bot')!;
      expect(bot).toMatchObject({ server: 'b', inUseText: 'AI, 0 of 2 calls', ringable: false, why: 'not registered', notRungBecause: 'phone ai-bot is not registered' });
    } finally {
      await api.close();
    }
  });
});
