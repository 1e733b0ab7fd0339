// bench: one scheduler pass's reads and decisions, without Asterisk (issue 18 item 6). N callbacks of one
// campaign due at once, shaped as bench:burst's (USERONLY, each agent's own lead and phone): the pass reads
// every callback's facts (scheduler/context.ts readAdmitFacts) and decides (domain/admit), claiming
// nothing, so every round sees the same rows. Three ways, in alternating rounds (the machine is shared):
//   prepare each  - one read per question, drizzle's statements prepared on every call (before this work)
//   stmt cache    - one read per question, statements prepared once per SQL text (src/store/engine.ts)
//   pass reads    - the pass's reads (scheduler/pass-reads.ts) and the statement cache: the daemon now
// Prints the median ms per pass, per callback, and SQL statements per pass. Never fails on speed.
//   npm run build && node dist/bench/admit-pass.js [N] [ROUNDS]
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { admit } from '../src/domain/admit.js';
import { readAdmitFacts } from '../src/scheduler/context.js';
import { PassReads, storeReads } from '../src/scheduler/pass-reads.js';
import { insertCallback, liveReady, promoteDue } from '../src/store/callbacks.js';
import { openDb } from '../src/store/db.js';
import { tempDir } from '../test/lab/lab.js';
import { benchAgents, importBenchCenter } from './bench-db.js';

const N = Number(process.argv[2] ?? 500);
const ROUNDS = Number(process.argv[3] ?? 7);
// bench:burst's center (campaign B, one agent, phone and lead each), imported as the lab benches do.
const dir = tempDir('admit-pass');
const file = join(dir, 'callbackd.db');
importBenchCenter(dir, file, { n: N, dialOrder: 'customer_first' });
const db = openDb(file);
const agents = benchAgents(N);
const now = Date.now();
for (const a of agents) await insertCallback(db, { leadId: `lead-${a}`, campaignId: 'B', type: 'USERONLY', ownerAgentId: a, dueAt: now - 1000, dueZone: 'UTC', maxAttempts: 1, notes: null }, now - 2000);
await promoteDue(db, now);

// drizzle's own client: the statement cache wraps it (engine.ts cacheStatements); the plain one prepares every call.
const session = (db as unknown as { session: { client: Database.Database } }).session;
const cached = session.client;
let statements = 0;
const counting = Object.create(db.$client, { prepare: { value: (s: string) => (statements++, db.$client.prepare(s)) } }) as Database.Database;

const presence = () => ({ registered: true, inUse: false, idleSince: 0 });
const ok = () => ({ ok: true }) as const;
async function pass(passReads: boolean): Promise<{ ms: number; dials: number }> {
  const t0 = process.hrtime.bigint();
  const ready = await liveReady(db, now, N);
  const reads = passReads ? new PassReads(db, ready) : storeReads(db);
  let dials = 0;
  for (const cb of ready) {
    const { facts } = await readAdmitFacts(db, cb, now, presence, new Map(), null, ok, null, reads);
    if (admit(facts).kind === 'dial') dials++;
  }
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, dials };
}

const variants: [string, Database.Database, boolean][] = [
  ['prepare each', counting, false],
  ['stmt cache', cached, false],
  ['pass reads', cached, true],
];
const times = variants.map(() => [] as number[]);
const stmts: number[] = [];
for (let round = -1; round < ROUNDS; round++) {
  for (const [i, [, client, pr]] of variants.entries()) {
    session.client = client;
    const r = await pass(pr);
    if (r.dials !== N) throw new Error(`${variants[i]![0]}: ${r.dials} of ${N} would dial`);
    if (round >= 0) times[i]!.push(r.ms);
  }
  // Statements of one pass of each way, counted with nothing cached.
  if (round === -1) {
    session.client = counting;
    for (const pr of [false, true]) {
      statements = 0;
      await pass(pr);
      stmts.push(statements);
    }
  }
}
session.client = cached;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`one pass over ${N} ready callbacks (read facts + admit, no claim), median of ${ROUNDS} rounds:`);
for (const [i, [label]] of variants.entries()) {
  const m = median(times[i]!);
  console.log(`  ${label.padEnd(13)} ${m.toFixed(1).padStart(7)} ms/pass  ${((m * 1000) / N).toFixed(0).padStart(5)} µs/callback`);
}
console.log(`  SQL statements per pass: one read per question ${stmts[0]}, pass reads ${stmts[1]}`);
await db.close();
