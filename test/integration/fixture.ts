import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import YAML from 'yaml';
import { afterEach, beforeEach } from 'vitest';
import type { ApiDeps } from '../../src/api/deps.js';
import { buildApi } from '../../src/api/server.js';
import { createToken } from '../../src/app/auth.js';
import { applyImport, parseImport } from '../../src/import.js';
import type { Engine } from '../../src/store/conn.js';
import { openDb, type Db } from '../../src/store/db.js';
import type { AriClient } from '../../src/asterisk/ari.js';
import type { Presence } from '../../src/asterisk/presence.js';
import { TrunkLimiter } from '../../src/dialer/trunk-limits.js';
import type { Logger } from '../../src/log.js';
import { Scheduler, type SchedulerOptions } from '../../src/scheduler/scheduler.js';
import { cleanupEngines, freshEngine, TEST_ENGINE, type TestEngine } from './engine.js';
import { FakeAri, FakePresence } from './fakes.js';
import { DIAL_BUSY_TIMEOUT_MS } from '../../src/store/busy.js';

// The integration tests' call centers, API and scheduler, written once: a fresh database with an
// import file, a token per user, the HTTP API through fastify's inject (test/integration/{api,
// events,hostile-*,agi}.test.ts), and a scheduler over fakes (test/integration/scheduler/*.test.ts, on both engines).

/** Monday 10:00 in New York. */
export const NOW = Date.parse('2026-11-23T15:00:00Z');

type ImportFile = Record<string, Record<string, unknown>[]>;

/** One trunk, 'carrier', and the outbound number +15550100001 on it. */
export const ONE_TRUNK: ImportFile = {
  trunks: [{ id: 'carrier' }],
  numbers: [{ number: '+15550100001', trunk: 'carrier' }],
};

/**
 * Two campaigns (C1 in New York, C2 in London) on one trunk, a list each, two agents of C1 with a
 * phone each, three leads in C1 and one in C2, an admin and a manager of C1 who may modify leads.
 * `more` adds rows after these, section by section.
 */
export function callCenter(more: ImportFile = {}): ImportFile {
  const base: ImportFile = {
    ...ONE_TRUNK,
    campaigns: [
      { id: 'C1', name: 'One', time_zone: 'America/New_York', outbound_number: '+15550100001' },
      { id: 'C2', name: 'Two', time_zone: 'Europe/London', outbound_number: '+15550100001' },
    ],
    lists: [{ id: 'L1', campaign: 'C1' }, { id: 'L2', campaign: 'C2' }],
    agents: [
      { id: 'a1', name: 'A1', campaigns: ['C1'] },
      { id: 'a2', name: 'A2', campaigns: ['C1'] },
    ],
    phones: [{ endpoint: 'p1', agent: 'a1' }, { endpoint: 'p2', agent: 'a2' }],
    leads: [
      { id: 'n1', list: 'L1', first_name: 'Ann', phone: '+12125550101' },
      { id: 'n2', list: 'L1', phone: '+12125550102' },
      { id: 'n3', list: 'L1', phone: '+12125550103' },
      { id: 'u1', list: 'L2', phone: '+442079460018' },
    ],
    users: [
      { id: 'root', role: 'admin' },
      { id: 'mgr', role: 'manager', campaigns: ['C1'], lead_modify: true },
    ],
  };
  const out: ImportFile = { ...base };
  for (const [k, rows] of Object.entries(more)) out[k] = [...(base[k] ?? []), ...rows];
  return out;
}

/** A new database in its own temporary directory with `file` imported at `now`. */
export async function importedDb(prefix: string, file: ImportFile, now = NOW): Promise<{ db: Db; dbPath: string }> {
  const dbPath = join(mkdtempSync(join(tmpdir(), `cbd-${prefix}-`)), 'db.sqlite');
  const db = openDb(dbPath);
  await applyImport(db, parseImport(YAML.stringify(file), 'fixture'), now);
  return { db, dbPath };
}

/**
 * A new database on this run's engine (test/integration/engine.ts: SQLite or PostgreSQL) with `file`
 * imported at `now`: the conformance folders' call center. Closed by cleanupEngines().
 */
export async function importedEngine(file: ImportFile, now = NOW): Promise<TestEngine> {
  const e = await freshEngine();
  await applyImport(e, parseImport(YAML.stringify(file), 'fixture'), now);
  return e;
}

