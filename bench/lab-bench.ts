// What the lab benchmarks share: N generated phones registered from one SIPp, a carrier, a
// database with a bench campaign (SQLite, or PostgreSQL prepared by bench/bench-db.ts), one or two
// daemons, and reading SIPp's timestamped message log.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../src/store/conn.js';
import { openEngine } from '../src/store/open-engine.js';
import { carrier, DaemonProc, provisionLab, REPO, Sipp, startAsterisk, stopAsterisk, tempDir, waitFor } from '../test/lab/lab.js';
import { benchAgents, benchNumber, importBenchCenter, type BenchDatabase, type BenchEngine, type CenterOptions } from './bench-db.js';
import { takeLabLock } from './lab-lock.js';

/** CPU seconds (user + system) a process has used so far: per-claim cost that other load on the shared cores does not blur as much as wall time. */
export function cpuSeconds(pid: number): number {
  // /proc/PID/stat: fields 14 and 15 (utime, stime) in clock ticks (100 per second on Linux), after the ")" that ends the name.
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

export const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

export interface BenchLab {
  dir: string;
  /** The database the daemons use: a SQLite path, or a PostgreSQL URL. */
  db: string;
  engine: BenchEngine;
  /** The bench's own connection to that database (to book callbacks and count rows). */
  store: Engine;
  agents: string[];
  phones: Sipp;
  trunk: Sipp;
  /** The first daemon (`daemons[0]`). */
  daemon: DaemonProc;
  /** Every daemon, all bound to the lab's one Asterisk server (two: own ARI application and instance id each). */
  daemons: DaemonProc[];
  /** Daemon start to ready (ARI connected, presence snapshot taken), ms; the slowest with two. */
  startMs: number;
  /** The customer number of bench lead i. */
  number: (i: number) => string;
  close: () => Promise<void>;
}

export interface BenchOptions extends CenterOptions {
  name: string;
  /** Daemon configuration merged over the lab's (e.g. { ari: { maxConcurrentRequests: 2 } }). */
  daemonConfig?: Record<string, unknown>;
  /** A database already prepared (bench/bench-db.ts); default: a fresh SQLite file with the center. */
  database?: BenchDatabase;
  /** Daemons on the database (default 1; 2 needs PostgreSQL). */
  daemons?: 1 | 2;
  /** Runs after the import of the default SQLite database, before the daemon starts (e.g. to store other callbacks). */
  beforeDaemon?: (db: string) => void | Promise<void>;
  /** Environment for the daemons only (e.g. NODE_OPTIONS, MALLOC_ARENA_MAX), not Asterisk or SIPp. */
  daemonEnv?: Record<string, string>;
  /** node's command-line flags for the daemons (V8 flags NODE_OPTIONS refuses). */
  daemonNodeArgs?: string[];
}

/** One daemon's configuration on the bench database; with two, each its own ARI app (Asterisk gives an app to one WebSocket). */
function daemonExtra(o: BenchOptions, database: BenchDatabase, i: number): Record<string, unknown> {
  const db = database.engine === 'pg' ? { database: { path: undefined, url: database.url } } : {};
  const own = (o.daemons ?? 1) > 1 ? { instanceId: `bench-${i}`, ari: { app: `callbackd-bench-${i}` } } : {};
  return { log: { level: process.env.BENCH_LOG ?? 'info' }, ...db, ...own, ...o.daemonConfig };
}

export async function benchLab(o: BenchOptions): Promise<BenchLab> {
  const dir = tempDir(o.name);
  const agents = benchAgents(o.n);
  const count = o.daemons ?? 1;
  if (count > 1 && o.database?.engine !== 'pg') throw new Error('two daemons share a PostgreSQL database: pass a pg database');
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
  const daemons: DaemonProc[] = [];
  let store: Engine | null = null;
  const close = async () => {
    for (const [i, d] of daemons.entries()) {
      await d.kill('SIGTERM');
      writeFileSync(join(dir, i === 0 ? 'daemon.log' : `daemon-${i}.log`), d.log);
    }
    await store?.close();
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

    let database = o.database;
    if (!database) {
      database = { engine: 'sqlite', path: join(dir, 'callbackd.db') };
      importBenchCenter(dir, database.path, o);
      await o.beforeDaemon?.(database.path);
    }
    const db = database.engine === 'pg' ? database.url : database.path;
    store = await openEngine(database.engine === 'pg' ? { url: database.url } : { path: database.path }, { migrate: false });
    const started = Date.now();
    for (let i = 0; i < count; i++) {
      const own = count > 1 ? join(dir, `daemon-${i}`) : dir;
      mkdirSync(own, { recursive: true });
      daemons.push(new DaemonProc({ db: database.engine === 'sqlite' ? database.path : '', dir: own, ...(process.env.BENCH_CLI ? { cli: process.env.BENCH_CLI } : {}), ...(o.daemonEnv ? { env: o.daemonEnv } : {}), ...(o.daemonNodeArgs ? { nodeArgs: o.daemonNodeArgs } : {}), extra: daemonExtra(o, database, i) }).start());
    }
    await Promise.all(daemons.map((d) => d.ready()));
    return { dir, db, engine: database.engine, store, agents, phones, trunk, daemon: daemons[0]!, daemons, startMs: Date.now() - started, number: benchNumber, close };
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
  const release = await takeLabLock(o.name);
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
    release();
  }
}
