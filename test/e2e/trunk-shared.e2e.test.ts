// A trunk's channel limit holds for the whole cluster (issue 16 item 3), on the real lab: two daemons
// bound to the same Asterisk share one PostgreSQL database and one trunk with max_channels 2. Eight
// callbacks come due at once, each owned by its own agent (USERONLY: the agents answer); the carrier
// answers every call and holds it ~3 s. Each daemon alone would allow 2 channels (4 together); the
// claim counts every daemon's open attempts, so the carrier's own SIPp log, the judge here, never shows
// more than 2 calls at once. Every callback ends COMPLETED, one carrier INVITE per counted attempt,
// nothing left DIALING.
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { concurrentCalls } from './carrier-log.js';
import { attemptsOf, getCallback } from '../../src/store/callbacks.js';
import { all as all_ } from '../../src/store/engine.js';
import { describeOnPgCenter } from '../lab/e2e-fixture.js';
import { cli, type DaemonProc, waitFor } from '../lab/lab.js';

const N = 8; // callbacks due at once, each with its own agent
const C = 2; // the trunk's max_channels

// Trunk carrier's SIPp (127.0.0.1:5081): rings 0.5 s, answers, talks 3 s, hangs up.
describeOnPgCenter('two daemons, one PostgreSQL database, one trunk limited to 2 channels', 'shared trunk limit', { prefix: 'trs', agents: N, numberPrefix: '+1555400', carrier: 'answer', trunkLimits: { max_channels: C } }, (t) => {
  it(`${N} callbacks due at once through a ${C}-channel trunk shared by two daemons: the carrier never has more than ${C} calls up`, async () => {
    const { url, db, dir, agents, number, trunk } = t.center;
    const a = t.center.daemon('a');
    const b = t.center.daemon('b');
    await Promise.all([a.ready(), b.ready()]);

    const started = Date.now();
    const ids = agents.map((agent, i) => {
      const r = cli(['callback', 'add', '--db', url, '--json', '--lead', `lead-${agent}`, '--due', 'now', '--owner', agent, '--type', 'USERONLY']);
      expect(r.code, r.stderr).toBe(0);
      return { id: JSON.parse(r.stdout).id as number, number: number(i) };
    });
    const all = async () => Promise.all(ids.map(async (c) => ({ ...c, cb: (await getCallback(db, c.id))!, attempts: await attemptsOf(db, c.id) })));
    const done = await waitFor('every callback to complete and every call to end', async () => {
      const rows = await all();
      return rows.every((r) => r.cb.state === 'COMPLETED' && r.attempts.every((t) => t.outcome !== null && t.endedAt !== null)) && rows;
    }, 120_000, 250);
    // The database says every call ended; the carrier's log has its last BYE a moment later.
    await waitFor("every call ended in the carrier's log", () => concurrentCalls(trunk.messageFile).open === 0, 5000, 20);
    const invites = trunk.invites();
    const load = concurrentCalls(trunk.messageFile);
    const claims = (d: DaemonProc) => (d.log.match(/claimed; dialing/g) ?? []).length;
    const limited = (d: DaemonProc) => (d.log.match(/claim refused: trunk carrier is at its limit/g) ?? []).length;
    const report = done.map((r) => ({ id: r.id, outcomes: r.attempts.map((t) => t.outcome).join(' → '), counted: r.cb.attempts, invites: invites.filter((m) => m.firstLine.includes(`sip:${r.number}@`)).length }));
    console.log(
      `shared trunk: all done ${Date.now() - started} ms after the first callback was added (8 CLI runs included); carrier saw ${load.calls} calls, at most ${load.max} at once; claims a ${claims(a)}, b ${claims(b)}; ` +
        `claims refused at the trunk limit a ${limited(a)}, b ${limited(b)} (${dir})\n` +
        report.map((r) => `  callback ${r.id}: ${r.outcomes}; customer INVITEs ${r.invites}, attempts counted ${r.counted}`).join('\n'),
    );

    expect(load.max, 'calls up at once on the carrier').toBeLessThanOrEqual(C);
    expect(load.max, 'the limit was reached (else this run proves nothing)').toBe(C);
    expect(load.open, 'calls never ended in the carrier log').toBe(0);
    expect(load.calls).toBe(invites.length);
    for (const r of report) expect(r.invites, `callback ${r.id}: INVITEs = counted attempts`).toBe(r.counted);
    expect(invites.length).toBe(report.reduce((n, r) => n + r.counted, 0));
    expect(claims(a) + claims(b)).toBeGreaterThanOrEqual(N);
    expect(await all_(db, sql`SELECT id FROM callbacks WHERE state = 'DIALING'`)).toEqual([]);
    expect(await all_(db, sql`SELECT id FROM call_attempts WHERE ended_at IS NULL`)).toEqual([]);
  }, 240_000);
});
