// bench: the same schedule placed twice on the same lab, one after the other — once through
// Asterisk call files (spool/outgoing, mtime = the due instant rounded up to the second: the honest
// best case, since Asterisk's spooler works in whole seconds) and once through callbackd
// (customer-first, so the same leg is measured). Lateness = the carrier's INVITE (SIPp's log) − due.
// With SPREAD_MS 0 it is the burst beside call files: the last INVITE of each half, in one run.
//   npm run bench:vs-callfiles [-- N SPREAD_MS ENGINE DAEMONS]   (ENGINE sqlite|pg, DAEMONS 1|2 on pg; default sqlite 1)
import { mkdirSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { insertCallback } from '../src/store/callbacks.js';
import { all } from '../src/store/engine.js';
import { waitFor } from '../test/lab/lab.js';
import { engineArgs, oneBenchDatabase } from './bench-db.js';
import { callTimeline } from './call-timeline.js';
import { pct, runBench, traced } from './lab-bench.js';

const N = Number(process.argv[2] ?? 200);
const SPREAD_MS = Number(process.argv[3] ?? 30000);
const { engine: ENGINE, daemons: DAEMONS } = engineArgs(process.argv[4], process.argv[5]);
const SPOOL = join(process.env.CALLBACKD_LAB_CACHE ?? '/var/cache/callbackd-lab', 'sid-asterisk/var/spool/asterisk-lab');

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, p50: pct(s, 50), p99: pct(s, 99), max: s[s.length - 1]!, early: s.filter((x) => x < 0).length, n: s.length };
};
const line = (name: string, x: ReturnType<typeof stats>) =>
  `  ${name.padEnd(11)} n=${x.n}  min ${x.min} ms  p50 ${x.p50} ms  p99 ${x.p99} ms  max ${x.max} ms  early ${x.early}`;

