// The content hash of callbackd db copy/verify (src/store/pg/row-digest.ts): what both engines'
// drivers return for one value hashes alike; anything else does not. No database needed.
import { describe, expect, it } from 'vitest';
import { encodeValue, TableDigest, valueClass } from '../../src/store/pg/row-digest.js';

const digest = (classes: ReturnType<typeof valueClass>[], rows: unknown[][]) => {
  const d = new TableDigest(classes);
  for (const r of rows) d.add(r);
  return d.hex();
};

describe('row digest', () => {
  it('an integer from SQLite (BigInt), from PostgreSQL int8 (string) or int4 (number) encodes the same', () => {
    expect(encodeValue(1_790_000_000_123n, 'INTEGER')).toBe(encodeValue('1790000000123', 'INTEGER'));
    expect(encodeValue(42n, 'INTEGER')).toBe(encodeValue(42, 'INTEGER'));
    expect(encodeValue(2.5, 'REAL')).toBe(encodeValue(2.5, 'REAL'));
    expect(encodeValue(2n, 'REAL')).toBe(encodeValue(2, 'REAL'));
  });

  it('values of a different kind, null vs empty, and shifted field boundaries never hash alike', () => {
    expect(encodeValue('1', 'TEXT')).not.toBe(encodeValue(1n, 'INTEGER'));
    expect(encodeValue('x1', 'INTEGER')).toMatch(/^Xstring/);
    expect(encodeValue(1, 'TEXT')).toMatch(/^Xnumber/);
    expect(encodeValue(null, 'TEXT')).not.toBe(encodeValue('', 'TEXT'));
    const t = [valueClass('TEXT'), valueClass('TEXT')];
    expect(digest(t, [['a|b', 'c']])).not.toBe(digest(t, [['a', 'b|c']]));
    expect(digest(t, [['a', null]])).not.toBe(digest(t, [['a', 'N']]));
  });

  it('does not depend on row order, but on every row: a changed, missing or duplicated row shows', () => {
    const c = [valueClass('INTEGER'), valueClass('TEXT')];
    const rows = Array.from({ length: 1000 }, (_, i) => [BigInt(i), `row ${i}`]);
    const base = digest(c, rows);
    expect(digest(c, [...rows].reverse())).toBe(base);
    expect(digest(c, rows.map((r, i) => (i === 500 ? [r[0], 'row 500 '] : r)))).not.toBe(base);
    expect(digest(c, rows.slice(1))).not.toBe(base);
    expect(digest(c, [...rows, rows[3]!])).not.toBe(base);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
  });
});
