import type { ColumnShape, TableShape } from './shape.js';

// One rule for "the PostgreSQL schema can hold what the SQLite one holds, and behaves alike":
// the same tables, columns, nullability, keys, defaults, foreign keys, indexes and trigger names,
// with a type that keeps every value (sql/pg/0001_init.sql tells the mapping).

/** SQLite's type affinity of a declared type (https://sqlite.org/datatype3.html, 3.1). */
export function sqliteAffinity(declared: string): 'INTEGER' | 'TEXT' | 'BLOB' | 'REAL' | 'NUMERIC' {
  const t = declared.toUpperCase();
  if (t.includes('INT')) return 'INTEGER';
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'TEXT';
  if (t === '' || t.includes('BLOB')) return 'BLOB';
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return 'REAL';
  return 'NUMERIC';
}

/** Integer columns whose values need 64 bits: ids, references to ids, epoch milliseconds, durations. */
export function needsBigint(column: string, referencesRowid: boolean): boolean {
  return referencesRowid || /(^|_)(id|at|until|since|ms)$/.test(column);
}

/** Why a PostgreSQL column cannot stand for a SQLite one; null when it can. */
export function typeMismatch(sqlite: ColumnShape, pgType: string, referencesRowid: boolean): string | null {
  const affinity = sqliteAffinity(sqlite.type);
  const ok: Record<typeof affinity, string[]> = {
    INTEGER: needsBigint(sqlite.name, referencesRowid || sqlite.identity) ? ['int8'] : ['int8', 'int4'],
    REAL: ['float8'],
    TEXT: ['text', 'varchar'],
    BLOB: ['bytea'],
    NUMERIC: ['numeric'],
  };
  return ok[affinity].includes(pgType) ? null : `${sqlite.type} (${affinity}) needs ${ok[affinity].join(' or ')}, found ${pgType}`;
}

/** Defaults as both engines print them: PostgreSQL drops the ::type cast in shape.ts. */
const normDefault = (d: string | null) => (d === null ? null : d.replace(/^\((.*)\)$/, '$1').trim());

const uniqueSets = (t: TableShape) =>
  t.indexes
    .filter((i) => i.unique && !i.partial)
    .map((i) => i.columns.join(','))
    .sort();

/**
 * Objects only PostgreSQL needs (sql/pg/0023_cluster.sql: several daemons on one database), as
 * `table.name`: the outbox's commit horizon (events.xid) and the LISTEN/NOTIFY nudge (a trigger).
 * SQLite's single writer needs neither; every other difference is still one.
 */
export const PG_ONLY = { columns: ['events.xid'], triggers: ['events.events_notify'] } as const;

/** Every way the PostgreSQL schema differs from the SQLite one, as sentences; empty when none. */
export function compareShapes(sqlite: TableShape[], pg: TableShape[], pgOnly: { columns: readonly string[]; triggers: readonly string[] } = PG_ONLY): string[] {
  const out: string[] = [];
  const pgByName = new Map(pg.map((t) => [t.name, t]));
  const rowidKeys = new Set(sqlite.flatMap((t) => t.columns.filter((c) => c.identity).map((c) => `${t.name}.${c.name}`)));
  for (const s of sqlite) {
    const p = pgByName.get(s.name);
    if (!p) {
      out.push(`table ${s.name} is missing in PostgreSQL`);
      continue;
    }
    pgByName.delete(s.name);
    const refsRowid = new Set(s.foreignKeys.flatMap((f) => f.from.filter((_, i) => rowidKeys.has(`${f.table}.${f.to[i]}`))));
    const pgCols = new Map(p.columns.filter((c) => !pgOnly.columns.includes(`${s.name}.${c.name}`)).map((c) => [c.name, c]));
    for (const c of s.columns) {
      const q = pgCols.get(c.name);
      const at = `${s.name}.${c.name}`;
      if (!q) {
        out.push(`column ${at} is missing in PostgreSQL`);
        continue;
      }
      pgCols.delete(c.name);
      const why = typeMismatch(c, q.type, refsRowid.has(c.name));
      if (why) out.push(`column ${at}: ${why}`);
      if (c.notNull !== q.notNull) out.push(`column ${at}: NOT NULL is ${c.notNull} in SQLite, ${q.notNull} in PostgreSQL`);
      if (c.pk !== q.pk) out.push(`column ${at}: primary key position ${c.pk} in SQLite, ${q.pk} in PostgreSQL`);
      // A rowid named id is assigned by the engine: PostgreSQL needs an identity for inserts without one.
      if (c.identity && c.name === 'id' && !q.identity) out.push(`column ${at}: a SQLite rowid key, but no identity in PostgreSQL`);
      if (normDefault(c.dflt) !== normDefault(q.dflt) && !q.identity) out.push(`column ${at}: default ${c.dflt} in SQLite, ${q.dflt} in PostgreSQL`);
    }
    for (const extra of pgCols.keys()) out.push(`column ${s.name}.${extra} exists only in PostgreSQL`);

    const fkKey = (f: TableShape['foreignKeys'][number]) => `(${f.from.join(',')}) -> ${f.table}(${f.to.join(',')}) ON DELETE ${f.onDelete}`;
    const sFks = s.foreignKeys.map(fkKey).sort();
    const pFks = p.foreignKeys.map(fkKey).sort();
    for (const f of sFks.filter((x) => !pFks.includes(x))) out.push(`foreign key ${s.name}${f} is missing in PostgreSQL`);
    for (const f of pFks.filter((x) => !sFks.includes(x))) out.push(`foreign key ${s.name}${f} exists only in PostgreSQL`);

    const sU = uniqueSets(s);
    const pU = uniqueSets(p);
    if (sU.join(' ') !== pU.join(' ')) out.push(`table ${s.name}: unique column sets [${sU.join(' ')}] in SQLite, [${pU.join(' ')}] in PostgreSQL`);
    const pIdx = new Map(p.indexes.filter((i) => !i.constraint).map((i) => [i.name, i]));
    for (const i of s.indexes.filter((x) => !x.constraint)) {
      const q = pIdx.get(i.name);
      if (!q) {
        out.push(`index ${i.name} on ${s.name} is missing in PostgreSQL`);
        continue;
      }
      pIdx.delete(i.name);
      if (i.columns.join(',') !== q.columns.join(',') || i.unique !== q.unique || i.partial !== q.partial)
        out.push(`index ${i.name}: (${i.columns}) unique=${i.unique} partial=${i.partial} in SQLite, (${q.columns}) unique=${q.unique} partial=${q.partial} in PostgreSQL`);
    }
    for (const extra of pIdx.keys()) out.push(`index ${extra} on ${s.name} exists only in PostgreSQL`);

    const pTriggers = p.triggers.filter((g) => !pgOnly.triggers.includes(`${s.name}.${g}`));
    if (s.triggers.join(',') !== pTriggers.join(',')) out.push(`table ${s.name}: triggers [${s.triggers}] in SQLite, [${pTriggers}] in PostgreSQL`);
  }
  for (const extra of pgByName.keys()) out.push(`table ${extra} exists only in PostgreSQL`);
  return out;
}