const center = { n: N, dialOrder: 'customer_first' as const };
const { database, done } = await oneBenchDatabase(ENGINE, center);
await runBench({ name: 'vscallfiles', ...center, database, daemons: DAEMONS }, async (lab) => {
  const trunkInvites = (prefix: string) => {
    const first = new Map<string, number>();
    for (const m of traced(lab.trunk)) {
      const num = /^INVITE sip:(\+\d+)@/.exec(m.firstLine)?.[1];
      if (m.direction === 'received' && num?.startsWith(prefix) && !first.has(num)) first.set(num, m.at);
    }
    return first;
  };

  // 1. Call files. Written elsewhere, given their mtime, then moved in: Asterisk reads a file once
  //    it appears and dials when its mtime is reached.
  mkdirSync(join(SPOOL, 'outgoing'), { recursive: true });
  mkdirSync(join(SPOOL, 'tmp-bench'), { recursive: true });
  const t0 = Date.now() + 5000;
  const cfDue = new Map<string, number>();
  for (let i = 0; i < N; i++) {
    const due = t0 + Math.round((i * SPREAD_MS) / N);
    const num = `+1555300${String(i).padStart(4, '0')}`;
    cfDue.set(num, due);
    const f = join(SPOOL, 'tmp-bench', `cb-${i}.call`);
    writeFileSync(f, `Channel: PJSIP/${num}@carrier\nCallerID: "bench" <+15550100001>\nMaxRetries: 0\nWaitTime: 30\nApplication: Wait\nData: 3\n`);
    const at = Math.ceil(due / 1000); // whole seconds: the best a call file can be told
    utimesSync(f, at, at);
    renameSync(f, join(SPOOL, 'outgoing', `cb-${i}.call`));
  }
  // Parsing SIPp's growing log takes CPU the lab shares: wait out the schedule before looking.
  await new Promise((r) => setTimeout(r, t0 + SPREAD_MS + 2000 - Date.now()));
  await waitFor('every call-file INVITE', () => trunkInvites('+1555300').size >= N, 30000, 1000);
  const cf = [...trunkInvites('+1555300')].map(([num, at]) => at - cfDue.get(num)!);

  // 2. callbackd, the same offsets, customer-first.
  const store = lab.store;
  const t1 = Date.now() + 5000;
  const cbDue = new Map<string, number>();
  for (const [i, a] of lab.agents.entries()) {
    const due = t1 + Math.round((i * SPREAD_MS) / N);
    cbDue.set(lab.number(i), due);
    await insertCallback(store, { leadId: `lead-${a}`, campaignId: 'B', type: 'USERONLY', ownerAgentId: a, dueAt: due, dueZone: 'UTC', maxAttempts: 1, notes: null }, Date.now());
  }
  await new Promise((r) => setTimeout(r, t1 + SPREAD_MS + 2000 - Date.now()));
  // A burst (SPREAD_MS 0) on a busy machine may take well over 30 s: wait longer, and report what was dialed rather than nothing.
  await waitFor('every callbackd INVITE', () => trunkInvites('+1555200').size >= N, 30000 + (SPREAD_MS === 0 ? N * 200 : 0), 1000).catch(() => undefined);
  const cd = [...trunkInvites('+1555200')].map(([num, at]) => at - cbDue.get(num)!);
  const logCount = (msg: string) => lab.daemons.map((d) => d.log.split(`"msg":"${msg}"`).length - 1);
  const claims = logCount('claimed; dialing');
  // Distinct calls (Call-IDs) per number on the carrier: a number called twice is a second attempt, not a retransmission.
  const callsPer = new Map<string, Set<string>>();
  for (const m of traced(lab.trunk)) {
    const num = /^INVITE sip:(\+1555200\d+)@/.exec(m.firstLine)?.[1];
    if (m.direction === 'received' && num) callsPer.set(num, (callsPer.get(num) ?? new Set()).add(m.callId));
  }
  const twice = [...callsPer.values()].filter((c) => c.size > 1).length;

  const a = stats(cf);
  const b = stats(cd);
  console.log(`vs call files: ${N} calls due over ${SPREAD_MS} ms, lateness = due → the carrier's INVITE; callbackd on ${lab.engine}, ${lab.daemons.length} daemon(s), claims ${claims.join(' / ')}`);
  console.log(line('call files', a));
  console.log(line('callbackd', b));
  console.log(`  callbackd: ${cd.length}/${N} numbers dialed; numbers called twice: ${twice}; "lease lost while dialing" per daemon: ${logCount('lease lost while dialing; another worker owns this callback now').join(' / ')}`);
  console.log(`  p99 lateness, call files / callbackd: ${(a.p99 / Math.max(1, b.p99)).toFixed(1)}×`);
  // The last INVITE after the (last) due instant: for SPREAD_MS 0, how long until every call was dialed.
  // Answered customers' wait for their agent (the lab's carrier hangs up 3 s after answering); with SPREAD_MS 0 all were due at t1.
  if (SPREAD_MS === 0) {
    // The answered calls are still being bridged when the last INVITE is seen: wait until no attempt is open.
    const open = async () => (await all<{ n: number }>(store, sql`SELECT count(*) AS n FROM callbacks WHERE state = 'DIALING'`))[0]!.n;
    await waitFor('every attempt settled', async () => Number(await open()) === 0, 60_000, 500).catch(() => console.log('  (attempts still open after 60 s)'));
    for (const d of lab.daemons) console.log(callTimeline(d.log, t1));
  }
  console.log(`  last INVITE: ${lab.daemons.length} daemon(s) on ${lab.engine} +${(b.max / 1000).toFixed(2)} s${cd.length < N ? ` (only ${cd.length}/${N} dialed)` : ''}; call files +${(a.max / 1000).toFixed(2)} s; same run`);
  return { file: `vs-callfiles-${N}-${SPREAD_MS}${ENGINE === 'sqlite' ? '' : `-${ENGINE}-${DAEMONS}`}.csv`, csv: 'method,lateness_ms\n' + cf.map((x) => `callfile,${x}`).concat(cd.map((x) => `callbackd,${x}`)).join('\n') + '\n' };
});
done();
