// The store contract's engine (src/store/conn.ts, src/store/engine.ts), the same tests on SQLite and on a
// real PostgreSQL (vitest projects `sqlite` and `pg`; test/integration/engine.ts gives the engine).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Conn } from '../../../src/store/conn.js';
import { listMigrations } from '../../../src/store/db.js';
import { affected, all, first, run, storeErrorKind, transaction } from '../../../src/store/engine.js';
import { notifyChange, watchEngine, type Change } from '../../../src/store/engine-watch.js';
import { openEngine } from '../../../src/store/open-engine.js';
import { pgCode, type PgEngine } from '../../../src/store/pg/engine.js';
import { dbExec, freshEngineEachTest, secondConnection, TEST_ENGINE, type TestEngine } from '../engine.js';

const T = 1_790_000_000_000;
let e: TestEngine;
freshEngineEachTest((x) => (e = x));

const trunk = (id: string, maxChannels = 0, updatedAt = T) => ({ id, maxChannels, callsPerSecond: 0, updatedAt });
const trunkIds = async (c: Conn) => (await c.q.select({ id: c.t.trunks.id }).from(c.t.trunks).orderBy(asc(c.t.trunks.id))).map((r) => r.id);
const channelsOf = async (c: Conn, id: string) => first(await c.q.select().from(c.t.trunks).where(eq(c.t.trunks.id, id)))?.maxChannels;

/** Resolves when `pred` holds, polling every 10 ms; fails after `ms`. */
async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** The error's message and its causes' (drizzle wraps driver errors in DrizzleQueryError). */
async function failure(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  const out: string[] = [];
  for (let x = err, depth = 0; x && depth < 5; x = (x as { cause?: unknown }).cause, depth++) out.push((x as Error).message);
  return out.join(' <- ');
}

/** One events row, as the callbacks triggers would write it (events is not a drizzle table). */
const insertEvent = (c: Conn, id: number) =>
  dbExec(c, "INSERT INTO events (at, type, callback_id, version, campaign_id, callback_type, data) VALUES (?, 'callback.live', ?, 1, 'C', 'ANYONE', '{}')", [T, id]);

