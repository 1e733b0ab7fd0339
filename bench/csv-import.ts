// bench: `callbackd import-leads` of a 1,000,000-row CSV (default; give another count as the first
// argument) on SQLite and on PostgreSQL, the same file, one engine after the other: rows/s and the CLI
// process's peak RSS, beside its peak for a 10,000-row file (what does not grow with the file), then a
// re-import of the same file (every lead updated). The file mixes E.164 and national numbers, quoted
// names, a BOM and CRLF.
//   npm run bench:csv-import [-- ROWS] [--engine sqlite|pg|sqlite,pg]      (default: both)
// PostgreSQL is a throwaway cluster (test/lab/postgres.sh: fsync and synchronous_commit off, as for the
// tests), SQLite a file in WAL mode with synchronous = NORMAL (src/store/db.ts).
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { applyImport, parseImport } from '../src/import.js';
import type { Engine } from '../src/store/conn.js';
import { openDb } from '../src/store/db.js';
import { openEngine } from '../src/store/open-engine.js';
import { tempDir } from '../test/lab/lab.js';
import { startPostgres, type PgLab } from '../test/lab/postgres.js';
import { runCliMeasured, writeLeadsCsv, type Measured } from './csv-leads.js';

type EngineName = 'sqlite' | 'pg';
const args = process.argv.slice(2);
const flag = args.indexOf('--engine');
const engines = (flag >= 0 ? args[flag + 1]! : 'sqlite,pg').split(',') as EngineName[];
if (engines.some((e) => e !== 'sqlite' && e !== 'pg')) throw new Error(`--engine: sqlite, pg or sqlite,pg (got ${args[flag + 1]})`);
const ROWS = Number(args.find((a, i) => /^\d+$/.test(a) && (flag < 0 || i !== flag + 1)) ?? 1_000_000);
const dir = tempDir('csv-import');
const LIST = 'L-C1';
const CENTER = JSON.stringify({ campaigns: [{ id: 'C1', name: 'C1', time_zone: 'America/New_York' }], lists: [{ id: LIST, campaign: 'C1' }] });

/** A new database on the engine with list L-C1 in it: what to pass as --db. */
async function freshDatabase(engine: EngineName, lab: PgLab | null, name: string): Promise<string> {
  let e: Engine;
  let where: string;
  if (engine === 'sqlite') {
    where = join(dir, `${name}.db`);
    e = openDb(where);
  } else {
    where = await lab!.createDatabase();
    e = await openEngine({ url: where }, { migrate: true, poolSize: 1 }, {});
  }
  try {
    await applyImport(e, parseImport(CENTER, 'bench'), Date.now());
  } finally {
    await e.close();
  }
  return where;
}

async function importLeads(file: string, db: string): Promise<Measured> {
  const m = await runCliMeasured(['import-leads', file, '--db', db, '--map', 'phone=Phone Number']);
  if (m.code !== 0) throw new Error(`import-leads exited ${m.code}: ${m.stderr}`);
  return m;
}

const rate = (rows: number, m: Measured) => Math.round(rows / (m.ms / 1000));
const mib = (kb: number) => (kb / 1024).toFixed(0);

let t = performance.now();
const small = join(dir, 'small.csv');
const big = join(dir, 'big.csv');
await writeLeadsCsv(small, 10_000, LIST, 'small');
await writeLeadsCsv(big, ROWS, LIST, 'big');
console.log(`${ROWS.toLocaleString('en-US')} rows (${(statSync(big).size / 2 ** 20).toFixed(0)} MiB CSV) written in ${((performance.now() - t) / 1000).toFixed(1)} s; engines: ${engines.join(', ')}`);

const pg = engines.includes('pg') ? startPostgres() : null;
if (pg && !pg.ok) throw new Error(`PostgreSQL could not start: ${pg.reason}`);
const lab = pg?.ok ? pg.lab : null;
// An interrupted bench does not leave its cluster running.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => (lab?.stop(), process.exit(130)));
const results: string[][] = [];
try {
  for (const engine of engines) {
    const db = await freshDatabase(engine, lab, engine);
    const s = await importLeads(small, db);
    const first = await importLeads(big, db);
    console.log(`${engine}: ${first.stdout.trim()}`);
    const again = await importLeads(big, db);
    console.log(`${engine}: ${again.stdout.trim()}`);
    results.push([
      engine,
      `${(first.ms / 1000).toFixed(1)} s = ${rate(ROWS, first).toLocaleString('en-US')} rows/s`,
      `${mib(first.peakKb)} MiB (10,000 rows: ${mib(s.peakKb)})`,
      `${(again.ms / 1000).toFixed(1)} s = ${rate(ROWS, again).toLocaleString('en-US')} rows/s, ${mib(again.peakKb)} MiB`,
    ]);
  }
} finally {
  lab?.stop();
}
const head = ['engine', `import of ${ROWS.toLocaleString('en-US')} rows`, 'peak RSS', 're-import (all updated)'];
const widths = head.map((h, i) => Math.max(h.length, ...results.map((r) => r[i]!.length)));
for (const r of [head, ...results]) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
