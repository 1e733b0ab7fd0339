import { createHash } from 'node:crypto';
import { sqliteAffinity } from './compare-shape.js';

// A table's content hash, computed the same way from SQLite and from PostgreSQL rows:
//  - each row is written as canonical text: its columns in one fixed order (the names, sorted), each
//    as a tag, the length, ':' and the value: N (null), I<decimal integer>, R<JS shortest round-trip
//    number>, T<text>; a value whose type does not fit the column's SQLite affinity gets X<type><value>,
//    so it can never hash like a well-typed one;
//  - the row's digest is sha256 of that text;
//  - the table's digest is the sum of its rows' digests modulo 2^256, so it does not depend on the
//    order rows are read in: each engine streams in its own key order (no sort, no collation to match).
// Both engines' drivers hand values over as JS values (SQLite integers as BigInt, PostgreSQL int8 as
// decimal strings), and encodeValue turns each into the same text.

export type ValueClass = 'INTEGER' | 'REAL' | 'TEXT' | 'OTHER';

export function valueClass(sqliteDeclaredType: string): ValueClass {
  const a = sqliteAffinity(sqliteDeclaredType);
  return a === 'INTEGER' || a === 'REAL' || a === 'TEXT' ? a : 'OTHER';
}

const field = (tag: string, s: string) => `${tag}${s.length}:${s}`;
const mismatch = (v: unknown) => field(`X${typeof v}`, String(v));

export function encodeValue(v: unknown, cls: ValueClass): string {
  if (v === null || v === undefined) return 'N';
  switch (cls) {
    case 'INTEGER':
      if (typeof v === 'bigint') return field('I', v.toString());
      if (typeof v === 'number' && Number.isSafeInteger(v)) return field('I', String(v));
      if (typeof v === 'string' && /^-?\d+$/.test(v)) return field('I', BigInt(v).toString());
      return mismatch(v);
    case 'REAL':
      if (typeof v === 'number') return field('R', String(v));
      if (typeof v === 'bigint') return field('R', String(Number(v)));
      return mismatch(v);
    case 'TEXT':
      return typeof v === 'string' ? field('T', v) : mismatch(v);
    default:
      return mismatch(v);
  }
}

const MOD = 1n << 256n;

/** Accumulates rows given as arrays of values in `classes` order. */
export class TableDigest {
  rows = 0;
  private sum = 0n;
  constructor(private readonly classes: ValueClass[]) {}

  add(values: readonly unknown[]): void {
    const text = values.map((v, i) => encodeValue(v, this.classes[i]!)).join('|');
    this.sum = (this.sum + BigInt(`0x${createHash('sha256').update(text).digest('hex')}`)) % MOD;
    this.rows++;
  }

  hex(): string {
    return this.sum.toString(16).padStart(64, '0');
  }
}
