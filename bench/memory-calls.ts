// bench: where the daemon's resident memory sits before and after N calls on the lab (issue 18 item 6).
// N USERONLY callbacks due over SPREAD_MS (bench:trigger's shape); at ready and after the calls it prints
// RSS split by /proc/PID/smaps (the node binary and libraries mapped from disk, malloc's brk heap, other
// anonymous memory: V8's spaces and malloc's arenas) beside V8's own figures from /metrics.
// With SNAPSHOTS=1 the daemon (started with --heapsnapshot-signal=SIGUSR2) writes a heap snapshot at
// each point, compared by bench/heap-diff.ts; a snapshot inflates RSS, so take figures from runs without.
//   npm run build && node dist/bench/memory-calls.js [N] [SPREAD_MS]
// The daemon inherits NODE_OPTIONS and MALLOC_* from this process (e.g. NODE_OPTIONS=--max-semi-space-size=2).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { insertCallback } from '../src/store/callbacks.js';
import { openDb } from '../src/store/db.js';
import { waitFor } from '../test/lab/lab.js';
import { runBench } from './lab-bench.js';

const N = Number(process.argv[2] ?? 200);
const SPREAD_MS = Number(process.argv[3] ?? 30000);
const SNAPSHOTS = process.env.SNAPSHOTS === '1';
if (SNAPSHOTS) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --heapsnapshot-signal=SIGUSR2`.trim();

/** Resident KiB by kind of mapping. */
function residentOf(pid: number): Record<'file' | 'brk' | 'anon' | 'total', number> {
  const out = { file: 0, brk: 0, anon: 0, total: 0 };
  let kind: 'file' | 'brk' | 'anon' = 'anon';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) kind = head[1]!.startsWith('/') ? 'file' : head[1] === '[heap]' ? 'brk' : 'anon';
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) {
      out[kind] += Number(rss[1]);
      out.total += Number(rss[1]);
    }
  }
  return out;
}

async function v8Figures(log: string): Promise<string> {
  const port = /"port":(\d+)[^\n]*HTTP API listening/.exec(log)?.[1];
  const metrics = port ? await (await fetch(`http://127.0.0.1:${port}/metrics`)).text() : '';
  const mib = (name: string) => ((Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN)) / 1048576).toFixed(1);
  return `V8 heap total ${mib('nodejs_heap_size_total_bytes')} MiB (used ${mib('nodejs_heap_size_used_bytes')}), external ${mib('nodejs_external_memory_bytes')} MiB`;
}

const snapshots = () => readdirSync('.').filter((f) => f.endsWith('.heapsnapshot'));
async function snapshot(pid: number): Promise<string | null> {
  if (!SNAPSHOTS) return null;
  const before = new Set(snapshots());
  process.kill(pid, 'SIGUSR2');
  await waitFor('the heap snapshot', () => snapshots().some((f) => !before.has(f)), 60000, 500);
  const file = snapshots().find((f) => !before.has(f))!;
  // Written as it is taken: done once its size stops moving.
  let size = -1;
  await waitFor('the heap snapshot to be written', () => {
    const now = statSync(file).size;
    const still = now > 0 && now === size;
    size = now;
    return still;
  }, 120000, 2000);
  return file;
}

await runBench({ name: 'memcalls', n: N }, async (lab) => {
  const pid = lab.daemon.proc!.pid!;
  const mib = (kb: number) => (kb / 1024).toFixed(1);
  const line = async (when: string) => {
    const r = residentOf(pid);
    return `  ${when.padEnd(16)} RSS ${mib(r.total)} MiB: mapped files ${mib(r.file)}, brk heap ${mib(r.brk)}, other anonymous ${mib(r.anon)}; ${await v8Figures(lab.daemon.log)}`;
  };
  await new Promise((r) => setTimeout(r, 5000)); // presence settled
  const atReady = await line('at ready');
  const snapReady = await snapshot(pid);
  const store = openDb(lab.db);
  const t0 = Date.now() + 3000;
  for (const [i, a] of lab.agents.entries()) {
    await insertCallback(store, { leadId: `lead-${a}`, campaignId: 'B', type: 'USERONLY', ownerAgentId: a, dueAt: t0 + Math.round((i * SPREAD_MS) / N), dueZone: 'UTC', maxAttempts: 1, notes: null }, Date.now());
  }
  const open = () => (store.$client.prepare("SELECT count(*) n FROM callbacks WHERE state IN ('ACTIVE','LIVE','DIALING')").get() as { n: number }).n;
  await new Promise((r) => setTimeout(r, t0 + SPREAD_MS - Date.now()));
  await waitFor('every callback to finish', () => open() === 0, 60000, 1000);
  const completed = (store.$client.prepare("SELECT count(*) n FROM callbacks WHERE state = 'COMPLETED'").get() as { n: number }).n;
  await new Promise((r) => setTimeout(r, 2000));
  const after = await line(`after ${N} calls`);
  const snapAfter = await snapshot(pid);
  const peak = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  console.log(`memory, ${N} calls due over ${SPREAD_MS} ms (${completed} COMPLETED); NODE_OPTIONS=${process.env.NODE_OPTIONS ?? ''}`);
  console.log(atReady);
  console.log(after);
  console.log(`  peak RSS ${mib(peak)} MiB${snapReady ? `; snapshots ${snapReady} ${snapAfter} (node dist/bench/heap-diff.js BEFORE AFTER)` : ''}`);
  store.$client.close();
  return { file: `memory-calls-${N}.txt`, csv: [atReady, after].join('\n') + '\n' };
});
