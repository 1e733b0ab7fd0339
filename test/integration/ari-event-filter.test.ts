import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { ARI_EVENT_TYPES } from '../../src/asterisk/ari-events.js';
import { AriClient } from '../../src/asterisk/ari.js';

// On every connect the ARI client asks Asterisk to send only the event types callbackd reads
// (PUT /applications/{app}/eventFilter; proven against Asterisk 22 by bench/burst.ts: 40,700 events
// for a 500-call burst without it, 4,700 with it). Here: a local HTTP + WebSocket server.

let server: http.Server;
let wss: WebSocketServer;
let ari: AriClient;
afterEach(async () => {
  ari?.stop();
  wss?.close();
  await new Promise((r) => server?.close(r));
});

async function asterisk(onFilter: (res: http.ServerResponse, body: string) => void) {
  const filters: { url: string; body: unknown }[] = [];
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.method === 'PUT' && req.url === '/ari/applications/callbackd/eventFilter') {
        filters.push({ url: req.url, body: JSON.parse(body) });
        onFilter(res, body);
      } else res.writeHead(404).end();
    });
  });
  wss = new WebSocketServer({ server, path: '/ari/events' });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const warnings: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) });
  ari = new AriClient({ url: `http://127.0.0.1:${port}`, username: 'u', password: 'p', app: 'callbackd', requestTimeoutMs: 500, reconnect: { initialDelayMs: 50, maxDelayMs: 50 }, log });
  return { filters, warnings };
}

const until = async (ok: () => boolean) => {
  for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('ARI event filter', () => {
  it('is set on every connect, allowing exactly the types callbackd handles', async () => {
    const a = await asterisk((res, body) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(body));
    ari.start();
    await until(() => a.filters.length === 1);
    expect(a.filters[0]!.body).toEqual({ allowed: ARI_EVENT_TYPES.map((type) => ({ type })) });
    expect(ARI_EVENT_TYPES).toContain('StasisStart');
    // The socket drops (an Asterisk restart forgets the filter): set again on the next connect.
    for (const c of wss.clients) c.terminate();
    await until(() => a.filters.length === 2);
    expect(a.filters).toHaveLength(2);
    expect(a.warnings).not.toContain('ARI event filter not set; every event of every channel will be read');
  });

  it('an Asterisk that refuses the filter is a warning; the client stays connected', async () => {
    const a = await asterisk((res) => res.writeHead(400, { 'Content-Type': 'application/json' }).end('{"message":"Invalid format definition"}'));
    ari.start();
    await until(() => a.warnings.length > 0);
    expect(a.warnings).toContain('ARI event filter not set; every event of every channel will be read');
    expect(ari.connected).toBe(true);
  });
});
