import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { importFile } from '../../src/import.js';
import { openDb, type Db } from '../../src/store/db.js';
import { runCli } from './cli-run.js';

// `callbackd import`: every problem of a file at once, in file order with line numbers; nothing
// written when any entry is bad; phones and ids typed as plain numbers accepted; an empty file refused.

let db: Db;
let dir: string;
const file = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const count = (table: string) => (db.$client.prepare(`SELECT count(*) n FROM ${table}`).get() as { n: number }).n;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cbd-import-'));
  db = openDb(join(dir, 'db.sqlite'));
});

const BAD = `trunks:
  - id: carrier
campaigns:
  - id: C
    name: C
    time_zone: Mars/Base
lists:
  - id: L
    campaign: C
  - id: L2
    campaign: NOPE
agents:
  - id: 1001
    name: Ann
    campaings: [C]
leads:
  - id: l1
    list: L
    phone: 12
  - id: l2
    list: L
`;

describe('import', () => {
  it('reports every problem at once, schema and references together, in file order with line numbers; writes nothing', async () => {
    let msg = '';
    try {
      await importFile(db, file('bad.yaml', BAD), Date.now());
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg.split('\n')).toEqual([
      expect.stringMatching(/bad\.yaml: 5 problem\(s\), nothing imported:$/),
      '  line 6: campaigns[0] (C).time_zone: must be an IANA time zone like America/New_York',
      '  line 11: lists[1] (L2).campaign: no campaign "NOPE"',
      "  line 13: agents[0] (1001): Unrecognized key(s) in object: 'campaings' (did you mean 'campaigns' for 'campaings'?)",
      '  line 19: leads[0] (l1).phone: "12" is not a phone number (give E.164 like +15551230001, or a national number of region US)',
      '  line 20: leads[1] (l2).phone: a lead needs phone (one number) or phones (several)',
    ]);
    expect(count('trunks') + count('campaigns') + count('lists') + count('leads')).toBe(0);
  });

  it('accepts phones, numbers and ids written as plain YAML numbers', async () => {
    await importFile(
      db,
      file(
        'numbers.yaml',
        `trunks: [{ id: carrier }]
numbers: [{ number: +15550100001, trunk: carrier }]
campaigns: [{ id: C, name: C, time_zone: Europe/London, default_region: GB, outbound_number: +15550100001 }]
lists: [{ id: L, campaign: C }]
agents: [{ id: 1001, name: Ann, campaigns: [C] }]
leads:
  - { id: 1, list: L, phone: +442079460018 }
  - { id: 2, list: L, phone: 02079460019 }
  - { id: 3, list: L, phone: "020 7946 0020" }
`,
      ),
      Date.now(),
    );
    expect(db.$client.prepare('SELECT id, phone_e164 FROM leads ORDER BY id').all()).toEqual([
      { id: '1', phone_e164: '+442079460018' },
      { id: '2', phone_e164: '+442079460019' },
      { id: '3', phone_e164: '+442079460020' },
    ]);
    expect(db.$client.prepare('SELECT e164 FROM numbers').all()).toEqual([{ e164: '+15550100001' }]);
    expect(db.$client.prepare('SELECT id FROM agents').all()).toEqual([{ id: '1001' }]);
  });

  it('an empty file, or one that is not a mapping (a CSV), is an error and exit 2', async () => {
    for (const [name, text, why] of [
      ['empty.yaml', '', /has nothing to import/],
      ['sections.yaml', 'leads: []\n', /has nothing to import/],
      ['leads.csv', 'id,list,phone\nl1,L,+15551230001\n', /must be a mapping of sections like `campaigns:` and `leads:`.*CSV is not read/],
    ] as const) {
      const r = await runCli(['import', file(name, text), '--db', join(dir, 'db.sqlite')]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(why);
    }
  });
});
