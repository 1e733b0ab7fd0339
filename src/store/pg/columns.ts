// Column types that give the pg tables (./schema.ts) the same row types as the SQLite ones.
import { bigint, customType } from 'drizzle-orm/pg-core';

/** A 0/1 INTEGER flag (sql/pg keeps SQLite's values and CHECKs) seen as a boolean. */
export const boolInt = customType<{ data: boolean; driverData: number }>({
  dataType: () => 'integer',
  toDriver: (v) => (v ? 1 : 0),
  fromDriver: (v) => Number(v) === 1,
});

/** JSON kept as TEXT (both engines store the same string). drizzle maps NULL around it, never through it. */
export const jsonText = <T>(name: string) =>
  customType<{ data: T; driverData: string }>({
    dataType: () => 'text',
    toDriver: (v) => JSON.stringify(v),
    fromDriver: (v) => JSON.parse(v) as T,
  })(name);

export const ms = (name: string) => bigint(name, { mode: 'number' });
export const rowid = (name: string) => bigint(name, { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity();
