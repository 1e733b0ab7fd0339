// bench: the daemon's resident memory with STORED callbacks in its database (default 1,000,000),
// Asterisk absent (the ARI/AMI ports are closed: the daemon keeps retrying, its API and scheduler
// run). Starts the daemon once per variant on the same file and prints RSS side by side; with
// SNAPSHOT=1 it also writes a V8 heap snapshot of each (summarise with bench/heap-summary.ts).
//   npm run bench:memory [-- STORED]
import { execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../src/store/db.js';
import { cli, DaemonProc, tempDir, waitFor } from '../test/lab/lab.js';
import { generateCallbacks } from './generate.js';

const STORED = Number(process.argv[2] ?? 1_000_000);
const SETTLE_MS = Number(process.env.SETTLE_MS ?? 15000);

const dir = tempDir('memory');
// REUSE_DB=FILE measures on a database an earlier run filled (generating 1M takes minutes): copied, never changed.
const db = join(dir, 'callbackd.db');
if (process.env.REUSE_DB) copyFileSync(process.env.REUSE_DB, db);
const agents = Array.from({ length: 200 }, (_, i) => `bench${2001 + i}`);
writeFileSync(join(dir, 'import.json'), JSON.stringify({
  trunks: [{ id: 'carrier' }],
  numbers: [{ number: '+15550100001', trunk: 'carrier' }],
  campaigns: [{ id: 'B', name: 'Bench', time_zone: 'UTC', outbound_number: '+15550100001' }],
  lists: [{ id: 'L-B', campaign: 'B' }],
  agents: agents.map((a) => ({ id: a, name: a, campaigns: ['B'] })),
}));
let t = Date.now();
if (!process.env.REUSE_DB) {
  const r = cli(['import', join(dir, 'import.json'), '--db', db]);
  if (r.code !== 0) throw new Error(r.stderr);
  const g = openDb(db);
  // Most rows finished history, 5 % ACTIVE and due over the next 30 days: a production-like mix.
  generateCallbacks(g, STORED, { campaigns: ['B'], agents, now: Date.now() });
  g.$client.pragma('wal_checkpoint(TRUNCATE)');
  g.$client.close();
  console.log(`generated ${STORED} callbacks in ${Date.now() - t} ms (${db})`);
}

const status = (pid: number) => readFileSync(`/proc/${pid}/status`, 'utf8');
const kb = (s: string, k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);

async function measure(name: string, extra: Record<string, unknown>, tokens: string[], cliPath?: string): Promise<{ name: string; rss: number; hwm: number; heap: string }> {
  // '--flag' tokens go to NODE_OPTIONS, 'NAME=value' tokens into the daemon's environment.
  const opts = [...tokens.filter((x) => x.startsWith('--')), ...(process.env.SNAPSHOT ? ['--heapsnapshot-signal=SIGUSR2'] : [])];
  const env = Object.fromEntries(tokens.filter((x) => !x.startsWith('--')).map((x) => [x.slice(0, x.indexOf('=')), x.slice(x.indexOf('=') + 1)]));
  const d = new DaemonProc({
    db, dir,
    ...(cliPath ? { cli: cliPath } : {}),
    extra: { ari: { url: 'http://127.0.0.1:9' }, ami: { port: 9 }, log: { level: 'info' }, ...extra },
    env: { ...env, ...(opts.length ? { NODE_OPTIONS: opts.join(' ') } : {}) },
  }).start();
  t = Date.now();
  await waitFor('the HTTP API', () => /HTTP API listening/.test(d.log), 30000);
  // Let the scheduler pass, the API and the reconnect loops reach their steady state.
  await new Promise((res) => setTimeout(res, SETTLE_MS));
  const pid = d.proc!.pid!;
  const s = status(pid);
  let heap = '';
  if (process.env.SNAPSHOT) {
    const before = new Set(readdirSync(process.cwd()));
    d.proc!.kill('SIGUSR2');
    await waitFor('the heap snapshot', () => readdirSync(process.cwd()).some((f) => f.endsWith('.heapsnapshot') && !before.has(f)), 60000);
    await new Promise((res) => setTimeout(res, 3000));
    heap = readdirSync(process.cwd()).find((f) => f.endsWith('.heapsnapshot') && !before.has(f))!;
  }
  await d.kill('SIGTERM');
  writeFileSync(join(dir, `daemon-${name.replace(/[^\w.=-]+/g, "_")}.log`), d.log);
  return { name, rss: kb(s, 'VmRSS'), hwm: kb(s, 'VmHWM'), heap };
}

// VARIANTS, separated by ';': 'default', a JSON config merged over the lab's, node options and
// environment ('--max-semi-space-size=2 MALLOC_ARENA_MAX=2', with 'BENCH_CLI=path' another build's daemon),
// or 'before' (BENCH_CLI's build).
const variants = (process.env.VARIANTS ?? 'default').split(';');
const rows = [];
for (const v of variants) {
  if (v === 'before') rows.push(await measure(v, {}, [], process.env.BENCH_CLI));
  else if (!v.startsWith('{') && v !== 'default') {
    // 'BENCH_CLI=path' among the tokens: that build's daemon, with the other tokens' flags and environment.
    const tokens = v.split(' ');
    const cliPath = tokens.find((x) => x.startsWith('BENCH_CLI='))?.slice('BENCH_CLI='.length);
    rows.push(await measure(v, {}, tokens.filter((x) => !x.startsWith('BENCH_CLI=')), cliPath));
  }
  else rows.push(await measure(v, v === 'default' ? {} : JSON.parse(v), []));
}
console.log(`daemon RSS, ${STORED} callbacks stored, Asterisk absent, after ${SETTLE_MS} ms; node ${process.version}; ${execFileSync('nproc').toString().trim()} cores`);
for (const x of rows) console.log(`  ${x.name.padEnd(30)} RSS ${(x.rss / 1024).toFixed(1)} MiB  peak ${(x.hwm / 1024).toFixed(1)} MiB ${x.heap}`);
