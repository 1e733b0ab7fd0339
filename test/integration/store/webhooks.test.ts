// Webhook endpoints and deliveries (src/store/webhooks.ts) on SQLite and PostgreSQL, the commit horizon
// of queueing on PostgreSQL, and the lead (src/store/leader.ts): one daemon of a cluster delivers.
import { describe, expect, it } from 'vitest';
import { eventsAfter, lastEventId } from '../../../src/store/events.js';
import { leader } from '../../../src/store/leader.js';
import {
  createWebhook,
  deleteWebhook,
  deliveryCounts,
  dueDeliveries,
  getWebhook,
  listDeliveries,
  listWebhooks,
  markDelivered,
  markFailed,
  nextDeliveryAt,
  queueDeliveries,
  retryDelivery,
  trimDeliveries,
  updateWebhook,
  withoutSecret,
} from '../../../src/store/webhooks.js';
import { dbExec, freshEngineEachTest, secondConnection, TEST_ENGINE, type TestEngine } from '../engine.js';
import { book, openWriter, seedDirectory, setState, T } from './outbox-seed.js';

let e: TestEngine;
freshEngineEachTest((x) => (e = x), seedDirectory);

const SECRET = 'whsec_0123456789abcdef';
const hook = (events: string[] = [], url = 'https://receiver.example.test/hook') => createWebhook(e, { url, events, secret: SECRET, description: 'crm' }, T);
const payload = (x: { id: number; type: string }) => JSON.stringify({ id: x.id, type: x.type });

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe(`webhooks on ${TEST_ENGINE}`, () => {
  it('creates, reads, lists, changes and deletes endpoints (JSON list, boolean, int8 cursor, secret kept apart)', async () => {
    const before = await book(e);
    const w = await hook(['callback.live']);
    expect(w).toMatchObject({ url: 'https://receiver.example.test/hook', events: ['callback.live'], secret: SECRET, description: 'crm', enabled: true, createdAt: T, updatedAt: T });
    expect(w.cursor).toBe(await lastEventId(e)); // hears events from now on
    expect((await eventsAfter(e, 0, 10)).some((x) => x.callbackId === before)).toBe(true);
    expect(withoutSecret(w)).not.toHaveProperty('secret');
    expect(await getWebhook(e, w.id)).toEqual(w);
    expect(await getWebhook(e, w.id + 100)).toBeUndefined();
    const w2 = await hook([], 'http://127.0.0.1:8080/x');
    expect((await listWebhooks(e)).map((x) => x.id)).toEqual([w.id, w2.id]);
    const changed = await updateWebhook(e, w.id, { enabled: false, description: null, events: [] }, T + 9);
    expect(changed).toEqual({ ...w, enabled: false, description: null, events: [], updatedAt: T + 9 });
    expect(await updateWebhook(e, w.id, { secret: 'whsec_rotated_secret_1', url: 'https://b.example.test/' }, T + 10)).toMatchObject({
      secret: 'whsec_rotated_secret_1', url: 'https://b.example.test/', enabled: false, updatedAt: T + 10,
    });
    expect(await updateWebhook(e, w.id + 100, { enabled: true }, T)).toBeUndefined();
    expect(await deleteWebhook(e, w.id)).toBe(true);
    expect(await deleteWebhook(e, w.id)).toBe(false);
    expect((await listWebhooks(e)).map((x) => x.id)).toEqual([w2.id]);
  });

  it('queues the subscribed events past each enabled endpoint cursor once, and moves the cursor', async () => {
    const live = await hook(['callback.live']);
    const every = await hook();
    const off = await hook();
    await updateWebhook(e, off.id, { enabled: false }, T);
    const a = await book(e);
    await setState(e, a, 'LIVE');
    await setState(e, a, 'CANCELLED');
    const last = await lastEventId(e);
    expect(await queueDeliveries(e, payload, T + 1, 2)).toBe(1 + 3);
    expect(await queueDeliveries(e, payload, T + 2)).toBe(0);
    expect((await getWebhook(e, live.id))!.cursor).toBe(last);
    expect((await getWebhook(e, every.id))!.cursor).toBe(last);
    expect((await getWebhook(e, off.id))!.cursor).toBe(off.cursor);
    const mine = await listDeliveries(e, every.id, undefined, 10);
    expect(mine.map((d) => d.eventType)).toEqual(['callback.cancelled', 'callback.live', 'callback.created']);
    expect(mine[2]).toMatchObject({ webhookId: every.id, callbackId: a, state: 'PENDING', attempts: 0, nextAt: T + 1, lastStatus: null, lastError: null, createdAt: T + 1 });
    expect(JSON.parse(mine[2]!.payload)).toEqual({ id: mine[2]!.eventId, type: 'callback.created' });
    expect((await listDeliveries(e, live.id, 'PENDING', 10)).map((d) => d.eventType)).toEqual(['callback.live']);
    // A cursor put back (a restore) queues nothing twice.
    await dbExec(e, 'UPDATE webhooks SET cursor = ? WHERE id = ?', [0, every.id]);
    expect(await queueDeliveries(e, payload, T + 3)).toBe(0);
    expect((await getWebhook(e, every.id))!.cursor).toBe(last);
  });

  it("hands out one callback's deliveries in order, records success, retry and death, counts, retries the dead, trims and cascades", async () => {
    const w = await hook();
    const a = await book(e);
    await setState(e, a, 'LIVE');
    const b = await book(e);
    await queueDeliveries(e, payload, T);
    expect(await nextDeliveryAt(e)).toBe(T);
    const due = await dueDeliveries(e, T, 10, new Set());
    // only the oldest pending one of each callback
    expect(due.map((d) => [d.callbackId, d.eventType])).toEqual([
      [a, 'callback.created'],
      [b, 'callback.created'],
    ]);
    expect((await dueDeliveries(e, T, 10, new Set([due[0]!.id]))).map((d) => d.id)).toEqual([due[1]!.id]);
    expect(await dueDeliveries(e, T - 1, 10, new Set())).toEqual([]);

    await markDelivered(e, due[0]!.id, 204, T + 1);
    await markFailed(e, due[1]!.id, 500, 'HTTP 500', T + 30_000, T + 1);
    expect((await dueDeliveries(e, T + 1, 10, new Set())).map((d) => [d.callbackId, d.eventType])).toEqual([[a, 'callback.live']]);
    const next = (await dueDeliveries(e, T + 1, 10, new Set()))[0]!;
    await markFailed(e, next.id, null, 'x'.repeat(700), null, T + 2);
    await markDelivered(e, next.id, 200, T + 3); // dead: no change
    expect(await deliveryCounts(e, w.id)).toEqual({ pending: 1, delivered: 1, dead: 1 });
    expect(await nextDeliveryAt(e)).toBe(T + 30_000);
    const [dead] = await listDeliveries(e, w.id, 'DEAD', 10);
    expect(dead).toMatchObject({ id: next.id, attempts: 1, lastStatus: null, state: 'DEAD' });
    expect(dead!.lastError).toHaveLength(500);
    expect((await listDeliveries(e, w.id, 'PENDING', 10))[0]).toMatchObject({ id: due[1]!.id, attempts: 1, lastStatus: 500, lastError: 'HTTP 500', nextAt: T + 30_000 });
    expect((await listDeliveries(e, w.id, 'DELIVERED', 10))[0]).toMatchObject({ id: due[0]!.id, attempts: 1, lastStatus: 204, lastError: null, updatedAt: T + 1 });

    expect(await retryDelivery(e, w.id + 1, next.id, T + 4)).toBe(false); // another endpoint's id
    expect(await retryDelivery(e, w.id, next.id, T + 4)).toBe(true);
    expect(await retryDelivery(e, w.id, next.id, T + 4)).toBe(false);
    expect(await nextDeliveryAt(e)).toBe(T + 4);
    expect(await deliveryCounts(e, w.id)).toEqual({ pending: 2, delivered: 1, dead: 0 });

    // A disabled endpoint's queue waits.
    await updateWebhook(e, w.id, { enabled: false }, T);
    expect(await nextDeliveryAt(e)).toBeNull();
    expect(await dueDeliveries(e, T + 60_000, 10, new Set())).toEqual([]);

    expect(await trimDeliveries(e, T + 1)).toBe(0);
    expect(await trimDeliveries(e, T + 2)).toBe(1);
    expect(await deliveryCounts(e, w.id)).toEqual({ pending: 2, delivered: 0, dead: 0 });
    await deleteWebhook(e, w.id);
    expect(await deliveryCounts(e, w.id)).toEqual({ pending: 0, delivered: 0, dead: 0 });
    expect((await dbExec(e, 'SELECT count(*) AS n FROM webhook_deliveries')).rows[0]).toEqual({ n: 0 });
  });

  it.skipIf(TEST_ENGINE !== 'pg')('pg: an event committed late is still queued for delivery after an earlier-committed later one', async () => {
    const w = await hook();
    const a = await book(e);
    const b = await book(e);
    await queueDeliveries(e, payload, T);
    const other = await secondConnection(e);
    const late = await openWriter(other, a);
    await setState(e, b, 'LIVE');
    const whileOpen = await queueDeliveries(e, payload, T + 1);
    await late.commit();
    expect(whileOpen).toBe(0); // held back while an older id is still open
    expect(await queueDeliveries(e, payload, T + 2)).toBe(2);
    expect((await listDeliveries(e, w.id, 'PENDING', 10)).filter((d) => d.eventType === 'callback.live').map((d) => d.callbackId).sort()).toEqual([a, b].sort());
  });
});

