// bench: `callbackd import-leads` of a 1,000,000-row CSV (default; give another count as the first
// argument): rows/s and the CLI process's peak RSS, beside its peak for a 10,000-row file (what
// does not grow with the file). The file mixes E.164 and national numbers, quoted names, a BOM and CRLF.
//   npm run bench:csv-import [-- ROWS]
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../src/store/db.js';
import { tempDir } from '../test/lab/lab.js';
import { runCliMeasured, writeLeadsCsv } from './csv-leads.js';
import { benchCenter } from './generate.js';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const dir = tempDir('csv-import');
const db = join(dir, 'callbackd.db');
const g = openDb(db);
await benchCenter(g, 0, Date.now()); // campaigns C1…C4 with lists L-C1…L-C4
g.$client.close();

async function run(rows: number, prefix: string) {
  const file = join(dir, `${prefix}.csv`);
  let t = performance.now();
  await writeLeadsCsv(file, rows, 'L-C1', prefix);
  const genMs = performance.now() - t;
  const m = await runCliMeasured(['import-leads', file, '--db', db, '--map', 'phone=Phone Number']);
  if (m.code !== 0) throw new Error(`import-leads exited ${m.code}: ${m.stderr}`);
  const mb = statSync(file).size / 2 ** 20;
  console.log(
    `${rows.toLocaleString('en-US').padStart(9)} rows (${mb.toFixed(0)} MiB CSV, written in ${(genMs / 1000).toFixed(1)} s): ` +
      `imported in ${(m.ms / 1000).toFixed(1)} s = ${Math.round(rows / (m.ms / 1000)).toLocaleString('en-US')} rows/s, peak RSS ${(m.peakKb / 1024).toFixed(0)} MiB`,
  );
  console.log(`  ${m.stdout.trim()}`);
  return m;
}

const small = await run(10_000, 'small');
const big = await run(ROWS, 'big');
console.log(`peak RSS ${(big.peakKb / 1024).toFixed(0)} MiB for ${ROWS.toLocaleString('en-US')} rows vs ${(small.peakKb / 1024).toFixed(0)} MiB for 10,000`);
const again = await runCliMeasured(['import-leads', join(dir, 'big.csv'), '--db', db, '--map', 'phone=Phone Number']);
console.log(`re-import of the same file (every lead updated): ${(again.ms / 1000).toFixed(1)} s = ${Math.round(ROWS / (again.ms / 1000)).toLocaleString('en-US')} rows/s, peak RSS ${(again.peakKb / 1024).toFixed(0)} MiB`);
