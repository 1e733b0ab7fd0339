// The email queue (src/store/emails.ts) on SQLite and PostgreSQL: the LIVE context, queueing from the
// outbox (once per event, async drafts), the send queue's states, and on PostgreSQL the commit horizon.
import { describe, expect, it } from 'vitest';
import {
  dueEmails,
  listEmails,
  liveContext,
  markEmailFailed,
  markSent,
  nextEmailAt,
  queueEmails,
  retryEmail,
  trimEmails,
  type EmailDraft,
} from '../../../src/store/emails.js';
import { getCursor, lastEventId, setCursor, type OutboxEvent } from '../../../src/store/events.js';
import { freshEngineEachTest, secondConnection, TEST_ENGINE, type TestEngine } from '../engine.js';
import { book, openWriter, seedDirectory, setState, T } from './outbox-seed.js';

let e: TestEngine;
freshEngineEachTest((x) => (e = x));

/** An email for each callback.live event (async, as the real draft reads the store). */
const draft = async (x: OutboxEvent): Promise<EmailDraft | null> =>
  x.type === 'callback.live' ? { callbackId: x.callbackId, agentId: 'a1', toAddress: 'a1@example.test', subject: `cb ${x.callbackId}`, body: `event ${x.id}` } : null;

describe(`email queue on ${TEST_ENGINE}`, () => {
  it('liveContext joins the callback, its lead, campaign and owner (booleans, int8, NULLs)', async () => {
    await seedDirectory(e, { agentZone: 'America/New_York' });
    const id = await book(e);
    expect(await liveContext(e, id)).toEqual({
      callbackId: id, state: 'ACTIVE', type: 'USERONLY', dueAt: T + 3_600_000, dueZone: 'Europe/Berlin', notes: 'call after lunch',
      leadId: 'lead1', firstName: 'Ada', lastName: 'Lovelace', phone: '+4930123456',
      campaignId: 'K', campaignName: 'Kampagne', campaignZone: 'Europe/Berlin', emailWhenLive: true,
      agentId: 'a1', agentName: 'Agent One', agentEmail: 'a1@example.test', agentZone: 'America/New_York',
    });
    expect(await liveContext(e, id + 1)).toBeUndefined();
    await e.q.update(e.t.campaigns).set({ emailWhenLive: false });
    await e.q.update(e.t.callbacks).set({ ownerAgentId: null, type: 'ANYONE' });
    expect(await liveContext(e, id)).toMatchObject({ emailWhenLive: false, agentId: null, agentName: null, agentEmail: null, agentZone: null });
  });

  it('queues one email per event from the cursor on: a first run starts at the newest event, a replay queues nothing twice', async () => {
    await seedDirectory(e);
    const old = await book(e);
    await setState(e, old, 'LIVE'); // before email was turned on: never mailed
    expect(await queueEmails(e, draft, T)).toBe(0);
    const start = await lastEventId(e);
    expect(await getCursor(e, 'email')).toBe(start);
    const a = await book(e);
    const b = await book(e);
    await setState(e, a, 'LIVE');
    await setState(e, b, 'LIVE');
    expect(await queueEmails(e, draft, T + 5, 1)).toBe(2); // page of 1: four events, four pages
    expect(await getCursor(e, 'email')).toBe(await lastEventId(e));
    expect(await queueEmails(e, draft, T + 6)).toBe(0);
    await setCursor(e, 'email', start); // the cursor went back (a restore): the same events, no second email
    expect(await queueEmails(e, draft, T + 7)).toBe(0);
    const all = await listEmails(e, { limit: 10 });
    expect(all.map((m) => [m.callbackId, m.subject])).toEqual([
      [b, `cb ${b}`],
      [a, `cb ${a}`],
    ]);
    expect(all[1]).toMatchObject({ agentId: 'a1', toAddress: 'a1@example.test', state: 'PENDING', attempts: 0, nextAt: T + 5, createdAt: T + 5, updatedAt: T + 5, sentAt: null, lastError: null });
    expect(typeof all[1]!.eventId).toBe('number');
  });

  it('sends due emails in order, records success, retries and death, lists, retries the dead and trims the sent', async () => {
    await seedDirectory(e);
    await queueEmails(e, draft, T);
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const id = await book(e);
      ids.push(id);
      await setState(e, id, 'LIVE');
    }
    expect(await queueEmails(e, draft, T)).toBe(3);
    expect(await nextEmailAt(e)).toBe(T);
    const due = await dueEmails(e, T, 10, new Set());
    expect(due.map((m) => m.callbackId)).toEqual(ids);
    expect((await dueEmails(e, T, 1, new Set([due[0]!.id]))).map((m) => m.id)).toEqual([due[1]!.id]);
    expect(await dueEmails(e, T - 1, 10, new Set())).toEqual([]);

    await markSent(e, due[0]!.id, T + 1);
    await markEmailFailed(e, due[1]!.id, 'x'.repeat(600), T + 60_000, T + 1);
    await markEmailFailed(e, due[2]!.id, '550 no such user', null, T + 1);
    await markSent(e, due[2]!.id, T + 2); // dead: not PENDING, no change
    expect(await nextEmailAt(e)).toBe(T + 60_000);
    expect((await dueEmails(e, T + 59_999, 10, new Set())).length).toBe(0);
    const [sent] = await listEmails(e, { state: 'SENT', limit: 10 });
    expect(sent).toMatchObject({ id: due[0]!.id, attempts: 1, sentAt: T + 1, updatedAt: T + 1 });
    const [retry] = await listEmails(e, { state: 'PENDING', limit: 10 });
    expect(retry).toMatchObject({ id: due[1]!.id, attempts: 1, nextAt: T + 60_000 });
    expect(retry!.lastError).toHaveLength(500);
    const [dead] = await listEmails(e, { state: 'DEAD', callbackId: ids[2]!, limit: 10 });
    expect(dead).toMatchObject({ id: due[2]!.id, attempts: 1, lastError: '550 no such user', nextAt: T });
    expect(await listEmails(e, { state: 'DEAD', callbackId: ids[0]!, limit: 10 })).toEqual([]);
    expect((await listEmails(e, { limit: 2 })).map((m) => m.id)).toEqual([due[2]!.id, due[1]!.id]);

    expect(await retryEmail(e, due[2]!.id, T + 5)).toBe(true);
    expect(await retryEmail(e, due[2]!.id, T + 5)).toBe(false); // not dead any more
    expect(await retryEmail(e, due[0]!.id, T + 5)).toBe(false); // sent
    expect(await nextEmailAt(e)).toBe(T + 5);
    expect((await listEmails(e, { callbackId: ids[2]!, limit: 1 }))[0]).toMatchObject({ state: 'PENDING', attempts: 0, nextAt: T + 5 });

    expect(await trimEmails(e, T + 1)).toBe(0); // sent at T+1: not before it
    expect(await trimEmails(e, T + 2)).toBe(1);
    expect((await listEmails(e, { limit: 10 })).map((m) => m.state).sort()).toEqual(['PENDING', 'PENDING']);
    await markSent(e, due[1]!.id, T + 3);
    expect(await nextEmailAt(e)).toBe(T + 5);
  });

  it.skipIf(TEST_ENGINE !== 'pg')('pg: an email event committed late is still queued after an earlier-committed later one', async () => {
    await seedDirectory(e);
    const a = await book(e);
    const b = await book(e);
    await queueEmails(e, draft, T);
    const other = await secondConnection(e);
    const late = await openWriter(other, a);
    await setState(e, b, 'LIVE');
    const whileOpen = await queueEmails(e, draft, T + 1);
    await late.commit();
    expect(whileOpen).toBe(0); // held back while an older id is still open
    expect(await queueEmails(e, draft, T + 2)).toBe(2);
    expect((await listEmails(e, { limit: 10 })).map((m) => m.callbackId).sort()).toEqual([a, b].sort());
  });
});
