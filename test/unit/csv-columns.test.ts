import { describe, expect, it } from 'vitest';
import { normalizeHeader, parseMap, planColumns, rowEntry } from '../../src/csv-columns.js';
import { progressBar } from '../../src/cli/progress.js';

// The CSV import's header plan (pure) and its terminal progress bar.

const FIELDS = ['id', 'list', 'first_name', 'last_name', 'phone', 'time_zone'];
const plan = (header: string[], map = '', ignoreExtra = false) => {
  const m = parseMap(map);
  if ('error' in m) throw new Error(m.error);
  return planColumns({ header, fields: FIELDS, required: ['id', 'phone'], map: m.map, ignoreExtra });
};

describe('parseMap', () => {
  it('reads FIELD=COLUMN pairs, keeping spaces inside column names', () => {
    const r = parseMap(' phone = Phone Number ,first_name=First');
    expect(r).toEqual({ map: new Map([['phone', 'Phone Number'], ['first_name', 'First']]) });
  });
  it('refuses a pair without = and a field mapped twice', () => {
    expect(parseMap('phone')).toEqual({ error: '--map: "phone" is not FIELD=COLUMN (e.g. --map "phone=Phone Number,first_name=First")' });
    expect(parseMap('phone=A,phone=B')).toEqual({ error: '--map: phone is mapped twice' });
  });
});

describe('planColumns', () => {
  it('a header named like the fields needs no map; case, spaces and dashes do not matter', () => {
    expect(normalizeHeader(' First-Name ')).toBe('first_name');
    const r = plan(['ID', 'First Name', 'phone', 'TIME ZONE']);
    expect('plan' in r && [...r.plan.columns]).toEqual([['id', 0], ['first_name', 1], ['phone', 2], ['time_zone', 3]]);
  });
  it('--map wins over a column of the field name, which is then reported as doubled', () => {
    expect(plan(['id', 'phone', 'Mobile'], 'phone=Mobile')).toEqual({
      problems: ['column "phone" is phone, which --map or another column already fills; drop one, or pass --ignore-extra-columns'],
    });
    const r = plan(['id', 'phone', 'Mobile'], 'phone=mobile', true);
    expect('plan' in r && r.plan.columns.get('phone')).toBe(2);
  });
  it('a column named twice in the header is refused', () => {
    expect(plan(['id', 'phone', 'phone'])).toEqual({ problems: ['column "phone" appears twice in the header'] });
  });
  it('room for more phone columns: a field list with phone2 maps a "Phone 2" column by name', () => {
    const r = planColumns({ header: ['id', 'phone', 'Phone 2'], fields: [...FIELDS, 'phone2'], required: ['id', 'phone'], map: new Map(), ignoreExtra: false });
    expect('plan' in r && r.plan.columns.get('phone2')).toBe(2);
  });
});

describe('rowEntry', () => {
  it('trims cells, leaves empty ones out, and fills defaults (--list) only where no cell is given', () => {
    const r = plan(['id', 'list', 'phone', 'first_name'], '', false);
    if (!('plan' in r)) throw new Error(r.problems.join());
    expect(rowEntry(r.plan, [' A1 ', '', '2125550101', '  '], { list: 'L1' })).toEqual({ id: 'A1', phone: '2125550101', list: 'L1' });
    expect(rowEntry(r.plan, ['A2', 'L9', '1', ''], { list: 'L1' })).toEqual({ id: 'A2', list: 'L9', phone: '1' });
  });
});

describe('progressBar', () => {
  const stream = (isTTY: boolean) => {
    const out: string[] = [];
    return { out, s: { isTTY, write: (t: string) => out.push(t) > 0 } as unknown as NodeJS.WriteStream };
  };
  it('draws one line in place on a terminal, at most every 100 ms, and clears it at the end', () => {
    const { out, s } = stream(true);
    let now = 1000;
    const bar = progressBar(s, true, () => now);
    bar.update('checking', 50, 200, '10 rows');
    now += 50;
    bar.update('checking', 60, 200, '12 rows'); // too soon: skipped
    now += 60;
    bar.update('checking', 200, 200, '40 rows');
    bar.end();
    expect(out).toEqual([
      '\r\x1b[Kchecking [########----------------------]  25% 10 rows',
      '\r\x1b[Kchecking [##############################] 100% 40 rows',
      '\r\x1b[K',
    ]);
  });
  it('writes nothing when the stream is not a terminal, or with --json', () => {
    for (const [tty, enabled] of [[false, true], [true, false]] as const) {
      const { out, s } = stream(tty);
      const bar = progressBar(s, enabled);
      bar.update('writing', 1, 2, '');
      bar.end();
      expect(out).toEqual([]);
    }
  });
});
