// The trigger-latency measurement on a bench lab (bench:trigger, bench:engines, the CI-sized
// test/e2e/bench-smoke.e2e.test.ts): N USERONLY callbacks due at spread instants; latency = the first
// INVITE each agent's phone saw (SIPp's own log) − its due instant. Judged from SIPp, not the daemon.
import { readFileSync } from 'node:fs';
import { insertCallback } from '../src/store/callbacks.js';
import { waitFor } from '../test/lab/lab.js';
import { pct, traced, type BenchLab } from './lab-bench.js';

export interface TriggerResult {
  engine: string;
  daemons: number;
  n: number;
  spreadMs: number;
  /** Latency per callback, ms, sorted; one per phone that rang. */
  latencies: number[];
  early: number;
  /** Phones that got more than one INVITE. */
  rungTwice: number;
  /** Phones that rang at least once. */
  phonesRung: number;
  trunkInvites: number;
  /** "claimed; dialing" lines per daemon log: how the claims were shared. */
  claims: number[];
  startMs: number;
  /** Peak RSS per daemon, KiB. */
  peakRssKb: number[];
}

export const rssOf = (pid: number, field: 'VmRSS' | 'VmHWM') => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

/** Books N callbacks due over `spreadMs` from 3 s on, waits out the schedule, reads SIPp's logs. */
export async function measureTrigger(lab: BenchLab, spreadMs: number, o: { leadMs?: number } = {}): Promise<TriggerResult> {
  const { agents, phones, trunk } = lab;
  const n = agents.length;
  const t0 = Date.now() + (o.leadMs ?? 3000);
  const due = new Map<string, number>();
  for (const [i, a] of agents.entries()) {
    const at = t0 + Math.round((i * spreadMs) / n);
    due.set(a, at);
    await insertCallback(lab.store, { leadId: `lead-${a}`, campaignId: 'B', type: 'USERONLY', ownerAgentId: a, dueAt: at, dueZone: 'UTC', maxAttempts: 1, notes: null }, Date.now());
  }
  // Parsing SIPp's growing log takes CPU the lab shares (measured: it pushed bench:vs-callfiles'
  // p99 from 95 to 648 ms): wait out the schedule before looking.
  await new Promise((r) => setTimeout(r, t0 + spreadMs + 2000 - Date.now()));
  await waitFor('every agent INVITE', () => new Set(phones.invites().map((m) => m.firstLine)).size >= n, 30000, 1000);
  await waitFor('every customer INVITE', () => trunk.invites().length >= n, 15000, 200);
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
  // Per phone, distinct INVITE transactions (a retransmission repeats the Call-ID and CSeq).
  const perPhone = new Map<string, Set<string>>();
  for (const m of traced(phones)) {
    const ep = /^INVITE sip:([^@]+)@/.exec(m.firstLine)?.[1];
    if (m.direction !== 'received' || !ep) continue;
    perPhone.set(ep, (perPhone.get(ep) ?? new Set()).add(m.callId));
  }
  lat.sort((a, b) => a - b);
  return {
    engine: lab.engine,
    daemons: lab.daemons.length,
    n,
    spreadMs,
    latencies: lat,
    early: lat.filter((x) => x < 0).length,
    rungTwice: [...perPhone.values()].filter((s) => s.size > 1).length,
    phonesRung: perPhone.size,
    trunkInvites: trunk.invites().length,
    claims: lab.daemons.map((d) => d.log.split('"msg":"claimed; dialing"').length - 1),
    startMs: lab.startMs,
    peakRssKb: lab.daemons.map((d) => rssOf(d.proc!.pid!, 'VmHWM')),
  };
}

const ms = (x: number) => `${x.toFixed(0)} ms`;

/** The printed lines of one run. */
export function triggerReport(r: TriggerResult, stored: number): string {
  const l = r.latencies;
  return [
    `trigger latency on ${r.engine}, ${r.daemons} daemon(s): ${l.length}/${r.n} callbacks due over ${r.spreadMs} ms, ${stored} other callbacks stored, due instant → agent INVITE at SIPp`,
    `  min ${ms(l[0]!)}  p50 ${ms(pct(l, 50))}  p95 ${ms(pct(l, 95))}  p99 ${ms(pct(l, 99))}  max ${ms(l[l.length - 1]!)}  early: ${r.early}`,
    `  phones rung more than once: ${r.rungTwice}; customer INVITEs on the trunk: ${r.trunkInvites} for ${r.n} callbacks; claims per daemon: ${r.claims.join(' / ')}`,
    `  daemon start to ready ${r.startMs} ms; daemon peak RSS ${r.peakRssKb.map((k) => `${(k / 1024).toFixed(1)} MiB`).join(' / ')}`,
  ].join('\n');
}

/** One README table row: | engine | daemons | callbacks | due over | stored | min | p50 | p95 | p99 | max | early | rung twice | trunk INVITEs | */
export function triggerRow(r: TriggerResult, stored: number): string {
  const l = r.latencies;
  return `| ${r.engine} | ${r.daemons} | ${r.n} | ${r.spreadMs / 1000} s | ${stored.toLocaleString('en-US')} | ${ms(l[0]!)} | ${ms(pct(l, 50))} | ${ms(pct(l, 95))} | ${ms(pct(l, 99))} | ${ms(l[l.length - 1]!)} | ${r.early} | ${r.rungTwice} | ${r.trunkInvites} | ${r.claims.join(' / ')} |`;
}
