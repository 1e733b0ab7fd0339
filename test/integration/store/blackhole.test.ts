// A database that does not answer (README "What happens when things fail"): a network black hole, not
// a stopped server. Connections that hang instead of failing must fail "unreachable"
// (src/store/unreachable.ts) within the engine's bounds (src/store/pg/link.ts, pg/engine.ts), and
// the engine must recover by itself once the server answers again. Two real black holes:
//  - a local TCP server that accepts and never says a word (a new connection: the connect timeout);
//  - a real PostgreSQL cluster whose postmaster and backends are stopped with SIGSTOP
//    (test/lab/pg-freeze.ts): established connections (pool and LISTEN) get no answer, new ones are
//    accepted by the kernel and never served. (pg only: SQLite is a file in the process.)
import { createServer, type Socket } from 'node:net';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { readinessOrUnreachable } from '../../../src/app/readiness.js';
import { all, transaction } from '../../../src/store/engine.js';
import { leader } from '../../../src/store/leader.js';
import { openPgEngine, type PgEngine } from '../../../src/store/pg/engine.js';
import { QUERY_GRACE_MS } from '../../../src/store/pg/link.js';
import { isUnreachable, rootMessage } from '../../../src/store/unreachable.js';
import { freezeCluster } from '../../lab/pg-freeze.js';
import { startPostgres, type PgLab } from '../../lab/postgres.js';
import { TEST_ENGINE } from '../engine.js';

const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (err: unknown) => err);

/** How long `p` took to settle, and its error. */
async function timedFailure(p: () => Promise<unknown>): Promise<{ ms: number; err: unknown }> {
  const t0 = performance.now();
  const err = await failure(p());
  return { ms: performance.now() - t0, err };
}

