import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCliMeasured, writeLeadsCsv } from '../../bench/csv-leads.js';
import { benchCenter } from '../../bench/generate.js';
import { importCsvLeads } from '../../src/import-csv.js';
import { openDb } from '../../src/store/db.js';

// The CSV import streams: memory does not grow with the file. CI-sized (50,000 rows); the 1,000,000-row
// figures are bench/csv-import.ts's (README "Import leads from CSV"). The CLI part runs the build in dist/.

const ROWS = 50_000;
let dir: string;
let dbFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cbd-csv-mem-'));
  dbFile = join(dir, 'db.sqlite');
  const db = openDb(dbFile);
  await benchCenter(db, 0, Date.now()); // lists L-C1…L-C4
  db.$client.close();
  await writeLeadsCsv(join(dir, 'small.csv'), 5_000, 'L-C1', 's');
  await writeLeadsCsv(join(dir, 'big.csv'), ROWS, 'L-C1', 'b');
}, 60_000);

describe('import-leads memory', () => {
  it(`the live JS heap is the same after 10,000 rows and after ${ROWS.toLocaleString('en-US')} (checking and writing)`, async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const heap = () => {
      gc();
      return process.memoryUsage().heapUsed;
    };
    const samples: Record<string, number> = {};
    const db = openDb(dbFile);
    try {
      const r = await importCsvLeads(db, join(dir, 'big.csv'), {
        map: new Map([['phone', 'Phone Number']]),
        skipBad: false,
        ignoreExtraColumns: false,
        batchRows: 2000,
        now: Date.now(),
        progress: (p) => {
          if (p.rows === 10_000 || p.rows === ROWS) samples[`${p.phase}@${p.rows}`] = heap();
        },
      });
      expect(r).toMatchObject({ rows: ROWS, created: ROWS, skipped: 0 });
    } finally {
      db.$client.close();
    }
    const growth = (a: string, b: string) => (samples[b]! - samples[a]!) / 2 ** 20;
    // Keeping the rows would be tens of MiB here (a parsed row is ~0.5 KiB).
    expect(growth('checking@10000', `checking@${ROWS}`)).toBeLessThan(4);
    expect(growth('writing@10000', `writing@${ROWS}`)).toBeLessThan(4);
  }, 120_000);

  it(`the CLI with a 64 MiB heap imports ${ROWS.toLocaleString('en-US')} rows with a peak RSS within 48 MiB of a 5,000-row import`, async () => {
    const env = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = '--max-old-space-size=64';
    try {
      const args = (f: string) => ['import-leads', join(dir, f), '--db', dbFile, '--map', 'phone=Phone Number'];
      const small = await runCliMeasured(args('small.csv'));
      expect(small.code, small.stderr).toBe(0);
      const big = await runCliMeasured(args('big.csv'));
      expect(big.code, big.stderr).toBe(0);
      expect(big.stdout).toContain(`${ROWS} of ${ROWS} row(s)`);
      expect(small.peakKb).toBeGreaterThan(0);
      expect((big.peakKb - small.peakKb) / 1024).toBeLessThan(48);
    } finally {
      if (env === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = env;
    }
  }, 180_000);
});
