// The event outbox (src/store/events.ts) on SQLite and PostgreSQL: reading in id order, cursors,
// retention, the newest id, and on PostgreSQL the commit horizon (a late committer is not skipped).
import { describe, expect, it } from 'vitest';
import { transaction } from '../../../src/store/engine.js';
import { dropCursor, eventsAfter, eventsOfCallback, getCursor, lastEventId, setCursor, trimEvents } from '../../../src/store/events.js';
import { createWebhook, updateWebhook } from '../../../src/store/webhooks.js';
import { dbExec, freshEngineEachTest, secondConnection, TEST_ENGINE, type TestEngine } from '../engine.js';
import { book, openWriter, seedDirectory, setState, T } from './outbox-seed.js';

let e: TestEngine;
freshEngineEachTest((x) => (e = x), seedDirectory);

describe(`event outbox on ${TEST_ENGINE}`, () => {
  it('reads events in id order past a cursor, page by page, with their JSON data and int8 times', async () => {
    const a = await book(e);
    await setState(e, a, 'LIVE');
    const b = await book(e, T + 5);
    const evs = await eventsAfter(e, 0, 10);
    expect(evs.map((x) => [x.type, x.callbackId])).toEqual([
      ['callback.created', a],
      ['callback.live', a],
      ['callback.created', b],
    ]);
    expect(evs[0]).toMatchObject({ at: T, version: 1, campaignId: 'K', callbackType: 'USERONLY', ownerAgentId: 'a1', actor: null });
    expect(evs[0]!.data).toMatchObject({ id: a, leadId: 'lead1', state: 'ACTIVE', dueAt: T + 3_600_000, notes: 'call after lunch' });
    expect(evs[1]).toMatchObject({ at: T + 1000, version: 2, data: { state: 'LIVE', from: 'ACTIVE' } });
    expect(typeof evs[0]!.id).toBe('number');
    expect(evs[1]!.id).toBeGreaterThan(evs[0]!.id);
    // a page, then the rest
    expect((await eventsAfter(e, 0, 2)).map((x) => x.id)).toEqual([evs[0]!.id, evs[1]!.id]);
    expect((await eventsAfter(e, evs[1]!.id, 2)).map((x) => x.id)).toEqual([evs[2]!.id]);
    expect(await eventsAfter(e, evs[2]!.id, 2)).toEqual([]);
    expect((await eventsOfCallback(e, a)).map((x) => x.type)).toEqual(['callback.created', 'callback.live']);
    expect(await eventsOfCallback(e, 999)).toEqual([]);
    expect(await lastEventId(e)).toBe(evs[2]!.id);
  });

  it('keeps a cursor per consumer: absent, set, moved, dropped', async () => {
    expect(await getCursor(e, 'email')).toBeUndefined();
    expect(await lastEventId(e)).toBe(0);
    await setCursor(e, 'email', 7);
    await setCursor(e, 'other', 3_000_000_000);
    expect(await getCursor(e, 'email')).toBe(7);
    await setCursor(e, 'email', 9);
    expect(await getCursor(e, 'email')).toBe(9);
    expect(await getCursor(e, 'other')).toBe(3_000_000_000);
    await dropCursor(e, 'email');
    expect(await getCursor(e, 'email')).toBeUndefined();
    expect(await getCursor(e, 'other')).toBe(3_000_000_000);
  });

  it('trims only old events every consumer has read (cursors and enabled webhooks), and ids never go back', async () => {
    const a = await book(e);
    await setState(e, a, 'LIVE');
    const [first, second] = await eventsAfter(e, 0, 10);
    await setCursor(e, 'email', first!.id);
    const hook = await createWebhook(e, { url: 'http://127.0.0.1:9/h', events: [], secret: 's'.repeat(16), description: null }, T);
    expect(hook.cursor).toBe(second!.id);
    expect(await trimEvents(e, T)).toBe(0); // nothing older than the cutoff
    expect(await trimEvents(e, T + 10_000)).toBe(1); // only what the slowest reader (email) has read
    expect((await eventsAfter(e, 0, 10)).map((x) => x.id)).toEqual([second!.id]);
    // A webhook endpoint behind every cursor holds retention back, unless it is disabled.
    await setCursor(e, 'email', second!.id);
    await dbExec(e, 'UPDATE webhooks SET cursor = ? WHERE id = ?', [first!.id, hook.id]);
    expect(await trimEvents(e, T + 10_000)).toBe(0);
    await updateWebhook(e, hook.id, { enabled: false }, T);
    expect(await trimEvents(e, T + 10_000)).toBe(1);
    expect(await eventsAfter(e, 0, 10)).toEqual([]);
    // An emptied table does not hand out an old id again.
    const b = await book(e, T + 20_000);
    const [next] = await eventsOfCallback(e, b);
    expect(next!.id).toBe(second!.id + 1);
    expect(await lastEventId(e)).toBe(next!.id);
  });

  it.skipIf(TEST_ENGINE !== 'pg')('pg: a transaction that wrote an event and commits late is read after an earlier-committed later id, not skipped', async () => {
    const a = await book(e);
    const b = await book(e);
    const from = await lastEventId(e);
    const other = await secondConnection(e);
    const late = await openWriter(other, a); // takes the next id, commits last
    await setState(e, b, 'LIVE'); // a later id, committed now
    const [pending] = await eventsOfCallback(e, b).then((x) => x.filter((v) => v.type === 'callback.live'));
    expect(pending!.id).toBeGreaterThan(from + 1);
    // The later id is committed, but an older one may still come: held back (and not the new start).
    const whileOpen = [await eventsAfter(e, from, 10), await lastEventId(e)] as const;
    await late.commit();
    expect(whileOpen).toEqual([[], from]);
    const evs = await eventsAfter(e, from, 10);
    expect(evs.map((x) => [x.callbackId, x.type])).toEqual([
      [a, 'callback.live'],
      [b, 'callback.live'],
    ]);
    expect(evs[1]!.id).toBe(pending!.id);
    expect(await lastEventId(e)).toBe(pending!.id);
  });

  // 0023's `xid < pg_snapshot_xmin(…)` alone let this one through (the later id was read while the
  // older one was open); the horizon of src/store/events.ts does not.
  it.skipIf(TEST_ENGINE !== 'pg')('pg: nor when the earlier-committed transaction had its transaction id before the late committer took its', async () => {
    const a = await book(e);
    const b = await book(e);
    const from = await lastEventId(e);
    // B writes first (its transaction id), writes its event only later, and commits first.
    const third = await secondConnection(e);
    let goB!: () => void;
    const gateB = new Promise<void>((r) => (goB = r));
    let hasXid!: () => void;
    const xidTaken = new Promise<void>((r) => (hasXid = r));
    const bDone = transaction(third, async (tx) => {
      await dbExec(tx, "UPDATE leads SET first_name = 'Ada B' WHERE id = 'lead1'");
      hasXid();
      await gateB;
      await setState(tx, b, 'LIVE');
    });
    await xidTaken;
    // A: a later transaction id, the smaller event id, still open.
    const late = await openWriter(await secondConnection(e), a);
    goB();
    await bDone;
    const whileOpen = await eventsAfter(e, from, 10);
    await late.commit();
    expect((await eventsAfter(e, from, 10)).map((x) => x.callbackId)).toEqual([a, b]);
    expect(whileOpen.map((x) => x.callbackId)).toEqual([]);
  });

  it('a rolled-back event leaves a gap that holds nothing back; inside a transaction pg refuses to read the horizon', async () => {
    const a = await book(e);
    const from = await lastEventId(e);
    await expect(
      transaction(e, async (tx) => {
        await setState(tx, a, 'LIVE');
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    await setState(e, a, 'CANCELLED');
    const evs = await eventsAfter(e, from, 10);
    expect(evs.map((x) => x.type)).toEqual(['callback.cancelled']);
    // pg: from + 1 was taken and rolled back (a gap); SQLite rolls its AUTOINCREMENT back with it.
    expect(evs[0]!.id).toBe(from + (TEST_ENGINE === 'pg' ? 2 : 1));
    expect(await lastEventId(e)).toBe(evs[0]!.id);
    const inside = transaction(e, async (tx) => eventsAfter(tx, 0, 10));
    if (TEST_ENGINE === 'pg') await expect(inside).rejects.toThrow('root connection');
    else expect((await inside).map((x) => x.id)).toEqual((await eventsAfter(e, 0, 10)).map((x) => x.id));
  });
});
