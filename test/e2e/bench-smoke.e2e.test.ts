// The PostgreSQL trigger bench at CI size (issue 16, Benchmarks): the same code as `npm run
// bench:trigger -- N SPREAD_MS STORED pg 2` (bench/trigger-measure.ts), with small numbers: 10
// callbacks due over 5 s, two daemons on one PostgreSQL database holding 10,000 other callbacks.
// It asserts what must hold whatever the machine's speed: none fired early, every agent phone rang
// exactly once, the carrier saw one INVITE per callback, and the claims add up. Judged from SIPp's logs.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BenchPg } from '../../bench/bench-db.js';
import { benchLab, type BenchLab } from '../../bench/lab-bench.js';
import { measureTrigger, triggerReport } from '../../bench/trigger-measure.js';
import { all } from '../../src/store/engine.js';
import { describeIfLab } from '../lab/e2e-fixture.js';
import { tempDir } from '../lab/lab.js';
import { startPostgres, type PgStart } from '../lab/postgres.js';

const N = 10;
const STORED = 10_000;
const SPREAD_MS = 5000;

let pgStart: PgStart | null = null;
const needsPg = () => {
  pgStart = startPostgres();
  return pgStart.ok ? null : pgStart.reason;
};

describeIfLab(`bench smoke: ${N} callbacks due over ${SPREAD_MS / 1000} s, two daemons on PostgreSQL, ${STORED} stored`, { name: 'bench smoke suite', needs: needsPg }, () => {
  let pg: BenchPg | undefined;
  let lab: BenchLab | undefined;

  beforeAll(async () => {
    if (!pgStart?.ok) throw new Error(`the bench smoke suite needs PostgreSQL: ${pgStart?.reason}`);
    pg = await BenchPg.start(tempDir('bench-smoke-db'), { n: N, stored: STORED, cluster: pgStart.lab });
    lab = await benchLab({ name: 'bench-smoke', n: N, database: pg.seed, daemons: 2 });
  }, 120_000);

  afterAll(async () => {
    await lab?.close();
    pg?.stop();
  });

  it('none early, every phone rung once, one trunk INVITE per callback, every callback claimed once', async () => {
    const stored = await all<{ n: number | string }>(lab!.store, sql`SELECT count(*) AS n FROM callbacks WHERE lead_id LIKE 'stored%'`);
    expect(Number(stored[0]!.n)).toBe(STORED);
    const r = await measureTrigger(lab!, SPREAD_MS);
    console.log(triggerReport(r, STORED));
    expect(r.latencies).toHaveLength(N);
    expect(r.early).toBe(0);
    expect(r.phonesRung).toBe(N);
    expect(r.rungTwice).toBe(0);
    expect(r.trunkInvites).toBe(N);
    expect(r.claims).toHaveLength(2);
    expect(r.claims.reduce((a, b) => a + b, 0)).toBe(N);
    const open = await all<{ n: number | string }>(lab!.store, sql`SELECT count(*) AS n FROM callbacks WHERE lead_id LIKE 'lead-%' AND state IN ('ACTIVE','LIVE')`);
    expect(Number(open[0]!.n)).toBe(0);
  }, 60_000);
});
