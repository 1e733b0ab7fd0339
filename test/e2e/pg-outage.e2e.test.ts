// The database stops under traffic (issue 16 item 4), on the real lab: one daemon on a real
// PostgreSQL cluster (test/lab/postgres.ts) places agent-first callbacks in three waves. While the
// first wave's customers are bridged and the second's ring, the PostgreSQL server is stopped
// (pg_ctl -m immediate: every connection cut, no goodbye, crash recovery at the next start) for
// ~5 s and started again on the same data directory and port; the third wave comes due during the
// outage. Commits are durable in this database (synchronous_commit on, see pg-center.ts), as on a
// real server: what the daemon was told is committed survives the crash.
// Judged by the carrier's own SIPp log and the database afterwards: calls in progress are not cut
// off (bridged customers talk until SIPp hangs up), nothing is double-dialed (customer INVITEs =
// counted attempts), the callbacks due during the outage are placed within RESUME_BOUND_MS of the
// restart, every callback ends COMPLETED, none is left DIALING, the daemon keeps running and its
// /readyz (and a person's API request: 503 DB_UNREACHABLE) says the database is unreachable while it is.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { answersAndHangups, concurrentCalls } from './carrier-log.js';
import { attemptsOf, getCallback } from '../../src/store/callbacks.js';
import { all, run } from '../../src/store/engine.js';
import { cli, sleep, waitFor } from '../lab/lab.js';
import { describeOnPgCenter } from '../lab/e2e-fixture.js';

const WAVE = 2; // callbacks per wave, each owned by its own agent (USERONLY)
const LEASE_MS = 12_000; // renewed every 4 s: a 5 s outage never lets it lapse
const OUTAGE_MS = 5000;
/** The third wave is claimed this soon after PostgreSQL is back: the tick's 1 s retry plus the pool's reconnect. */
const RESUME_BOUND_MS = 5000;

interface Ready {
  at: number;
  status: number;
  database?: { reachable?: boolean };
}

