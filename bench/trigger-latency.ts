// bench: N callbacks due at spread instants over a few seconds on the lab; trigger latency =
// first INVITE seen by the agent's SIPp − the callback's due instant. Prints min/p50/p99/max, the
// count that fired early, and the daemon's peak RSS. Not a test: it never fails on speed.
//   npm run bench:trigger [-- N SPREAD_MS STORED]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../src/store/db.js';
import { insertCallback } from '../src/store/callbacks.js';
import { generateCallbacks } from './generate.js';
import { carrier, cli, DaemonProc, provisionLab, REPO, Sipp, startAsterisk, stopAsterisk, tempDir, waitFor } from '../test/lab/lab.js';

const N = Number(process.argv[2] ?? 100);
const SPREAD_MS = Number(process.argv[3] ?? 5000);
// Other callbacks already stored (future-dated, never due during the run), e.g. 100000 or 1000000.
const STORED = Number(process.argv[4] ?? 0);
const dir = tempDir('bench');
const agents = Array.from({ length: N }, (_, i) => `bench${2001 + i}`);

// N phones sharing one auth object; endpoints are identified by the From user.
const conf = [
  '[bench-auth]\ntype=auth\nauth_type=userpass\nusername=bench\npassword=lab-bench\n',
  ...agents.map((a) => `[${a}](agent-defaults)\nauth=bench-auth\naors=${a}\n[${a}](agent-aor)\n`),
].join('\n');
const extra = join(dir, 'extra');
mkdirSync(extra);
writeFileSync(join(extra, 'pjsip_bench.conf'), conf);
process.env.CALLBACKD_LAB_EXTRA_DIR = extra;

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
let daemon: DaemonProc | null = null;
const peers: Sipp[] = [];
try {
  provisionLab();
  startAsterisk();
  const inf = join(dir, 'agents.csv');
  writeFileSync(inf, 'SEQUENTIAL\n' + agents.join('\n') + '\n');
  const phones = new Sipp('bench-agents', [
    '127.0.0.1:5060', '-sf', join(REPO, 'test/lab/sipp/agents-register-many.xml'), '-oocsf', join(REPO, 'test/lab/sipp/agent-answer.xml'),
    '-inf', inf, '-i', '127.0.0.1', '-p', '5190', '-mp', '19000', '-m', String(N), '-r', '50', '-l', String(N + 10), '-au', 'bench', '-ap', 'lab-bench',
  ], dir).start();
  peers.push(phones, carrier('answer', dir));
  await waitFor(`${N} phones to register`, () => phones.messages().filter((m) => m.direction === 'received' && m.firstLine.startsWith('SIP/2.0 200')).length >= N, 30000);

  const db = join(dir, 'callbackd.db');
  const imp = {
    trunks: [{ id: 'carrier' }],
    numbers: [{ number: '+15550100001', trunk: 'carrier' }],
    campaigns: [{ id: 'B', name: 'Bench', time_zone: 'UTC', outbound_number: '+15550100001' }],
    lists: [{ id: 'BL', campaign: 'B' }, { id: 'L-B', campaign: 'B' }],
    agents: agents.map((a) => ({ id: a, name: a, campaigns: ['B'] })),
    phones: agents.map((a) => ({ endpoint: a, agent: a })),
    leads: agents.map((a, i) => ({ id: `lead-${a}`, list: 'BL', phone: `+1555200${String(i).padStart(4, '0')}` })),
  };
  writeFileSync(join(dir, 'bench.json'), JSON.stringify(imp));
  const r = cli(['import', join(dir, 'bench.json'), '--db', db]);
  if (r.code !== 0) throw new Error(r.stderr);

  if (STORED > 0) {
    const g = openDb(db);
    generateCallbacks(g, STORED, { campaigns: ['B'], agents, now: Date.now(), allFuture: true, prefix: 'stored' });
    g.$client.pragma('wal_checkpoint(TRUNCATE)');
    g.$client.close();
  }
  daemon = new DaemonProc({ db, dir, extra: { log: { level: process.env.BENCH_LOG ?? 'info' } } }).start();
  await daemon.ready();
  const store = openDb(db);
  const t0 = Date.now() + 3000;
  const due = new Map<string, number>();
  agents.forEach((a, i) => {
    const at = t0 + Math.round((i * SPREAD_MS) / N);
    due.set(a, at);
    insertCallback(store, { leadId: `lead-${a}`, campaignId: 'B', type: 'USERONLY', ownerAgentId: a, dueAt: at, dueZone: 'UTC', maxAttempts: 1, notes: null }, Date.now());
  });
  // The SIPp trace has wall-clock stamps per message; read the INVITE's arrival per endpoint.
  await waitFor('every agent INVITE', () => new Set(phones.invites().map((m) => m.firstLine)).size >= N, SPREAD_MS + 30000, 200);
  const trunk = peers[1]!;
  await waitFor('every customer INVITE', () => trunk.invites().length >= N, 15000, 200);
  await new Promise((r) => setTimeout(r, 1000)); // room for a duplicate to show up, if any
  const text = readFileSync(phones.messageFile, 'utf8');
  const lat: number[] = [];
  const firstSeen = new Set<string>();
  // SIPp stamps each message in local time: "----- 2026-11-22 08:44:51.759899".
  const re = /^-+ (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d+)\n(?:UDP|TCP) message received[^\n]*\n\nINVITE sip:(bench\d+)@/gm;
  for (let m; (m = re.exec(text)); ) {
    const seen = new Date(`${m[1]}T${m[2]!.slice(0, 12)}`).getTime();
    const d = due.get(m[3]!);
    // Only the first INVITE per phone counts: later ones are retransmissions or re-rings.
    if (d !== undefined && !firstSeen.has(m[3]!)) {
      firstSeen.add(m[3]!);
      lat.push(seen - d);
    }
  }
  // Never twice: each phone should have seen exactly one new INVITE dialog, the trunk one per callback.
  const perPhone = new Map<string, number>();
  for (const m of phones.invites()) {
    const ep = /^INVITE sip:([^@]+)@/.exec(m.firstLine)?.[1] ?? '?';
    perPhone.set(ep, (perPhone.get(ep) ?? 0) + 1);
  }
  const rungTwice = [...perPhone.values()].filter((n) => n > 1).length;
  const trunkInvites = trunk.invites().length;
  const pid = daemon.proc!.pid!;
  const rssKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  lat.sort((a, b) => a - b);
  const fmt = (x: number) => `${x.toFixed(0)} ms`;
  console.log(`trigger latency, ${lat.length}/${N} callbacks due over ${SPREAD_MS} ms, ${STORED} other callbacks stored, due instant → agent INVITE at SIPp`);
  console.log(`  min ${fmt(lat[0]!)}  p50 ${fmt(pct(lat, 50))}  p99 ${fmt(pct(lat, 99))}  max ${fmt(lat[lat.length - 1]!)}  early: ${lat.filter((x) => x < 0).length}`);
  console.log(`  phones rung more than once: ${rungTwice}; customer INVITEs on the trunk: ${trunkInvites} for ${N} callbacks`);
  console.log(`  daemon peak RSS ${(rssKb / 1024).toFixed(1)} MiB; node ${process.version}; ${execFileSync('nproc').toString().trim()} cores`);
  mkdirSync(join(REPO, 'bench/out'), { recursive: true });
  writeFileSync(join(REPO, `bench/out/trigger-latency-${N}-${SPREAD_MS}-${STORED}.csv`), 'latency_ms\n' + lat.join('\n') + '\n');
  store.$client.close();
} catch (err) {
  console.error(`bench failed: ${(err as Error).message}`);
  if (daemon) console.error(daemon.log.slice(-3000));
  process.exitCode = 1;
} finally {
  await daemon?.kill('SIGTERM');
  if (daemon) writeFileSync(join(dir, 'daemon.log'), daemon.log);
  peers.forEach((p) => p.stop());
  stopAsterisk();
}
