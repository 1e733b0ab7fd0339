// A trunk's channel limit holds for the whole cluster (issue 16 item 3), on the real lab: two daemons
// bound to the same Asterisk share one PostgreSQL database and one trunk with max_channels 2. Eight
// callbacks come due at once, each owned by its own agent (USERONLY: the agents answer); the carrier
// answers every call and holds it ~3 s. Each daemon alone would allow 2 channels (4 together); the
// claim counts every daemon's open attempts, so the carrier's own SIPp log, the judge here, never shows
// more than 2 calls at once. Every callback ends COMPLETED, one carrier INVITE per counted attempt,
// nothing left DIALING.
import { sql } from 'drizzle-orm';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concurrentCalls } from './carrier-log.js';
import type { Engine } from '../../src/store/conn.js';
import { attemptsOf, getCallback } from '../../src/store/callbacks.js';
import { all as all_ } from '../../src/store/engine.js';
import { openEngine } from '../../src/store/open-engine.js';
import { carrier, cli, type DaemonProc, provisionLab, type Sipp, startAsterisk, stopAsterisk, tempDir, waitFor } from '../lab/lab.js';
import { agentEndpointsConf, agentPhones, inCi, pgDaemon, pgLabSuite } from '../lab/pg-cluster.js';
import type { PgLab } from '../lab/postgres.js';

const N = 8; // callbacks due at once, each with its own agent
const C = 2; // the trunk's max_channels
const agents = Array.from({ length: N }, (_, i) => `trs${3001 + i}`);
const number = (i: number) => `+1555400${String(i).padStart(4, '0')}`;

const { missing, pg: pgStarted } = pgLabSuite('shared trunk limit');

describe.skipIf(missing !== null && !inCi)('two daemons, one PostgreSQL database, one trunk limited to 2 channels', () => {
  let pgLab: PgLab | undefined;
  let url = '';
  let dir = '';
  let db: Engine | undefined;
  const peers: Sipp[] = [];
  let trunk: Sipp;
  const daemons: DaemonProc[] = [];

  beforeAll(async () => {
    if (missing || !pgStarted) throw new Error(`the shared trunk limit suite cannot start: ${missing}`);
    pgLab = pgStarted;
    url = await pgLab.createDatabase();
    dir = tempDir('trunk-shared');
    agentEndpointsConf(dir, agents, 'trs');
    provisionLab();
    startAsterisk();
    // Trunk carrier's SIPp (127.0.0.1:5081): rings 0.5 s, answers, talks 3 s, hangs up.
    trunk = carrier('answer', dir);
    peers.push(trunk);
    peers.push(await agentPhones(dir, agents, 'trs'));
    const center = {
      trunks: [{ id: 'carrier', max_channels: C }],
      numbers: [{ number: '+15550100007', trunk: 'carrier' }],
      campaigns: [{ id: 'S', name: 'Shared trunk', time_zone: 'UTC', outbound_number: '+15550100007', dial_order: 'agent_first', max_attempts: 5, retry_delays: { congestion: 1, no_answer: 1, busy: 1 } }],
      lists: [{ id: 'SL', campaign: 'S' }],
      agents: agents.map((a) => ({ id: a, name: a, campaigns: ['S'] })),
      phones: agents.map((a) => ({ endpoint: a, agent: a })),
      leads: agents.map((a, i) => ({ id: `lead-${a}`, list: 'SL', phone: number(i) })),
    };
    writeFileSync(join(dir, 'center.json'), JSON.stringify(center));
    const imp = cli(['import', join(dir, 'center.json'), '--db', url]);
    expect(imp.code, imp.stderr).toBe(0);
    db = await openEngine({ url }, { migrate: false }, {});
  }, 180_000);

  afterAll(async () => {
    for (const [i, d] of daemons.entries()) {
      await d.kill('SIGTERM');
      writeFileSync(join(dir, `daemon-${i}.log`), d.log);
    }
    peers.forEach((p) => p.stop());
    await db?.close();
    if (!missing) stopAsterisk();
    delete process.env.CALLBACKD_LAB_EXTRA_DIR;
    pgLab?.stop();
  });

  it(`${N} callbacks due at once through a ${C}-channel trunk shared by two daemons: the carrier never has more than ${C} calls up`, async () => {
    const a = pgDaemon(dir, 'trs-a', url);
    const b = pgDaemon(dir, 'trs-b', url);
    daemons.push(a, b);
    await Promise.all([a.ready(), b.ready()]);

    const started = Date.now();
    const ids = agents.map((agent, i) => {
      const r = cli(['callback', 'add', '--db', url, '--json', '--lead', `lead-${agent}`, '--due', 'now', '--owner', agent, '--type', 'USERONLY']);
      expect(r.code, r.stderr).toBe(0);
      return { id: JSON.parse(r.stdout).id as number, number: number(i) };
    });
    const all = async () => Promise.all(ids.map(async (c) => ({ ...c, cb: (await getCallback(db!, c.id))!, attempts: await attemptsOf(db!, c.id) })));
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
    expect(await all_(db!, sql`SELECT id FROM callbacks WHERE state = 'DIALING'`)).toEqual([]);
    expect(await all_(db!, sql`SELECT id FROM call_attempts WHERE ended_at IS NULL`)).toEqual([]);
  }, 240_000);
});