/**
 * Long enough for one scheduler pass over a handful of callbacks after a nudge, for tests that move a
 * clock and then check that nothing happened. On PostgreSQL a pass is some thirty round trips.
 */
export const ONE_PASS_MS = TEST_ENGINE === 'pg' ? 300 : 60;

/** An API token for each of the file's users, by user id. */
export async function tokensFor(db: Db, file: ImportFile, now = NOW): Promise<Record<string, string>> {
  const tok: Record<string, string> = {};
  for (const u of file.users ?? []) tok[u.id as string] = (await createToken(db, u.id as string, 'test', now)).token;
  return tok;
}

/** The HTTP API over `db`: silent log, the clock at NOW, ready, nothing to nudge, unless `o` says otherwise. */
export function testApi(db: Db, o: Partial<ApiDeps> = {}): Promise<FastifyInstance> {
  return buildApi({
    db, log: pino({ level: 'silent' }), now: () => NOW, nudge: () => undefined,
    ready: () => ({ ari: true, ami: true, presence: true }), bodyLimit: 128 * 1024, ...o,
  });
}

/**
 * Two Asterisk servers a and b (README "Running several servers"): a trunk on each, the one outbound
 * number on both, two agents with a phone on each server, eight leads.
 */
export const TWO_SERVERS = {
  servers: [
    { id: 'a', ari_url: 'http://127.0.0.1:8088', ami_host: '127.0.0.1', ami_port: 5038 },
    { id: 'b', ari_url: 'http://127.0.0.1:8089', ami_host: '127.0.0.1', ami_port: 5039, ari_username: 'cb-b' },
  ],
  trunks: [
    { id: 'carrier-a', server: 'a' },
    { id: 'carrier-b', server: 'b' },
  ],
  numbers: [{ number: '+15550100001', trunk: ['carrier-a', 'carrier-b'] }],
  campaigns: [{ id: 'C', name: 'C', time_zone: 'UTC', outbound_number: '+15550100001', calltime_check: 'off', my_callback_default: 'anyone' }],
  lists: [{ id: 'L', campaign: 'C' }],
  agents: ['a1', 'a2', 'b1', 'b2'].map((id) => ({ id, name: id, campaigns: ['C'] })),
  phones: [
    { endpoint: 'pa1', agent: 'a1', server: 'a' },
    { endpoint: 'pa2', agent: 'a2', server: 'a' },
    { endpoint: 'pb1', agent: 'b1', server: 'b' },
    { endpoint: 'pb2', agent: 'b2', server: 'b' },
  ],
  leads: Array.from({ length: 8 }, (_, i) => ({ id: `l${i}`, list: 'L', phone: `+1212555${String(i).padStart(4, '0')}` })),
} satisfies ImportFile;

/**
 * The dialer's call center (test/integration/scheduler/{scheduler,bridge-retry}.test.ts): agent a1 on phone
 * agent1001 in an agent-first campaign C and a customer-first campaign CF, one lead in each.
 */
export const DIALER_CENTER: ImportFile = {
  ...ONE_TRUNK,
  campaigns: [
    { id: 'C', name: 'C', time_zone: 'UTC', outbound_number: '+15550100001' },
    { id: 'CF', name: 'Customer first', time_zone: 'UTC', outbound_number: '+15550100001', dial_order: 'customer_first' },
  ],
  lists: [{ id: 'L', campaign: 'C' }, { id: 'LF', campaign: 'CF' }],
  agents: [{ id: 'a1', name: 'A', campaigns: ['C', 'CF'] }],
  phones: [{ endpoint: 'agent1001', agent: 'a1' }],
  leads: [
    { id: 'lead1', list: 'L', phone: '+15551230001' },
    { id: 'lead2', list: 'LF', phone: '+15551230002' },
  ],
};

/**
 * A scheduler over fakes of our ARI and presence adapters, not started: a 60 s lease, and a backstop
 * poll so far away that only nudges and data_version make a test pass. `o` overrides any option.
 */
export function testScheduler(db: Engine, ari: FakeAri, log: Logger, o: Partial<SchedulerOptions> = {}): Scheduler {
  return new Scheduler({
    db, ari: ari as unknown as AriClient, presence: new FakePresence() as unknown as Presence, limiter: new TrunkLimiter(), log,
    owner: 'test', leaseMs: 60_000, backstopPollMs: 60_000, externalWriteCheckMs: 50, agentRetryDelayMs: 60_000, confirm: { tries: 3, delayMs: 20 },
    ...o,
  });
}

