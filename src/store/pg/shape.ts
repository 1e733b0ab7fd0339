import type Database from 'better-sqlite3';
import type pg from 'pg';

// The shape of a schema as both engines can tell it (SQLite's PRAGMAs, PostgreSQL's catalogs), in
// one form, so that one pure comparison (compare-shape.ts) can hold sql/ and sql/pg/ together and
// the copy tool can check its target before writing a row.

export interface ColumnShape {
  name: string;
  /** SQLite: the declared type (INTEGER, TEXT, REAL); PostgreSQL: the udt name (int8, text, float8). */
  type: string;
  notNull: boolean;
  /** Position in the primary key, 1-based; 0 when not part of it. */
  pk: number;
  /** The default as written, without PostgreSQL's ::type cast; null when none. */
  dflt: string | null;
  /** PostgreSQL: an identity column (SQLite: a rowid alias assigns ids the same way). */
  identity: boolean;
}

export interface ForeignKeyShape {
  from: string[];
  table: string;
  to: string[];
  onDelete: 'NO ACTION' | 'CASCADE' | 'RESTRICT' | 'SET NULL' | 'SET DEFAULT';
}

export interface IndexShape {
  name: string;
  columns: string[];
  unique: boolean;
  partial: boolean;
  /** Made by a UNIQUE constraint in CREATE TABLE (named by the engine), not by CREATE INDEX. */
  constraint: boolean;
}

export interface TableShape {
  name: string;
  columns: ColumnShape[];
  foreignKeys: ForeignKeyShape[];
  indexes: IndexShape[];
  triggers: string[];
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function sqliteShape(db: Database.Database): TableShape[] {
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];
  return tables.map((name) => {
    const q = (pragma: string, arg = name) => db.prepare(`PRAGMA ${pragma}(${JSON.stringify(arg)})`).all() as Record<string, unknown>[];
    const cols = q('table_info') as { name: string; type: string; notnull: number; pk: number; dflt_value: string | null }[];
    const rowid = cols.filter((c) => c.pk > 0).length === 1 && cols.some((c) => c.pk > 0 && c.type.toUpperCase() === 'INTEGER');
    const fkRows = q('foreign_key_list') as { id: number; seq: number; table: string; from: string; to: string; on_delete: string }[];
    const fks = new Map<number, ForeignKeyShape>();
    for (const f of [...fkRows].sort((a, b) => a.id - b.id || a.seq - b.seq)) {
      const fk = fks.get(f.id) ?? { from: [], table: f.table, to: [], onDelete: f.on_delete as ForeignKeyShape['onDelete'] };
      fk.from.push(f.from);
      fk.to.push(f.to);
      fks.set(f.id, fk);
    }
    const indexes = (q('index_list') as { name: string; unique: number; origin: string; partial: number }[])
      .filter((i) => i.origin !== 'pk')
      .map((i) => ({
        name: i.name,
        columns: (q('index_info', i.name) as { seqno: number; name: string | null }[]).sort((a, b) => a.seqno - b.seqno).map((c) => c.name ?? '<expr>'),
        unique: i.unique === 1,
        partial: i.partial === 1,
        constraint: i.origin === 'u',
      }));
    const triggers = db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? ORDER BY name").pluck().all(name) as string[];
    return {
      name,
      columns: cols
        .map((c) => ({ name: c.name, type: c.type.toUpperCase(), notNull: c.notnull === 1 || c.pk > 0, pk: c.pk, dflt: c.dflt_value, identity: rowid && c.pk > 0 }))
        .sort(byName),
      foreignKeys: [...fks.values()],
      indexes: indexes.sort(byName),
      triggers,
    };
  });
}

const ON_DELETE: Record<string, ForeignKeyShape['onDelete']> = { a: 'NO ACTION', c: 'CASCADE', r: 'RESTRICT', n: 'SET NULL', d: 'SET DEFAULT' };

