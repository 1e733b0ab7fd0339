import type Database from 'better-sqlite3';
import type pg from 'pg';
import { CallbackdError, ErrorCodes } from '../../errors.js';
import { listMigrations } from '../db.js';
import { compareShapes } from './compare-shape.js';
import { migratePg } from './migrate.js';
import { pgShape, sqliteShape, type TableShape } from './shape.js';
import { columnList, pgSum, quoteIdent, sqliteBatches, sqliteSum, sumBoth, type TableSum } from './table-digests.js';

// `callbackd db copy`: a SQLite database into a PostgreSQL one, every table, row for row.
//  - the source is read in one snapshot (one read transaction), in batches: memory stays bounded;
//  - each table is written in one PostgreSQL transaction, with its triggers off (a copied callback
//    must not write a second callback.created event; the events table is copied as it is) and
//    the self-reference callbacks.replaced_by checked at commit; a table is there whole or not at all;
//  - identity sequences move past the copied ids (and, for events, past SQLite's AUTOINCREMENT high
//    mark, so event ids never go back);
//  - afterwards both sides are read again and compared, table by table: count and content hash
//    (row-digest.ts). A source changed during the copy shows up there as a difference.
// A target that already has rows is refused; with `resume`, tables identical to the source (done
// by an earlier run that stopped) are kept and the empty ones copied.

export interface CopyOptions {
  batchRows?: number;
  resume?: boolean;
  progress?: (line: string) => void;
}

export interface TableCheck {
  table: string;
  sourceRows: number;
  targetRows: number;
  sourceDigest: string;
  targetDigest: string;
  same: boolean;
}

