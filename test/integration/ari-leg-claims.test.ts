import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AriClient } from '../../src/asterisk/ari.js';
import { waitFor } from '../lab/lab.js';

// The CBDAPP_<channel id> global a takeover sets is deleted when the leg ends, whatever the order of
// the claim, the leg's end and its event. The ARI client against a local HTTP server that keeps
// globals and channels as Asterisk does (the real Asterisk: test/e2e/pg-takeover.e2e.test.ts checks
// `dialplan show globals` after a takeover).

let server: http.Server;
let ari: AriClient;
afterEach(async () => {
  ari?.stop();
  await new Promise((r) => server?.close(r));
});

/** A fake ARI: POST /asterisk/variable sets (or, without a value, deletes) a global; GET /channels/ID is 200 while `live` has it. */
async function fakeAri(o: { live: Set<string>; claimDelayMs?: number }) {
  const globals = new Map<string, string>();
  const log: string[] = [];
  server = http.createServer((req, res) => {
    const u = new URL(req.url!, 'http://x');
    if (req.method === 'POST' && u.pathname === '/ari/asterisk/variable') {
      const variable = u.searchParams.get('variable')!;
      const value = u.searchParams.get('value');
      setTimeout(() => {
        if (value === null) globals.delete(variable);
        else globals.set(variable, value);
        log.push(`${value === null ? 'unset' : 'set'} ${variable}`);
        res.statusCode = 204;
        res.end();
      }, value === null ? 0 : (o.claimDelayMs ?? 0));
      return;
    }
    const ch = /^\/ari\/channels\/([^/]+)$/.exec(u.pathname)?.[1];
    if (req.method === 'GET' && ch) {
      res.statusCode = o.live.has(ch) ? 200 : 404;
      res.end(JSON.stringify(o.live.has(ch) ? { id: ch, name: `PJSIP/${ch}`, state: 'Ringing' } : { message: 'Channel not found' }));
      return;
    }
    res.statusCode = 404;
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  ari = new AriClient({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    username: 'u', password: 'p', app: 'callbackd-b', requestTimeoutMs: 1000,
    reconnect: { initialDelayMs: 1000, maxDelayMs: 1000 }, log: pino({ level: 'silent' }),
  });
  return { globals, log };
}

const destroyed = (id: string) => ari.emit('event', { type: 'ChannelDestroyed', channel: { id, name: `PJSIP/${id}`, state: 'Down' }, cause: 16 });

describe('takeover globals (CBDAPP_<channel id>)', () => {
  it('a claimed leg that is still ringing points at our app until it ends; then its global is deleted', async () => {
    const live = new Set(['leg1', 'other']);
    const f = await fakeAri({ live });
    await ari.claimLeg('leg1');
    expect(f.globals).toEqual(new Map([['CBDAPP_leg1', 'callbackd-b']]));
    destroyed('other'); // not ours: nothing is touched
    live.delete('leg1');
    destroyed('leg1');
    await waitFor('the global to be deleted', () => f.globals.size === 0, 2000);
    expect(f.log).toEqual(['set CBDAPP_leg1', 'unset CBDAPP_leg1']);
    expect(ari.legClaims.pending).toBe(0);
  });

  it('a leg that ends while the claim is on its way: deleted after the claim lands, never before', async () => {
    const live = new Set(['leg2']);
    const f = await fakeAri({ live, claimDelayMs: 150 });
    const claiming = ari.claimLeg('leg2');
    await new Promise((r) => setTimeout(r, 20));
    live.delete('leg2');
    destroyed('leg2'); // before Asterisk has even set the global
    await claiming;
    await waitFor('the global to be deleted', () => f.log.length === 2, 2000);
    expect(f.log).toEqual(['set CBDAPP_leg2', 'unset CBDAPP_leg2']);
    expect(f.globals.size).toBe(0);
  });

  it('a leg already gone when claimed (its event came before the claim): found gone, the global deleted', async () => {
    const f = await fakeAri({ live: new Set() });
    await ari.claimLeg('leg3');
    await waitFor('the global to be deleted', () => f.globals.size === 0 && f.log.length === 2, 2000);
    expect(f.log).toEqual(['set CBDAPP_leg3', 'unset CBDAPP_leg3']);
  });

  it('a leg that ended while the event socket was down: deleted when ARI is connected again', async () => {
    const live = new Set(['leg4']);
    const f = await fakeAri({ live });
    await ari.claimLeg('leg4');
    live.delete('leg4'); // no ChannelDestroyed reaches us
    ari.emit('connected');
    await waitFor('the global to be deleted', () => f.globals.size === 0, 2000);
    expect(f.log).toEqual(['set CBDAPP_leg4', 'unset CBDAPP_leg4']);
  });
});
