import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AriClient } from '../../src/asterisk/ari.js';
import { AriHttpError } from '../../src/asterisk/ari-rest.js';
import { ErrorCodes, isCode } from '../../src/errors.js';

// The ARI client's REST side against a real local HTTP server: kept-alive connections, the bound
// on requests in flight, timeouts and HTTP errors as callbackd's errors. (Asterisk itself: test/e2e.)

let server: http.Server;
let ari: AriClient;
afterEach(async () => {
  ari?.stop();
  await new Promise((r) => server?.close(r));
});

async function serve(handler: http.RequestListener, maxConcurrentRequests = 4) {
  server = http.createServer(handler);
  const sockets = new Set<unknown>();
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  ari = new AriClient({
    url: `http://127.0.0.1:${port}`,
    username: 'u',
    password: 'p',
    app: 'callbackd',
    requestTimeoutMs: 300,
    maxConcurrentRequests,
    reconnect: { initialDelayMs: 1000, maxDelayMs: 1000 },
    log: pino({ level: 'silent' }),
  });
  return { connections: () => sockets.size };
}

describe('ARI REST calls', () => {
  it('reuse a few kept-alive connections and never exceed the bound in flight', async () => {
    let now = 0;
    let peak = 0;
    const seen: string[] = [];
    const s = await serve((req, res) => {
      peak = Math.max(peak, ++now);
      seen.push(`${req.method} ${req.url} ${req.headers.authorization}`);
      setTimeout(() => {
        now--;
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ id: 'x', name: 'PJSIP/x', state: 'Up' }));
      }, 5);
    }, 4);
    const got = await Promise.all(Array.from({ length: 60 }, (_, i) => ari.getChannel(`c${i}`)));
    expect(got.every((c) => c?.state === 'Up')).toBe(true);
    expect(peak).toBe(4);
    expect(s.connections()).toBeLessThanOrEqual(4); // 60 requests over at most 4 connections
    expect(seen[0]).toBe(`GET /ari/channels/c0 Basic ${Buffer.from('u:p').toString('base64')}`);
  });

  it('a POST carries its JSON body; 404 is null when allowed; other errors are AriHttpError with Asterisk\'s message', async () => {
    let body = '';
    await serve((req, res) => {
      let b = '';
      req.on('data', (c) => (b += c));
      req.on('end', () => {
        if (req.url!.startsWith('/ari/channels/new')) {
          body = b;
          res.end(JSON.stringify({ id: 'new', name: 'PJSIP/n', state: 'Down' }));
        } else if (req.url!.startsWith('/ari/channels/gone')) {
          res.statusCode = 404;
          res.end(JSON.stringify({ message: 'Channel not found' }));
        } else {
          res.statusCode = 404;
          res.end(JSON.stringify({ message: 'Bridge not found' }));
        }
      });
    });
    await ari.originate({ channelId: 'new', endpoint: 'PJSIP/1@t', callerId: '1', timeoutSec: 5, appArgs: 'customer,1' });
    expect(JSON.parse(body).variables).toMatchObject({ CALLBACKD_APP: 'callbackd', CALLBACKD_ARGS: 'customer,1' });
    expect(await ari.getChannel('gone')).toBeNull();
    const err = await ari.addToBridge('b', 'c').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AriHttpError);
    expect((err as AriHttpError).status).toBe(404);
    expect((err as Error).message).toMatch(/HTTP 404: Bridge not found/);
  });

  it('no answer in time is ARI_TIMEOUT, and the slot is free again afterwards', async () => {
    await serve((req, res) => {
      if (req.url!.includes('slow')) return; // never answers
      res.end('{}');
    }, 1);
    const err = await ari.getChannel('slow').catch((e: unknown) => e);
    expect(isCode(err, ErrorCodes.ARI_TIMEOUT)).toBe(true);
    expect(await ari.getChannel('fast')).toEqual({});
  });

  it('nobody listening is ARI_UNREACHABLE', async () => {
    await serve((_req, res) => res.end('{}'));
    await new Promise((r) => server.close(r));
    server.closeAllConnections();
    const err = await ari.getChannel('x').catch((e: unknown) => e);
    expect(isCode(err, ErrorCodes.ARI_UNREACHABLE)).toBe(true);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });

  it("an originate that waited in the queue is not sent once its call's lease is about to lapse (stillOurs), and is LEASE_LOST", async () => {
    const sent: string[] = [];
    await serve((req, res) => {
      sent.push(`${req.method} ${req.url?.split('?')[0]}`);
      setTimeout(() => {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ id: 'x', name: 'PJSIP/x', state: 'Down' }));
      }, 50);
    }, 1);
    let ours = true;
    const leg = (id: string) => ari.originate({ channelId: id, endpoint: 'PJSIP/x', callerId: '1', timeoutSec: 5, appArgs: 'customer,1', lane: 'new', stillOurs: () => ours });
    const first = leg('first'); // takes the one slot
    const queued = leg('queued'); // waits behind it; the lease lapses meanwhile
    ours = false;
    await expect(first).resolves.toMatchObject({ id: 'x' });
    const err = await queued.then(() => null, (e: unknown) => e);
    expect(isCode(err, ErrorCodes.LEASE_LOST), String(err)).toBe(true);
    expect(sent).toEqual(['POST /ari/channels/first']);
  });
});
