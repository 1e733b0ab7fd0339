import { connect, type Socket } from 'node:net';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agiToken } from '../../src/agi/auth.js';
import { requestCallback } from '../../src/agi/routes.js';
import { AgiServer } from '../../src/agi/server.js';
import { compareInLine } from '../../src/domain/queue-place.js';
import { getCallback, insertCallback, liveReady, promoteDue } from '../../src/store/callbacks.js';
import type { Db } from '../../src/store/db.js';
import { positionInLine } from '../../src/store/queue-place.js';
import { importedDb, ONE_TRUNK } from './fixture.js';

// Inbound callbacks keep their place in line: request-callback over a real FastAGI socket (the test
// plays Asterisk), the arrival stored, the position said back, and the store's order = the domain's.

const SECRET = 'test-secret-queue-place-0123456789';
let db: Db;
let server: AgiServer;

beforeEach(async () => {
  ({ db } = await importedDb('queue-place', {
    ...ONE_TRUNK,
    campaigns: [{ id: 'C', name: 'C', time_zone: 'UTC', outbound_number: '+15550100001' }],
    lists: [{ id: 'L', campaign: 'C' }],
    agents: [{ id: 'a1', name: 'A', campaigns: ['C'] }],
    leads: Array.from({ length: 40 }, (_, i) => ({ id: `l${i + 1}`, list: 'L', phone: `+1555123${String(1000 + i)}` })),
  }, Date.now()));
  server = new AgiServer({
    host: '127.0.0.1', port: 0, allow: ['127.0.0.1'], secret: () => ({ secret: SECRET }),
    headerTimeoutMs: 500, idleTimeoutMs: 300, commandTimeoutMs: 1500, maxConnections: 10, maxConnectionsPerAddress: 10,
    log: pino({ level: 'silent' }),
  });
  server.route('request-callback', requestCallback({ db, now: Date.now, nudge: () => undefined }));
  await server.listen();
});
afterEach(async () => {
  await server.close(0);
});

/** One caller through request-callback: Asterisk's side of res_agi, pressing 1 at "you-entered". */
function caller(url: string, callerId: string, uniqueid: string): Promise<string[]> {
  const full = `${url}&auth=${agiToken(SECRET, uniqueid)}`;
  return new Promise((resolve) => {
    const cmds: string[] = [];
    const sock: Socket = connect(server.address().port, '127.0.0.1', () => {
      sock.write(`agi_network: yes\nagi_network_script: ${full}\nagi_channel: PJSIP/lab-caller-00000001\nagi_uniqueid: ${uniqueid}\nagi_callerid: ${callerId}\n\n`);
    });
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        cmds.push(line);
        sock.write(line.startsWith('STREAM FILE you-entered') ? `200 result=${'1'.charCodeAt(0)} endpos=100\n` : '200 result=0\n');
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => resolve(cmds));
  });
}
/** An Asterisk UNIQUEID for a channel created `agoMs` ago ("<epoch seconds>.<counter>"). */
const uniqueidAgo = (agoMs: number, n: number) => `${Math.floor((Date.now() - agoMs) / 1000)}.${n}`;
const positionSaid = (cmds: string[]) => /^SET VARIABLE CALLBACKD_POSITION "?(\d+)"?$/.exec(cmds.find((c) => c.startsWith('SET VARIABLE CALLBACKD_POSITION')) ?? '')?.[1];
const idOf = (cmds: string[]) => Number(/CALLBACKD_ID "?(\d+)"?/.exec(cmds.find((c) => c.startsWith('SET VARIABLE CALLBACKD_ID')) ?? '')?.[1]);

