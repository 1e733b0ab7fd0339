// bench: N callbacks due at the same instant, with a trunk limit of C channels and R calls per second (and once unlimited: C=0 R=0). Prints
// the time until all are dialed against the theoretical minimum N/R, the most channels seen at once
// on the trunk (SIPp's own log: first INVITE to first BYE per call), none lost, none dialed twice.
//   npm run bench:burst [-- N C R ORDER ENGINE DAEMONS]   (ENGINE sqlite|pg, DAEMONS 1|2 on pg; default sqlite 1)
import { sql } from 'drizzle-orm';
import { insertCallback } from '../src/store/callbacks.js';
import { all } from '../src/store/engine.js';
import { waitFor } from '../test/lab/lab.js';
import { engineArgs, oneBenchDatabase } from './bench-db.js';
import { cpuSeconds, runBench, traced } from './lab-bench.js';

const N = Number(process.argv[2] ?? 500);
const C = Number(process.argv[3] ?? 50);
const R = Number(process.argv[4] ?? 20);
// agent_first (default): the customer is dialed once an agent is on the line, as in production.
// customer_first: the carrier's SIPp hangs up 3 s after answering, so under load customers leave
// before an agent is bridged and are called again later; that is measured, not hidden.
const ORDER = (process.argv[5] ?? 'agent_first') as 'agent_first' | 'customer_first';
const { engine: ENGINE, daemons: DAEMONS } = engineArgs(process.argv[6], process.argv[7]);

const center = { n: N, dialOrder: ORDER, trunk: { max_channels: C, calls_per_second: R } };
const { database, done } = await oneBenchDatabase(ENGINE, center);
await runBench({ name: 'burst', ...center, database, daemons: DAEMONS }, async (lab) => {
  const store = lab.store;
  const count = async (where: string) => Number((await all<{ n: number | string }>(store, sql.raw(`SELECT count(*) AS n FROM callbacks WHERE ${where}`)))[0]!.n);
  const pids = lab.daemons.map((d) => d.proc!.pid!);
  // With two daemons: both processes' CPU together.
  const cpu = () => pids.reduce((s, p) => s + cpuSeconds(p), 0);
  const cpu0 = cpu();
  const due = Date.now() + 3000;
  for (const a of lab.agents) {
    await insertCallback(store, { leadId: `lead-${a}`, campaignId: 'B', type: 'USERONLY', ownerAgentId: a, dueAt: due, dueZone: 'UTC', maxAttempts: 1, notes: null }, Date.now());
  }
  const trunk = lab.trunk;
  const numbers = () => new Set(trunk.invites().map((m) => /^INVITE sip:([^@]+)@/.exec(m.firstLine)?.[1])).size;
  await waitFor('a customer INVITE for every number', () => numbers() >= N, 60000 + (R > 0 ? (N / R) * 1000 * 2 : 0) + N * 300, 500);
  const cpuToDialed = cpu() - cpu0; // includes the answered calls' work meanwhile
  // customer_first on this lab redials customers who left before an agent was bridged (the
  // carrier hangs up 3 s after answering), so a burst may not settle: report what is still open.
  const open = () => count("state IN ('ACTIVE','LIVE','DIALING')");
  await waitFor('every callback to finish', async () => (await open()) === 0, 20000, 500).catch(() => undefined);
  // The whole burst's CPU (every call dialed, answered, bridged, ended): the same work in every run,
  // so builds compare on it even while other load on the shared cores moves the wall times.
  const cpuAll = cpu() - cpu0;

  // Per call on the trunk: from its first INVITE to its first BYE (either way) or final error.
  const calls = new Map<string, { start: number; end: number | null; number: string }>();
  for (const m of traced(trunk)) {
    const c = calls.get(m.callId);
    if (!c && m.direction === 'received' && m.firstLine.startsWith('INVITE ')) {
      calls.set(m.callId, { start: m.at, end: null, number: /^INVITE sip:([^@]+)@/.exec(m.firstLine)?.[1] ?? '?' });
    } else if (c && c.end === null && (m.firstLine.startsWith('BYE ') || /^SIP\/2\.0 [3-6]\d\d/.test(m.firstLine))) c.end = m.at;
  }
  const edges = [...calls.values()].flatMap((c) => [[c.start, 1], [c.end ?? Infinity, -1]] as [number, number][]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (now += d));
  const starts = [...calls.values()].map((c) => c.start).sort((a, b) => a - b);
  // The last number's first INVITE: when every callback had been dialed once (redials excluded).
  const firstPerNumber = new Map<string, number>();
  for (const c of calls.values()) firstPerNumber.set(c.number, Math.min(firstPerNumber.get(c.number) ?? Infinity, c.start));
  const lastFirst = Math.max(...firstPerNumber.values()) - due;
  const perNumber = new Map<string, number>();
  for (const c of calls.values()) perNumber.set(c.number, (perNumber.get(c.number) ?? 0) + 1);
  const completed = await count("state = 'COMPLETED'");
  const stillOpen = await open();
  const claims = lab.daemons.map((d) => d.log.split('"msg":"claimed; dialing"').length - 1);
  const minimum = R > 0 ? Math.max(((N - 1) / R) * 1000, 0) : 0;
  console.log(`burst on ${lab.engine}, ${lab.daemons.length} daemon(s) (claims ${claims.join(' / ')}): ${N} callbacks due at one instant, ${ORDER.replace('_', '-')}, trunk limit ${C || 'none'} channels / ${R || 'no'} calls per second`);
  console.log(`  first INVITE +${starts[0]! - due} ms; every number dialed once by +${lastFirst} ms (theoretical minimum ${(minimum / 1000).toFixed(1)} s); ${calls.size} INVITEs in all`);
  console.log(`  daemon CPU: ${cpuToDialed.toFixed(2)} s from booking to every number dialed, ${cpuAll.toFixed(2)} s to every callback finished (${((cpuAll * 1000) / N).toFixed(1)} ms per callback)`);
  console.log(`  most channels at once on the trunk: ${peak}${C ? ` (limit ${C})` : ''}; numbers dialed twice: ${[...perNumber.values()].filter((n) => n > 1).length}; COMPLETED ${completed}/${N}; still open ${stillOpen}`);
  return { file: `burst-${N}-${C}-${R}${ENGINE === 'sqlite' ? '' : `-${ENGINE}-${DAEMONS}`}.csv`, csv: 'start_ms,end_ms\n' + [...calls.values()].map((c) => `${c.start - due},${c.end === null ? '' : c.end - due}`).join('\n') + '\n' };
});
done();
