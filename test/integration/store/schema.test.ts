// The tables a store body reaches through `c.t` (src/store/schema.ts + people.ts on SQLite,
// src/store/pg/schema.ts on PostgreSQL) against the database the migrations really made: every drizzle
// column exists with the same SQL type and nullability, and no column of those tables is missing from
// drizzle. The row types of the two twins are held equal by tsc (src/store/pg/schema-twins.ts); this holds
// each twin to its own engine's sql/ or sql/pg/.
import { getTableColumns, getTableName, type Table } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as pgSchema from '../../../src/store/pg/schema.js';
import { cleanupEngines, dbExec, freshEngine, TEST_ENGINE, type TestEngine } from '../engine.js';

let e: TestEngine;
beforeAll(async () => {
  e = await freshEngine();
});
afterAll(async () => {
  await cleanupEngines();
});

interface DbColumn {
  name: string;
  type: string;
  notNull: boolean;
}

async function dbColumns(table: string): Promise<DbColumn[]> {
  if (e.kind === 'sqlite') {
    const { rows } = await dbExec(e, `SELECT name, type, "notnull" AS nn, pk FROM pragma_table_info(?)`, [table]);
    // drizzle types every primary key NOT NULL. SQLite's rowid alias is, without saying so; its TEXT primary
    // keys would take a NULL (a documented SQLite legacy quirk) that no store function writes.
    return rows.map((r) => ({ name: String(r.name), type: String(r.type).toLowerCase(), notNull: r.nn === 1 || Number(r.pk) > 0 }));
  }
  const { rows } = await dbExec(e, "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?", [table]);
  return rows.map((r) => ({ name: String(r.column_name), type: String(r.data_type), notNull: r.is_nullable === 'NO' }));
}

describe(`c.t against the migrated ${TEST_ENGINE} database`, () => {
  it('every table of c.t: the same columns, SQL types and nullability as the migrations made', async () => {
    const tables = Object.values(e.t as unknown as Record<string, unknown>).filter((v): v is Table => typeof v === 'object' && v !== null && 'getSQL' in v && getTableColumns(v as Table) !== undefined);
    expect(tables.length).toBe(Object.keys(pgSchema).length); // on SQLite: schema.ts's and people.ts's tables
    const problems: string[] = [];
    for (const table of tables) {
      const name = getTableName(table);
      const inDb = new Map((await dbColumns(name)).map((c) => [c.name, c]));
      if (inDb.size === 0) problems.push(`${name}: no such table`);
      const mapped = new Set<string>();
      for (const col of Object.values(getTableColumns(table))) {
        mapped.add(col.name);
        const db = inDb.get(col.name);
        if (!db) {
          problems.push(`${name}.${col.name}: not in the database`);
          continue;
        }
        if (col.getSQLType() !== db.type) problems.push(`${name}.${col.name}: drizzle ${col.getSQLType()}, database ${db.type}`);
        if (col.notNull !== db.notNull) problems.push(`${name}.${col.name}: drizzle ${col.notNull ? 'NOT NULL' : 'nullable'}, database ${db.notNull ? 'NOT NULL' : 'nullable'}`);
      }
      // pg-only columns (compare-shape.ts PG_ONLY, e.g. events.xid) are on tables not in c.t.
      for (const col of inDb.keys()) if (!mapped.has(col)) problems.push(`${name}.${col}: in the database, not in drizzle`);
    }
    expect(problems).toEqual([]);
  });
});
