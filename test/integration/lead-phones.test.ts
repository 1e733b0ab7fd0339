import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { bookCallback } from '../../src/app/book.js';
import { viewById } from '../../src/app/callback-view.js';
import { applyImport, importFile, parseImport } from '../../src/import.js';
import { listCallbacks } from '../../src/store/callback-list.js';
import { listMigrations, migrate, openDb, type Db } from '../../src/store/db.js';
import { runCli } from './cli-run.js';
import { altDialCenter } from './fixture.js';

// Several numbers per lead (sql/0017): the migration, the import's `phones:`, booking on a chosen
// number, the search in every number, the view's "dialed next", and alt-dial through the scheduler
// with Asterisk faked on both engines in test/integration/scheduler/alt-dial.test.ts (the lab proves the
// real calls: test/e2e/altdial.e2e.test.ts).

const T0 = Date.parse('2026-11-23T15:00:00Z'); // Monday 10:00 in New York
let dir: string;
let db: Db;
const rows = (q: string) => db.$client.prepare(q).all();

const base = altDialCenter;
const THREE = { id: 'p3', list: 'L', phones: [{ number: '(212) 555-0101', label: 'home' }, { number: '+13105550102', label: 'work' }, { number: '+14155550103', label: 'mobile' }] };
const load = async (...a: Parameters<typeof base>) => await applyImport(db, parseImport(YAML.stringify(base(...a)), 'fixture'), T0);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cbd-phones-'));
  db = openDb(join(dir, 'db.sqlite'));
});

describe('migration 0017', () => {
  it("gives every existing lead its one number at position 1, and alt_dial off", () => {
    const c = new Database(':memory:');
    c.pragma('foreign_keys = ON');
    const all = listMigrations();
    migrate(c, all.filter((m) => m.version < 17));
    c.exec(`INSERT INTO campaigns (id, name, time_zone, updated_at) VALUES ('C', 'C', 'UTC', 0);
            INSERT INTO lists (id, campaign_id, name, updated_at) VALUES ('L', 'C', 'L', 0);
            INSERT INTO leads (id, list_id, phone_e164, time_zone, updated_at) VALUES ('old', 'L', '+12125550101', 'America/Chicago', 0);`);
    migrate(c, all);
    expect(c.prepare('SELECT lead_id, position, e164, label, dnc, time_zone FROM lead_phones').all()).toEqual([{ lead_id: 'old', position: 1, e164: '+12125550101', label: 'mobile', dnc: 0, time_zone: null }]);
    expect(c.prepare('SELECT alt_dial FROM campaigns').get()).toEqual({ alt_dial: 'off' });
  });
});

describe('import phones:', () => {
  it('stores the numbers in order (national read in the default region), number 1 also as leads.phone_e164; a re-import replaces them', async () => {
    await load({}, [THREE, { id: 'one', list: 'L', phone: '212-555-0199' }]);
    expect(rows('SELECT lead_id, position, e164, label, dnc FROM lead_phones ORDER BY lead_id, position')).toEqual([
      { lead_id: 'one', position: 1, e164: '+12125550199', label: 'mobile', dnc: 0 },
      { lead_id: 'p3', position: 1, e164: '+12125550101', label: 'home', dnc: 0 },
      { lead_id: 'p3', position: 2, e164: '+13105550102', label: 'work', dnc: 0 },
      { lead_id: 'p3', position: 3, e164: '+14155550103', label: 'mobile', dnc: 0 },
    ]);
    expect(rows("SELECT phone_e164 FROM leads WHERE id = 'p3'")).toEqual([{ phone_e164: '+12125550101' }]);
    await load({}, [{ id: 'p3', list: 'L', phones: [{ number: '+13105550102', label: 'work', dnc: true, time_zone: 'America/Los_Angeles' }] }]);
    expect(rows("SELECT position, e164, dnc, time_zone FROM lead_phones WHERE lead_id = 'p3'")).toEqual([{ position: 1, e164: '+13105550102', dnc: 1, time_zone: 'America/Los_Angeles' }]);
    expect(rows("SELECT phone_e164 FROM leads WHERE id = 'p3'")).toEqual([{ phone_e164: '+13105550102' }]);
  });

  it('reports bad numbers, a number twice, phone and phones together, a bad label, with line numbers; writes nothing', async () => {
    const f = join(dir, 'bad.yaml');
    writeFileSync(
      f,
      `campaigns:
  - { id: C, name: C, time_zone: UTC }
lists:
  - { id: L, campaign: C }
leads:
  - id: a
    list: L
    phones:
      - { number: "+12125550101" }
      - { number: "12" }
      - { number: "(212) 555-0101", label: home }
  - id: b
    list: L
    phone: "+12125550102"
    phones: [{ number: "+12125550103" }]
  - id: c
    list: L
    phones: [{ number: "+12125550104", label: fax }]
`,
    );
    let msg = '';
    try {
      await importFile(db, f, T0);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg.split('\n').slice(1)).toEqual([
      '  line 10: leads[0] (a).phones[1] (12).number: "12" is not a phone number (give E.164 like +15551230001, or a national number of region US)',
      '  line 11: leads[0] (a).phones[2] ((212) 555-0101).number: +12125550101 is listed twice for this lead',
      "  line 15: leads[1] (b).phones: give phone (one number) or phones (several), not both",
      expect.stringMatching(/^ {2}line 18: leads\[2\] \(c\)\.phones\[0\] \(\+12125550104\)\.label: Invalid enum value\. Expected 'mobile' \| 'home' \| 'work' \| 'other', received 'fax'/),
    ]);
    expect(rows('SELECT count(*) n FROM leads')).toEqual([{ n: 0 }]);
  });
});

