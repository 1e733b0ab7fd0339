import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AriClient } from '../../src/asterisk/ari.js';
import { StaleClaimSweep, startStaleClaimSweep, SWEEP_BACKLOG_MS, SWEEP_BATCH, SWEEP_EVERY_MS, SWEEP_FIRST_MS, type StaleClaimsPort } from '../../src/asterisk/stale-claims.js';

// The sweep of CBDAPP_ globals left by a daemon that died (src/asterisk/stale-claims.ts), with the
// ARI client against a local HTTP server that keeps globals and channels as Asterisk does; the
// listing is `dialplan show globals` as AMI returns it. (The real Asterisk: test/e2e/claim-sweep.e2e.test.ts.)

let server: http.Server;
let ari: AriClient;
afterEach(async () => {
  ari?.stop();
  await new Promise((r) => server?.close(r));
});

/** live: GET /channels/ID → 200; broken: → 500; otherwise 404. Counts requests in flight. */
async function fakeAsterisk(o: { globals: Map<string, string>; live: Set<string>; broken?: Set<string> }) {
  const stats = { inFlight: 0, peak: 0, looks: [] as string[] };
  server = http.createServer((req, res) => {
    stats.inFlight++;
    stats.peak = Math.max(stats.peak, stats.inFlight);
    const done = (status: number, body = '') =>
      setTimeout(() => {
        stats.inFlight--;
        res.statusCode = status;
        res.end(body);
      }, 2);
    const u = new URL(req.url!, 'http://x');
    if (req.method === 'POST' && u.pathname === '/ari/asterisk/variable' && !u.searchParams.has('value')) {
      o.globals.delete(u.searchParams.get('variable')!);
      return done(204);
    }
    const ch = /^\/ari\/channels\/([^/]+)$/.exec(u.pathname)?.[1];
    if (req.method === 'GET' && ch) {
      stats.looks.push(ch);
      if (o.broken?.has(ch)) return done(500, '{"message":"boom"}');
      return o.live.has(ch) ? done(200, JSON.stringify({ id: ch, name: `PJSIP/${ch}`, state: 'Ringing' })) : done(404, '{"message":"Channel not found"}');
    }
    done(404, '{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  ari = new AriClient({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    username: 'u', password: 'p', app: 'callbackd', requestTimeoutMs: 1000,
    reconnect: { initialDelayMs: 1000, maxDelayMs: 1000 }, log: pino({ level: 'silent' }),
  });
  return stats;
}

function port(globals: Map<string, string>, warnings: string[] = [], refuse = false): StaleClaimsPort {
  return {
    // As AmiClient.command('dialplan show globals') returns it.
    listGlobals: async () => {
      if (refuse) throw new Error('AMI Command "dialplan show globals": Permission denied');
      return ['', ...[...globals].map(([k, v]) => `${k}=${v}`), `    -- ${globals.size} variable(s)`];
    },
    channelExists: async (id) => (await ari.getChannel(id, 'new')) !== null,
    deleteGlobal: (variable) => ari.deleteGlobal(variable, 'new'),
    log: pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) }),
  };
}

