// The CSV import's staging (src/store/lead-staging.ts, sql/0026) on SQLite and on PostgreSQL: rows are
// keyed by their import, copied in chunks with the right created/updated counts, and nothing is left
// behind by a finished, a refused or (a day later) a killed import.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importCsvLeads, type CsvLeadOptions } from '../../../src/import-csv.js';
import { importFile } from '../../../src/import.js';
import { beginLeadImport, copyStagedLeads, dropLeadImport, stageLeads, STALE_IMPORT_MS, type StagedLead } from '../../../src/store/lead-staging.js';
import { dbExec, freshEngineEachTest, TEST_ENGINE, type TestEngine } from '../engine.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/callcenter.yaml', import.meta.url));
const T = 1_790_000_000_000;
let e: TestEngine;
const dir = mkdtempSync(join(tmpdir(), 'cbd-staging-'));
freshEngineEachTest(
  (x) => (e = x),
  async (x) => void (await importFile(x, EXAMPLE, T)), // list SALES-NOV, lead L-0001
);

const csv = (name: string, text: string) => {
  const f = join(dir, `${TEST_ENGINE}-${name}`);
  writeFileSync(f, text);
  return f;
};
const opts = (o: Partial<CsvLeadOptions> = {}): CsvLeadOptions => ({ list: 'SALES-NOV', map: new Map(), skipBad: false, ignoreExtraColumns: false, batchRows: 2000, now: T, ...o });
const rows = async (table: string) => Number((await dbExec(e, `SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
const staged = async () => ({ imports: await rows('lead_imports'), rows: await rows('lead_import_rows'), phones: await rows('lead_import_phones') });
const NOTHING = { imports: 0, rows: 0, phones: 0 };
const lead = (id: string, e164: string): StagedLead => ({ id, listId: 'SALES-NOV', firstName: null, lastName: null, phoneE164: e164, timeZone: null, numbers: [{ e164 }] });

describe(`the CSV import's staging on ${TEST_ENGINE}`, () => {
  it('copies in chunks of --batch rows, counting new and updated leads (a row listed twice leaves a gap), and leaves nothing staged', async () => {
    const f = csv('chunks.csv', 'id,phone,phone2\nC1,+15551230101,\nL-0001,+15551230102,+15551230103\nC2,+15551230104,\nC1,+15551230105,\nC3,+15551230106,\n');
    const writing: number[] = [];
    const r = await importCsvLeads(e, f, opts({ skipBad: true, batchRows: 2, progress: (p) => p.phase === 'writing' && writing.push(p.rows) }));
    expect(r).toMatchObject({ rows: 5, created: 3, updated: 1, skipped: 1, problems: ['line 5 (C1): column "id" (id): lead C1 is listed twice in the file'] });
    expect(writing).toEqual([2, 3, 4]); // n 1-2, 3-4 (4 was the double), 5
    expect((await dbExec(e, 'SELECT id, phone_e164 FROM leads ORDER BY id')).rows).toEqual([
      { id: 'C1', phone_e164: '+15551230101' },
      { id: 'C2', phone_e164: '+15551230104' },
      { id: 'C3', phone_e164: '+15551230106' },
      { id: 'L-0001', phone_e164: '+15551230102' },
    ]);
    expect((await dbExec(e, "SELECT position, e164 FROM lead_phones WHERE lead_id = 'L-0001' ORDER BY position")).rows).toEqual([
      { position: 1, e164: '+15551230102' },
      { position: 2, e164: '+15551230103' },
    ]);
    expect(await staged()).toEqual(NOTHING);
  });

  it('a refused file (a bad row) writes no lead and leaves nothing staged', async () => {
    const f = csv('bad.csv', 'id,phone\nB1,+15551230201\nB2,555\n');
    await expect(importCsvLeads(e, f, opts())).rejects.toMatchObject({ code: 'IMPORT_INVALID', message: expect.stringContaining('line 3 (B2)') });
    expect((await dbExec(e, 'SELECT id FROM leads ORDER BY id')).rows).toEqual([{ id: 'L-0001' }]);
    expect(await staged()).toEqual(NOTHING);
  });

  it('two imports at once stage under their own ids: the same lead in both is not "listed twice"', async () => {
    const a = await beginLeadImport(e, T);
    const b = await beginLeadImport(e, T);
    expect(a).not.toBe(b);
    expect([...(await stageLeads(e, a, 1, [lead('X1', '+15551230301'), lead('X2', '+15551230302'), lead('X1', '+15551230303')]))]).toEqual([2]);
    expect([...(await stageLeads(e, b, 1, [lead('X1', '+15551230309')]))]).toEqual([]);
    expect(await copyStagedLeads(e, a, 0, 10, T + 1)).toEqual({ copied: 2, updated: 0 });
    expect(await staged()).toEqual({ imports: 2, rows: 1, phones: 1 }); // b's row waits
    await dropLeadImport(e, a);
    await dropLeadImport(e, b);
    expect(await staged()).toEqual(NOTHING);
    expect((await dbExec(e, "SELECT id, phone_e164, updated_at FROM leads WHERE id LIKE 'X%' ORDER BY id")).rows.map((r) => [r.id, r.phone_e164, Number(r.updated_at)])).toEqual([
      ['X1', '+15551230301', T + 1],
      ['X2', '+15551230302', T + 1],
    ]);
  });

  it("a killed import's rows are removed by the next import once a day old; a younger one (maybe running) is kept", async () => {
    const old = await beginLeadImport(e, T - STALE_IMPORT_MS - 1);
    await stageLeads(e, old, 1, [lead('K1', '+15551230401')]);
    const young = await beginLeadImport(e, T - 3_600_000);
    await stageLeads(e, young, 1, [lead('K2', '+15551230402')]);
    const r = await importCsvLeads(e, csv('next.csv', 'id,phone\nN1,+15551230403\n'), opts());
    expect(r).toMatchObject({ created: 1 });
    expect((await dbExec(e, 'SELECT import_id, id FROM lead_import_rows')).rows).toEqual([{ import_id: young, id: 'K2' }]);
    expect(await staged()).toEqual({ imports: 1, rows: 1, phones: 1 });
  });
});