describe('request-callback keeps the caller\'s place in line', () => {
  it('the earlier arrival gets position 1 and is dialed first even if booked second; the dialplan\'s arrived= wins over the channel', async () => {
    // B arrived 60 s ago and books first: alone in line, position 1.
    const b = await caller('request-callback?campaign=C', '+15552220002', uniqueidAgo(60_000, 11));
    expect(b).toContain('SET VARIABLE CALLBACKD_STATUS BOOKED');
    expect(positionSaid(b)).toBe('1');
    expect(b.at(-1)).toBe('STREAM FILE auth-thankyou 0123456789*#'); // the dialplan says the position and goodbye
    // A arrived 5 minutes ago (before B) and books second: position 1; B is now 2.
    const uidA = uniqueidAgo(300_000, 7);
    const a = await caller('request-callback?campaign=C', '+15552220001', uidA);
    expect(positionSaid(a)).toBe('1');
    const [idA, idB] = [idOf(a), idOf(b)];
    expect(await positionInLine(db, (await getCallback(db, idB))!)).toBe(2);
    expect((await getCallback(db, idA))!.arrivedAt).toBe(Number(uidA.split('.')[0]) * 1000);
    // D's dialplan says it arrived 10 s ago (CALLBACKD_ARRIVED=${EPOCH}); its channel is older: the dialplan wins.
    const arrived = (Date.now() - 10_000) / 1000;
    const d = await caller(`request-callback?campaign=C&arrived=${arrived.toFixed(3)}`, '+15552220004', uniqueidAgo(600_000, 3));
    expect(positionSaid(d)).toBe('3');
    expect((await getCallback(db, idOf(d)))!.arrivedAt).toBe(Math.round(arrived * 1000));

    await promoteDue(db, Date.now() + 1000);
    expect((await liveReady(db, Date.now() + 1000, 10)).map((r) => r.id)).toEqual([idA, idB, idOf(d)]);
  });

  it('a caller who asks again keeps the place of their first request', async () => {
    const first = await caller('request-callback?campaign=C', '+15552220001', uniqueidAgo(300_000, 1));
    await caller('request-callback?campaign=C', '+15552220002', uniqueidAgo(120_000, 2));
    const again = await caller('request-callback?campaign=C', '+15552220001', uniqueidAgo(10_000, 3));
    const [was, now] = [(await getCallback(db, idOf(first)))!, (await getCallback(db, idOf(again)))!];
    expect(was.state).toBe('CANCELLED'); // replaced: one open callback per lead
    expect(now.arrivedAt).toBe(was.arrivedAt);
    expect(positionSaid(again)).toBe('1');
  });

  it('without a plausible arrival (a UNIQUEID from 2023, no arrived=) the booking instant is the arrival', async () => {
    const before = Date.now();
    const c = await caller('request-callback?campaign=C&arrived=garbage', '+15552220003', '1700000000.1');
    const row = (await getCallback(db, idOf(c)))!;
    expect(row.arrivedAt).toBeGreaterThanOrEqual(before);
    expect(row.arrivedAt).toBeLessThanOrEqual(Date.now());
  });
});

describe('the store orders ready callbacks as the domain rule does', () => {
  it('liveReady and positionInLine agree with compareInLine on a random mix', async () => {
    const now = Date.now();
    let seed = 42;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let i = 1; i <= 40; i++) {
      const dueAt = now - Math.floor(rnd() * 6) * 60_000;
      await insertCallback(db, {
        leadId: `l${i}`, campaignId: 'C', type: 'ANYONE', ownerAgentId: null, dueAt, dueZone: 'UTC', maxAttempts: 3, notes: null,
        arrivedAt: rnd() < 0.6 ? now - Math.floor(rnd() * 6) * 60_000 : null,
      }, now);
    }
    await promoteDue(db, now);
    // a few retried ones: their next attempt differs from their due time
    db.$client.prepare('UPDATE callbacks SET next_attempt_at = next_attempt_at + 120000 WHERE id % 7 = 0').run();
    const later = now + 300_000;
    const rows = await liveReady(db, later, 100);
    expect(rows).toHaveLength(40);
    const want = [...rows].sort(compareInLine).map((r) => r.id);
    expect(rows.map((r) => r.id)).toEqual(want);
    // each one's position is its rank in that order
    expect(await Promise.all(rows.map((r) => positionInLine(db, r)))).toEqual(rows.map((_, i) => i + 1));
    // the limit cuts the line in order, not by due time
    expect((await liveReady(db, later, 5)).map((r) => r.id)).toEqual(want.slice(0, 5));
  });
});
