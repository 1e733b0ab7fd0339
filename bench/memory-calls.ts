// bench: where the daemon's resident memory sits before and after N calls on the lab (issue 18 item 6).
// N USERONLY callbacks due over SPREAD_MS (bench:trigger's shape and measurement: bench/trigger-measure.ts);
// at ready and after the calls it prints RSS split by /proc/PID/smaps (the node binary and libraries mapped
// from disk, malloc's brk heap, other anonymous memory: V8's spaces and malloc's arenas) beside V8's own
// figures from /metrics, the trigger latency (due → the agent's INVITE at SIPp) and the daemon's CPU.
// With SNAPSHOTS=1 the daemon (started with --heapsnapshot-signal=SIGUSR2) writes a heap snapshot at
// each point, compared by bench/heap-diff.ts; a snapshot inflates RSS, so take figures from runs without.
//   npm run build && node dist/bench/memory-calls.js [N] [SPREAD_MS]
// VARIANTS ('unit' by default), separated by ';', each its own lab run: 'unit' is the environment
// deploy/callbackd.service gives the daemon (its Environment= lines); other tokens add to or replace it:
// '--flag' goes to NODE_OPTIONS, 'argv:--flag' on node's command line (V8 flags NODE_OPTIONS refuses, e.g.
// --single-threaded-gc), 'NAME=value' into the daemon's environment, 'BENCH_CLI=path' runs another build's
// daemon, 'bare' starts from nothing instead of the unit. ROUNDS=k runs the list k
// times, alternating, and prints a summary per variant at the end.
//   VARIANTS='unit;unit --single-threaded-gc' ROUNDS=2 node dist/bench/memory-calls.js
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { all } from '../src/store/engine.js';
import { REPO, waitFor } from '../test/lab/lab.js';
import { cpuSeconds, pct, runBench } from './lab-bench.js';
import { measureTrigger } from './trigger-measure.js';

const N = Number(process.argv[2] ?? 200);
const SPREAD_MS = Number(process.argv[3] ?? 30000);
const SNAPSHOTS = process.env.SNAPSHOTS === '1';
const VARIANTS = (process.env.VARIANTS ?? 'unit').split(';').map((v) => v.trim());
const ROUNDS = Number(process.env.ROUNDS ?? 1);
// A second reading once the daemon has idled this long after the calls (V8's memory reducer runs a major GC
// when the allocation rate drops): what an idle daemon keeps, beside what it holds just after the work.
const IDLE_MS = Number(process.env.IDLE_MS ?? 30000);