describe('the CBDAPP_ sweep', () => {
  it('deletes the globals of ended legs; keeps those of live legs, of failed looks, and other globals', async () => {
    const globals = new Map([
      ['CBDAPP_ended', 'callbackd-b'],
      ['CBDAPP_emptied', ''],
      ['CBDAPP_live', 'callbackd-b'],
      ['CBDAPP_unsure', 'callbackd-a'],
      ['CBD_ended', 'answered:1 held:2'],
      ['CALLBACKD_HOLD_SEC', '20'],
    ]);
    const stats = await fakeAsterisk({ globals, live: new Set(['live']), broken: new Set(['unsure']) });
    const r = await new StaleClaimSweep(port(globals)).run();
    expect(r).toEqual({ checked: 4, deleted: 2, more: false });
    expect([...globals.keys()].sort()).toEqual(['CALLBACKD_HOLD_SEC', 'CBDAPP_live', 'CBDAPP_unsure', 'CBD_ended']);
    expect(stats.looks.sort()).toEqual(['emptied', 'ended', 'live', 'unsure']);
  });

  it('more globals than a batch: at most SWEEP_BATCH looks per run, one request at a time, all swept over the runs', async () => {
    const globals = new Map<string, string>();
    const live = new Set<string>();
    const all: string[] = [];
    for (let i = 0; i < 3 * SWEEP_BATCH + 7; i++) {
      const id = `leg-${String(i).padStart(4, '0')}`;
      all.push(id);
      globals.set(`CBDAPP_${id}`, 'callbackd-b');
      if (i % 3 === 0) live.add(id);
    }
    const stats = await fakeAsterisk({ globals, live });
    const sweep = new StaleClaimSweep(port(globals));
    const runs: { checked: number; more: boolean }[] = [];
    for (let i = 0; i < 4; i++) {
      const before = stats.looks.length;
      const r = await sweep.run();
      expect(stats.looks.length - before).toBe(r.checked);
      expect(r.checked).toBeLessThanOrEqual(SWEEP_BATCH);
      runs.push({ checked: r.checked, more: r.more });
    }
    expect(stats.peak).toBe(1);
    expect(runs[0]).toEqual({ checked: SWEEP_BATCH, more: true });
    // Only the live legs' globals are left, and every one of them was looked at.
    expect([...globals.keys()].sort()).toEqual([...live].map((id) => `CBDAPP_${id}`).sort());
    expect(new Set(stats.looks)).toEqual(new Set(all));
  });

  it('an AMI user without write=command: one warning, nothing looked at or deleted, the next run tries again', async () => {
    const globals = new Map([['CBDAPP_ended', 'callbackd-b']]);
    const stats = await fakeAsterisk({ globals, live: new Set() });
    const warnings: string[] = [];
    const sweep = new StaleClaimSweep(port(globals, warnings, true));
    expect(await sweep.run()).toEqual({ checked: 0, deleted: 0, more: false });
    expect(await sweep.run()).toEqual({ checked: 0, deleted: 0, more: false });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/write=command/);
    expect(stats.looks).toEqual([]);
    expect(globals.size).toBe(1);
  });
});

describe('when the sweep runs', () => {
  afterEach(() => vi.useRealTimers());

  it('not before ARI and AMI are up; then every SWEEP_EVERY_MS, every SWEEP_BACKLOG_MS while globals are left; never after stop', async () => {
    vi.useFakeTimers();
    const globals = new Map<string, string>();
    for (let i = 0; i < SWEEP_BATCH + 1; i++) globals.set(`CBDAPP_live-${String(i).padStart(3, '0')}`, 'callbackd-b');
    const lists: number[] = [];
    let up = false;
    const stop = startStaleClaimSweep({
      listGlobals: async () => (lists.push(Date.now()), [...globals].map(([k, v]) => `${k}=${v}`)),
      channelExists: async () => true, // all live: the backlog stays
      deleteGlobal: async () => undefined,
      log: pino({ level: 'silent' }),
    }, () => up);
    const t0 = Date.now();
    await vi.advanceTimersByTimeAsync(3 * SWEEP_FIRST_MS);
    expect(lists).toEqual([]); // not connected yet
    up = true;
    await vi.advanceTimersByTimeAsync(SWEEP_FIRST_MS);
    expect(lists).toHaveLength(1);
    // 51 globals, 50 per run: the second run comes SWEEP_BACKLOG_MS later and looks at the one left.
    await vi.advanceTimersByTimeAsync(SWEEP_BACKLOG_MS);
    expect(lists).toHaveLength(2);
    expect(lists[1]! - lists[0]!).toBe(SWEEP_BACKLOG_MS);
    // The pass is over (every global looked at, all live): the next in SWEEP_EVERY_MS.
    await vi.advanceTimersByTimeAsync(SWEEP_EVERY_MS - 1);
    expect(lists).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(lists).toHaveLength(3);
    expect(lists[0]! - t0).toBe(4 * SWEEP_FIRST_MS);
    stop();
    await vi.advanceTimersByTimeAsync(2 * SWEEP_EVERY_MS);
    expect(lists).toHaveLength(3);
  });
});
