import type Database from 'better-sqlite3';
import type pg from 'pg';
import { TableDigest, valueClass } from './row-digest.js';
import type { TableShape } from './shape.js';

// Count and content hash of each table, read in bounded batches from either engine. The column list
// and each column's value class come from the SQLite shape, so both sides hash the same fields.

export interface TableSum {
  table: string;
  rows: number;
  digest: string;
}

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
export const columnList = (t: TableShape) => t.columns.map((c) => quoteIdent(c.name)).join(', ');

/** Reads rows as arrays, in batches: the caller handles one batch before the next is read. */
export function* sqliteBatches(db: Database.Database, t: TableShape, batchRows: number): Generator<unknown[][]> {
  const it = db.prepare(`SELECT ${columnList(t)} FROM ${quoteIdent(t.name)}`).raw(true).safeIntegers(true).iterate() as IterableIterator<unknown[]>;
  let batch: unknown[][] = [];
  for (const row of it) {
    batch.push(row);
    if (batch.length >= batchRows) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Call inside a read transaction so every table comes from one snapshot. */
export function sqliteSum(db: Database.Database, t: TableShape, batchRows = 5000): TableSum {
  const d = new TableDigest(t.columns.map((c) => valueClass(c.type)));
  for (const batch of sqliteBatches(db, t, batchRows)) for (const row of batch) d.add(row);
  return { table: t.name, rows: d.rows, digest: d.hex() };
}

/** Call inside a transaction (a cursor lives in one); `t` is the SQLite shape of the table. */
export async function pgSum(client: pg.ClientBase, t: TableShape, batchRows = 5000): Promise<TableSum> {
  const d = new TableDigest(t.columns.map((c) => valueClass(c.type)));
  await client.query(`DECLARE digest_rows NO SCROLL CURSOR FOR SELECT ${columnList(t)} FROM ${quoteIdent(t.name)}`);
  try {
    for (;;) {
      const r = await client.query<unknown[]>({ text: `FETCH FORWARD ${batchRows} FROM digest_rows`, rowMode: 'array' });
      for (const row of r.rows) d.add(row);
      if (r.rows.length < batchRows) break;
    }
  } finally {
    await client.query('CLOSE digest_rows');
  }
  return { table: t.name, rows: d.rows, digest: d.hex() };
}

/** Both sides of every table, each side from one snapshot. */
export async function sumBoth(db: Database.Database, client: pg.ClientBase, tables: TableShape[]): Promise<{ source: TableSum[]; target: TableSum[] }> {
  const source = readSnapshot(db, () => tables.map((t) => sqliteSum(db, t)));
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const target: TableSum[] = [];
    for (const t of tables) target.push(await pgSum(client, t));
    return { source, target };
  } finally {
    await client.query('COMMIT');
  }
}

export function readSnapshot<T>(db: Database.Database, f: () => T): T {
  db.exec('BEGIN');
  try {
    return f();
  } finally {
    db.exec('COMMIT');
  }
}
