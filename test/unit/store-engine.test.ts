// src/store/engine.ts on SQLite (a temp file per test): our async transactions over better-sqlite3,
// the per-connection mutex, op()'s waiting and counting, the misuse guard, the helpers and the error map.
import Database from 'better-sqlite3';
import { eq, sql } from 'drizzle-orm';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isCode } from '../../src/errors.js';
import type { Conn } from '../../src/store/conn.js';
import { openDb, type Db } from '../../src/store/db.js';
import { affected, all, first, op, run, storeErrorKind, transaction } from '../../src/store/engine.js';
import * as schema from '../../src/store/schema.js';

const opened: Db[] = [];
function fresh(): { db: Db; file: string } {
  const file = join(mkdtempSync(join(tmpdir(), 'cbd-engine-')), 'db.sqlite');
  const db = openDb(file);
  opened.push(db);
  return { db, file };
}
afterEach(async () => {
  // close() waits for a running transaction: bounded, so a test that failed with one open fails fast.
  for (const db of opened.splice(0)) await Promise.race([db.close(), sleep(1000)]);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

// Store functions as they will be written after the flip: one async body against c.q / c.t.
const addTrunk = op('addTrunk', async (c: Conn, id: string) => {
  await c.q.insert(c.t.trunks).values({ id, updatedAt: 1 });
});
const trunkIds = op('trunkIds', async (c: Conn) => (await c.q.select({ id: c.t.trunks.id }).from(c.t.trunks).orderBy(c.t.trunks.id)).map((r) => r.id));
const getTrunk = op('getTrunk', async (c: Conn, id: string) => first(await c.q.select().from(c.t.trunks).where(eq(c.t.trunks.id, id)).limit(1)));

describe('store engine: SQLite transactions', () => {
  it('commits: the writes are there for another connection, and the result comes back', async () => {
    const { db, file } = fresh();
    const out = await transaction(db, async (tx) => {
      expect(tx.inTx).toBe(true);
      await addTrunk(tx, 'a');
      await addTrunk(tx, 'b');
      return 42;
    });
    expect(out).toBe(42);
    expect(db.inTx).toBe(false);
    const other = new Database(file, { readonly: true });
    expect(other.prepare('SELECT id FROM trunks ORDER BY id').pluck().all()).toEqual(['a', 'b']);
    other.close();
  });

  it('rolls back on throw: a write made before the throw is really undone, the error comes through', async () => {
    const { db } = fresh();
    await addTrunk(db, 'kept');
    const boom = new Error('boom');
    await expect(
      transaction(db, async (tx) => {
        await addTrunk(tx, 'undone');
        expect(await trunkIds(tx)).toEqual(['kept', 'undone']);
        await sleep(1);
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(db.$client.inTransaction).toBe(false);
    expect(await trunkIds(db)).toEqual(['kept']);
  });

  it('nested: a savepoint rolled back keeps the outer transaction, which commits', async () => {
    const { db } = fresh();
    await transaction(db, async (tx) => {
      await addTrunk(tx, 'outer1');
      await expect(
        transaction(tx, async (inner) => {
          await addTrunk(inner, 'inner');
          throw new Error('inner fails');
        }),
      ).rejects.toThrow('inner fails');
      await transaction(tx, async (inner) => addTrunk(inner, 'inner-ok'));
      await addTrunk(tx, 'outer2');
    });
    expect(await trunkIds(db)).toEqual(['inner-ok', 'outer1', 'outer2']);
  });

  it('two concurrent transactions serialize: the second starts after the first committed, no interleaving', async () => {
    const { db } = fresh();
    const log: string[] = [];
    const body = (name: string) => async (tx: Conn) => {
      log.push(`${name} begin`);
      await addTrunk(tx, `${name}1`);
      await sleep(20);
      await addTrunk(tx, `${name}2`);
      log.push(`${name} end`);
      return (await trunkIds(tx)).length;
    };
    const [a, b] = await Promise.all([transaction(db, body('A')), transaction(db, body('B'))]);
    expect(log).toEqual(['A begin', 'A end', 'B begin', 'B end']);
    expect([a, b]).toEqual([2, 4]); // B saw A's committed rows
  });

  it('an op() from another flow waits for a running transaction, then sees its commit', async () => {
    const { db } = fresh();
    const gate = deferred();
    let opDone = false;
    const tx = transaction(db, async (t) => {
      await addTrunk(t, 'x');
      await gate.promise;
    });
    await sleep(0); // the transaction is open (BEGIN ran synchronously on entry)
    expect(db.$client.inTransaction).toBe(true);
    const read = trunkIds(db).then((ids) => ((opDone = true), ids));
    await sleep(20);
    expect(opDone).toBe(false);
    gate.resolve();
    await tx;
    expect(await read).toEqual(['x']);
  });

  it('a transaction waits for another flow\'s running root op, so none of its statements lands inside', async () => {
    const { db } = fresh();
    const twoSteps = op('twoSteps', async (c: Conn) => {
      await addTrunk(c, 'op1');
      await sleep(20);
      await addTrunk(c, 'op2'); // would join the transaction below, and be rolled back with it, without the wait
    });
    const opRun = twoSteps(db);
    await sleep(5); // op1 written, the op is between its statements
    const failed = transaction(db, async (tx) => {
      await addTrunk(tx, 'tx');
      await sleep(40); // long enough for op2 to be due while the transaction is open
      throw new Error('roll back');
    });
    await expect(failed).rejects.toThrow('roll back');
    await opRun;
    expect(await trunkIds(db)).toEqual(['op1', 'op2']);
  });

  it('work an op left running (not awaited) waits for a transaction like any other flow once the op has ended', async () => {
    const { db } = fresh();
    let stray: Promise<void> | undefined;
    const leaky = op('leaky', async (c: Conn) => {
      await addTrunk(c, 'op');
      stray = sleep(20).then(() => addTrunk(c, 'stray')); // still carries the op's async context
    });
    await leaky(db);
    const failed = transaction(db, async (tx) => {
      await addTrunk(tx, 'tx');
      await sleep(40); // the stray write is due while the transaction is open
      throw new Error('roll back');
    });
    await expect(failed).rejects.toThrow('roll back');
    await stray;
    expect(await trunkIds(db)).toEqual(['op', 'stray']);
  });

  it('a transaction inside an op (the claimForDial shape) does not wait for itself, even with two of them racing', async () => {
    const { db } = fresh();
    const claim = op('claim', async (c: Conn, id: string) => {
      await getTrunk(c, id); // an await before the transaction: the other flow's op is in flight meanwhile
      return transaction(c, async (tx) => {
        await addTrunk(tx, id);
        await sleep(5);
        return affected(await tx.q.update(tx.t.trunks).set({ updatedAt: 2 }).where(eq(tx.t.trunks.id, id)));
      });
    });
    const out = await Promise.race([Promise.all([claim(db, 'p'), claim(db, 'q')]), sleep(2000).then(() => 'deadlock')]);
    expect(out).toEqual([1, 1]);
  });

  it('a root call inside its own transaction throws STORE_MISUSE instead of waiting forever', async () => {
    const { db } = fresh();
    const err = await transaction(db, async () => trunkIds(db)).catch((e: unknown) => e);
    expect(isCode(err, 'STORE_MISUSE')).toBe(true);
    expect(String(err)).toMatch(/trunkIds.*root database connection/);
    const nested = await transaction(db, async () => transaction(db, async () => 1)).catch((e: unknown) => e);
    expect(isCode(nested, 'STORE_MISUSE')).toBe(true);
    expect(db.$client.inTransaction).toBe(false);
    // Once the transaction is over, work it spawned may use the root again.
    let later: Promise<string[]> | undefined;
    await transaction(db, async (tx) => {
      await addTrunk(tx, 'z');
      later = sleep(10).then(() => trunkIds(db));
    });
    expect(await later).toEqual(['z']);
  });

  it('BEGIN IMMEDIATE takes the write lock at once: a second connection cannot write (SQLITE_BUSY)', async () => {
    const { db, file } = fresh();
    const gate = deferred();
    const tx = transaction(db, async () => gate.promise); // no statement yet: only BEGIN IMMEDIATE ran
    await sleep(0);
    const other = new Database(file);
    other.pragma('busy_timeout = 0');
    let err: unknown;
    try {
      other.prepare("INSERT INTO trunks (id, updated_at) VALUES ('other', 1)").run();
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string }).code).toBe('SQLITE_BUSY');
    expect(storeErrorKind(err)).toBe('busy');
    gate.resolve();
    await tx;
    other.prepare("INSERT INTO trunks (id, updated_at) VALUES ('other', 1)").run();
    other.close();
    expect(await trunkIds(db)).toEqual(['other']);
  });

  it('transitional: the same db and tx objects serve the old sync store functions (same connection, inside BEGIN)', async () => {
    const { db } = fresh();
    await transaction(db, async (tx) => {
      await addTrunk(tx, 'new-style');
      const legacy = tx as Db; // what a not-yet-flipped function receives
      legacy.insert(schema.trunks).values({ id: 'old-style', updatedAt: 1 }).run();
      expect(legacy.select().from(schema.trunks).all().map((r) => r.id)).toEqual(['new-style', 'old-style']);
      throw new Error('undo both');
    }).catch(() => undefined);
    expect(db.select().from(schema.trunks).all()).toEqual([]);
    expect(db.describe()).toEqual({ engine: 'sqlite', where: expect.stringMatching(/db\.sqlite$/) });
  });
});

describe('store engine: helpers and errors', () => {
  it('all/run raw SQL, first, affected', async () => {
    const { db } = fresh();
    await addTrunk(db, 'a');
    await addTrunk(db, 'b');
    expect(await run(db, sql`UPDATE trunks SET max_channels = 3 WHERE id IN ('a', 'b')`)).toBe(2);
    expect(await all<{ id: string; n: number }>(db, sql`SELECT id, max_channels AS n FROM trunks ORDER BY id`)).toEqual([
      { id: 'a', n: 3 },
      { id: 'b', n: 3 },
    ]);
    expect(await getTrunk(db, 'none')).toBeUndefined();
    expect((await getTrunk(db, 'a'))?.maxChannels).toBe(3);
    expect(affected(await db.q.delete(db.t.trunks).where(eq(db.t.trunks.id, 'a')))).toBe(1);
    expect(affected({ rowCount: 5 })).toBe(5); // node-postgres' QueryResult
  });

  it('storeErrorKind: unique and foreign key refusals from SQLite itself; pg SQLSTATEs', async () => {
    const { db } = fresh();
    await addTrunk(db, 'a');
    const dup = await addTrunk(db, 'a').catch((e: unknown) => e);
    expect(storeErrorKind(dup)).toBe('unique');
    const fk = await db.q
      .insert(db.t.numbers)
      .values({ e164: '+15550001', trunkId: 'missing', updatedAt: 1 })
      .then(() => undefined, (e: unknown) => e);
    expect(storeErrorKind(fk)).toBe('fk');
    expect(storeErrorKind(new Error('plain'))).toBeUndefined();
    // node-postgres errors carry the SQLSTATE in `code` (checked against a real server by the pg engine's tests).
    const pgErr = (code: string) => Object.assign(new Error('pg'), { code });
    expect(['55P03', '57014', '23503', '23505', '40001', '40P01'].map((c) => storeErrorKind(pgErr(c)))).toEqual(['busy', 'busy', 'fk', 'unique', 'retry', 'retry']);
    expect(storeErrorKind(Object.assign(new Error('Failed query'), { cause: pgErr('23505') }))).toBe('unique');
  });
});
