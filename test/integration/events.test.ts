import { request } from 'node:http';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventHub } from '../../src/events/hub.js';
import * as store from '../../src/store/callbacks.js';
import { openDb, type Db } from '../../src/store/db.js';
import { eventsOfCallback, lastEventId, setCursor, trimEvents } from '../../src/store/events.js';
import { callCenter, importedDb, NOW, testApi, tokensFor } from './fixture.js';
import { transaction } from '../../src/store/engine.js';

// The outbox (sql/0010_events.sql) and GET /events over a real loopback HTTP connection.

const FILE = callCenter({
  leads: [{ id: 'n4', list: 'L1', phone: '+12125550104' }],
  users: [{ id: 'a1', role: 'agent' }],
});

let db: Db;
let api: FastifyInstance;
let hub: EventHub;
let base: string;
let tok: Record<string, string> = {};
let clock = NOW;

beforeEach(async () => {
  clock = NOW;
  ({ db } = await importedDb('events', FILE));
  tok = await tokensFor(db, FILE);
  hub = await EventHub.open({ db, log: pino({ level: 'silent' }), pollMs: 20 });
  hub.start();
  api = await testApi(db, { now: () => clock, nudge: () => hub.wake(), events: { hub, heartbeatMs: 100 } });
  await api.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(api.server.address() as { port: number }).port}`;
});
afterEach(async () => {
  hub.stop();
  await api.close();
  db.$client.close();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call(who: string, method: string, url: string, payload?: unknown): Promise<{ status: number; body: any }> {
  const r = await api.inject({ method: method as 'GET', url, payload: payload as object, headers: { authorization: `Bearer ${tok[who]}` } });
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null };
}
async function book(body: Record<string, unknown>): Promise<number> {
  const r = await call('mgr', 'POST', '/callbacks', { due: '+1h', ...body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.callback.id as number;
}
const types = async (id: number) => (await eventsOfCallback(db, id)).map((e) => e.type);

interface Frame { id: string | null; event: string | null; data: string | null; comment: boolean }
/** A minimal SSE client on node:http: frames as they arrive. */
function openStream(who: string, headers: Record<string, string> = {}, query = '') {
  const frames: Frame[] = [];
  let status = 0;
  let buf = '';
  let res: import('node:http').IncomingMessage | null = null;
  const req = request(`${base}/events${query}`, { headers: { authorization: `Bearer ${tok[who]}`, ...headers } }, (r) => {
    res = r;
    status = r.statusCode ?? 0;
    r.setEncoding('utf8');
    r.on('data', (chunk: string) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const f: Frame = { id: null, event: null, data: null, comment: false };
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) f.comment = true;
          else if (line.startsWith('id: ')) f.id = line.slice(4);
          else if (line.startsWith('event: ')) f.event = line.slice(7);
          else if (line.startsWith('data: ')) f.data = line.slice(6);
        }
        frames.push(f);
      }
    });
  });
  req.on('error', () => {});
  req.end();
  const events = () => frames.filter((f) => f.data !== null).map((f) => ({ id: Number(f.id), type: f.event!, ...(JSON.parse(f.data!) as { callbackId: number; data: Record<string, unknown>; actor: string | null }) }));
  return {
    frames,
    events,
    status: () => status,
    close: () => { req.destroy(); res?.destroy(); },
    async until(pred: () => boolean | Promise<boolean>, ms = 3000) {
      const end = Date.now() + ms;
      while (!(await pred())) {
        if (Date.now() > end) throw new Error(`timed out; frames: ${JSON.stringify(frames)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

describe('outbox triggers', () => {
  it('every writer\'s change becomes an event in the same transaction, with the version after the change and the actor', async () => {
    const id = await book({ lead: 'n1', type: 'USERONLY', owner: 'a1' });
    const [created] = await eventsOfCallback(db, id);
    expect(created).toMatchObject({ type: 'callback.created', version: 1, actor: 'mgr', campaignId: 'C1', callbackType: 'USERONLY', ownerAgentId: 'a1' });
    expect(created!.data).toMatchObject({ id, leadId: 'n1', state: 'ACTIVE', owner: 'a1' });

    const edited = await call('mgr', 'PATCH', `/callbacks/${id}`, { version: 1, due: '+2h' });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    const moved = await call('mgr', 'PATCH', `/callbacks/${id}`, { version: 2, type: 'ANYONE', owner: null });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    const evs = await eventsOfCallback(db, id);
    expect(evs.map((e) => [e.type, e.version, e.actor])).toEqual([
      ['callback.created', 1, 'mgr'],
      ['callback.rescheduled', 2, 'mgr'],
      ['callback.reassigned', 3, 'mgr'],
    ]);
    expect(evs[2]!.data).toMatchObject({ previousType: 'USERONLY', previousOwner: 'a1', type: 'ANYONE', owner: null });

    // The scheduler's writes: promote, claim, a no-answer that is retried, then an answered call.
    clock = NOW + 3 * 3_600_000;
    expect(await store.promoteDue(db, clock)).toBe(1);
    const claim = async (seq: number) =>
      (await store.claimForDial(db, {
        callbackId: id, owner: 'test', token: `t${seq}`, leaseMs: 60_000, now: clock, dialOrder: 'CUSTOMER_FIRST', agentId: 'a1', phoneEndpoint: 'p1',
        callerId: '+15550100001', customerNumber: '+12125550101', trunkId: 'carrier', ids: (s) => ({ agentChannelId: `a${s}`, customerChannelId: `c${s}`, bridgeId: `b${s}` }),
      }))!;
    const a1 = await claim(1);
    await store.countCustomerAttempt(db, id, 't1', a1.id, clock);
    await store.finishAttempt(db, id, 't1', a1.id, { outcome: 'NO_ANSWER', cause: 19, sipCode: 480, endedAt: clock + 1000, detail: null }, { state: 'LIVE', nextAttemptAt: clock + 60_000, waitReason: 'retry' }, clock + 1000);
    const a2 = await claim(2);
    await store.finishAttempt(db, id, 't2', a2.id, { outcome: 'ANSWERED', cause: null, sipCode: null, endedAt: null, detail: null }, { state: 'COMPLETED' }, clock + 2000);
    await store.closeAnsweredAttempt(db, a2.id, clock + 9000, 7000);

    const all = await eventsOfCallback(db, id);
    expect(all.map((e) => e.type)).toEqual([
      'callback.created', 'callback.rescheduled', 'callback.reassigned',
      'callback.live', 'callback.dialing', 'callback.live', 'attempt.ended', 'callback.dialing', 'callback.completed', 'attempt.ended',
    ]);
    const ended = all.filter((e) => e.type === 'attempt.ended');
    expect(ended[0]!.data).toMatchObject({ outcome: 'NO_ANSWER', cause: 19, sipCode: 480, customerAttempt: 1, state: 'LIVE' });
    expect(ended[1]!.data).toMatchObject({ outcome: 'ANSWERED', durationMs: 7000, state: 'COMPLETED' });
    // Each event's version is the row's version once its change was done.
    const row = (await store.getCallback(db, id))!;
    expect(all.filter((e) => e.type !== 'attempt.ended').at(-1)!.version).toBe(row.version);
    const versions = all.filter((e) => e.type !== 'attempt.ended').map((e) => e.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
  });

  it('cancel, a failed final outcome and a replaced callback are told; a rolled-back change leaves no event', async () => {
    const id = await book({ lead: 'n2' });
    const c = await call('mgr', 'POST', `/callbacks/${id}/cancel`, { reason: 'customer asked' });
    expect(c.status).toBe(200);
    expect((await eventsOfCallback(db, id)).at(-1)).toMatchObject({ type: 'callback.cancelled', actor: 'mgr', data: { state: 'CANCELLED', from: 'ACTIVE' } });

    const old = await book({ lead: 'n3' });
    const fresh = await book({ lead: 'n3', due: '+3h' }); // one open callback per lead: the old one is replaced
    expect((await eventsOfCallback(db, old)).at(-1)).toMatchObject({ type: 'callback.cancelled', data: { replacedBy: fresh } });

    const before = await lastEventId(db);
    await expect(
      transaction(db, async (tx) => {
        await store.promoteDue(tx as unknown as Db, NOW + 10 * 3_600_000);
        throw new Error('crash before commit');
      }),
    ).rejects.toThrow('crash before commit');
    expect(await lastEventId(db)).toBe(before);
    expect(await types(fresh)).toEqual(['callback.created']);

    clock = NOW + 4 * 3_600_000;
    await store.promoteDue(db, clock);
    await store.failLive(db, fresh, 'DNC', 'number is on the DNC list', clock);
    expect((await eventsOfCallback(db, fresh)).at(-1)).toMatchObject({ type: 'callback.failed', data: { state: 'FAILED', failReason: 'number is on the DNC list' } });
  });

  it('retention deletes old events only once every consumer has read them, and ids never go back', async () => {
    const id = await book({ lead: 'n1' });
    await book({ lead: 'n2' });
    const last = await lastEventId(db);
    await setCursor(db, 'email', (await eventsOfCallback(db, id))[0]!.id);
    expect(await trimEvents(db, NOW + 1)).toBe(1); // only what the slowest consumer has read
    await setCursor(db, 'email', last);
    expect(await trimEvents(db, NOW)).toBe(0); // not older than the cutoff
    expect(await trimEvents(db, NOW + 1)).toBe(1);
    const next = await book({ lead: 'n3' });
    expect((await eventsOfCallback(db, next))[0]!.id).toBe(last + 1);
  });
});

describe('GET /events', () => {
  it('streams what the caller may see: an agent never gets another agent\'s USERONLY callbacks', async () => {
    const agent = openStream('a1');
    const admin = openStream('root');
    await agent.until(() => agent.status() === 200 && agent.frames.length > 0);
    await admin.until(() => admin.status() === 200 && admin.frames.length > 0);
    const own = await book({ lead: 'n1', type: 'USERONLY', owner: 'a1' });
    const other = await book({ lead: 'n2', type: 'USERONLY', owner: 'a2' });
    const anyone = await book({ lead: 'n3', type: 'ANYONE' });
    const otherCampaign = (await call('root', 'POST', '/callbacks', { lead: 'u1', due: '+1h', type: 'ANYONE' })).body.callback.id as number;
    await admin.until(() => admin.events().length === 4);
    await agent.until(() => agent.events().length === 2);
    // Let any stray event arrive before asserting absence.
    await new Promise((r) => setTimeout(r, 150));
    expect(agent.events().map((e) => e.callbackId)).toEqual([own, anyone]);
    expect(admin.events().map((e) => e.callbackId)).toEqual([own, other, anyone, otherCampaign]);
    // Reassigning a1's callback to a2 is the last thing a1 sees of it.
    const r = await call('mgr', 'PATCH', `/callbacks/${own}`, { version: 1, owner: 'a2' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const r2 = await call('mgr', 'PATCH', `/callbacks/${own}`, { version: 2, due: '+5h' });
    expect(r2.status, JSON.stringify(r2.body)).toBe(200);
    await admin.until(() => admin.events().length === 6);
    await new Promise((r) => setTimeout(r, 150));
    expect(agent.events().map((e) => e.callbackId)).toEqual([own, anyone]);
    expect(agent.events().every((e) => e.type === 'callback.created')).toBe(true);
    const frame = admin.events()[0]!;
    expect(frame).toMatchObject({ type: 'callback.created', callbackId: own, actor: 'mgr', data: { owner: 'a1', leadId: 'n1' } });
    agent.close();
    admin.close();
  });

  it('reconnecting with Last-Event-ID gets exactly what was missed, in order; heartbeats carry the position', async () => {
    const s1 = openStream('mgr');
    await s1.until(() => s1.frames.length > 0);
    const first = await book({ lead: 'n1' });
    await s1.until(() => s1.events().length === 1);
    const lastSeen = s1.events()[0]!.id;
    s1.close();

    // While disconnected: three changes.
    const second = await book({ lead: 'n2' });
    await call('mgr', 'POST', `/callbacks/${first}/cancel`, {});
    const third = await book({ lead: 'n4' });

    const s2 = openStream('mgr', { 'last-event-id': String(lastSeen) });
    await s2.until(() => s2.events().length === 3);
    expect(s2.events().map((e) => [e.type, e.callbackId])).toEqual([
      ['callback.created', second],
      ['callback.cancelled', first],
      ['callback.created', third],
    ]);
    // Then live events follow on the same stream, with no gap and no repeat.
    const fourth = await book({ lead: 'n3' });
    await s2.until(() => s2.events().length === 4);
    expect(s2.events().at(-1)).toMatchObject({ type: 'callback.created', callbackId: fourth });
    const ids = s2.events().map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // Heartbeats: comments with the stream's position as id.
    await s2.until(() => s2.frames.some((f) => f.comment && f.id === String(ids.at(-1))), 1000);
    s2.close();
  });

  it('a change made by another process (its own connection) is streamed without a local wake-up', async () => {
    const s = openStream('mgr');
    await s.until(() => s.frames.length > 0);
    const other = openDb(db.$client.name);
    const id = other.$client
      .prepare("INSERT INTO callbacks (lead_id, campaign_id, type, due_at, due_zone, max_attempts, created_by, created_at, updated_at) VALUES ('n4','C1','ANYONE',?,'UTC',3,'cli',?,?)")
      .run(NOW + 3_600_000, NOW, NOW).lastInsertRowid;
    other.$client.close();
    await s.until(() => s.events().length === 1);
    expect(s.events()[0]).toMatchObject({ callbackId: Number(id), actor: 'cli' });
    s.close();
  });

  it('refuses without a token', async () => {
    const r = await fetch(`${base}/events`);
    expect(r.status).toBe(401);
  });
});
