import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importFile } from '../../../src/import.js';
import type { Conn } from '../../../src/store/conn.js';
import { runCli } from '../cli-run.js';
import { dbExec, freshEngine, freshEngineEachTest, TEST_ENGINE, type TestEngine } from '../engine.js';

// `callbackd import-leads FILE.csv` on SQLite and on PostgreSQL (vitest projects `sqlite`/`pg`; the CLI
// runs in this process, --db naming this test's database): the header checked before any row, every row
// checked as the YAML import checks a lead, problems with line numbers, all or nothing or --skip-bad,
// quoting/BOM/CRLF. The staging itself: test/integration/store/import-staging.test.ts.

let dir: string;
let e: TestEngine;
const file = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const leads = async (c: Conn = e) =>
  (await dbExec(c, 'SELECT id, list_id, first_name, last_name, phone_e164, time_zone FROM leads ORDER BY id')).rows as Record<string, string | null>[];
const run = (csv: string, ...args: string[]) => runCli(['import-leads', csv, '--db', e.location, ...args]);

const CENTER = `campaigns:
  - { id: US1, name: US, time_zone: America/New_York }
  - { id: GB1, name: GB, time_zone: Europe/London, default_region: GB }
lists:
  - { id: L-US, campaign: US1 }
  - { id: L-GB, campaign: GB1 }
leads:
  - { id: OLD, list: L-US, first_name: Old, phone: "+15551230001" }
`;

freshEngineEachTest(
  (x) => (e = x),
  async () => {
    dir = mkdtempSync(join(tmpdir(), 'cbd-csv-'));
    const r = await runCli(['import', file('center.yaml', CENTER), '--db', e.location]);
    expect(r.code, r.stderr).toBe(0);
  },
);

describe(`import-leads on ${TEST_ENGINE}: the header`, () => {
  it('names every missing, unknown and mis-mapped column at once, with did-you-mean, before reading any row', async () => {
    const csv = file('h.csv', 'id,phon,First Name,Notes\nA1,not-a-number,Ann,x\n');
    const r = await run(csv, '--list', 'L-US', '--map', 'last=Surname');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      `callbackd: ${csv}: the header (line 1) has 4 problem(s), nothing imported:`,
      "  --map: last is not a lead field (did you mean 'last_name'?); the fields are id, list, first_name, last_name, phone, phone2 … phone10, time_zone",
      `  column "phon" is not a lead field (did you mean 'phone'? --map phone="phon"); map it with --map FIELD="phon", or pass --ignore-extra-columns (the fields are id, list, first_name, last_name, phone, phone2 … phone10, time_zone)`,
      `  column "Notes" is not a lead field; map it with --map FIELD="Notes", or pass --ignore-extra-columns (the fields are id, list, first_name, last_name, phone, phone2 … phone10, time_zone)`,
      '  no column for phone: name a column "phone" or map one with --map phone=COLUMN (did you mean --map phone="phon"?)',
    ]);
    // The bad phone on line 2 is never reached: the header stops the import first.
    expect(r.stderr).not.toContain('line 2');
    expect((await leads()).map((l) => l.id)).toEqual(['OLD']);
  });

  it('a --map column that is not in the header is named with the closest one; a list is required without a list column', async () => {
    const csv = file('m.csv', 'Vendor ID,Phone Number\nA1,2125550101\n');
    const r = await run(csv, '--map', 'id=Vendor Id,phone=Phone Numbr');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--map phone=Phone Numbr: no column "Phone Numbr" in the header (did you mean "Phone Number"?)');
    expect(r.stderr).toContain('no column for list: name a column "list" or map one with --map list=COLUMN');
    expect(r.stderr).not.toContain('Vendor Id'); // matched case-insensitively
  });

  it('maps columns with --map; "First Name" fills first_name; --ignore-extra-columns drops the rest', async () => {
    const csv = file('v.csv', 'Vendor ID,First Name,Surname,Phone Number,Owner\nV1,Ann,Lee,2125550101,someone\nV2,Bob,,+442079460018,other\n');
    const r = await run(csv, '--list', 'L-US', '--map', 'id=Vendor ID,last_name=Surname,phone=Phone Number', '--ignore-extra-columns');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`imported ${csv}: 2 of 2 row(s) — 2 new lead(s), 0 updated`);
    expect((await leads()).filter((l) => l.id !== 'OLD')).toEqual([
      { id: 'V1', list_id: 'L-US', first_name: 'Ann', last_name: 'Lee', phone_e164: '+12125550101', time_zone: null },
      { id: 'V2', list_id: 'L-US', first_name: 'Bob', last_name: null, phone_e164: '+442079460018', time_zone: null },
    ]);
  });

  it('an empty file, a header without rows, a missing file, a malformed quote: one line each, exit 2', async () => {
    const cases: [string, RegExp][] = [
      [file('e.csv', ''), /e\.csv is empty: give a header row/],
      [file('h.csv', 'id,phone\r\n'), /h\.csv has a header and no rows/],
      [join(dir, 'missing.csv'), /cannot read .*missing\.csv: ENOENT/],
      [file('q.csv', 'id,phone\n"A1,2125550101\n'), /q\.csv: line 2: not readable as CSV: Quote Not Closed/],
    ];
    for (const [csv, msg] of cases) {
      const r = await run(csv, '--list', 'L-US');
      expect(r.code, csv).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
  });
});

