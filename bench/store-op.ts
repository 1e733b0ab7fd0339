// bench: what op() costs on SQLite (issue 16, risk B2 of the async store plan: < 2 µs per op).
// 100k primary-key reads shaped like getCallback: drizzle's sync .get(), the same read as an async body
// awaited directly, and that body through op(). Not a test: it never fails on speed.
//   npm run build && node dist/bench/store-op.js [N]
import { eq } from 'drizzle-orm';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Conn } from '../src/store/conn.js';
import { openDb } from '../src/store/db.js';
import { first, op } from '../src/store/engine.js';
import { trunks } from '../src/store/schema.js';

const N = Number(process.argv[2] ?? 100_000);
const db = openDb(join(mkdtempSync(join(tmpdir(), 'cbd-store-op-')), 'db.sqlite'));
db.insert(trunks).values({ id: 'T1', updatedAt: 1 }).run();

const syncGet = (id: string) => db.select().from(trunks).where(eq(trunks.id, id)).get();
const asyncGet = async (c: Conn, id: string) => first(await c.q.select().from(c.t.trunks).where(eq(c.t.trunks.id, id)).limit(1));
const opGet = op('getTrunk', asyncGet);
// The same without the database: what op() itself costs, out of reach of the statement's noise.
const noop = async (_c: Conn, id: string) => id;
const opNoop = op('noop', noop);

async function chunk(f: () => unknown, n: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await f();
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

// The three run in alternating chunks of N/10 and each reports its median chunk: the machine this was written
// on was shared (load ~15 on 2 cores), so a single long run mostly measured the neighbours. The first
// AsyncLocalStorage use switches on V8 promise hooks for the whole process, so op() runs once before timing.
const variants: [string, () => unknown][] = [
  ['sync .get() (awaited)', () => syncGet('T1')],
  ['async body, no op()', () => asyncGet(db, 'T1')],
  ['async body through op()', () => opGet(db, 'T1')],
  ['empty async fn', () => noop(db, 'T1')],
  ['empty async fn through op()', () => opNoop(db, 'T1')],
];
for (const [, f] of variants) await chunk(f, N / 5);
const per = variants.map(() => [] as number[]);
for (let round = 0; round < 10; round++) for (const [i, [, f]] of variants.entries()) per[i]!.push(await chunk(f, N / 10));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const [s, a, o, e, eo] = per.map(median) as [number, number, number, number, number];
console.log(`${N} ops each, median of 10 chunks:`);
for (const [i, [label]] of variants.entries()) console.log(`  ${label.padEnd(30)} ${median(per[i]!).toFixed(2)} µs/op`);
console.log(`op() adds ${(o - a).toFixed(2)} µs over the async body (${(eo - e).toFixed(2)} µs on an empty one); async through op() costs ${(o - s).toFixed(2)} µs more than sync`);
await db.close();
