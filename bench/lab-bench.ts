// What the lab benchmarks share: N generated phones registered from one SIPp, a carrier, a
// database with a bench campaign, the daemon, and reading SIPp's timestamped message log.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { carrier, cli, DaemonProc, provisionLab, REPO, Sipp, startAsterisk, stopAsterisk, tempDir, waitFor } from '../test/lab/lab.js';

/** CPU seconds (user + system) a process has used so far: per-claim cost that other load on the shared cores does not blur as much as wall time. */
export function cpuSeconds(pid: number): number {
  // /proc/PID/stat: fields 14 and 15 (utime, stime) in clock ticks (100 per second on Linux), after the ")" that ends the name.
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

export const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

export interface BenchLab {
  dir: string;
  db: string;
  agents: string[];
  phones: Sipp;
  trunk: Sipp;
  daemon: DaemonProc;
  /** Daemon start to ready (ARI connected, presence snapshot taken), ms. */
  startMs: number;
  /** The customer number of bench lead i. */
  number: (i: number) => string;
  close: () => Promise<void>;
}

export interface BenchOptions {
  name: string;
  n: number;
  trunk?: { max_channels: number; calls_per_second: number };
  dialOrder?: 'agent_first' | 'customer_first';
  /** Daemon configuration merged over the lab's (e.g. { ari: { maxConcurrentRequests: 2 } }). */
  daemonConfig?: Record<string, unknown>;
  /** Runs after the import, before the daemon starts (e.g. to store other callbacks). */
  beforeDaemon?: (db: string) => void | Promise<void>;
}

export async function benchLab(o: BenchOptions): Promise<BenchLab> {
  const dir = tempDir(o.name);
  const agents = Array.from({ length: o.n }, (_, i) => `bench${2001 + i}`);
  // N phones sharing one auth object; endpoints are identified by the From user.
  const conf = [
    '[bench-auth]\ntype=auth\nauth_type=userpass\nusername=bench\npassword=lab-bench\n',
    ...agents.map((a) => `[${a}](agent-defaults)\nauth=bench-auth\naors=${a}\n[${a}](agent-aor)\n`),
  ].join('\n');
  const extra = join(dir, 'extra');
  mkdirSync(extra);
  writeFileSync(join(extra, 'pjsip_bench.conf'), conf);
  process.env.CALLBACKD_LAB_EXTRA_DIR = extra;
  provisionLab();
  startAsterisk();
  const peers: Sipp[] = [];
  let daemon: DaemonProc | null = null;
  const close = async () => {
    if (daemon) {
      await daemon.kill('SIGTERM');
      writeFileSync(join(dir, 'daemon.log'), daemon.log);
    }
    peers.forEach((p) => p.stop());
    stopAsterisk();
  };
  try {
    const inf = join(dir, 'agents.csv');
    writeFileSync(inf, 'SEQUENTIAL\n' + agents.join('\n') + '\n');
    const phones = new Sipp('bench-agents', [
      '127.0.0.1:5060', '-sf', join(REPO, 'test/lab/sipp/agents-register-many.xml'), '-oocsf', join(REPO, 'test/lab/sipp/agent-answer.xml'),
      '-inf', inf, '-i', '127.0.0.1', '-p', '5190', '-mp', '19000', '-m', String(o.n), '-r', '50', '-l', String(o.n + 10), '-au', 'bench', '-ap', 'lab-bench',
    ], dir).start();
    const trunk = carrier('answer', dir);
    peers.push(phones, trunk);
    await waitFor(`${o.n} phones to register`, () => phones.messages().filter((m) => m.direction === 'received' && m.firstLine.startsWith('SIP/2.0 200')).length >= o.n, 30000 + o.n * 40);

    const db = join(dir, 'callbackd.db');
    const number = (i: number) => `+1555200${String(i).padStart(4, '0')}`;
    const imp = {
      trunks: [{ id: 'carrier', ...(o.trunk ?? {}) }],
      numbers: [{ number: '+15550100001', trunk: 'carrier' }],
      campaigns: [{ id: 'B', name: 'Bench', time_zone: 'UTC', outbound_number: '+15550100001', dial_order: o.dialOrder ?? 'agent_first' }],
      lists: [{ id: 'BL', campaign: 'B' }, { id: 'L-B', campaign: 'B' }],
      agents: agents.map((a) => ({ id: a, name: a, campaigns: ['B'] })),
      phones: agents.map((a) => ({ endpoint: a, agent: a })),
      leads: agents.map((a, i) => ({ id: `lead-${a}`, list: 'BL', phone: number(i) })),
    };
    writeFileSync(join(dir, 'bench.json'), JSON.stringify(imp));
    const r = cli(['import', join(dir, 'bench.json'), '--db', db]);
    if (r.code !== 0) throw new Error(r.stderr);
    await o.beforeDaemon?.(db);
    const started = Date.now();
    daemon = new DaemonProc({ db, dir, ...(process.env.BENCH_CLI ? { cli: process.env.BENCH_CLI } : {}), extra: { log: { level: process.env.BENCH_LOG ?? 'info' }, ...o.daemonConfig } }).start();
    await daemon.ready();
    return { dir, db, agents, phones, trunk, daemon, startMs: Date.now() - started, number, close };
  } catch (err) {
    await close();
    throw err;
  }
}

export interface Traced {
  at: number;
  direction: 'received' | 'sent';
  firstLine: string;
  callId: string;
}

/** Every message in a SIPp -message_file, with SIPp's own timestamp (local time, microseconds). */
export function traced(s: Sipp): Traced[] {
  const parts = readFileSync(s.messageFile, 'utf8').split(/^-{20,} (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d+)$/m);
  const out: Traced[] = [];
  // split() with two capture groups: [before, date, time, block, date, time, block, ...]
  for (let i = 1; i + 2 < parts.length; i += 3) {
    const m = /^\s*(?:UDP|TCP) message (received|sent)[^\n]*\n\n?([^\n]*)\n([\s\S]*)$/.exec(parts[i + 2]!);
    if (!m) continue;
    const callId = /^Call-ID:\s*(.+)$/im.exec(m[3]!)?.[1]?.trim() ?? '';
    out.push({ at: new Date(`${parts[i]}T${parts[i + 1]!.slice(0, 12)}`).getTime(), direction: m[1] as 'received' | 'sent', firstLine: m[2]!.replace(/\r$/, ''), callId });
  }
  return out;
}

/**
 * Runs one benchmark on a fresh lab: `body` measures and prints, and returns a CSV to keep in
 * bench/out/. Whatever happens, the daemon, SIPp and Asterisk are stopped; a failure prints the
 * end of the daemon's log and sets a non-zero exit code.
 */
export async function runBench(o: BenchOptions, body: (lab: BenchLab) => Promise<{ file: string; csv: string }>): Promise<void> {
  let lab: BenchLab | null = null;
  try {
    lab = await benchLab(o);
    const out = await body(lab);
    mkdirSync(join(REPO, 'bench/out'), { recursive: true });
    writeFileSync(join(REPO, 'bench/out', out.file), out.csv);
  } catch (err) {
    console.error(`bench failed: ${(err as Error).message}`);
    if (lab) console.error(lab.daemon.log.slice(-3000));
    process.exitCode = 1;
  } finally {
    await lab?.close();
  }
}
