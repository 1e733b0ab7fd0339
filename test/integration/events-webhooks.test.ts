import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { buildApi } from '../../src/api/server.js';
import { createToken } from '../../src/app/auth.js';
import { startEvents, type EventsService } from '../../src/events/service.js';
import { applyImport, parseImport } from '../../src/import.js';
import { openDb, type Db } from '../../src/store/db.js';
import { eventsOfCallback } from '../../src/store/events.js';
import { createWebhook, listDeliveries } from '../../src/store/webhooks.js';

// Webhooks against real HTTP servers on loopback that answer, fail, stall or hang up; the
// signature is checked here with node:crypto directly, not with src/events/signature.ts.

const FILE = {
  trunks: [{ id: 'carrier' }],
  numbers: [{ number: '+15550100001', trunk: 'carrier' }],
  campaigns: [{ id: 'C1', name: 'One', time_zone: 'America/New_York', outbound_number: '+15550100001' }],
  lists: [{ id: 'L1', campaign: 'C1' }],
  agents: [{ id: 'a1', name: 'A1', campaigns: ['C1'] }],
  phones: [{ endpoint: 'p1', agent: 'a1' }],
  leads: [1, 2, 3, 4, 5, 6].map((i) => ({ id: `n${i}`, list: 'L1', phone: `+1212555010${i}` })),
  users: [{ id: 'root', role: 'admin' }, { id: 'a1', role: 'agent' }],
};
const SECRET = 'test-secret-0123456789abcdef';
const FAST = { timeoutMs: 300, maxAttempts: 3, retryBaseMs: 40, retryMaxMs: 200, concurrency: 8, perEndpoint: 4, idleMs: 50 };

let dir: string;
let db: Db;
let svc: EventsService | null = null;
const servers: Server[] = [];
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cbd-webhooks-'));
  db = openDb(join(dir, 'db.sqlite'));
  await applyImport(db, parseImport(YAML.stringify(FILE), 'fixture'), Date.now());
});
afterEach(async () => {
  await svc?.stop();
  svc = null;
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  db.$client.close();
});