describe(`engine contract on ${TEST_ENGINE}`, () => {
  it('says which engine and where, without a password', () => {
    const d = e.describe();
    expect(d.engine).toBe(TEST_ENGINE);
    expect(e.kind).toBe(TEST_ENGINE);
    expect(e.inTx).toBe(false);
    if (TEST_ENGINE === 'pg') {
      expect(d.where).toMatch(/^127\.0\.0\.1:\d+\/t_[0-9a-f]{12}$/);
      const password = new URL(e.location).password;
      expect(password.length).toBeGreaterThan(8);
      expect(JSON.stringify(d)).not.toContain(password);
    } else expect(d.where).toBe(e.location);
  });

  it('commits a transaction: its writes are seen by a second connection', async () => {
    const out = await transaction(e, async (tx) => {
      expect(tx.inTx).toBe(true);
      await tx.q.insert(tx.t.trunks).values([trunk('a'), trunk('b')]);
      // drizzle's relational queries work on a transaction too (pg: its drizzle is built per transaction).
      expect(await tx.q.query.trunks.findMany({ columns: { id: true }, orderBy: (tr, { asc: up }) => [up(tr.id)] })).toEqual([{ id: 'a' }, { id: 'b' }]);
      return 'done';
    });
    expect(out).toBe('done');
    const other = await secondConnection(e);
    expect(await trunkIds(other)).toEqual(['a', 'b']);
  });

  it('rolls a transaction back when its body throws, and rethrows that error', async () => {
    await e.q.insert(e.t.trunks).values(trunk('kept'));
    const err = await transaction(e, async (tx) => {
      await tx.q.insert(tx.t.trunks).values(trunk('lost'));
      await tx.q.update(tx.t.trunks).set({ maxChannels: 9 }).where(eq(tx.t.trunks.id, 'kept'));
      expect(await trunkIds(tx)).toEqual(['kept', 'lost']);
      throw new Error('body failed');
    }).catch((x: unknown) => x);
    expect((err as Error).message).toBe('body failed');
    expect(await trunkIds(e)).toEqual(['kept']);
    expect(await channelsOf(e, 'kept')).toBe(0);
    // The connection is usable afterwards (pg: the client went back to the pool clean).
    await transaction(e, async (tx) => void (await tx.q.insert(tx.t.trunks).values(trunk('after'))));
    expect(await trunkIds(e)).toEqual(['after', 'kept']);
  });

  it('nests as a savepoint: an inner failure undoes only the inner writes', async () => {
    await transaction(e, async (tx) => {
      await tx.q.insert(tx.t.trunks).values(trunk('outer'));
      const inner = await transaction(tx, async (t2) => {
        expect(t2.inTx).toBe(true);
        await t2.q.insert(t2.t.trunks).values(trunk('inner-ok'));
        return 1;
      });
      expect(inner).toBe(1);
      await expect(
        transaction(tx, async (t2) => {
          await t2.q.insert(t2.t.trunks).values(trunk('inner-undone'));
          throw new Error('inner failed');
        }),
      ).rejects.toThrow('inner failed');
      // The outer transaction goes on after the rolled-back savepoint.
      await tx.q.insert(tx.t.trunks).values(trunk('outer-after'));
    });
    expect(await trunkIds(e)).toEqual(['inner-ok', 'outer', 'outer-after']);
  });

  it('two concurrent flows of transactions, 25 each, both commit every increment (counter 50)', async () => {
    await e.q.insert(e.t.trunks).values(trunk('counter'));
    const flow = async (name: string) => {
      for (let i = 0; i < 25; i++) {
        await transaction(e, async (tx) => {
          const tr = tx.t.trunks;
          await tx.q.update(tr).set({ maxChannels: sql`${tr.maxChannels} + 1` }).where(eq(tr.id, 'counter'));
          // An await between the writes: the other flow runs meanwhile (pg: on another pooled client).
          await new Promise((r) => setImmediate(r));
          await tx.q.insert(tr).values(trunk(`${name}-${String(i).padStart(2, '0')}`, i));
        });
      }
    };
    await Promise.all([flow('x'), flow('y')]);
    expect(await channelsOf(e, 'counter')).toBe(50);
    const ids = await trunkIds(e);
    expect(ids).toHaveLength(51);
    expect(ids.filter((id) => id.startsWith('x-'))).toHaveLength(25);
    expect(ids.filter((id) => id.startsWith('y-'))).toHaveLength(25);
  });

  it('first(), affected(), all() and run() give the same answers on both engines', async () => {
    await e.q.insert(e.t.trunks).values([trunk('a', 1), trunk('b', 2), trunk('c', 2)]);
    const tr = e.t.trunks;
    expect(first(await e.q.select().from(tr).where(eq(tr.id, 'b')))).toMatchObject({ id: 'b', maxChannels: 2 });
    expect(first(await e.q.select().from(tr).where(eq(tr.id, 'none')))).toBeUndefined();
    expect(affected(await e.q.update(tr).set({ callsPerSecond: 1.5 }).where(eq(tr.maxChannels, 2)))).toBe(2);
    expect(affected(await e.q.update(tr).set({ callsPerSecond: 3 }).where(eq(tr.id, 'none')))).toBe(0);
    expect(affected(await e.q.delete(tr).where(eq(tr.id, 'a')))).toBe(1);
    const rows = await all<{ id: string; n: number }>(e, sql`SELECT id, max_channels AS n FROM trunks WHERE calls_per_second > ${1} ORDER BY id`);
    expect(rows).toEqual([
      { id: 'b', n: 2 },
      { id: 'c', n: 2 },
    ]);
    expect(await run(e, sql`UPDATE trunks SET max_channels = max_channels + ${10}`)).toBe(2);
    expect(await run(e, sql`UPDATE trunks SET max_channels = 0 WHERE id = ${'none'}`)).toBe(0);
    // count(*) is bigint on pg: mapWith(Number) (or the int8 parser) keeps it a number.
    const [n] = await e.q.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(tr);
    expect(n).toEqual({ n: 2 });
    expect(await dbExec(e, 'UPDATE trunks SET max_channels = ? WHERE id = ?', [7, 'c'])).toEqual({ rows: [], changes: 1 });
    expect((await dbExec(e, 'SELECT id, max_channels FROM trunks WHERE max_channels > ? ORDER BY id', [10])).rows).toEqual([{ id: 'b', max_channels: 12 }]);
  });

  it('int8 values above 2^31 (and up to 2^53 - 1) round-trip as JS numbers', async () => {
    const big = 2 ** 40 + 7;
    await e.q.insert(e.t.trunks).values([trunk('big', 0, big), trunk('max', 0, Number.MAX_SAFE_INTEGER), trunk('neg', 0, -(2 ** 33))]);
    const rows = await e.q.select({ id: e.t.trunks.id, at: e.t.trunks.updatedAt }).from(e.t.trunks).orderBy(asc(e.t.trunks.id));
    expect(rows).toEqual([
      { id: 'big', at: big },
      { id: 'max', at: Number.MAX_SAFE_INTEGER },
      { id: 'neg', at: -(2 ** 33) },
    ]);
    expect(typeof rows[0]!.at).toBe('number');
    // Raw SQL too (pg: the global int8 parser, not only drizzle's bigint mode).
    expect((await dbExec(e, "SELECT updated_at FROM trunks WHERE id = 'big'")).rows).toEqual([{ updated_at: big }]);
    const [agg] = await all<{ s: number }>(e, sql`SELECT max(updated_at) AS s FROM trunks`);
    expect(agg!.s).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('a boolean flag, a JSON column and NULLs round-trip through the `t` tables', async () => {
    await e.q.insert(e.t.trunks).values(trunk('carrier'));
    await e.q.insert(e.t.numbers).values([
      { e164: '+15550100001', trunkId: 'carrier', outboundEnabled: false, description: null, updatedAt: T },
      { e164: '+15550100002', trunkId: 'carrier', description: 'main', updatedAt: T },
    ]);
    const nums = await e.q.select().from(e.t.numbers).orderBy(asc(e.t.numbers.e164));
    expect(nums.map((n) => [n.outboundEnabled, n.description])).toEqual([
      [false, null],
      [true, 'main'],
    ]);
    expect(await e.q.select({ e: e.t.numbers.e164 }).from(e.t.numbers).where(and(isNull(e.t.numbers.description), eq(e.t.numbers.outboundEnabled, false)))).toEqual([{ e: '+15550100001' }]);
    // Stored as 0/1 on both engines (sql/pg keeps SQLite's INTEGER flags).
    expect((await dbExec(e, 'SELECT outbound_enabled AS f FROM numbers ORDER BY e164')).rows.map((r) => Number(r.f))).toEqual([0, 1]);

    const windows = { mon: '09:00-17:00', 'sat ': 'ünïcode «ok»' };
    await e.q.insert(e.t.campaigns).values([
      { id: 'C1', name: 'one', timeZone: 'America/New_York', updatedAt: T, callingWindows: windows, holidays: ['2026-12-25'], emailWhenLive: true },
      { id: 'C2', name: 'two', timeZone: 'Europe/Paris', updatedAt: T, callingWindows: null },
    ]);
    const cs = await e.q
      .select({ id: e.t.campaigns.id, w: e.t.campaigns.callingWindows, h: e.t.campaigns.holidays, mail: e.t.campaigns.emailWhenLive, sched: e.t.campaigns.scheduledCallbacks })
      .from(e.t.campaigns)
      .orderBy(asc(e.t.campaigns.id));
    expect(cs).toEqual([
      { id: 'C1', w: windows, h: ['2026-12-25'], mail: true, sched: true },
      { id: 'C2', w: null, h: [], mail: false, sched: true },
    ]);
    expect((await dbExec(e, "SELECT calling_windows AS w FROM campaigns WHERE id = 'C2'")).rows).toEqual([{ w: null }]);
    await e.q.update(e.t.campaigns).set({ callingWindows: { tue: '10:00-12:00' }, emailWhenLive: false }).where(eq(e.t.campaigns.id, 'C1'));
    expect(first(await e.q.select({ w: e.t.campaigns.callingWindows, m: e.t.campaigns.emailWhenLive }).from(e.t.campaigns).where(eq(e.t.campaigns.id, 'C1')))).toEqual({
      w: { tue: '10:00-12:00' },
      m: false,
    });
  });

  it('openEngine: a PostgreSQL url (setting or CALLBACKD_DATABASE_URL) opens PostgreSQL, a path SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cbd-open-'));
    const s = await openEngine({ path: join(dir, 'c.db') }, {}, {});
    expect(s.kind).toBe('sqlite');
    expect(s.describe()).toEqual({ engine: 'sqlite', where: join(dir, 'c.db') });
    expect(await all(s, sql`SELECT count(*) AS n FROM schema_migrations`)).toEqual([{ n: listMigrations().length }]);
    await s.close();
    if (TEST_ENGINE !== 'pg') return;
    for (const p of [await openEngine({ url: e.location }), await openEngine({}, {}, { CALLBACKD_DATABASE_URL: e.location })]) {
      expect(p.kind).toBe('pg');
      expect(p.describe()).toEqual(e.describe());
      await p.close();
    }
  });

  it('watchEngine wakes after another connection inserts an events row', async () => {
    const seen: Change[] = [];
    const stop = watchEngine(e, (w) => seen.push(w), { everyMs: 20 });
    try {
      // pg: the listener's first connect is itself a change; wait for it, so the insert below is after LISTEN.
      if (TEST_ENGINE === 'pg') await until(() => seen.includes('any'), 5000, 'the listener to connect');
      const before = seen.length;
      const other = await secondConnection(e);
      await insertEvent(other, 1);
      await until(() => seen.length > before, 5000, 'a change after the insert');
      expect(seen.slice(before)[0]).toBe(TEST_ENGINE === 'pg' ? 'events' : 'any');
    } finally {
      stop();
    }
  });
});

