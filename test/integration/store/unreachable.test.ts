// "The database is not there" (src/store/unreachable.ts), told from real errors of a real PostgreSQL:
// a connection refused (nobody on the port), a session killed under a transaction (57P01, what a
// fast stop sends), against errors that are not an outage (a constraint, bad SQL). And a call's
// write queue (src/dialer/write-queue.ts) waiting through refused writes, in order, instead of
// dropping them. (SQLite is a file in the process: never unreachable; pg only.)
import { createServer } from 'node:net';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { WriteQueue } from '../../../src/dialer/write-queue.js';
import { createLogger } from '../../../src/log.js';
import { all, run, transaction } from '../../../src/store/engine.js';
import { openPgEngine } from '../../../src/store/pg/engine.js';
import { isUnreachable } from '../../../src/store/unreachable.js';
import { cleanupEngines, freshEngine, secondConnection, TEST_ENGINE } from '../engine.js';

afterEach(async () => {
  await cleanupEngines();
});

/** A port nobody listens on (taken, then given back). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (err: unknown) => err);

describe.skipIf(TEST_ENGINE !== 'pg')('PostgreSQL: unreachable or not', () => {
  it('refused and killed connections are unreachable; a constraint or bad SQL is not', async () => {
    const e = await freshEngine();
    // Nobody on the port: openPgEngine's first query is refused.
    const u = new URL(e.location);
    u.port = String(await closedPort());
    const refused = await failure(openPgEngine(u.toString(), { migrate: false }));
    expect(isUnreachable(refused), String(refused)).toBe(true);

    // The server ends the session under a transaction (pg_terminate_backend: 57P01, as a fast stop does).
    const peer = await secondConnection(e);
    const killed = await failure(transaction(e, async (tx) => {
      const [me] = await all<{ pid: number }>(tx, sql`SELECT pg_backend_pid() AS pid`);
      await run(peer, sql`SELECT pg_terminate_backend(${me!.pid})`);
      await all(tx, sql`SELECT 1`);
    }));
    expect(isUnreachable(killed), String(killed)).toBe(true);
    // The pool dropped that connection: the next query works.
    expect(await all(e, sql`SELECT 1 AS ok`)).toEqual([{ ok: 1 }]);

    expect(isUnreachable(await failure(all(e, sql`SELECT no_such_column FROM callbacks`)))).toBe(false);
    await run(e, sql`INSERT INTO trunks (id, max_channels, calls_per_second, updated_at) VALUES ('t', 0, 0, 1)`);
    expect(isUnreachable(await failure(run(e, sql`INSERT INTO trunks (id, max_channels, calls_per_second, updated_at) VALUES ('t', 0, 0, 1)`)))).toBe(false);
  });

  it("a call's write queue waits through refused writes and writes them in order once the database answers", async () => {
    const e = await freshEngine();
    const u = new URL(e.location);
    u.port = String(await closedPort());
    let down = true;
    const refusedOnce = async () => {
      // The same statement, on a server that is not there while `down`.
      const c = new pg.Client({ connectionString: u.toString() });
      try {
        await c.connect();
      } finally {
        await c.end().catch(() => undefined);
      }
    };
    const written: string[] = [];
    const write = (what: string) => async () => {
      if (down) await refusedOnce();
      await run(e, sql`INSERT INTO trunks (id, max_channels, calls_per_second, updated_at) VALUES (${what}, 0, 0, 1)`);
      written.push(what);
    };
    const q = new WriteQueue(createLogger('silent'), { firstMs: 20, maxMs: 100 });
    q.push('answer time', write('answer'));
    q.push('attempt end', write('end'));
    await new Promise((r) => setTimeout(r, 300));
    expect(written, 'nothing written while the database is down').toEqual([]);
    expect(q.pending).toBe(2);
    down = false;
    await q.idle();
    expect(written).toEqual(['answer', 'end']);
    expect((await all<{ id: string }>(e, sql`SELECT id FROM trunks ORDER BY id`)).map((r) => r.id)).toEqual(['answer', 'end']);
  });
});
