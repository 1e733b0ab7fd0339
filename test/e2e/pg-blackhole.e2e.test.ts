// PostgreSQL as a network black hole under a running daemon (README "What happens when things fail"),
// on the real lab: the cluster's postmaster and backends are stopped with SIGSTOP (test/lab/pg-freeze.ts):
// the kernel still accepts and acknowledges, nothing answers, as when packets to the database host are
// dropped. The daemon runs with database.queryTimeoutMs 2 s and connectTimeoutMs 1 s. /readyz and the
// API must say "database unreachable" within those bounds instead of hanging for the OS's TCP timeout;
// a callback that comes due meanwhile is not claimed, and is placed once the processes are resumed
// (SIGCONT), with nothing restarted. Judged by the HTTP answers, their times, the carrier's SIPp log
// and the database.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { concurrentCalls } from './carrier-log.js';
import { attemptsOf, getCallback } from '../../src/store/callbacks.js';
import { describeOnPgCenter } from '../lab/e2e-fixture.js';
import { cli, waitFor } from '../lab/lab.js';
import { freezeCluster } from '../lab/pg-freeze.js';

const QUERY_MS = 2000;
const CONNECT_MS = 1000;
/** The longest an answer may take while frozen: a statement's bound and grace, then a new connection's. */
const ANSWER_BOUND_MS = QUERY_MS + 2000 + CONNECT_MS + 1000;
const FROZEN_MS = 12_000;

interface Timed {
  ms: number;
  status: number;
  body: { code?: string; database?: { reachable?: boolean; error?: string } };
}

describeOnPgCenter('PostgreSQL stops answering (a black hole) under a running daemon', 'PostgreSQL black hole', { prefix: 'bho', agents: 1, numberPrefix: '+1555330', carrier: 'answer' }, (t) => {
  it('/readyz and the API say "database unreachable" within the bounds, nothing is claimed meanwhile, and the due callback is placed after SIGCONT', async () => {
    const { db, dir, agents, number, trunk, url } = t.center;
    const daemon = t.center.daemon('a', { database: { path: undefined, url, queryTimeoutMs: QUERY_MS, connectTimeoutMs: CONNECT_MS } });
    await daemon.ready();
    const port = await waitFor('the API to listen', () => Number(/"port":(\d+),"msg":"HTTP API listening"/.exec(daemon.log)?.[1] ?? 0) || false);
    writeFileSync(join(dir, 'users.json'), JSON.stringify({ users: [{ id: 'boss', role: 'manager', campaigns: ['BHO'] }] }));
    expect(cli(['import', join(dir, 'users.json'), '--db', url]).code).toBe(0);
    const token = cli(['token', 'create', '--user', 'boss', '--db', url]).stdout.trim();
    const get = async (path: string, auth = false): Promise<Timed> => {
      const t0 = Date.now();
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: auth ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(60_000) });
      return { ms: Date.now() - t0, status: res.status, body: (await res.json()) as Timed['body'] };
    };
    expect((await get('/readyz')).status).toBe(200);
    expect((await get('/callbacks?limit=1', true)).status).toBe(200);
    const r = cli(['callback', 'add', '--db', url, '--json', '--lead', `lead-${agents[0]}`, '--due', '+5s', '--owner', agents[0]!, '--type', 'USERONLY']);
    expect(r.code, r.stderr).toBe(0);
    const id = JSON.parse(r.stdout).id as number;

    const thaw = freezeCluster(t.pg.dir);
    const frozenAt = Date.now();
    let thawedAt = 0;
    try {
      const during: Timed[] = [];
      while (Date.now() - frozenAt < FROZEN_MS) {
        during.push(await get('/readyz'));
        during.push(await get('/callbacks?limit=1', true));
      }
      console.log(`frozen (${dir}): ${during.map((d) => `${d.status}/${d.body.code ?? d.body.database?.reachable} ${d.ms} ms`).join(', ')}`);
      expect(during.length).toBeGreaterThanOrEqual(4);
      for (const d of during) expect(d.ms, 'answered within the bounds').toBeLessThan(ANSWER_BOUND_MS);
      const readyz = during.filter((d) => 'database' in d.body);
      expect(readyz.length).toBeGreaterThan(0);
      for (const d of readyz) expect(d).toMatchObject({ status: 503, body: { database: { reachable: false } } });
      const api = during.filter((d) => !('database' in d.body));
      for (const d of api) expect(d).toMatchObject({ status: 503, body: { code: 'DB_UNREACHABLE' } });
      expect(trunk.invites(), 'nothing dialed while frozen').toHaveLength(0);
      expect(daemon.log).toMatch(/database unreachable: not claiming callbacks/);
    } finally {
      thaw();
      thawedAt = Date.now();
    }

    const done = await waitFor('the callback to be placed and its call to end', async () => {
      const cb = (await getCallback(db, id))!;
      const attempts = await attemptsOf(db, id);
      return cb.state === 'COMPLETED' && attempts.every((a) => a.endedAt !== null) && { cb, attempts };
    }, 60_000, 250);
    await waitFor("every call ended in the carrier's log", () => concurrentCalls(trunk.messageFile).open === 0, 5000, 20);
    const claimedAfter = done.attempts[0]!.startedAt - thawedAt;
    console.log(`after SIGCONT: claimed ${claimedAfter} ms later; ${done.attempts.map((a) => a.outcome).join(' → ')}; carrier INVITEs ${trunk.invites().length}`);
    expect(done.cb.dueAt).toBeLessThan(thawedAt); // it came due while frozen
    expect(claimedAfter).toBeGreaterThanOrEqual(0);
    expect(claimedAfter).toBeLessThan(10_000);
    expect(done.attempts.map((a) => a.outcome)).toEqual(['ANSWERED']);
    expect(trunk.invites().filter((m) => m.firstLine.includes(`sip:${number(0)}@`))).toHaveLength(1);
    expect((await get('/readyz')).status).toBe(200);
    expect(daemon.exitCode).toBeNull();
  }, 180_000);
});