describeOnPgCenter('PostgreSQL stopped for a few seconds under traffic', 'PostgreSQL outage', { prefix: 'out', agents: 3 * WAVE, numberPrefix: '+1555310', carrierRingMs: 6000, durableCommits: true }, (t) => {
  // The customers ring 6 s, answer, talk up to 20 s and hang up (test/lab/sipp/carrier-patient.xml).
  it('calls in progress go on, nothing is double-dialed, dialing resumes after the restart, the daemon says the database is unreachable meanwhile', async () => {
    const { db, dir, agents, number, trunk, url } = t.center;
    const daemon = t.center.daemon('a', { scheduler: { leaseMs: LEASE_MS } });
    await daemon.ready();
    const port = await waitFor('the API to listen', () => Number(/"port":(\d+),"msg":"HTTP API listening"/.exec(daemon.log)?.[1] ?? 0) || false);
    const readyz = async (): Promise<Ready> => {
      const at = Date.now();
      try {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(3000) });
        return { at, status: res.status, ...((await res.json()) as object) };
      } catch (err) {
        return { at, status: 0, database: { reachable: undefined }, ...{ error: (err as Error).message } };
      }
    };
    expect((await readyz()).database?.reachable).toBe(true);
    // A person's API request meanwhile (the token is looked up in the database too).
    writeFileSync(join(dir, 'users.json'), JSON.stringify({ users: [{ id: 'boss', role: 'manager', campaigns: ['OUT'] }] }));
    expect(cli(['import', join(dir, 'users.json'), '--db', url]).code).toBe(0);
    const token = cli(['token', 'create', '--user', 'boss', '--db', url]).stdout.trim();
    const list = async () => {
      const res = await fetch(`http://127.0.0.1:${port}/callbacks?limit=1`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(3000) });
      return { status: res.status, code: ((await res.json()) as { code?: string }).code };
    };
    expect((await list()).status).toBe(200);

    const add = (i: number, due: string) => {
      const r = cli(['callback', 'add', '--db', url, '--json', '--lead', `lead-${agents[i]}`, '--due', due, '--owner', agents[i]!, '--type', 'USERONLY']);
      expect(r.code, r.stderr).toBe(0);
      return { id: JSON.parse(r.stdout).id as number, number: number(i), wave: Math.floor(i / WAVE) };
    };
    const seq = (from: number) => Array.from({ length: WAVE }, (_, k) => from + k);
    // Wave 2 is booked for later; it is moved to come due during the outage below.
    const later = seq(2 * WAVE).map((i) => add(i, '+1h'));
    // Wave 0 now (bridged when the database stops), wave 1 a few seconds later (ringing then).
    const ids = seq(0).map((i) => add(i, 'now'));
    ids.push(...seq(WAVE).map((i) => add(i, '+4s')));
    const rows = async (of = ids) => Promise.all(of.map(async (c) => ({ ...c, cb: (await getCallback(db, c.id))!, attempts: await attemptsOf(db, c.id) })));
    const last = (r: Awaited<ReturnType<typeof rows>>[number]) => r.attempts.at(-1);
    await waitFor('wave 0 bridged and wave 1 ringing', async () => {
      const now = await rows();
      return now.every((r) => (r.wave === 0 ? last(r)?.outcome === 'ANSWERED' : last(r)?.customerRingingAt != null && last(r)?.customerAnsweredAt === null));
    }, 40_000, 100);
    // Wave 2 comes due while the database is down (as if booked for then; the notification is what
    // an edit through the API or CLI sends).
    await run(db, sql`UPDATE callbacks SET due_at = ${Date.now() + 2500} WHERE id IN (${sql.join(later.map((c) => sql`${c.id}`), sql`, `)})`);
    await run(db, sql`SELECT pg_notify('callbackd', 'events')`);
    ids.push(...later);

    const stoppedAt = Date.now();
    t.pg.halt('immediate');
    const during: Ready[] = [];
    while (Date.now() - stoppedAt < OUTAGE_MS) {
      during.push(await readyz());
      await sleep(500);
    }
    const listDuring = await list();
    t.pg.resume();
    const resumedAt = Date.now();
    console.log(`PostgreSQL stopped ${stoppedAt}, started again ${resumedAt} (${resumedAt - stoppedAt} ms down)`);

    const done = await waitFor('every callback to complete and every call to end', async () => {
      const now = await rows();
      return now.every((r) => r.cb.state === 'COMPLETED' && r.attempts.every((t) => t.outcome !== null && (t.outcome !== 'ANSWERED' || t.endedAt !== null))) && now;
    }, 90_000, 250).catch(async (err: Error) => {
      // What was left, for the reader of a failure (the daemon's log is kept in `dir`).
      const left = (await rows()).map((r) => ({ id: r.id, wave: r.wave, state: r.cb.state, next: r.cb.nextAttemptAt, wait: r.cb.waitReason, attempts: r.attempts.map((t) => [t.outcome, t.endedAt]) }));
      throw new Error(`${err.message}; resumed ${resumedAt}; left: ${JSON.stringify(left)}`);
    });
    // The database says every call ended; the carrier's log has its last BYE a moment later.
    await waitFor("every call ended in the carrier's log", () => concurrentCalls(trunk.messageFile).open === 0, 5000, 20);
    const after = await readyz();
    const invites = trunk.invites();
    const calls = answersAndHangups(trunk.messageFile);
    const report = done.map((r) => ({
      id: r.id, wave: r.wave, outcomes: r.attempts.map((t) => t.outcome).join(' → '), counted: r.cb.attempts,
      invites: invites.filter((m) => m.firstLine.includes(`sip:${r.number}@`)).length,
      dueAt: r.cb.dueAt, claimedAt: r.attempts[0]!.startedAt,
      talkedMs: calls.filter((c) => c.number === r.number).map((c) => (c.hungUpAt ?? 0) - c.answeredAt),
      hungUpBy: calls.filter((c) => c.number === r.number).map((c) => c.hungUpBy),
    }));
    console.log(`outage (${dir}):\n  /readyz during: ${during.map((r) => `${r.status}/${r.database?.reachable}`).join(' ')}; after: ${after.status}/${after.database?.reachable}\n` +
      report.map((r) => `  wave ${r.wave} callback ${r.id}: ${r.outcomes}; INVITEs ${r.invites}, counted ${r.counted}; claimed ${r.claimedAt - resumedAt} ms after the restart; talked ${r.talkedMs.join(',')} ms, hung up by ${r.hungUpBy.join(',')}`).join('\n'));

    // Nothing double-dialed: the carrier saw one INVITE per counted attempt, one attempt each.
    for (const r of report) expect(r, `callback ${r.id}`).toMatchObject({ outcomes: 'ANSWERED', counted: 1, invites: 1 });
    // Calls in progress were not cut off: every customer hung up by themselves after their 20 s.
    expect(calls.filter((c) => c.hungUpBy !== 'customer'), 'customers cut off or never hung up').toEqual([]);
    for (const r of report.filter((x) => x.wave < 2)) expect(Math.min(...r.talkedMs), `callback ${r.id} talked through the outage`).toBeGreaterThanOrEqual(19_000);
    // Wave 2 came due during the outage and was placed after it, within the bound.
    for (const r of report.filter((x) => x.wave === 2)) {
      expect(r.dueAt).toBeGreaterThan(stoppedAt);
      expect(r.dueAt).toBeLessThan(resumedAt);
      expect(r.claimedAt).toBeGreaterThanOrEqual(resumedAt - 1000); // the pg_ctl start returns once the server accepts connections
      expect(r.claimedAt - resumedAt, `callback ${r.id}: dialed within ${RESUME_BOUND_MS} ms of the restart`).toBeLessThan(RESUME_BOUND_MS);
    }
    expect(await all(db, sql`SELECT id FROM callbacks WHERE state = 'DIALING'`)).toEqual([]);
    // The daemon kept running and said what was wrong, then recovered.
    expect(daemon.exitCode).toBeNull();
    expect(during.length).toBeGreaterThan(3);
    expect(during.filter((r) => r.status !== 503 || r.database?.reachable !== false), '/readyz during the outage: 503, database unreachable').toEqual([]);
    expect(after).toMatchObject({ status: 200, database: { reachable: true } });
    // The API said what was wrong, not "internal error".
    expect(listDuring).toEqual({ status: 503, code: 'DB_UNREACHABLE' });
    expect((await list()).status).toBe(200);
  }, 240_000);
});