describe.skipIf(TEST_ENGINE !== 'pg')('PostgreSQL only (several daemons on one database)', () => {
  it('two engines racing SELECT … FOR UPDATE SKIP LOCKED claims over 200 rows: each row claimed exactly once', async () => {
    const rows = Array.from({ length: 200 }, (_, i) => trunk(`r${String(i).padStart(3, '0')}`));
    await e.q.insert(e.t.trunks).values(rows);
    const other = await secondConnection(e);
    // A row a peer holds is skipped at once, not waited for.
    await transaction(e, async (tx) => {
      await tx.q.select().from(tx.t.trunks).where(eq(tx.t.trunks.id, 'r000')).for('update');
      const t0 = performance.now();
      const next = await transaction(other, async (tx2) =>
        first(await tx2.q.select({ id: tx2.t.trunks.id }).from(tx2.t.trunks).orderBy(asc(tx2.t.trunks.id)).limit(1).for('update', { skipLocked: true })),
      );
      expect(next).toEqual({ id: 'r001' });
      expect(performance.now() - t0).toBeLessThan(1000);
    });
    const claimed = new Map<string, number>();
    const waits: number[] = [];
    const worker = async (c: Conn, who: number) => {
      for (;;) {
        const t0 = performance.now();
        const got = await transaction(c, async (tx) => {
          const tr = tx.t.trunks;
          const [free] = await tx.q.select({ id: tr.id }).from(tr).where(eq(tr.maxChannels, 0)).orderBy(asc(tr.id)).limit(1).for('update', { skipLocked: true });
          if (!free) return null;
          await new Promise((r) => setImmediate(r));
          expect(affected(await tx.q.update(tr).set({ maxChannels: who }).where(and(eq(tr.id, free.id), eq(tr.maxChannels, 0))))).toBe(1);
          return free.id;
        });
        waits.push(performance.now() - t0);
        if (got === null) return;
        expect(claimed.has(got), `${got} claimed twice`).toBe(false);
        claimed.set(got, who);
      }
    };
    // 3 workers per engine (their pools hold 4 clients each).
    await Promise.all([1, 2, 3].flatMap(() => [worker(e, 1), worker(other, 2)]));
    expect(claimed.size).toBe(200);
    const byEngine = [...claimed.values()].reduce((m, w) => m.set(w, (m.get(w) ?? 0) + 1), new Map<number, number>());
    expect(byEngine.get(1)! + byEngine.get(2)!).toBe(200);
    expect(byEngine.get(1)).toBeGreaterThan(0);
    expect(byEngine.get(2)).toBeGreaterThan(0);
    // The database agrees: every row carries the engine that claimed it, none is left free.
    const db = await all<{ who: number; n: number }>(e, sql`SELECT max_channels AS who, count(*)::int AS n FROM trunks GROUP BY max_channels ORDER BY 1`);
    expect(db).toEqual([...byEngine.entries()].sort((a, b) => a[0] - b[0]).map(([who, n]) => ({ who, n })));
    console.log(`SKIP LOCKED race: engine 1 claimed ${byEngine.get(1)}, engine 2 ${byEngine.get(2)}; slowest claim ${Math.max(...waits).toFixed(1)} ms`);
  });

  it('LISTEN/NOTIFY: another engine\'s committed events insert wakes watch(); a rolled-back one does not; the listener reconnects', async () => {
    const pg = e as unknown as PgEngine;
    const seen: Change[] = [];
    const stop = pg.watch((w) => seen.push(w));
    try {
      await until(() => seen.includes('any'), 5000, 'the listener to connect');
      const other = await secondConnection(e);
      // Rolled back: no notification (NOTIFY is delivered at commit only).
      await transaction(other, async (tx) => {
        await insertEvent(tx, 1);
        throw new Error('undo');
      }).catch(() => undefined);
      // Committed: one notification per transaction, even for two inserted rows.
      await transaction(other, async (tx) => {
        await insertEvent(tx, 2);
        await insertEvent(tx, 3);
      });
      await until(() => seen.includes('events'), 5000, 'the events notification');
      await new Promise((r) => setTimeout(r, 200));
      expect(seen).toEqual(['any', 'events']);

      // The listener's connection is killed (a restart, a network cut): it reconnects, and the reconnect
      // itself is a change (what was notified meanwhile is lost), then notifications flow again.
      const killed = await all<{ ok: boolean }>(other, sql`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'callbackd listener' AND datname = current_database()`);
      expect(killed).toEqual([{ ok: true }]);
      await until(() => seen.filter((w) => w === 'any').length === 2, 10_000, 'the listener to reconnect');
      await insertEvent(other, 4);
      await until(() => seen.filter((w) => w === 'events').length === 2, 5000, 'a notification after the reconnect');
      // A write without an events row says so itself, delivered at its commit.
      await transaction(other, async (tx) => {
        await tx.q.insert(tx.t.trunks).values(trunk('new'));
        await notifyChange(tx, 'directory');
        await sleep(100);
        expect(seen).not.toContain('directory');
      });
      await until(() => seen.includes('directory'), 5000, 'the directory notification');
    } finally {
      stop();
    }
  });

  it('events.xid (0023): a reader below the snapshot horizon never passes an id whose transaction is still open', async () => {
    const other = await secondConnection(e);
    const ids = async (horizon: boolean) =>
      (await all<{ id: number }>(e, horizon ? sql`SELECT id FROM events WHERE xid < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY id` : sql`SELECT id FROM events ORDER BY id`)).map((r) => r.id);
    await insertEvent(e, 1);
    let commitLate!: () => void;
    const late = new Promise<void>((r) => (commitLate = r));
    let inserted!: () => void;
    const pending = new Promise<void>((r) => (inserted = r));
    const slow = transaction(other, async (tx) => {
      await insertEvent(tx, 2);
      inserted();
      await late;
    });
    await pending;
    await insertEvent(e, 3);
    // By id alone a reader sees 1 and 3 and would move its cursor past 2, losing it for good.
    expect(await ids(false)).toEqual([1, 3]);
    // Below the horizon it stops before the open transaction: 3 waits until 2 is decided.
    expect(await ids(true)).toEqual([1]);
    commitLate();
    await slow;
    expect(await ids(true)).toEqual([1, 2, 3]);
  });

  it('busyTimeoutMs is lock_timeout: a write waiting on a peer\'s row lock fails "busy" (55P03) after it, not never', async () => {
    await e.q.insert(e.t.trunks).values(trunk('held'));
    const api = await openEngine({ url: e.location }, { busyTimeoutMs: 250, statementTimeoutMs: 5000, poolSize: 2 });
    try {
      expect(await all(api, sql`SELECT current_setting('lock_timeout') AS l, current_setting('statement_timeout') AS s`)).toEqual([{ l: '250ms', s: '5s' }]);
      await transaction(e, async (tx) => {
        await tx.q.update(tx.t.trunks).set({ maxChannels: 1 }).where(eq(tx.t.trunks.id, 'held'));
        const t0 = performance.now();
        const err = await api.q.update(api.t.trunks).set({ maxChannels: 2 }).where(eq(api.t.trunks.id, 'held')).then(() => undefined, (x: unknown) => x);
        const waited = performance.now() - t0;
        expect(storeErrorKind(err)).toBe('busy');
        expect(pgCode(err)).toBe('55P03');
        expect(waited).toBeGreaterThanOrEqual(200);
        expect(waited).toBeLessThan(2000);
      });
      expect(await channelsOf(e, 'held')).toBe(1);
    } finally {
      await api.close();
    }
  });

  it('a connection lost inside a transaction fails that transaction (rolled back), not the process; the pool goes on', async () => {
    await e.q.insert(e.t.trunks).values(trunk('a'));
    const other = await secondConnection(e);
    const err = await transaction(e, async (tx) => {
      await tx.q.update(tx.t.trunks).set({ maxChannels: 5 }).where(eq(tx.t.trunks.id, 'a'));
      const [me] = await all<{ pid: number }>(tx, sql`SELECT pg_backend_pid() AS pid`);
      await all(other, sql`SELECT pg_terminate_backend(${me!.pid}::int)`);
      await new Promise((r) => setTimeout(r, 100));
      await tx.q.select().from(tx.t.trunks);
    }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(err).toBeInstanceOf(Error);
    expect(await channelsOf(e, 'a')).toBe(0);
    // Every pooled client works afterwards (the lost one was not returned to the pool).
    await Promise.all(Array.from({ length: 8 }, (_, i) => transaction(e, async (tx) => void (await tx.q.insert(tx.t.trunks).values(trunk(`after-${i}`))))));
    expect(await trunkIds(e)).toHaveLength(9);
  });

  it('an int8 beyond Number.MAX_SAFE_INTEGER is an error, never a rounded number', async () => {
    await dbExec(e, "INSERT INTO trunks (id, updated_at) VALUES ('huge', 9007199254740993)");
    expect(await failure(dbExec(e, "SELECT updated_at FROM trunks WHERE id = 'huge'"))).toMatch(/9007199254740993 is beyond Number.MAX_SAFE_INTEGER/);
    // The pool is fine afterwards.
    expect((await dbExec(e, "SELECT id FROM trunks WHERE id = 'huge'")).rows).toEqual([{ id: 'huge' }]);
  });

  it('a transaction\'s tx used after it ended fails instead of writing on a pooled client', async () => {
    let leaked: Conn | undefined;
    await transaction(e, async (tx) => {
      leaked = tx;
    });
    expect(await failure(leaked!.q.insert(leaked!.t.trunks).values(trunk('late')).then(() => undefined))).toMatch(/this transaction has ended/);
    expect(await trunkIds(e)).toEqual([]);
  });

  it('{ retry: true } runs the body again once after a deadlock (40P01); without it the error surfaces', async () => {
    await e.q.insert(e.t.trunks).values([trunk('a'), trunk('b')]);
    const other = await secondConnection(e);
    const bump = (tx: Conn, id: string) => tx.q.update(tx.t.trunks).set({ maxChannels: sql`${tx.t.trunks.maxChannels} + 1` }).where(eq(tx.t.trunks.id, id));
    // X locks a, then b; Y locks b, then a. A session checks for a deadlock once, deadlock_timeout
    // after it starts waiting, and the one that finds it is killed. X asks for b only once Y waits for a
    // (the cycle is then complete) and checks after 100 ms: X gets 40P01; Y (10 s) commits.
    const race = async (retry: boolean) => {
      let xRuns = 0;
      let xHasA = false;
      let yWaits = false;
      const x = transaction(
        e,
        async (tx) => {
          // A rerun waits for Y to finish: it must not race Y for a again.
          if (++xRuns > 1) await sleep(200);
          await run(tx, sql`SET LOCAL deadlock_timeout = '100ms'`);
          await bump(tx, 'a');
          xHasA = true;
          if (xRuns === 1) await until(() => yWaits, 5000, 'Y to wait for a');
          await bump(tx, 'b');
        },
        { retry },
      );
      const y = transaction(other, async (tx) => {
        await run(tx, sql`SET LOCAL deadlock_timeout = '10s'`);
        await bump(tx, 'b');
        await until(() => xHasA, 5000, 'X to lock a');
        const [me] = await all<{ pid: number }>(tx, sql`SELECT pg_backend_pid() AS pid`);
        const watching = (async () => {
          for (let i = 0; i < 500 && !yWaits; i++) {
            const [w] = await all<{ w: string | null }>(e, sql`SELECT wait_event_type AS w FROM pg_stat_activity WHERE pid = ${me!.pid}::int`);
            yWaits = w?.w === 'Lock';
            if (!yWaits) await sleep(10);
          }
        })();
        await bump(tx, 'a');
        await watching;
      });
      const out = await Promise.allSettled([x, y]);
      return { xRuns, out };
    };
    const plain = await race(false);
    expect(plain.xRuns).toBe(1);
    expect(plain.out[0].status).toBe('rejected');
    expect(pgCode((plain.out[0] as PromiseRejectedResult).reason)).toBe('40P01');
    expect(plain.out[1].status).toBe('fulfilled');
    const retried = await race(true);
    expect(retried.xRuns).toBe(2);
    expect(retried.out.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
    // Y twice, X once (its retried run): 3 increments on each row, none lost or doubled.
    expect(await channelsOf(e, 'a')).toBe(3);
    expect(await channelsOf(e, 'b')).toBe(3);
  });
});
