// bench: N callbacks due at spread instants on the lab; trigger latency = first INVITE seen by the
// agent's SIPp − the callback's due instant. Prints min/p50/p99/max, the count that fired early,
// phones rung twice, trunk INVITEs and the daemon's peak RSS. Not a test: it never fails on speed.
//   npm run bench:trigger [-- N SPREAD_MS STORED]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { insertCallback } from '../src/store/callbacks.js';
import { openDb } from '../src/store/db.js';
import { waitFor } from '../test/lab/lab.js';
import { generateCallbacks } from './generate.js';
import { pct, runBench, traced } from './lab-bench.js';

const N = Number(process.argv[2] ?? 200);
const SPREAD_MS = Number(process.argv[3] ?? 30000);
// Other callbacks already stored (future-dated, never due during the run), e.g. 100000 or 1000000.
const STORED = Number(process.argv[4] ?? 0);
const rssOf = (pid: number, field: 'VmRSS' | 'VmHWM') => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

await runBench({
    name: 'bench',
    n: N,
    beforeDaemon: (file) => {
      if (STORED === 0) return;
      const g = openDb(file);
      generateCallbacks(g, STORED, { campaigns: ['B'], agents: Array.from({ length: N }, (_, i) => `bench${2001 + i}`), now: Date.now(), allFuture: true, prefix: 'stored' });
      g.$client.pragma('wal_checkpoint(TRUNCATE)');
      g.$client.close();
    },
  }, async (lab) => {
  const { agents, phones, trunk } = lab;
  const store = openDb(lab.db);
  const rssAtReady = rssOf(lab.daemon.proc!.pid!, 'VmRSS');
  const t0 = Date.now() + 3000;
  const due = new Map<string, number>();
  for (const [i, a] of agents.entries()) {
    const at = t0 + Math.round((i * SPREAD_MS) / N);
    due.set(a, at);
    await insertCallback(store, { leadId: `lead-${a}`, campaignId: 'B', type: 'USERONLY', ownerAgentId: a, dueAt: at, dueZone: 'UTC', maxAttempts: 1, notes: null }, Date.now());
  }
  // Parsing SIPp's growing log takes CPU the lab shares (measured: it pushed bench:vs-callfiles'
  // p99 from 95 to 648 ms): wait out the schedule before looking.
  await new Promise((r) => setTimeout(r, t0 + SPREAD_MS + 2000 - Date.now()));
  await waitFor('every agent INVITE', () => new Set(phones.invites().map((m) => m.firstLine)).size >= N, 30000, 1000);
  await waitFor('every customer INVITE', () => trunk.invites().length >= N, 15000, 200);
  await new Promise((r) => setTimeout(r, 1000)); // room for a duplicate to show up, if any

  // Only the first INVITE per phone counts: later ones are retransmissions or re-rings.
  const lat: number[] = [];
  const firstSeen = new Set<string>();
  for (const m of traced(phones)) {
    const ep = /^INVITE sip:(bench\d+)@/.exec(m.firstLine)?.[1];
    if (m.direction !== 'received' || !ep || firstSeen.has(ep) || !due.has(ep)) continue;
    firstSeen.add(ep);
    lat.push(m.at - due.get(ep)!);
  }
  const perPhone = new Map<string, number>();
  for (const m of phones.invites()) {
    const ep = /^INVITE sip:([^@]+)@/.exec(m.firstLine)?.[1] ?? '?';
    perPhone.set(ep, (perPhone.get(ep) ?? 0) + 1);
  }
  const rungTwice = [...perPhone.values()].filter((n) => n > 1).length;
  const rssKb = rssOf(lab.daemon.proc!.pid!, 'VmHWM');
  const rssNow = rssOf(lab.daemon.proc!.pid!, 'VmRSS');
  // Where the resident memory sits after the run: V8 heap (reserved), buffers outside it.
  const port = /"port":(\d+)[^\n]*HTTP API listening/.exec(lab.daemon.log)?.[1];
  const metrics = port ? await (await fetch(`http://127.0.0.1:${port}/metrics`)).text() : '';
  const mib = (name: string) => ((Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN)) / 1048576).toFixed(1);
  lat.sort((a, b) => a - b);
  const fmt = (x: number) => `${x.toFixed(0)} ms`;
  console.log(`trigger latency, ${lat.length}/${N} callbacks due over ${SPREAD_MS} ms, ${STORED} other callbacks stored, due instant → agent INVITE at SIPp`);
  console.log(`  min ${fmt(lat[0]!)}  p50 ${fmt(pct(lat, 50))}  p95 ${fmt(pct(lat, 95))}  p99 ${fmt(pct(lat, 99))}  max ${fmt(lat[lat.length - 1]!)}  early: ${lat.filter((x) => x < 0).length}`);
  console.log(`  phones rung more than once: ${rungTwice}; customer INVITEs on the trunk: ${trunk.invites().length} for ${N} callbacks`);
  console.log(`  daemon start to ready ${lab.startMs} ms; daemon RSS at ready ${(rssAtReady / 1024).toFixed(1)} MiB, after the run ${(rssNow / 1024).toFixed(1)} MiB, peak ${(rssKb / 1024).toFixed(1)} MiB; node ${process.version}; ${execFileSync('nproc').toString().trim()} cores`);
  console.log(`  after the run: V8 heap total ${mib('nodejs_heap_size_total_bytes')} MiB (used ${mib('nodejs_heap_size_used_bytes')}), external ${mib('nodejs_external_memory_bytes')} MiB`);
  if (process.env.SNAPSHOT) {
    // Run with NODE_OPTIONS=--heapsnapshot-signal=SIGUSR2: the daemon writes Heap.*.heapsnapshot
    // into the current directory (summarise it with bench/heap-summary.ts).
    lab.daemon.proc!.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 8000));
  }
  store.$client.close();
  return { file: `trigger-latency-${N}-${SPREAD_MS}-${STORED}.csv`, csv: 'latency_ms\n' + lat.join('\n') + '\n' };
});
