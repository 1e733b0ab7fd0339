// The end-to-end lab: the real Asterisk (test/lab/asterisk.sh), SIPp carriers and agent phones,
// and callbackd itself as a child process, exactly as an admin would run it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// Works from test/lab (vitest) and dist/test/lab (compiled demo/bench).
export const REPO = existsSync(join(here, '../../package.json')) ? join(here, '../..') : join(here, '../../..');
export const CLI = join(REPO, 'dist/src/cli.js');
const SIPP_DIR = join(REPO, 'test/lab/sipp');
/** The FastAGI secret test/lab/asterisk.sh writes at every Asterisk start; callbackd reads it per request. */
export const LAB_AGI_SECRET_FILE = join(process.env.CALLBACKD_LAB_CACHE ?? '/var/cache/callbackd-lab', 'sid-asterisk/etc/asterisk-lab/callbackd-agi-secret.conf');

export function sh(cmd: string, args: string[], opts: { quiet?: boolean; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...(opts.env ? { env: opts.env } : {}) });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  if (!opts.quiet && r.stderr.trim()) process.stderr.write(r.stderr);
  return r.stdout;
}

export function provisionLab(): void {
  sh('bash', [join(REPO, 'test/lab/provision.sh')], { quiet: true });
}
export function startAsterisk(): void {
  sh('bash', [join(REPO, 'test/lab/asterisk.sh'), 'restart'], { quiet: true });
}
export function stopAsterisk(): void {
  sh('bash', [join(REPO, 'test/lab/asterisk.sh'), 'stop'], { quiet: true });
}
export function asteriskCli(command: string): string {
  return sh('bash', [join(REPO, 'test/lab/asterisk.sh'), 'cli', command]);
}

/** The global variables of the lab's Asterisk (or server b's) whose name starts with `prefix`, as `NAME=value` lines. */
export function asteriskGlobals(prefix: string, server: 'a' | 'b' = 'a'): string[] {
  const out = server === 'b' ? asteriskCliB('dialplan show globals') : asteriskCli('dialplan show globals');
  return out.split('\n').map((l) => l.trim()).filter((l) => l.startsWith(prefix));
}

/**
 * The lab's second Asterisk server (README "Running several servers"): the same chroot, its own
 * dirs and ports (test/lab/asterisk.sh with CALLBACKD_LAB_INSTANCE=b), its own trunk carrier-b.
 */
export const LAB_SERVER_B = { ariUrl: 'http://127.0.0.1:8089', amiPort: 5039, sipPort: 5160, carrierPort: 5181 } as const;
const asteriskB = (args: string[], quiet = true) =>
  sh('bash', [join(REPO, 'test/lab/asterisk.sh'), ...args], { quiet, env: { ...process.env, CALLBACKD_LAB_INSTANCE: 'b' } });
export function startAsteriskB(): void {
  asteriskB(['restart']);
}
export function stopAsteriskB(): void {
  asteriskB(['stop']);
}
export function asteriskCliB(command: string): string {
  return asteriskB(['cli', command], false);
}