describe(`import-leads on ${TEST_ENGINE}: the rows`, () => {
  const MIXED = [
    '\uFEFFid,list,first_name,last_name,phone,time_zone',
    'A1,L-US,Ann,"Smith, Jr",(212) 555-0101,America/Chicago',
    'A2,L-US,"Bob ""the"" Builder","two',
    'lines",+15551230002,',
    '',
    'A3,L-US,Cy,,555-1234,',
    'A4,L-NOPE,Di,,2125550104,',
    'A5,L-US,Ed,,2125550105,Mars/Base',
    'A1,L-US,Again,,2125550101,',
    'A6,L-GB,Fay,,020 7946 0018,',
    'A7,L-US,Short',
  ].join('\r\n');

  it('reports every bad row with its line (multi-line quoted cells and blank lines counted) and imports nothing', async () => {
    const csv = file('rows.csv', MIXED + '\r\n');
    const r = await run(csv);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      `callbackd: ${csv}: 5 of 8 row(s) have problems, nothing imported (--skip-bad imports the others):`,
      '  line 6 (A3): column "phone" (phone): "555-1234" is not a phone number (give E.164 like +15551230001, or a national number of region US)',
      '  line 7 (A4): column "list" (list): no list "L-NOPE"',
      '  line 8 (A5): column "time_zone" (time_zone): must be an IANA time zone like America/New_York',
      '  line 9 (A1): column "id" (id): lead A1 is listed twice in the file',
      '  line 11 (A7): has 3 cells, the header has 6',
    ]);
    expect((await leads()).map((l) => l.id)).toEqual(['OLD']);
  });

  it('the messages are those of the YAML import for the same lead', async () => {
    const yaml = `leads:\n  - { id: A5, list: L-US, phone: "2125550105", time_zone: Mars/Base }\n  - { id: A3, list: L-US, phone: "555-1234" }\n`;
    let msg = '';
    try {
      await importFile(e, file('same.yaml', yaml), Date.now());
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toContain('leads[0] (A5).time_zone: must be an IANA time zone like America/New_York');
    expect(msg).toContain('leads[1] (A3).phone: "555-1234" is not a phone number (give E.164 like +15551230001, or a national number of region US)');
  });

  it('--skip-bad imports the good rows (BOM, CRLF, quotes, national numbers in each campaign region) and lists the skipped ones', async () => {
    const csv = file('rows.csv', MIXED);
    const r = await run(csv, '--skip-bad');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`imported ${csv}: 3 of 8 row(s) — 3 new lead(s), 0 updated; skipped 5 bad row(s) (--skip-bad):`);
    expect(r.stdout).toContain('  line 6 (A3): column "phone" (phone):');
    expect(r.stdout).toContain('  line 11 (A7): has 3 cells');
    expect(await leads()).toEqual([
      { id: 'A1', list_id: 'L-US', first_name: 'Ann', last_name: 'Smith, Jr', phone_e164: '+12125550101', time_zone: 'America/Chicago' },
      { id: 'A2', list_id: 'L-US', first_name: 'Bob "the" Builder', last_name: 'two\r\nlines', phone_e164: '+15551230002', time_zone: null },
      { id: 'A6', list_id: 'L-GB', first_name: 'Fay', last_name: null, phone_e164: '+442079460018', time_zone: null },
      { id: 'OLD', list_id: 'L-US', first_name: 'Old', last_name: null, phone_e164: '+15551230001', time_zone: null },
    ]);
  });

  it('an existing lead (same id) is updated in place; --json tells created and updated; no progress bar off a terminal', async () => {
    const csv = file('u.csv', 'id,first_name,phone\nOLD,Renamed,2125550199\nN1,New,2125550198\n');
    const r = await run(csv, '--list', 'L-US', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ rows: 2, created: 1, updated: 1, skipped: 0, problems: [], listCreated: null });
    expect(r.stderr).toBe('');
    expect((await leads()).find((l) => l.id === 'OLD')).toMatchObject({ first_name: 'Renamed', phone_e164: '+12125550199' });
  });

  it('every row bad with --skip-bad is still an error: nothing to import', async () => {
    const r = await run(file('bad.csv', 'id,phone\nB1,12\n'), '--list', 'L-US', '--skip-bad');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('every one of its 1 row(s) has a problem, nothing imported');
  });
});

