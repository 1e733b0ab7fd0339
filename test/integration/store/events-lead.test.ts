// Two daemons' event services on one PostgreSQL database (src/events/service.ts + src/store/leader.ts):
// only the lead delivers webhooks, so every event is posted once, not once per daemon; when the lead
// stops, the other daemon takes over and delivers what comes next. SQLite has one daemon per file.
import { createServer, type Server } from 'node:http';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEvents, type EventsService } from '../../../src/events/service.js';
import { createWebhook } from '../../../src/store/webhooks.js';
import { cleanupEngines, freshEngine, secondConnection, TEST_ENGINE, type TestEngine } from '../engine.js';
import { book, seedDirectory, setState } from './outbox-seed.js';

const FAST = { timeoutMs: 1000, maxAttempts: 3, retryBaseMs: 40, retryMaxMs: 200, concurrency: 8, perEndpoint: 4, idleMs: 50 };
let e: TestEngine;
let server: Server | undefined;
const services: EventsService[] = [];
beforeEach(async () => {
  e = await freshEngine();
  await seedDirectory(e);
});
afterEach(async () => {
  for (const s of services.splice(0)) await s.stop();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
  await cleanupEngines();
});

async function until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(TEST_ENGINE !== 'pg')('the delivery lead on pg', () => {
  it('two daemons: every webhook is posted once; when the lead stops, the other one delivers', async () => {
    const posts: number[] = [];
    server = createServer((req, res) => {
      posts.push(Number(req.headers['callbackd-event-id']));
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
    await createWebhook(e, { url, events: [], secret: 'whsec_0123456789abcdef', description: null }, Date.now());
    const start = async (c: TestEngine) => {
      const s = await startEvents({ db: c, log: pino({ level: 'silent' }), config: { pollMs: 20, heartbeatMs: 1000, retentionDays: 7 }, webhooks: FAST });
      services.push(s);
      return s;
    };
    const first = await start(e);
    const other = await secondConnection(e);
    await start(other);

    const ids = [await book(e), await book(other), await book(e)];
    await setState(other, ids[0]!, 'LIVE');
    await until(() => posts.length >= 4, 'four deliveries');
    await new Promise((r) => setTimeout(r, 500)); // both daemons had time for a second copy
    expect(posts).toHaveLength(4);
    expect(new Set(posts).size).toBe(4);

    await first.stop();
    services.splice(services.indexOf(first), 1);
    const more = await book(other);
    await setState(other, more, 'CANCELLED');
    // The follower tries for the lead every 5 s.
    await until(() => posts.length >= 6, 'the follower to take over and deliver', 15_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(posts).toHaveLength(6);
    expect(new Set(posts).size).toBe(6);
  }, 60_000);
});