/** The scheduler of the tests that move a fake clock themselves (queue, rules): its time is `clock()`, the backstop far away. */
export function clockedScheduler(db: Engine, ari: FakeAri, presence: FakePresence, clock: () => number): Scheduler {
  const s = testScheduler(db, ari, pino({ level: 'silent' }), {
    presence: presence as unknown as Presence, owner: 't', backstopPollMs: 600_000, externalWriteCheckMs: 1000, agentRetryDelayMs: 30_000, confirm: { tries: 5, delayMs: 400 }, now: clock,
  });
  s.start();
  ari.emit('connected');
  return s;
}

/**
 * A SQLite center in a file, and a started scheduler on its own connection opened as daemon.ts opens it
 * (busy timeout DIAL_BUSY_TIMEOUT_MS), logging into `lines`: for the tests where another connection holds
 * the write lock. `stops` gets what closes them.
 */
export async function dialerOnOwnConnection(prefix: string, file: ImportFile, leaseMs: number, stops: (() => Promise<void> | void)[]) {
  const { db, dbPath } = await importedDb(prefix, file, Date.now());
  const dialDb = openDb(dbPath, { migrate: false, busyTimeoutMs: DIAL_BUSY_TIMEOUT_MS });
  const lines: string[] = [];
  const ari = new FakeAri();
  const sched = testScheduler(dialDb, ari, pino({ level: 'info' }, { write: (l: string) => lines.push(l) }), { leaseMs });
  sched.start();
  ari.emit('connected');
  stops.push(() => void db.$client.close(), () => void dialDb.$client.close(), () => sched.stop(0));
  return { db, dbPath, dialDb, lines, ari, sched };
}

/**
 * Each test: `file` imported on the test's engine and a started scheduler over the fake `makeAri()`
 * returns (ARI connected); stopped and the engine cleaned up after. `use` receives the three.
 */
export function runningSchedulerEachTest<A extends FakeAri>(file: ImportFile, makeAri: () => A, use: (t: { db: TestEngine; ari: A; sched: Scheduler }) => void, log: Logger): void {
  let sched: Scheduler | undefined;
  beforeEach(async () => {
    const db = await importedEngine(file, Date.now());
    const ari = makeAri();
    sched = testScheduler(db, ari, log);
    sched.start();
    ari.emit('connected');
    use({ db, ari, sched });
  });
  afterEach(async () => {
    await sched?.stop(0);
    await cleanupEngines();
  });
}

/**
 * Another process's write, committed before this returns: for a hook the scheduler calls synchronously
 * between its read and its claim (presence.of), where an awaited write would race the claim.
 * SQLite: a second connection of this process (better-sqlite3 is synchronous); PostgreSQL: psql, run to
 * completion. `?` marks each parameter; numbers only (they are written into the statement on pg).
 */
export function commitElsewhere(e: TestEngine, text: string, params: number[] = []): void {
  if (e.kind === 'sqlite') {
    const other = openDb(e.location, { migrate: false });
    try {
      other.$client.prepare(text).run(...params);
    } finally {
      other.$client.close();
    }
    return;
  }
  let i = 0;
  const stmt = text.replace(/\?/g, () => {
    const v = params[i++];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`commitElsewhere: parameter ${i} is not a number`);
    return String(v);
  });
  execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', e.location, '-c', stmt], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** The several-numbers-per-lead center (customer-first, New York hours) of the alt-dial tests; `campaign` overrides its campaign's fields. */
export const altDialCenter = (campaign: Record<string, unknown> = {}, leads: unknown[] = [], extra: Record<string, unknown> = {}) => ({
  trunks: [{ id: 'carrier' }],
  numbers: [{ number: '+15550100001', trunk: 'carrier' }],
  campaigns: [{ id: 'C', name: 'C', time_zone: 'America/New_York', outbound_number: '+15550100001', dial_order: 'customer_first', calling_windows: { 'mon-sun': '09:00-20:00' }, retry_delays: { busy: 60, no_answer: 60 }, max_attempts: 5, ...campaign }],
  lists: [{ id: 'L', campaign: 'C' }],
  agents: [{ id: 'a1', name: 'A1', campaigns: ['C'] }],
  phones: [{ endpoint: 'agent1001', agent: 'a1' }],
  leads,
  ...extra,
});