/** Tries to bring the lab up; the reason when it cannot (not root, no debootstrap, ...). */
export function tryLab(): { ok: true } | { ok: false; reason: string } {
  try {
    if (process.getuid && process.getuid() !== 0) return { ok: false, reason: 'the lab needs root (debootstrap, chroot, bind mounts)' };
    provisionLab();
    startAsterisk();
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}

export async function waitFor<T>(what: string, f: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 15000, everyMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SipMessage {
  direction: 'received' | 'sent';
  firstLine: string;
  text: string;
  header(name: string): string | undefined;
}

/** One SIPp process and what it saw, read from its -message_file. */
export class Sipp {
  private proc: ChildProcess | null = null;
  /** SIPp's exit code once it ends (a scenario run with -m 1 ends by itself; 0 = it passed). */
  exited: Promise<number> = Promise.resolve(0);
  readonly messageFile: string;
  readonly errorFile: string;

  constructor(readonly name: string, private readonly args: string[], dir: string) {
    this.messageFile = join(dir, `${name}.msg.log`);
    this.errorFile = join(dir, `${name}.err.log`);
  }

  start(): this {
    this.proc = spawn(
      'sipp',
      [...this.args, '-nostdin', '-trace_msg', '-message_file', this.messageFile, '-trace_err', '-error_file', this.errorFile],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    this.proc.stderr!.on('data', (d) => (err += d));
    const proc = this.proc;
    this.exited = new Promise((resolve) =>
      proc.on('exit', (code) => {
        if (code && code !== 0 && this.proc) process.stderr.write(`sipp ${this.name} exited ${code}: ${err}\n`);
        resolve(code ?? 1);
      }),
    );
    return this;
  }

  stop(): void {
    const p = this.proc;
    this.proc = null;
    p?.kill('SIGKILL');
  }

  messages(): SipMessage[] {
    let text = '';
    try {
      text = readFileSync(this.messageFile, 'utf8');
    } catch {
      return [];
    }
    const out: SipMessage[] = [];
    for (const block of text.split(/^-{20,}.*$/m)) {
      // SIPp writes "message received [N] bytes :" and "message sent (N bytes):".
      const m = /(UDP|TCP) message (received|sent) [[(]\d+(?:\] bytes :| bytes\):)\s*\n\n?([\s\S]*)$/.exec(block);
      if (!m) continue;
      const msg = m[3]!.replace(/\r/g, '');
      const lines = msg.split('\n');
      out.push({
        direction: m[2] as 'received' | 'sent',
        firstLine: lines[0]!.trim(),
        text: msg,
        header: (name) => lines.find((l) => l.toLowerCase().startsWith(name.toLowerCase() + ':'))?.slice(name.length + 1).trim(),
      });
    }
    return out;
  }

  /** INVITEs this peer received that start a call (re-INVITEs inside a call are not counted). */
  invites(): SipMessage[] {
    const seen = new Set<string>();
    return this.messages().filter((m) => {
      if (m.direction !== 'received' || !m.firstLine.startsWith('INVITE ')) return false;
      if (/;tag=/.test(m.header('To') ?? '')) return false; // in-dialog re-INVITE
      const key = `${m.header('Call-ID')}|${m.header('CSeq')}`;
      if (seen.has(key)) return false; // a retransmission
      seen.add(key);
      return true;
    });
  }
}

export type CarrierKind = 'answer' | 'busy' | 'noanswer' | '403' | '503' | 'slow';
const CARRIERS: Record<CarrierKind, { port: number; args: string[] }> = {
  answer: { port: 5081, args: ['-sf', join(SIPP_DIR, 'carrier-answer.xml'), '-d', '500'] },
  busy: { port: 5082, args: ['-sf', join(SIPP_DIR, 'carrier-busy.xml')] },
  noanswer: { port: 5083, args: ['-sf', join(SIPP_DIR, 'carrier-noanswer.xml')] },
  '403': { port: 5084, args: ['-sf', join(SIPP_DIR, 'carrier-403.xml')] },
  '503': { port: 5085, args: ['-sf', join(SIPP_DIR, 'carrier-503.xml')] },
  slow: { port: 5086, args: ['-sf', join(SIPP_DIR, 'carrier-answer.xml'), '-d', '6000'] },
};

export function carrier(kind: CarrierKind, dir: string): Sipp {
  const c = CARRIERS[kind];
  return new Sipp(`carrier-${kind}`, [...c.args, '-i', '127.0.0.1', '-p', String(c.port), '-mp', String(17000 + (c.port - 5080) * 10)], dir).start();
}

/** Server b's carrier (trunk carrier-b): answers every call, as carrier('answer') does for server a. */
export function carrierB(dir: string): Sipp {
  return new Sipp('carrier-b', [...CARRIERS.answer.args, '-i', '127.0.0.1', '-p', String(LAB_SERVER_B.carrierPort), '-mp', '17500'], dir).start();
}

/** A customer calling `exten` on the lab (context lab-inbound) who presses 1 when asked. */
export function callIn(exten: string, dir: string): Sipp {
  return new Sipp(`caller-${exten}`, [
    '127.0.0.1:5060', '-sf', join(SIPP_DIR, 'caller-press1.xml'), '-s', exten, '-m', '1',
    '-i', '127.0.0.1', '-p', '5070', '-mp', '16000',
  ], dir).start();
}

/** Agent <id>'s softphone dialing a feature code, with digest auth; one call. */
export function agentDials(id: number, code: string, dir: string): Sipp {
  return new Sipp(`agent${id}-dials`, [
    '127.0.0.1:5060', '-sf', join(SIPP_DIR, 'agent-dial.xml'), '-s', code, '-m', '1',
    '-au', `agent${id}`, '-ap', `lab-agent${id}`, '-key', 'user', `agent${id}`,
    '-i', '127.0.0.1', '-p', String(5190 + (id - 1000)), '-mp', String(16100 + (id - 1000) * 10),
  ], dir).start();
}

/** An agent softphone: registers as agent<id> with digest auth and answers calls; on server a unless `server: 'b'`. */
export async function agentPhone(id: number, dir: string, opts: { answers?: boolean; server?: 'a' | 'b' } = {}): Promise<Sipp> {
  const port = 5090 + (id - 1000);
  const s = new Sipp(
    `agent${id}`,
    [
      opts.server === 'b' ? `127.0.0.1:${LAB_SERVER_B.sipPort}` : '127.0.0.1:5060',
      '-sf', join(SIPP_DIR, 'agent-register.xml'),
      '-oocsf', join(SIPP_DIR, opts.answers === false ? 'agent-noanswer.xml' : 'agent-answer.xml'),
      '-i', '127.0.0.1', '-p', String(port), '-mp', String(18000 + (id - 1000) * 10),
      '-m', '1', '-s', `agent${id}`, '-au', `agent${id}`, '-ap', `lab-agent${id}`,
    ],
    dir,
  ).start();
  await waitFor(`agent${id} to register`, () => s.messages().some((m) => m.direction === 'received' && m.firstLine.startsWith('SIP/2.0 200')), 10000);
  return s;
}

export interface DaemonOptions {
  /** Extra environment, e.g. a failpoint (CALLBACKD_FAILPOINT_BEFORE_ORIGINATE_MS). */
  env?: Record<string, string>;
  /** The SQLite file, or a postgres:// URL (database.url). */
  db: string;
  dir: string;
  extra?: Record<string, unknown>;
  /** Another build's dist/src/cli.js (benchmarks compare a build before a change with this one). */
  cli?: string;
  /** node's own flags before the script, for V8 flags NODE_OPTIONS refuses (--single-threaded-gc, --optimize-for-size). */
  nodeArgs?: string[];
}

/** callbackd start, as a child process with its JSON log captured. */
export class DaemonProc {
  proc: ChildProcess | null = null;
  log = '';
  readonly config: string;
  exitCode: number | null = null;
  private exited: Promise<number> = Promise.resolve(0);

  constructor(private readonly o: DaemonOptions) {
    this.config = join(o.dir, 'callbackd.json');
    const base = {
      instanceId: 'lab',
      database: o.db.startsWith('postgres://') ? { url: o.db } : { path: o.db },
      ari: { url: 'http://127.0.0.1:8088', username: 'callbackd', password: 'lab-ari-secret', app: 'callbackd', requestTimeoutMs: 3000 },
      ami: { host: '127.0.0.1', port: 5038, username: 'callbackd', secret: 'lab-ami-secret' },
      reconnect: { initialDelayMs: 200, maxDelayMs: 2000 },
      scheduler: { agentRetryDelayMs: 2000, leaseMs: 10000, shutdownGraceMs: 5000 },
      // Off unless a test uses the dialplan hooks: the lab's dialplan expects it on port 4573, and
      // a test may run a second daemon (wrong credentials) next to the first.
      agi: { enabled: false, secretFile: LAB_AGI_SECRET_FILE },
      api: { port: 0 }, // a free port each: a test may run two daemons side by side
      log: { level: 'debug' },
    };
    writeFileSync(this.config, JSON.stringify(deepMerge(base, o.extra ?? {}), null, 2));
  }

  start(): this {
    this.exitCode = null;
    this.proc = spawn(process.execPath, [...(this.o.nodeArgs ?? []), this.o.cli ?? CLI, 'start', '-c', this.config], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(this.o.env ?? {}) } });
    this.proc.stdout!.on('data', (d) => (this.log += d));
    this.proc.stderr!.on('data', (d) => (this.log += d));
    this.exited = new Promise((r) => this.proc!.on('exit', (code, sig) => r((this.exitCode = code ?? (sig ? 128 : 1)))));
    return this;
  }

  async ready(): Promise<void> {
    await waitFor('callbackd to connect ARI and take the presence snapshot', () => /presence snapshot taken/.test(this.log) && /ARI connected/.test(this.log), 15000);
  }

  kill(signal: NodeJS.Signals): Promise<number> {
    this.proc?.kill(signal);
    return this.exited;
  }

  wait(): Promise<number> {
    return this.exited;
  }
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && typeof a[k] === 'object' ? deepMerge(a[k] as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

export function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `callbackd-${prefix}-`));
}