/** The daemon's environment in deploy/callbackd.service: its `Environment=NAME=value` lines. */
function unitEnv(): Record<string, string> {
  const unit = readFileSync(join(REPO, 'deploy/callbackd.service'), 'utf8');
  return Object.fromEntries([...unit.matchAll(/^Environment=([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** A variant's daemon environment and build: 'unit' and 'bare' set the start, the other tokens add to it. */
function variantEnv(variant: string, unit: Record<string, string>): { env: Record<string, string>; nodeArgs: string[]; cli?: string } {
  const tokens = variant.split(/\s+/).filter(Boolean);
  const env: Record<string, string> = tokens.includes('bare') ? {} : { ...unit };
  const opts = (env.NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean);
  const nodeArgs: string[] = [];
  let cli: string | undefined;
  for (const t of tokens) {
    if (t === 'unit' || t === 'bare') continue;
    if (t.startsWith('argv:')) nodeArgs.push(t.slice('argv:'.length));
    else if (t.startsWith('--')) {
      // A flag replaces the same flag's value (--max-semi-space-size=1 over the unit's =2).
      const name = t.split('=')[0]!;
      const at = opts.findIndex((o) => o.split('=')[0] === name);
      if (at >= 0) opts[at] = t;
      else opts.push(t);
    } else if (t.startsWith('BENCH_CLI=')) cli = t.slice('BENCH_CLI='.length);
    else if (t.includes('=')) env[t.slice(0, t.indexOf('='))] = t.slice(t.indexOf('=') + 1);
    else throw new Error(`VARIANTS: '${t}' is neither unit, bare, --flag nor NAME=value`);
  }
  if (SNAPSHOTS) opts.push('--heapsnapshot-signal=SIGUSR2');
  if (opts.length) env.NODE_OPTIONS = opts.join(' ');
  else delete env.NODE_OPTIONS;
  return { env, nodeArgs, ...(cli ? { cli } : {}) };
}

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

async function v8Heap(log: string): Promise<{ total: number; used: number; external: number }> {
  const port = /"port":(\d+)[^\n]*HTTP API listening/.exec(log)?.[1];
  const metrics = port ? await (await fetch(`http://127.0.0.1:${port}/metrics`)).text() : '';
  const kib = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN) / 1024;
  return { total: kib('nodejs_heap_size_total_bytes'), used: kib('nodejs_heap_size_used_bytes'), external: kib('nodejs_external_memory_bytes') };
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

interface Run {
  variant: string;
  ready: ReturnType<typeof residentOf>;
  after: ReturnType<typeof residentOf>;
  idle: ReturnType<typeof residentOf>;
  heap: { total: number; used: number; external: number };
  peakKb: number;
  p50: number;
  p99: number;
  cpu: number;
}

const mib = (kb: number) => (kb / 1024).toFixed(1);
/** The daemon's system CPU seconds so far (/proc/PID/stat field 15): what malloc's trimming would add to. */
const sysSeconds = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[12]) / 100;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

async function run(variant: string): Promise<Run | null> {
  const { env, nodeArgs, cli } = variantEnv(variant, unitEnv());
  const saved = process.env.BENCH_CLI;
  if (cli) process.env.BENCH_CLI = cli;
  let out: Run | null = null;
  await runBench({ name: 'memcalls', n: N, daemonEnv: env, daemonNodeArgs: nodeArgs }, async (lab) => {
    const pid = lab.daemon.proc!.pid!;
    await new Promise((r) => setTimeout(r, 5000)); // presence settled
    const ready = residentOf(pid);
    const readyHeap = await v8Heap(lab.daemon.log);
    const snapReady = await snapshot(pid);
    const cpu0 = cpuSeconds(pid);
    const sys0 = sysSeconds(pid);
    const t = await measureTrigger(lab, SPREAD_MS);
    const open = async () => Number((await all<{ n: number | string }>(lab.store, sql.raw("SELECT count(*) AS n FROM callbacks WHERE state IN ('ACTIVE','LIVE','DIALING')")))[0]!.n);
    await waitFor('every callback to finish', async () => (await open()) === 0, 60000, 1000);
    await new Promise((r) => setTimeout(r, 2000));
    const cpu = cpuSeconds(pid) - cpu0;
    const sys = sysSeconds(pid) - sys0;
    const after = residentOf(pid);
    const heap = await v8Heap(lab.daemon.log);
    const snapAfter = await snapshot(pid);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const idle = residentOf(pid);
    const idleHeap = await v8Heap(lab.daemon.log);
    const peakKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    out = { variant, ready, after, idle, heap, peakKb, p50: pct(t.latencies, 50), p99: pct(t.latencies, 99), cpu };
    const split = (r: ReturnType<typeof residentOf>) => `RSS ${mib(r.total)} MiB: mapped files ${mib(r.file)}, brk heap ${mib(r.brk)}, other anonymous ${mib(r.anon)}`;
    const v8 = (h: typeof heap) => `V8 heap total ${mib(h.total)} MiB (used ${mib(h.used)}), external ${mib(h.external)} MiB`;
    console.log(`memory, ${N} calls due over ${SPREAD_MS} ms; variant '${variant}': ${JSON.stringify(env)}${nodeArgs.length ? ` node ${nodeArgs.join(' ')}` : ''}${cli ? ` cli ${cli}` : ''}`);
    console.log(`  at ready         ${split(ready)}; ${v8(readyHeap)}`);
    console.log(`  after ${N} calls  ${split(after)}; ${v8(heap)}`);
    console.log(`  idle ${IDLE_MS / 1000} s later ${split(idle)}; ${v8(idleHeap)}`);
    console.log(`  peak RSS ${mib(peakKb)} MiB; trigger latency p50 ${out.p50} ms, p99 ${out.p99} ms (${t.latencies.length} rang, ${t.early} early); daemon CPU for the calls ${cpu.toFixed(2)} s (system ${sys.toFixed(2)} s)`);
    if (snapReady) console.log(`  snapshots ${snapReady} ${snapAfter} (node dist/bench/heap-diff.js BEFORE AFTER)`);
    const row = [variant, mib(ready.total), mib(after.total), mib(idle.total), mib(after.file), mib(after.brk), mib(after.anon), mib(heap.total), mib(heap.used), out.p50, out.p99, cpu.toFixed(2)].join(',');
    return { file: `memory-calls-${N}.csv`, csv: 'variant,ready_mib,after_mib,idle_mib,files_mib,brk_mib,anon_mib,v8_total_mib,v8_used_mib,p50_ms,p99_ms,cpu_s\n' + row + '\n' };
  });
  if (cli) process.env.BENCH_CLI = saved;
  return out;
}

const runs: Run[] = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const v of VARIANTS) {
    const r = await run(v);
    if (r) runs.push(r);
  }
}
if (runs.length > 1) {
  console.log(`\n${new Date().toISOString()}: ${N} calls over ${SPREAD_MS} ms, ${ROUNDS} round(s), alternating`);
  console.log(`| variant | runs | after calls: RSS each (MiB) | median | files / brk / other anon (median) | V8 total (used) | idle ${IDLE_MS / 1000} s later: RSS each | p50 / p99 latency | daemon CPU |`);
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const v of VARIANTS) {
    const rs = runs.filter((r) => r.variant === v);
    if (!rs.length) continue;
    const m = (f: (r: Run) => number) => median(rs.map(f));
    console.log(`| ${v} | ${rs.length} | ${rs.map((r) => mib(r.after.total)).join(', ')} | ${mib(m((r) => r.after.total))} | ${mib(m((r) => r.after.file))} / ${mib(m((r) => r.after.brk))} / ${mib(m((r) => r.after.anon))} | ${mib(m((r) => r.heap.total))} (${mib(m((r) => r.heap.used))}) | ${rs.map((r) => mib(r.idle.total)).join(', ')} | ${m((r) => r.p50)} / ${m((r) => r.p99)} ms | ${m((r) => r.cpu).toFixed(2)} s |`);
  }
}
