// PostgreSQL's LISTEN connection down (issue 16 item 4; src/store/pg/listener.ts): other daemons'
// commits still wake the scheduler within ~externalWriteCheckMs, by polling a commit marker, instead
// of waiting for the backstop poll (30 s by default) until the listener is back. The listener's
// connection is cut with pg_terminate_backend and kept down by a long reconnect delay; a peer's
// insert must wake the watcher anyway, and nothing wakes it while nobody writes.
// (SQLite has no listener: its data_version poll is this poll, engine.test.ts covers it.)
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { all } from '../../../src/store/engine.js';
import { watchEngine, type Change } from '../../../src/store/engine-watch.js';
import { cleanupEngines, dbExec, freshEngine, secondConnection, TEST_ENGINE } from '../engine.js';

const EVERY_MS = 200; // as config scheduler.externalWriteCheckMs
const T = 1_790_000_000_000;

async function until(pred: () => boolean, ms: number, what: string): Promise<number> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - start;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterEach(async () => {
  await cleanupEngines();
});

describe.skipIf(TEST_ENGINE !== 'pg')('PostgreSQL: the LISTEN connection down', () => {
  it("a peer's insert still wakes the watcher within ~externalWriteCheckMs, and nothing does while nobody writes", async () => {
    // The listener reconnects only after a minute: what wakes the watcher below is the poll.
    const e = await freshEngine({ reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
    const seen: Change[] = [];
    const stop = watchEngine(e, (w) => seen.push(w), { everyMs: EVERY_MS });
    try {
      await until(() => seen.includes('any'), 5000, 'the listener to connect');
      const peer = await secondConnection(e);
      const killed = await all<{ ok: boolean }>(peer, sql`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'callbackd listener' AND datname = current_database()`);
      expect(killed).toEqual([{ ok: true }]);
      // The loss is noticed, and the poll's first look (a change: nothing was known) comes and goes.
      await sleep(4 * EVERY_MS);
      const quiet = seen.length;
      await sleep(5 * EVERY_MS);
      expect(seen.length, 'no wake while nobody writes').toBe(quiet);
      const listening = await all<{ n: number }>(peer, sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'callbackd listener' AND datname = current_database()`);
      expect(listening, 'the listener is still down').toEqual([{ n: 0 }]);

      await dbExec(peer, "INSERT INTO events (at, type, callback_id, version, campaign_id, callback_type, data) VALUES (?, 'callback.live', 1, 1, 'C', 'ANYONE', '{}')", [T]);
      const tookMs = await until(() => seen.length > quiet, 3 * EVERY_MS + 500, "the peer's insert to wake the watcher");
      expect(seen.slice(quiet)).toEqual(['any']);
      console.log(`listener down: a peer's insert woke the watcher after ${tookMs} ms (polling every ${EVERY_MS} ms)`);
    } finally {
      stop();
    }
  });
});