describe(`the lead on ${TEST_ENGINE}`, () => {
  it.skipIf(TEST_ENGINE !== 'sqlite')('sqlite: one daemon per file, always the leader', async () => {
    const seen: boolean[] = [];
    const l = leader(e, 'events', { onChange: (h) => seen.push(h) });
    expect(l.held).toBe(true);
    expect(seen).toEqual([true]);
    await l.close();
  });

  it.skipIf(TEST_ENGINE !== 'pg')('pg: one of two daemons leads; when its session ends, the other takes over', async () => {
    const other = await secondConnection(e);
    const seenA: boolean[] = [];
    const seenB: boolean[] = [];
    const a = leader(e, 'events', { onChange: (h) => seenA.push(h), retryMs: 50 });
    await until(() => a.held, 5000, 'the first daemon to lead');
    const b = leader(other, 'events', { onChange: (h) => seenB.push(h), retryMs: 50 });
    await new Promise((r) => setTimeout(r, 300)); // several tries by b
    expect(b.held).toBe(false);
    expect(seenB).toEqual([]);
    await a.close();
    await until(() => b.held, 5000, 'the second daemon to take over');
    expect(seenA).toEqual([true]);
    expect(seenB).toEqual([true]);
    // b's session killed (a crashed daemon's connection): b hears it and stops leading; a new leader can take it.
    const pid = await dbExec(e, "SELECT pid FROM pg_stat_activity WHERE application_name = 'callbackd lead events' AND datname = current_database()");
    expect(pid.rows).toHaveLength(1);
    await dbExec(e, 'SELECT pg_terminate_backend(?)', [pid.rows[0]!.pid]);
    await until(() => !b.held, 5000, 'the killed leader to step down');
    const c = leader(e, 'events', { onChange: () => undefined, retryMs: 50 });
    await until(() => c.held || b.held, 5000, 'a new leader');
    expect([c.held, b.held].filter(Boolean)).toHaveLength(1);
    await b.close();
    await c.close();
  });
});