describe('booking, search and view', () => {
  beforeEach(async () => await load({ alt_dial: 'on' }, [THREE], { dnc: [{ number: '+14155550103', campaign: 'C' }] }));

  it('a booking may name the number by position or digits; by phone finds the lead by any number and asks for that one', async () => {
    expect((await bookCallback(db, { leadId: 'p3', due: '+1h', actor: 't', number: '2' }, T0)).callback.phonePosition).toBe(2);
    expect((await bookCallback(db, { leadId: 'p3', due: '+1h', actor: 't', number: '(310) 555-0102' }, T0)).callback.phonePosition).toBe(2);
    await expect(bookCallback(db, { leadId: 'p3', due: '+1h', actor: 't', number: '4' }, T0)).rejects.toThrow(/lead p3 has no number 4 \(its numbers: 1: \+12125550101 \(home\), 2: \+13105550102 \(work\), 3: \+14155550103 \(mobile\)\)/);
    await expect(bookCallback(db, { leadId: 'p3', due: '+1h', actor: 't', number: '+19995550000' }, T0)).rejects.toThrow(/is not one of lead p3's numbers/);
    const b = await bookCallback(db, { byPhone: { phone: '+14155550103', campaignId: 'C', source: 'api' }, due: '+1h', actor: 't' }, T0);
    expect(b.callback).toMatchObject({ leadId: 'p3', phonePosition: 3 });
    expect(rows('SELECT count(*) n FROM leads')).toEqual([{ n: 1 }]); // found, not created
  });

  it('the search by phone finds the callback by its second number; the view lists the numbers and the next one (DNC skipped)', async () => {
    const id = (await bookCallback(db, { leadId: 'p3', due: '+1h', actor: 't', number: '3' }, T0)).callback.id;
    expect((await listCallbacks(db, { scope: { kind: 'all' }, phone: '+13105550102', limit: 10 })).items.map((c) => c.id)).toEqual([id]);
    expect((await listCallbacks(db, { scope: { kind: 'all' }, phone: '+19995550000', limit: 10 })).items).toEqual([]);
    const v = await viewById(db, id, T0);
    expect(v.numbers).toEqual([
      { position: 1, number: '+12125550101', label: 'home', dnc: false, zone: 'America/New_York' },
      { position: 2, number: '+13105550102', label: 'work', dnc: false, zone: 'America/New_York' },
      { position: 3, number: '+14155550103', label: 'mobile', dnc: true, zone: 'America/New_York' },
    ]);
    // Number 3 was asked for, but it is on the campaign's DNC list: the rotation goes on to number 1.
    expect(v.nextNumber).toEqual({ position: 1, number: '+12125550101', why: 'number 3 (+14155550103) is on the do-not-call list' });
  });
});

describe('the CLI', () => {
  it('callback add --number books on that number and says which number it calls; callback show lists the numbers', async () => {
    // The CLI reads the real clock: no calling window to fall outside of.
    await load({ alt_dial: 'on', calling_windows: { 'mon-sun': '00:00-24:00' } }, [THREE]);
    db.$client.close();
    const dbPath = join(dir, 'db.sqlite');
    const add = await runCli(['callback', 'add', '--lead', 'p3', '--due', '+1h', '--number', '2', '--db', dbPath]);
    expect(add.stderr).toBe('');
    expect(add.stdout).toMatch(/^callback 1 set: .*, calls \+13105550102 \(number 2\)\n$/);
    const show = await runCli(['callback', 'show', '1', '--db', dbPath]);
    expect(show.stdout).toContain('  number 1: +12125550101 home (America/New_York)\n  number 2: +13105550102 work (America/New_York)  <- dialed next\n  number 3: +14155550103 mobile (America/New_York)\n');
    const bad = await runCli(['callback', 'add', '--lead', 'p3', '--due', '+1h', '--number', '7', '--db', dbPath]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/lead p3 has no number 7/);
    db = openDb(dbPath);
  });
});