describe(`import-leads on ${TEST_ENGINE}: --list and --campaign`, () => {
  it('creates a new --list in --campaign, reading national numbers in that campaign region', async () => {
    const r = await run(file('n.csv', 'id,phone\nG1,020 7946 0018\n'), '--list', 'L-NEW', '--campaign', 'GB1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('list L-NEW created');
    expect((await leads()).find((l) => l.id === 'G1')).toMatchObject({ list_id: 'L-NEW', phone_e164: '+442079460018' });
  });

  it('refuses an unknown list without --campaign, an unknown campaign, and a list of another campaign', async () => {
    const csv = file('n.csv', 'id,phone\nG1,2125550101\n');
    expect((await run(csv, '--list', 'L-USA')).stderr).toContain('--list: no list "L-USA" (did you mean "L-US"?); give --campaign C to create it');
    expect((await run(csv, '--list', 'L-X', '--campaign', 'GB')).stderr).toContain('--campaign: no campaign "GB" (did you mean "GB1"?)');
    const other = await run(csv, '--list', 'L-US', '--campaign', 'GB1');
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('--list L-US is in campaign "US1", not "GB1"');
    expect((await leads()).map((l) => l.id)).toEqual(['OLD']);
  });

  it('a bad --map and a missing database are usage errors (exit 2), one line', async () => {
    const csv = file('n.csv', 'id,phone\nG1,2125550101\n');
    const bad = await run(csv, '--list', 'L-US', '--map', 'phone');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--map: "phone" is not FIELD=COLUMN');
    const nodb = await runCli(['import-leads', csv, '--list', 'L-US', '--db', join(dir, 'typo.db')]);
    expect(nodb.code).toBe(2);
    expect(nodb.stderr).toContain('--db: no database at');
  });
});

describe(`import-leads on ${TEST_ENGINE}: several numbers per lead`, () => {
  const numbers = async (c: Conn = e) => (await dbExec(c, 'SELECT lead_id, position, e164, label, dnc, time_zone FROM lead_phones WHERE lead_id != ? ORDER BY lead_id, position', ['OLD'])).rows;

  it('phone, phone2, phone3 columns store the same leads and numbers as the YAML import’s phones:', async () => {
    const csv = file('p.csv', 'id,phone,Phone 2,phone3\nM1,2125550101,+442079460018,\nM2,,2125550103,2125550104\nM3,2125550105,,\n');
    const r = await run(csv, '--list', 'L-US');
    expect(r.code, r.stderr).toBe(0);
    const viaCsv = { leads: await leads(), numbers: await numbers() };
    expect(viaCsv.numbers).toEqual([
      { lead_id: 'M1', position: 1, e164: '+12125550101', label: 'mobile', dnc: 0, time_zone: null },
      { lead_id: 'M1', position: 2, e164: '+442079460018', label: 'mobile', dnc: 0, time_zone: null },
      { lead_id: 'M2', position: 1, e164: '+12125550103', label: 'mobile', dnc: 0, time_zone: null },
      { lead_id: 'M2', position: 2, e164: '+12125550104', label: 'mobile', dnc: 0, time_zone: null },
      { lead_id: 'M3', position: 1, e164: '+12125550105', label: 'mobile', dnc: 0, time_zone: null },
    ]);
    // The same leads through `callbackd import` into a fresh database: the same rows.
    const yaml = `${CENTER}  - { id: M1, list: L-US, phones: [{ number: "2125550101" }, { number: "+442079460018" }] }
  - { id: M2, list: L-US, phones: [{ number: "2125550103" }, { number: "2125550104" }] }
  - { id: M3, list: L-US, phone: "2125550105" }
`;
    const other = await freshEngine();
    expect((await runCli(['import', file('same.yaml', yaml), '--db', other.location])).code).toBe(0);
    expect({ leads: await leads(other), numbers: await numbers(other) }).toEqual(viaCsv);
  });

  it('a re-import replaces a lead’s numbers; a bad or repeated second number is named by its column', async () => {
    expect((await run(file('a.csv', 'id,phone,phone2\nM1,2125550101,2125550102\n'), '--list', 'L-US')).code).toBe(0);
    expect((await run(file('b.csv', 'id,phone\nM1,2125550109\n'), '--list', 'L-US')).code).toBe(0);
    expect(await numbers()).toEqual([{ lead_id: 'M1', position: 1, e164: '+12125550109', label: 'mobile', dnc: 0, time_zone: null }]);
    expect((await leads()).find((l) => l.id === 'M1')?.phone_e164).toBe('+12125550109');
    const bad = await run(file('c.csv', 'id,phone,Alt Phone\nM1,2125550101,555\nM2,2125550101,(212) 555-0101\n'), '--list', 'L-US', '--map', 'phone2=Alt Phone');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('line 2 (M1): column "Alt Phone" (phone2): "555" is not a phone number');
    expect(bad.stderr).toContain('line 3 (M2): column "Alt Phone" (phone2): +12125550101 is listed twice for this lead');
  });
});