/** The tables of the connection's current schema. */
export async function pgShape(client: pg.ClientBase): Promise<TableShape[]> {
  const cols = await client.query<{ table_name: string; column_name: string; udt_name: string; is_nullable: string; column_default: string | null; is_identity: string }>(
    `SELECT table_name, column_name, udt_name, is_nullable, column_default, is_identity
       FROM information_schema.columns c
      WHERE table_schema = current_schema()
        AND EXISTS (SELECT 1 FROM information_schema.tables t WHERE t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE')`,
  );
  const pks = await client.query<{ table_name: string; column_name: string; pos: number }>(
    `SELECT c.relname AS table_name, a.attname AS column_name, k.pos::int AS pos
       FROM pg_constraint p JOIN pg_class c ON c.oid = p.conrelid
       JOIN LATERAL unnest(p.conkey) WITH ORDINALITY AS k(attnum, pos) ON true
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
      WHERE p.contype = 'p' AND c.relnamespace = current_schema()::regnamespace`,
  );
  const fks = await client.query<{ table_name: string; conname: string; ref: string; from_cols: string[]; to_cols: string[]; deltype: string }>(
    `SELECT c.relname AS table_name, p.conname, r.relname AS ref, p.confdeltype AS deltype,
            ARRAY(SELECT a.attname FROM unnest(p.conkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = p.conrelid AND a.attnum = k.n ORDER BY k.i)::text[] AS from_cols,
            ARRAY(SELECT a.attname FROM unnest(p.confkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = p.confrelid AND a.attnum = k.n ORDER BY k.i)::text[] AS to_cols
       FROM pg_constraint p JOIN pg_class c ON c.oid = p.conrelid JOIN pg_class r ON r.oid = p.confrelid
      WHERE p.contype = 'f' AND c.relnamespace = current_schema()::regnamespace
      ORDER BY p.conname`,
  );
  const idx = await client.query<{ table_name: string; name: string; cols: string[]; unique: boolean; partial: boolean; constraint: boolean }>(
    `SELECT t.relname AS table_name, i.relname AS name, x.indisunique AS unique, x.indpred IS NOT NULL AS partial,
            EXISTS (SELECT 1 FROM pg_constraint p WHERE p.conindid = i.oid AND p.contype = 'u') AS constraint,
            ARRAY(SELECT coalesce(a.attname, '<expr>') FROM unnest(x.indkey) WITH ORDINALITY k(n, o)
                   LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.o)::text[] AS cols
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
      WHERE NOT x.indisprimary AND t.relnamespace = current_schema()::regnamespace`,
  );
  const trg = await client.query<{ table_name: string; name: string }>(
    `SELECT c.relname AS table_name, g.tgname AS name FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
      WHERE NOT g.tgisinternal AND c.relnamespace = current_schema()::regnamespace ORDER BY g.tgname`,
  );
  const names = [...new Set(cols.rows.map((c) => c.table_name))].sort();
  return names.map((name) => ({
    name,
    columns: cols.rows
      .filter((c) => c.table_name === name)
      .map((c) => ({
        name: c.column_name,
        type: c.udt_name,
        notNull: c.is_nullable === 'NO',
        pk: pks.rows.find((p) => p.table_name === name && p.column_name === c.column_name)?.pos ?? 0,
        dflt: c.column_default === null ? null : c.column_default.replace(/::[a-z ]+$/, ''),
        identity: c.is_identity === 'YES',
      }))
      .sort(byName),
    foreignKeys: fks.rows
      .filter((f) => f.table_name === name)
      .map((f) => ({ from: f.from_cols, table: f.ref, to: f.to_cols, onDelete: ON_DELETE[f.deltype] ?? 'NO ACTION' })),
    indexes: idx.rows
      .filter((i) => i.table_name === name)
      .map((i) => ({ name: i.name, columns: i.cols, unique: i.unique, partial: i.partial, constraint: i.constraint }))
      .sort(byName),
    triggers: trg.rows.filter((t) => t.table_name === name).map((t) => t.name),
  }));
}