interface Hit { eventId: number; type: string; body: string; headers: IncomingMessage['headers']; at: number }
type Behaviour = (hit: Hit, res: ServerResponse, n: number) => void;
/** A receiver on loopback; `behave` decides each answer (n counts this event's tries, from 1). */
async function receiver(behave: Behaviour = (_h, res) => res.end('ok')) {
  const hits: Hit[] = [];
  const tries = new Map<number, number>();
  const state = { behave };
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const hit = { eventId: Number(req.headers['callbackd-event-id']), type: String(req.headers['callbackd-event-type']), body, headers: req.headers, at: Date.now() };
      hits.push(hit);
      const n = (tries.get(hit.eventId) ?? 0) + 1;
      tries.set(hit.eventId, n);
      state.behave(hit, res, n);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { hits, state, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook` };
}

const start = async (webhooks = FAST) => {
  svc = await startEvents({ db, log: pino({ level: 'silent' }), config: { pollMs: 20, heartbeatMs: 1000, retentionDays: 7 }, webhooks });
  return svc;
};
const addCallback = (lead: string, d: Db = db) =>
  Number(
    d.$client
      .prepare("INSERT INTO callbacks (lead_id, campaign_id, type, due_at, due_zone, max_attempts, created_by, created_at, updated_at) VALUES (?, 'C1', 'ANYONE', ?, 'UTC', 3, 'test', ?, ?)")
      .run(lead, Date.now() + 3_600_000, Date.now(), Date.now()).lastInsertRowid,
  );
const cancel = (id: number) => db.$client.prepare("UPDATE callbacks SET state = 'CANCELLED', updated_at = ? WHERE id = ?").run(Date.now(), id);
const eventIds = async (id: number) => (await eventsOfCallback(db, id)).map((e) => e.id);
async function until(pred: () => boolean | Promise<boolean>, what: string, ms = 5000) {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
/** The receiver's side of the contract, written from the README with node:crypto only. */
function verifiedByReceiver(h: Hit, secret = SECRET): boolean {
  const ts = String(h.headers['callbackd-timestamp']);
  const expected = 'v1=' + createHmac('sha256', secret).update(`${ts}.${h.body}`).digest('hex');
  return h.headers['callbackd-signature'] === expected && Math.abs(Date.now() / 1000 - Number(ts)) < 300;
}

describe('webhooks', () => {
  it('posts each event signed (HMAC-SHA256 over timestamp.body), with its id as the idempotency key', async () => {
    const r = await receiver();
    const w = await createWebhook(db, { url: r.url, events: [], secret: SECRET, description: null }, Date.now());
    await start();
    const id = addCallback('n1');
    cancel(id);
    await until(() => r.hits.length === 2, 'two deliveries');
    const [created, cancelled] = r.hits;
    expect(created!.type).toBe('callback.created');
    expect(cancelled!.type).toBe('callback.cancelled');
    expect(r.hits.map((h) => h.eventId)).toEqual(await eventIds(id));
    for (const h of r.hits) {
      expect(verifiedByReceiver(h)).toBe(true);
      expect(verifiedByReceiver(h, 'another-secret-entirely-xx')).toBe(false);
      expect(h.headers['content-type']).toBe('application/json');
      const body = JSON.parse(h.body);
      expect(body).toMatchObject({ id: h.eventId, type: h.type, callbackId: id, actor: h.type === 'callback.created' ? 'test' : null });
    }
    // A tampered body no longer matches.
    expect(verifiedByReceiver({ ...created!, body: created!.body.replace('"n1"', '"n2"') })).toBe(false);
    await until(async () => (await listDeliveries(db, w.id, 'DELIVERED', 10)).length === 2, 'both marked delivered');
  });

  it('only the subscribed types are sent', async () => {
    const r = await receiver();
    await createWebhook(db, { url: r.url, events: ['callback.cancelled'], secret: SECRET, description: null }, Date.now());
    await start();
    const id = addCallback('n1');
    cancel(id);
    await until(() => r.hits.length === 1, 'one delivery');
    await new Promise((res) => setTimeout(res, 150));
    expect(r.hits.map((h) => h.type)).toEqual(['callback.cancelled']);
  });

  it('retries with backoff after a 500, a timeout and a dropped connection; every retry has the same event id', async () => {
    const r = await receiver((h, res, n) => {
      const lead = JSON.parse(h.body).data.leadId as string;
      if (n > 1) return res.end('ok');
      if (lead === 'n1') res.writeHead(500).end('boom');
      else if (lead === 'n2') setTimeout(() => res.end('too late'), 1500); // past the 300 ms timeout
      else res.socket?.destroy(); // hang up without answering
    });
    const w = await createWebhook(db, { url: r.url, events: ['callback.created'], secret: SECRET, description: null }, Date.now());
    await start();
    const ids = ['n1', 'n2', 'n3'].map((l) => addCallback(l));
    await until(async () => (await listDeliveries(db, w.id, 'DELIVERED', 10)).length === 3, 'all three delivered', 8000);
    for (const id of ids) {
      const ev = (await eventIds(id))[0]!;
      const tries = r.hits.filter((h) => h.eventId === ev);
      expect(tries.length).toBe(2);
      expect(tries.map((h) => h.headers['callbackd-delivery-attempt'])).toEqual(['1', '2']);
      expect(tries[1]!.body).toBe(tries[0]!.body);
      expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(30); // backed off (40 ms ± 20%)
      expect(tries.every((h) => verifiedByReceiver(h))).toBe(true);
    }
    const d = await listDeliveries(db, w.id, 'DELIVERED', 10);
    expect(d.every((x) => x.attempts === 2 && x.lastStatus === 200 && x.lastError === null)).toBe(true);
  });

  it('dead-letters after maxAttempts, visible in the API, and an admin can send it again', async () => {
    const r = await receiver((_h, res) => res.writeHead(503).end('down'));
    const api = await buildApi({ db, log: pino({ level: 'silent' }), now: Date.now, nudge: () => svc?.wake(), bodyLimit: 65536, ready: () => ({ ari: true, ami: true, presence: true }) });
    const token = (await createToken(db, 'root', 't', Date.now())).token;
    const agentToken = (await createToken(db, 'a1', 't', Date.now())).token;
    const call = async (method: string, url: string, payload?: object, t = token) => {
      const res = await api.inject({ method: method as 'GET', url, payload, headers: { authorization: `Bearer ${t}` } });
      return { status: res.statusCode, body: JSON.parse(res.body) };
    };
    expect((await call('POST', '/webhooks', { url: r.url }, agentToken)).status).toBe(403);
    expect((await call('POST', '/webhooks', { url: 'ftp://example.com/x' })).status).toBe(400);
    const made = await call('POST', '/webhooks', { url: r.url, events: ['callback.created'], description: 'CRM' });
    expect(made.status).toBe(201);
    const hook = made.body.webhook.id as number;
    const secret = made.body.secret as string;
    expect(secret).toMatch(/^whsec_/);
    expect(JSON.stringify((await call('GET', `/webhooks/${hook}`)).body)).not.toContain(secret);

    await start();
    const id = addCallback('n1');
    await until(async () => (await listDeliveries(db, hook, 'DEAD', 10)).length === 1, 'dead-lettered', 5000);
    expect(r.hits.length).toBe(FAST.maxAttempts);
    expect(r.hits.every((h) => verifiedByReceiver(h, secret))).toBe(true);
    const dead = await call('GET', `/webhooks/${hook}/deliveries?state=DEAD`);
    expect(dead.body.items).toEqual([expect.objectContaining({ eventId: (await eventIds(id))[0], state: 'DEAD', attempts: 3, lastStatus: 503, lastError: 'HTTP 503' })]);
    expect((await call('GET', `/webhooks/${hook}`)).body.deliveries).toEqual({ pending: 0, delivered: 0, dead: 1 });

    r.state.behave = (_h, res) => res.end('ok');
    const again = await call('POST', `/webhooks/${hook}/deliveries/${dead.body.items[0].id}/retry`);
    expect(again.status).toBe(200);
    await until(async () => (await listDeliveries(db, hook, 'DELIVERED', 10)).length === 1, 'delivered after the retry');
    expect((await call('POST', `/webhooks/${hook}/deliveries/${dead.body.items[0].id}/retry`)).status).toBe(404);
    await api.close();
  });

  it("keeps one callback's events in order while its first one is retried, without holding up other callbacks", async () => {
    let first = 0;
    const r = await receiver((h, res, n) => {
      if (first === 0) first = h.eventId;
      if (h.eventId === first && n < 3) return res.writeHead(500).end();
      res.end('ok');
    });
    const w = await createWebhook(db, { url: r.url, events: [], secret: SECRET, description: null }, Date.now());
    const slow = { ...FAST, retryBaseMs: 150, maxAttempts: 5 };
    const a = addCallback('n1');
    cancel(a); // a: created, cancelled
    const b = addCallback('n2'); // b: created
    await start(slow);
    await until(async () => (await listDeliveries(db, w.id, 'DELIVERED', 10)).length === 3, 'all delivered', 8000);
    const [aCreated, aCancelled] = await eventIds(a);
    const bCreated = (await eventIds(b))[0]!;
    const order = r.hits.map((h) => h.eventId);
    expect(first).toBe(aCreated);
    // b's event went out while a's first was still failing…
    expect(order.indexOf(bCreated)).toBeLessThan(order.lastIndexOf(aCreated!));
    // …but a's second event waited for a's first to be delivered.
    expect(order.indexOf(aCancelled!)).toBeGreaterThan(order.lastIndexOf(aCreated!));
    expect(order.filter((e) => e === aCancelled).length).toBe(1);
  });

  it('a stalled endpoint holds only its own queue: another endpoint gets its events at once', async () => {
    const stalled = await receiver(() => {}); // never answers
    const fine = await receiver();
    await createWebhook(db, { url: stalled.url, events: [], secret: SECRET, description: null }, Date.now());
    const w2 = await createWebhook(db, { url: fine.url, events: [], secret: SECRET, description: null }, Date.now());
    await start({ ...FAST, timeoutMs: 10_000, perEndpoint: 2, concurrency: 3 });
    const t0 = Date.now();
    for (const l of ['n1', 'n2', 'n3', 'n4', 'n5']) addCallback(l);
    await until(async () => (await listDeliveries(db, w2.id, 'DELIVERED', 10)).length === 5, 'the healthy endpoint served', 3000);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(stalled.hits.length).toBe(2); // its per-endpoint cap, the rest wait
  });
});

describe('crash safety', () => {
  it('kill -9 between the change and its delivery loses nothing: after a restart every event arrives, repeats only with the same id', async () => {
    const r = await receiver(() => {}); // first: hold every request (the process dies mid-delivery)
    const w = await createWebhook(db, { url: r.url, events: [], secret: SECRET, description: null }, Date.now());
    const vn = join(process.cwd(), 'node_modules/.bin/vite-node');
    const child = async () => {
      const c = spawn(vn, [join(process.cwd(), 'test/integration/events-child.ts'), join(dir, 'db.sqlite')], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(c);
      await new Promise<void>((res, rej) => {
        c.stdout!.on('data', (b: Buffer) => b.toString().includes('ready') && res());
        c.on('exit', (code) => rej(new Error(`child exited ${code}`)));
      });
      return c;
    };
    const kill9 = async (c: ChildProcess) => {
      const gone = new Promise((res) => c.once('exit', res));
      c.kill('SIGKILL');
      await gone;
    };

    const first = await child();
    const x = addCallback('n1'); // committed by another connection, as the daemon's writers do
    await until(() => r.hits.length === 1, 'the delivery in flight', 10_000);
    await kill9(first); // after the change, before the receiver answered
    const y = addCallback('n2'); // changed while nothing runs: in the outbox, not yet queued
    expect((await listDeliveries(db, w.id, undefined, 10)).map((d) => d.state)).toEqual(['PENDING']);

    r.state.behave = (_h, res) => res.end('ok');
    const second = await child();
    await until(async () => (await listDeliveries(db, w.id, 'DELIVERED', 10)).length === 2, 'both delivered after the restart', 10_000);
    await kill9(second);

    const expected = [...await eventIds(x), ...await eventIds(y)];
    expect(new Set(r.hits.map((h) => h.eventId))).toEqual(new Set(expected));
    const [x0] = await eventIds(x);
    const [y0] = await eventIds(y);
    expect(r.hits.filter((h) => h.eventId === x0).length).toBe(2); // the one cut off, sent again
    expect(r.hits.filter((h) => h.eventId === y0).length).toBe(1);
    const bodies = new Map<number, string>();
    for (const h of r.hits) {
      expect(verifiedByReceiver(h)).toBe(true);
      if (bodies.has(h.eventId)) expect(h.body).toBe(bodies.get(h.eventId));
      bodies.set(h.eventId, h.body);
    }
    expect((await listDeliveries(db, w.id, undefined, 10)).length).toBe(2);
  }, 30_000);
});
