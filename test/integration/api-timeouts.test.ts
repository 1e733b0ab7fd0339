import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import { buildApi, type Api } from '../../src/api/server.js';
import { openDb } from '../../src/store/db.js';

// A client that sends its request a byte at a time is cut off at the request timeout, and one that
// never finishes its headers at the header timeout; the server goes on answering others (issue 12).

let api: Api | undefined;
afterEach(async () => {
  await api?.close();
});

it('a body sent byte by byte is cut off at the request timeout; a request that never ends its headers at the header timeout; /healthz answers throughout', async () => {
  const db = openDb(join(mkdtempSync(join(tmpdir(), 'cbd-slow-')), 'db.sqlite'));
  api = await buildApi({ db, log: pino({ level: 'silent' }), now: Date.now, nudge: () => undefined, ready: () => ({ ari: true, ami: true, presence: true }), bodyLimit: 65536, timeouts: { headersMs: 1000, requestMs: 2000 } });
  await api.listen({ host: '127.0.0.1', port: 0 });
  const port = (api.server.address() as { port: number }).port;
  const slow = (first: string, drip: string) =>
    new Promise<number>((resolve) => {
      const t0 = Date.now();
      const s = connect(port, '127.0.0.1', () => s.write(first));
      let i = 0;
      const timer = setInterval(() => (s.writable ? s.write(drip[i++ % drip.length]!) : undefined), 200);
      s.on('data', () => undefined);
      s.on('error', () => undefined);
      s.on('close', () => {
        clearInterval(timer);
        resolve(Date.now() - t0);
      });
    });
  const body = slow('POST /callbacks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n', '{"a":1}');
  const headers = slow('GET /healthz HTTP/1.1\r\n', 'X-Slow: 1\r\n');
  const meanwhile = await fetch(`http://127.0.0.1:${port}/healthz`);
  expect(meanwhile.status).toBe(200);
  const [bodyMs, headersMs] = await Promise.all([body, headers]);
  expect(bodyMs).toBeGreaterThanOrEqual(1900);
  expect(bodyMs).toBeLessThan(5000);
  expect(headersMs).toBeGreaterThanOrEqual(900);
  expect(headersMs).toBeLessThan(4000);
}, 15_000);
