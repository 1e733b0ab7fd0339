// bench: N callbacks due at spread instants on the lab; trigger latency = first INVITE seen by the
// agent's SIPp − the callback's due instant. Prints min/p50/p99/max, the count that fired early,
// phones rung twice, trunk INVITEs and the daemons' memory. Not a test: it never fails on speed.
//   npm run bench:trigger [-- N SPREAD_MS STORED ENGINES DAEMONS]
// ENGINES: sqlite (default), pg, or sqlite,pg: one run after the other in this invocation, the same
// schedule, so their figures sit side by side (npm run bench:engines). DAEMONS (PostgreSQL only): 1
// (default), 2, or 1,2. The stored callbacks are generated once per engine before the lab lock is
// taken (bench/bench-db.ts); then the phases run back to back under one hold of /tmp/callbackd-lab.lock.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, tempDir } from '../test/lab/lab.js';
import { BenchPg, sqliteBenchDb, type BenchDatabase, type BenchEngine } from './bench-db.js';
import { takeLabLock } from './lab-lock.js';
import { pct, runBench } from './lab-bench.js';
import { measureTrigger, rssOf, triggerReport, triggerRow, type TriggerResult } from './trigger-measure.js';

const N = Number(process.argv[2] ?? 200);
const SPREAD_MS = Number(process.argv[3] ?? 30000);
// Other callbacks already stored (future-dated, never due during the run), e.g. 100000 or 10000000.
const STORED = Number(process.argv[4] ?? 0);
const ENGINES = (process.argv[5] ?? 'sqlite').split(',') as BenchEngine[];
const DAEMONS = (process.argv[6] ?? '1').split(',').map(Number) as (1 | 2)[];
if (ENGINES.some((e) => e !== 'sqlite' && e !== 'pg') || DAEMONS.some((d) => d !== 1 && d !== 2)) {
  throw new Error('usage: trigger-latency N SPREAD_MS STORED sqlite|pg|sqlite,pg 1|2|1,2');
}
const variants = ENGINES.flatMap((engine): { engine: BenchEngine; daemons: 1 | 2 }[] => (engine === 'sqlite' ? [{ engine, daemons: 1 }] : DAEMONS.map((daemons) => ({ engine, daemons }))));

console.log(`${new Date().toISOString()}: ${variants.map((v) => `${v.engine}×${v.daemons}`).join(', ')}; node ${process.version}; ${execFileSync('nproc').toString().trim()} cores`);
const results: TriggerResult[] = [];
let pg: BenchPg | null = null;
try {
  // Every database first (minutes at 10M rows, no lab needed), then the phases back to back under one lab lock.
  const databases: BenchDatabase[] = [];
  for (const v of variants) {
    const dir = tempDir(`bench-db-${v.engine}`);
    if (v.engine === 'sqlite') databases.push(sqliteBenchDb(dir, { n: N, stored: STORED }));
    else databases.push(await (pg ??= await BenchPg.start(dir, { n: N, stored: STORED, explain: STORED > 0 })).copy());
  }
  const release = await takeLabLock('bench:trigger');
  try {
    for (const [i, v] of variants.entries()) await phase(v, databases[i]!);
  } finally {
    release();
  }
} finally {
  pg?.stop();
}

async function phase(v: { engine: BenchEngine; daemons: 1 | 2 }, database: BenchDatabase): Promise<void> {
  await runBench({ name: 'bench', n: N, database, daemons: v.daemons }, async (lab) => {
    const pid = lab.daemon.proc!.pid!;
    const rssAtReady = rssOf(pid, 'VmRSS');
    const r = await measureTrigger(lab, SPREAD_MS);
    results.push(r);
    console.log(triggerReport(r, STORED));
    // Where the first daemon's resident memory sits after the run: V8 heap (reserved), buffers outside it.
    const port = /"port":(\d+)[^\n]*HTTP API listening/.exec(lab.daemon.log)?.[1];
    const metrics = port ? await (await fetch(`http://127.0.0.1:${port}/metrics`)).text() : '';
    const mib = (name: string) => ((Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN)) / 1048576).toFixed(1);
    console.log(`  first daemon: RSS at ready ${(rssAtReady / 1024).toFixed(1)} MiB, after the run ${(rssOf(pid, 'VmRSS') / 1024).toFixed(1)} MiB`);
    console.log(`  after the run: V8 heap total ${mib('nodejs_heap_size_total_bytes')} MiB (used ${mib('nodejs_heap_size_used_bytes')}), external ${mib('nodejs_external_memory_bytes')} MiB`);
    if (process.env.SNAPSHOT) {
      // Run with NODE_OPTIONS=--heapsnapshot-signal=SIGUSR2: the daemon writes Heap.*.heapsnapshot
      // into the current directory (summarise it with bench/heap-summary.ts).
      lab.daemon.proc!.kill('SIGUSR2');
      await new Promise((res) => setTimeout(res, 8000));
    }
    const tag = variants.length > 1 || v.engine !== 'sqlite' ? `-${v.engine}-${v.daemons}` : '';
    return { file: `trigger-latency-${N}-${SPREAD_MS}-${STORED}${tag}.csv`, csv: 'latency_ms\n' + r.latencies.join('\n') + '\n' };
  });
  if (database.engine === 'pg') await pg!.drop(database.url);
}

if (results.length > 1) {
  console.log('\nside by side (this invocation, same schedule):');
  console.log('| engine | daemons | callbacks | due over | other stored | min | p50 | p95 | p99 | max | early | phones rung twice | trunk INVITEs | claims per daemon |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) console.log(triggerRow(r, STORED));
  const s = results.find((r) => r.engine === 'sqlite');
  const p = results.find((r) => r.engine === 'pg' && r.daemons === 1);
  if (s && p) {
    const ratio = (q: number) => (pct(p.latencies, q) / Math.max(1, pct(s.latencies, q))).toFixed(2);
    console.log(`  pg / sqlite, one daemon each: p50 ${ratio(50)}×, p99 ${ratio(99)}×`);
  }
  mkdirSync(join(REPO, 'bench/out'), { recursive: true });
  writeFileSync(join(REPO, 'bench/out', `trigger-side-by-side-${N}-${SPREAD_MS}-${STORED}.md`), results.map((r) => triggerRow(r, STORED)).join('\n') + '\n');
}