/** Tables in an order where every table comes after those it references (self-references aside). */
export function copyOrder(tables: TableShape[]): TableShape[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const out: TableShape[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (t: TableShape) => {
    if (state.get(t.name) === 'done') return;
    if (state.get(t.name) === 'visiting') throw new CallbackdError(ErrorCodes.DB_MIGRATION, `foreign keys form a cycle through ${t.name}`);
    state.set(t.name, 'visiting');
    for (const f of t.foreignKeys) if (f.table !== t.name && byName.has(f.table)) visit(byName.get(f.table)!);
    state.set(t.name, 'done');
    out.push(t);
  };
  for (const t of tables) visit(t);
  return out;
}

/** The source must be at exactly the schema this callbackd knows, with no broken reference. */
function checkSource(db: Database.Database): void {
  const known = listMigrations().map((m) => m.version);
  const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get()
    ? (db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all() as number[])
    : [];
  if (has.join() !== known.join()) {
    const ahead = has.some((v) => !known.includes(v));
    throw new CallbackdError(
      ErrorCodes.DB_MIGRATION,
      ahead
        ? `the source database has migrations this callbackd does not know (${has.filter((v) => !known.includes(v)).join(', ')}): use the callbackd that wrote it`
        : `the source database is at migration ${has.at(-1) ?? 'none'}, this callbackd at ${known.at(-1)}: run callbackd migrate --db FILE on it first`,
    );
  }
  const broken = db.prepare('PRAGMA foreign_key_check').all() as { table: string; rowid: number; parent: string }[];
  if (broken.length > 0) {
    const some = broken.slice(0, 5).map((b) => `${b.table} rowid ${b.rowid} -> ${b.parent}`);
    throw new CallbackdError(ErrorCodes.DB_MIGRATION, `the source has ${broken.length} rows whose reference is missing (${some.join('; ')}); PostgreSQL would refuse them`);
  }
}

async function targetCount(client: pg.ClientBase, t: TableShape): Promise<number> {
  const r = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteIdent(t.name)}`);
  return Number(r.rows[0]!.n);
}

async function copyTable(db: Database.Database, client: pg.ClientBase, t: TableShape, target: TableShape, batchRows: number): Promise<number> {
  const udt = new Map(target.columns.map((c) => [c.name, c.type]));
  const casts = t.columns.map((c, i) => `$${i + 1}::${udt.get(c.name)}[]`).join(', ');
  const insert = `INSERT INTO ${quoteIdent(t.name)} (${columnList(t)}) SELECT * FROM unnest(${casts})`;
  const table = quoteIdent(t.name);
  let rows = 0;
  await client.query('BEGIN');
  try {
    await client.query('SET CONSTRAINTS ALL DEFERRED');
    await client.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
    for (const batch of sqliteBatches(db, t, batchRows)) {
      const columns = t.columns.map((_, i) => batch.map((row) => toParam(row[i])));
      await client.query(insert, columns);
      rows += batch.length;
    }
    // The deferred self-references are checked here (pending checks would also block the ALTER).
    await client.query('SET CONSTRAINTS ALL IMMEDIATE');
    await client.query(`ALTER TABLE ${table} ENABLE TRIGGER USER`);
    const identity = target.columns.find((c) => c.identity);
    if (identity) await moveSequence(db, client, t.name, identity.name);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new CallbackdError(ErrorCodes.DB_MIGRATION, `copying table ${t.name} failed (nothing of it was written): ${(err as Error).message}`);
  }
  return rows;
}

const toParam = (v: unknown) => {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) throw new Error('a BLOB value: no callbackd table holds one');
  return v;
};

async function moveSequence(db: Database.Database, client: pg.ClientBase, table: string, column: string): Promise<void> {
  const max = (db.prepare(`SELECT max(${quoteIdent(column)}) FROM ${quoteIdent(table)}`).pluck().safeIntegers(true).get() as bigint | null) ?? 0n;
  const hasSeq = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").get();
  const high = hasSeq ? ((db.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?').pluck().safeIntegers(true).get(table) as bigint | undefined) ?? 0n) : 0n;
  const last = max > high ? max : high;
  // setval(seq, n, true): the next id is n + 1; setval(seq, 1, false): the next id is 1.
  await client.query('SELECT setval(pg_get_serial_sequence($1, $2), $3, $4)', [quoteIdent(table), column, last > 0n ? last.toString() : '1', last > 0n]);
}

function checks(source: TableSum[], target: TableSum[]): TableCheck[] {
  return source.map((s, i) => {
    const t = target[i]!;
    return { table: s.table, sourceRows: s.rows, targetRows: t.rows, sourceDigest: s.digest, targetDigest: t.digest, same: s.rows === t.rows && s.digest === t.digest };
  });
}

async function sameShape(db: Database.Database, client: pg.ClientBase): Promise<void> {
  const diff = compareShapes(sqliteShape(db), await pgShape(client));
  if (diff.length > 0) throw new CallbackdError(ErrorCodes.DB_MIGRATION, `the PostgreSQL schema differs from the SQLite one: ${diff.slice(0, 5).join('; ')}${diff.length > 5 ? ` (and ${diff.length - 5} more)` : ''}`);
}

/** The tables a copy moves (every table but the migrations' own bookkeeping), in copy order. */
function dataTables(db: Database.Database): TableShape[] {
  return copyOrder(sqliteShape(db).filter((t) => t.name !== 'schema_migrations'));
}

/** Compares every table of the two databases by count and content hash. */
export async function verifyCopy(db: Database.Database, client: pg.ClientBase): Promise<TableCheck[]> {
  await sameShape(db, client);
  const tables = dataTables(db);
  const { source, target } = await sumBoth(db, client, tables);
  return checks(source, target);
}

export async function copySqliteToPg(db: Database.Database, client: pg.ClientBase, o: CopyOptions = {}): Promise<TableCheck[]> {
  const batchRows = o.batchRows ?? 2000;
  const say = o.progress ?? (() => undefined);
  checkSource(db);
  const applied = await migratePg(client);
  if (applied.length > 0) say(`target: applied ${applied.length} PostgreSQL migrations`);
  await sameShape(db, client);
  const tables = dataTables(db);
  const targetShapes = new Map((await pgShape(client)).map((t) => [t.name, t]));

  const filled: TableShape[] = [];
  for (const t of tables) if ((await targetCount(client, t)) > 0) filled.push(t);
  if (filled.length > 0 && !o.resume)
    throw new CallbackdError(ErrorCodes.CONFLICT, `the target is not empty (${filled.map((t) => t.name).join(', ')} have rows); copy into a new database, or --resume an interrupted copy`);

  // One snapshot of the source for the whole copy: tables copied later see the same instant.
  db.exec('BEGIN');
  try {
    for (const t of tables) {
      if (filled.includes(t)) {
        const s = sqliteSum(db, t);
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const p = await pgSum(client, t).finally(() => client.query('COMMIT'));
        if (s.rows !== p.rows || s.digest !== p.digest)
          throw new CallbackdError(ErrorCodes.CONFLICT, `cannot resume: table ${t.name} has ${p.rows} rows in the target that are not the source's ${s.rows}`);
        say(`${t.name}: already copied (${p.rows} rows, same hash)`);
        continue;
      }
      const t0 = Date.now();
      const n = await copyTable(db, client, t, targetShapes.get(t.name)!, batchRows);
      say(`${t.name}: ${n} rows in ${Date.now() - t0} ms`);
    }
  } finally {
    db.exec('COMMIT');
  }
  return verifyCopy(db, client);
}
