import { eq, sql } from 'drizzle-orm';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { openDb, type Db } from '../../src/store/db.js';
import { all, cacheStatements, transaction } from '../../src/store/engine.js';
import { getTrunk, upsertTrunk } from '../../src/store/directory.js';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import * as schema from '../../src/store/schema.js';

// The SQLite statement cache (src/store/engine.ts cacheStatements): drizzle's statements are prepared
// once per SQL text, and a reused statement behaves exactly as a fresh one.

const fresh = (): Db => openDb(join(mkdtempSync(join(tmpdir(), 'cbd-stmt-cache-')), 'db.sqlite'));

describe('SQLite statement cache', () => {
  it('prepares a repeated query once, and its results are the same every time', async () => {
    const db = fresh();
    await upsertTrunk(db, { id: 'T1', maxChannels: 3, updatedAt: 1 });
    const spy = vi.spyOn(db.$client, 'prepare');
    const a = await getTrunk(db, 'T1');
    const b = await getTrunk(db, 'T1');
    const none = await getTrunk(db, 'T2');
    expect(a).toMatchObject({ id: 'T1', maxChannels: 3 });
    expect(b).toEqual(a);
    expect(none).toBeUndefined();
    expect(spy).toHaveBeenCalledTimes(1); // three calls, one SQL text
    db.$client.close();
  });

  it('a statement drizzle switched to raw (array) rows gives objects to a raw SQL read of the same text', async () => {
    const db = fresh();
    await upsertTrunk(db, { id: 'T1', maxChannels: 3, updatedAt: 1 });
    const t = schema.trunks;
    // A typed select runs its statement in raw mode; find its exact SQL and run that text as raw SQL.
    const typed = db.select({ id: t.id, max: t.maxChannels }).from(t).where(eq(t.id, 'T1'));
    const text = typed.toSQL().sql;
    expect(await typed).toEqual([{ id: 'T1', max: 3 }]);
    const raw = await all<Record<string, unknown>>(db, sql.raw(text.replace('?', "'T1'")));
    expect(raw).toEqual([{ id: 'T1', max_channels: 3 }]);
    // Same text with its parameter, through drizzle's raw path: objects, not arrays.
    const again = await all<Record<string, unknown>>(db, sql`select "id", "max_channels" from "trunks" where "trunks"."id" = ${'T1'}`);
    expect(again).toEqual([{ id: 'T1', max_channels: 3 }]);
    expect(await typed).toEqual([{ id: 'T1', max: 3 }]);
    db.$client.close();
  });

  it('writes and reads inside a transaction still roll back together', async () => {
    const db = fresh();
    await upsertTrunk(db, { id: 'T1', maxChannels: 1, updatedAt: 1 });
    await expect(
      transaction(db, async (tx) => {
        await upsertTrunk(tx, { id: 'T1', maxChannels: 9, updatedAt: 2 });
        expect((await getTrunk(tx, 'T1'))?.maxChannels).toBe(9);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await getTrunk(db, 'T1'))?.maxChannels).toBe(1);
    db.$client.close();
  });

  it('keeps at most `size` statements, the least recently used going first', () => {
    const client = new Database(':memory:');
    const db = drizzle(client);
    cacheStatements(db, client, 2);
    const spy = vi.spyOn(client, 'prepare');
    const q = (n: number) => db.all(sql.raw(`select ${n} as n`));
    expect(q(1)).toEqual([{ n: 1 }]);
    q(2);
    q(1); // 1 is now the most recent
    q(3); // evicts 2
    q(1);
    q(2);
    expect(spy.mock.calls.map((c) => c[0])).toEqual(['select 1 as n', 'select 2 as n', 'select 3 as n', 'select 2 as n']);
    client.close();
  });

  it('a statement still iterating is not handed out again', () => {
    const client = new Database(':memory:');
    const db = drizzle(client);
    cacheStatements(db, client);
    client.exec('create table t (n integer); insert into t values (1), (2)');
    const text = 'select n from t order by n';
    expect(db.all(sql.raw(text))).toEqual([{ n: 1 }, { n: 2 }]); // now cached
    // drizzle's own client (the wrapped one) hands out the cached statement; iterate it half-way.
    const wrapped = (db as unknown as { session: { client: Database.Database } }).session.client;
    const it1 = wrapped.prepare(text).iterate() as IterableIterator<{ n: number }>;
    expect(it1.next().value).toEqual({ n: 1 });
    // Would throw "This statement is busy executing a query" if the iterating statement were reused.
    expect(db.all(sql.raw(text))).toEqual([{ n: 1 }, { n: 2 }]);
    expect(it1.next().value).toEqual({ n: 2 });
    expect(it1.next().done).toBe(true);
    client.close();
  });
});