describe.skipIf(TEST_ENGINE !== 'pg')('PostgreSQL: a database that does not answer', () => {
  let lab: PgLab | undefined;
  afterAll(() => lab?.stop());

  it('a host that accepts connections and never answers: opening fails unreachable within connectTimeoutMs, migration or not', async () => {
    const held: Socket[] = [];
    const hole = createServer((s) => held.push(s)); // accepts, reads, never writes
    await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
    try {
      const url = `postgres://callbackd:secret@127.0.0.1:${(hole.address() as { port: number }).port}/callbackd`;
      for (const migrate of [false, true]) {
        const { ms, err } = await timedFailure(() => openPgEngine(url, { migrate, connectTimeoutMs: 700 }));
        console.log(`black hole, migrate ${migrate}: failed after ${Math.round(ms)} ms: ${(err as Error).message}`);
        expect(isUnreachable(err), String(err)).toBe(true);
        expect(ms).toBeGreaterThanOrEqual(650);
        expect(ms).toBeLessThan(2500);
      }
      // It was the black hole that held them, not a refusal.
      expect(held.length).toBeGreaterThanOrEqual(2);
    } finally {
      held.forEach((s) => s.destroy());
      await new Promise((r) => hole.close(r));
    }
  });

  it('a cluster stopped with SIGSTOP: queries, transactions, new connections and /readyz\'s read fail unreachable within the bounds; LISTEN and the lead notice; all recover after SIGCONT', async () => {
    const s = startPostgres();
    if (!s.ok) throw new Error(`a second PostgreSQL cluster could not start: ${s.reason}`);
    lab = s.lab;
    const url = await lab.createDatabase();
    const warnings: string[] = [];
    const log = { warn: (o: object, msg: string) => warnings.push(`${msg} ${JSON.stringify(o)}`), info: () => undefined, debug: () => undefined };
    const QUERY_MS = 1000;
    const CONNECT_MS = 1000;
    const e: PgEngine = await openPgEngine(url, { queryTimeoutMs: QUERY_MS, connectTimeoutMs: CONNECT_MS, listenerPingMs: 300, poolSize: 2, log, reconnect: { initialDelayMs: 200, maxDelayMs: 500 } });
    const changes: { what: string; at: number }[] = [];
    const unwatch = e.watch((what) => changes.push({ what, at: Date.now() }), 200);
    const leads: { held: boolean; at: number }[] = [];
    const lead = leader(e, 'events', { retryMs: 300, log, onChange: (held) => leads.push({ held, at: Date.now() }) });
    let thaw: (() => void) | undefined;
    try {
      await expect.poll(() => changes.length, { timeout: 5000 }).toBeGreaterThan(0); // listening
      await expect.poll(() => lead.held, { timeout: 5000 }).toBe(true);
      expect(await all(e, sql`SELECT 1 AS ok`)).toEqual([{ ok: 1 }]);
      await transaction(e, async (tx) => all(tx, sql`SELECT 1`)); // both pooled connections open and idle

      // The control: a pool without the bounds (what the engine was), connected before the freeze.
      const unbounded = new pg.Pool({ connectionString: url, max: 1 });
      unbounded.on('error', () => undefined);
      await unbounded.query('SELECT 1');
      let unboundedSettled = false;
      thaw = freezeCluster(lab.dir);
      const frozenAt = Date.now();
      const unboundedQuery = unbounded.query('SELECT 1').finally(() => (unboundedSettled = true));
      // An established connection: the query is sent and never answered; the client gives up
      // QUERY_GRACE_MS after the server would have cancelled it.
      const bound = QUERY_MS + QUERY_GRACE_MS;
      const q = await timedFailure(() => all(e, sql`SELECT 1`));
      expect(isUnreachable(q.err), String(q.err)).toBe(true);
      expect(q.ms).toBeGreaterThanOrEqual(bound - 100);
      expect(q.ms).toBeLessThan(bound + 1500);
      // A transaction on the other pooled connection: its BEGIN hangs the same way, and no ROLLBACK waits behind it.
      const tx = await timedFailure(() => transaction(e, async (t) => all(t, sql`SELECT 1`)));
      expect(isUnreachable(tx.err), String(tx.err)).toBe(true);
      expect(tx.ms).toBeLessThan(bound + 1500);
      // Both connections were dropped: the next one is new, accepted by the kernel and never served.
      const fresh = await timedFailure(() => all(e, sql`SELECT 1`));
      expect(isUnreachable(fresh.err), String(fresh.err)).toBe(true);
      expect(fresh.ms).toBeLessThan(CONNECT_MS + 1500);
      // What /readyz reads: "unreachable", not a hang or a 500.
      const t0 = Date.now();
      const ready = await readinessOrUnreachable(e, Date.now());
      expect(ready.reachable).toBe(false);
      expect(Date.now() - t0).toBeLessThan(bound + 1500);
      // The LISTEN connection is only ever read from: its pings went unanswered, so it was replaced.
      await expect.poll(() => warnings.some((w) => /not listening/.test(w) && /no answer to a ping/.test(w)), { timeout: 5000 }).toBe(true);
      // The lead's session check went unanswered: the lead is given up, not held on a dead connection.
      await expect.poll(() => lead.held, { timeout: 5000 }).toBe(false);
      const leadLostAfter = leads.find((l) => !l.held)!.at - frozenAt;
      expect(leadLostAfter).toBeLessThan(bound + 1500);
      const downFor = Date.now() - frozenAt;
      expect(unboundedSettled, `a pool without the bounds answered within ${downFor} ms`).toBe(false);
      console.log(`frozen ${downFor} ms (a pool without the bounds still waiting): lead given up after ${leadLostAfter} ms; query failed after ${Math.round(q.ms)} ms, transaction ${Math.round(tx.ms)} ms, new connection ${Math.round(fresh.ms)} ms; ${rootMessage(q.err)} / ${rootMessage(tx.err)} / ${rootMessage(fresh.err)}`);

      const thawedAt = Date.now();
      thaw();
      await unboundedQuery; // it was only waiting
      await unbounded.end();
      // The engine needs nothing from us: the next query gets a new connection.
      await expect.poll(async () => (await all<{ ok: number }>(e, sql`SELECT 1 AS ok`).catch(() => []))[0]?.ok, { timeout: 10_000, interval: 200 }).toBe(1);
      const backAfter = Date.now() - thawedAt;
      // The listener is back (its reconnect is a change: 'any').
      await expect.poll(() => changes.some((c) => c.what === 'any' && c.at >= thawedAt), { timeout: 10_000 }).toBe(true);
      expect((await readinessOrUnreachable(e, Date.now())).reachable).toBe(true);
      await expect.poll(() => lead.held, { timeout: 10_000 }).toBe(true); // taken again
      console.log(`after SIGCONT: queries answered within ${backAfter} ms; listener back`);
    } finally {
      thaw?.();
      unwatch();
      await lead.close();
      await e.close();
    }
  }, 120_000);
});
