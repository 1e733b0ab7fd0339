import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agiToken, readAgiSecret } from '../../src/agi/auth.js';
import { agentCallback, callbackInfo, requestCallback } from '../../src/agi/routes.js';
import { AgiServer, type AgiServerOptions } from '../../src/agi/server.js';
import { bookCallback } from '../../src/app/book.js';
import { loadConfig } from '../../src/config.js';
import { claimForDial, promoteDue } from '../../src/store/callbacks.js';
import type { Db } from '../../src/store/db.js';
import { importedDb, ONE_TRUNK } from './fixture.js';

// The AGI server on a real socket, with the test playing Asterisk's side of res_agi.

const SECRET = 'test-secret-0123456789abcdef';
let db: Db;
let server: AgiServer;
const started: AgiServer[] = [];
const count = (sql: string) => (db.$client.prepare(sql).get() as { n: number }).n;

beforeEach(async () => {
  ({ db } = await importedDb('agi', {
    ...ONE_TRUNK,
    campaigns: [
      { id: 'C', name: 'C', time_zone: 'UTC', outbound_number: '+15550100001' },
      { id: 'OTHER', name: 'Other', time_zone: 'UTC', outbound_number: '+15550100001' },
    ],
    lists: [{ id: 'L', campaign: 'C' }, { id: 'L-OTHER', campaign: 'OTHER' }],
    agents: [
      { id: 'a1', name: 'A', campaigns: ['C'] },
      { id: 'a2', name: 'B', campaigns: ['C'] },
    ],
    phones: [
      { endpoint: 'agent1001', agent: 'a1' },
      { endpoint: 'agent1002', agent: 'a2', status: 'SUSPENDED' },
      { endpoint: 'agent1003', agent: 'a2', active_account: false },
    ],
    leads: [
      { id: 'l1', list: 'L', first_name: 'Ann', last_name: 'Swer', phone: '+15551230001' },
      { id: 'other', list: 'L-OTHER', first_name: 'Otto', phone: '+15551230077' },
    ],
  }, Date.now()));
  server = await startServer();
});
afterEach(async () => {
  for (const s of started.splice(0)) await s.close(0);
});

async function startServer(o: Partial<AgiServerOptions> = {}): Promise<AgiServer> {
  const s = new AgiServer({
    host: '127.0.0.1', port: 0, allow: ['127.0.0.1'], secret: () => ({ secret: SECRET }),
    headerTimeoutMs: 500, idleTimeoutMs: 300, commandTimeoutMs: 1500, maxConnections: 10, maxConnectionsPerAddress: 10,
    log: pino({ level: 'silent' }), ...o,
  });
  const deps = { db, now: Date.now, nudge: () => undefined };
  s.route('callback-info', callbackInfo(deps)).route('request-callback', requestCallback(deps)).route('agent-callback', agentCallback(deps));
  await s.listen();
  started.push(s);
  return s;
}

interface Caller {
  callerId?: string;
  uniqueid?: string;
  channel?: string;
  /** The auth= value; default: the right token for `uniqueid`. null = none. */
  auth?: string | null;
}

/** Plays Asterisk: sends the header, answers every command with `reply`, records the commands. */
function asterisk(port: number, script: string, reply: (cmd: string) => string, c: Caller = {}): Promise<string[]> {
  const uniqueid = c.uniqueid ?? '1700000000.1';
  const auth = c.auth === undefined ? agiToken(SECRET, uniqueid) : c.auth;
  const url = auth === null ? script : `${script}${script.includes('?') ? '&' : '?'}auth=${auth}`;
  return new Promise((resolve) => {
    const cmds: string[] = [];
    const sock: Socket = connect(port, '127.0.0.1', () => {
      sock.write(`agi_network: yes\nagi_network_script: ${url}\nagi_channel: ${c.channel ?? 'PJSIP/agent1001-00000001'}\nagi_uniqueid: ${uniqueid}\nagi_callerid: ${c.callerId ?? 'unknown'}\n\n`);
    });
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        cmds.push(line);
        sock.write(reply(line));
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => resolve(cmds));
  });
}
const ok = () => '200 result=1\n';

/** A callback callbackd is dialing now: booked, due, claimed, with its attempt's channel ids. */
async function placed(leadId = 'l1', notes?: string) {
  const { callback } = await bookCallback(db, { leadId, due: 'now', actor: 't', ...(notes ? { notes } : {}) }, Date.now());
  await promoteDue(db, Date.now() + 1000);
  const attempt = (await claimForDial(db, {
    callbackId: callback.id, owner: 't', token: `tok-${callback.id}`, leaseMs: 60000, now: Date.now(), dialOrder: 'AGENT_FIRST',
    agentId: 'a1', phoneEndpoint: 'agent1001', callerId: '+15550100001', customerNumber: '+15551230001', trunkId: 'carrier',
    ids: (seq) => ({ agentChannelId: `cbd-${callback.id}-${seq}-agent`, customerChannelId: `cbd-${callback.id}-${seq}-cust`, bridgeId: `cbd-${callback.id}-${seq}-b` }),
  }))!;
  return { callback, attempt };
}

describe('FastAGI server: callback-info', () => {
  it('sets the variables on a channel callbackd placed; a newline, NUL or lone surrogate in a name or notes cannot end the command', async () => {
    db.$client.prepare("UPDATE leads SET first_name = ?, last_name = ? WHERE id = 'l1'").run('Ann\nSET VARIABLE X 1', 'Sw\u0000er\uD800');
    const { callback, attempt } = await placed('l1', 'asked about\r\npricing "twice"\u0000\uDC00 C:\\x');
    const cmds = await asterisk(server.address().port, 'callback-info', ok, { uniqueid: attempt.agentChannelId });
    // (SQLite stores a lone surrogate as three bytes that read back as three U+FFFD.)
    expect(cmds).toEqual([
      `SET VARIABLE CB_ID ${callback.id}`,
      expect.stringMatching(/^SET VARIABLE CB_LEAD_NAME "Ann SET VARIABLE X 1 Sw er\uFFFD+"$/),
      'SET VARIABLE CB_LEAD_PHONE +15551230001',
      expect.stringMatching(/^SET VARIABLE CB_NOTES "asked about pricing \\"twice\\" \uFFFD+ C:\\\\x"$/),
      'SET VARIABLE CB_ATTEMPT 0',
      'SET VARIABLE CALLBACKD_STATUS OK',
    ]);
    // The customer leg is callbackd's too, and ?id of the same callback is accepted.
    const cust = await asterisk(server.address().port, `callback-info?id=${callback.id}`, ok, { uniqueid: attempt.customerChannelId });
    expect(cust[0]).toBe(`SET VARIABLE CB_ID ${callback.id}`);
  });

  it('any other channel, or an ?id of another callback, gets NOT_FOUND and nothing else', async () => {
    const { attempt } = await placed('l1', 'private');
    const { callback: other } = await bookCallback(db, { leadId: 'other', due: '+1h', notes: 'secret notes', actor: 't' }, Date.now());
    const notMine = await asterisk(server.address().port, `callback-info?id=${other.id}`, ok, { uniqueid: '1700000000.99' });
    expect(notMine).toEqual(['SET VARIABLE CALLBACKD_STATUS NOT_FOUND']);
    const wrongId = await asterisk(server.address().port, `callback-info?id=${other.id}`, ok, { uniqueid: attempt.agentChannelId });
    expect(wrongId).toEqual(['SET VARIABLE CALLBACKD_STATUS NOT_FOUND']);
  });
});

describe('FastAGI server: authentication and the allow-list', () => {
  it('without the right auth= the connection is closed without a word and nothing is booked', async () => {
    const { attempt } = await placed();
    const port = server.address().port;
    const press1 = (c: string) => (c.startsWith('STREAM FILE you-entered') ? `200 result=${'1'.charCodeAt(0)}\n` : '200 result=0\n');
    const tries: Caller[] = [
      { auth: null },
      { auth: 'deadbeef' },
      { auth: agiToken('another-secret-0123456789', '1700000000.1') },
      { auth: agiToken(SECRET, 'some-other-channel') }, // a token made for another channel
      { auth: agiToken(SECRET, attempt.agentChannelId), uniqueid: '1700000000.1' },
    ];
    for (const t of tries) {
      expect(await asterisk(port, 'request-callback?campaign=C', press1, { callerId: '+15551230050', ...t })).toEqual([]);
      expect(await asterisk(port, 'callback-info', ok, { ...t, uniqueid: t.uniqueid ?? attempt.agentChannelId, auth: t.auth === undefined ? null : t.auth })).toEqual([]);
    }
    expect(count('SELECT count(*) n FROM leads')).toBe(2);
    expect(count('SELECT count(*) n FROM callbacks')).toBe(1);
    // The same request with the right token books.
    expect(await asterisk(port, 'request-callback?campaign=C', press1, { callerId: '+15551230050' })).toContain('SET VARIABLE CALLBACKD_STATUS BOOKED');
  });

  it('with no secret configured every request is refused; the secret file is read per request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cbd-agi-secret-'));
    const file = join(dir, 'callbackd-agi-secret.conf');
    const open = await startServer({ secret: () => readAgiSecret(file) });
    const { attempt } = await placed();
    expect(await asterisk(open.address().port, 'callback-info', ok, { uniqueid: attempt.agentChannelId })).toEqual([]);
    writeFileSync(file, `; written by the admin\nCALLBACKD_AGI_SECRET=${SECRET}\n`, { mode: 0o600 });
    expect((await asterisk(open.address().port, 'callback-info', ok, { uniqueid: attempt.agentChannelId }))[0]).toMatch(/^SET VARIABLE CB_ID /);
    writeFileSync(file, 'CALLBACKD_AGI_SECRET=short\n');
    expect(readAgiSecret(file)).toEqual({ error: expect.stringMatching(/16-256 letters/) });
    expect(await asterisk(open.address().port, 'callback-info', ok, { uniqueid: attempt.agentChannelId })).toEqual([]);
  });

  it('the allow-list closes other addresses before reading anything; the default allows loopback only', async () => {
    const strict = await startServer({ allow: ['10.9.9.9'] });
    const { attempt } = await placed();
    expect(await asterisk(strict.address().port, 'callback-info', ok, { uniqueid: attempt.agentChannelId })).toEqual([]);
    const config = loadConfig(undefined, { CALLBACKD_ARI_PASSWORD: 'x', CALLBACKD_AMI_SECRET: 'y' });
    expect(config.agi).toMatchObject({ host: '127.0.0.1', allow: ['127.0.0.1', '::1'], secretFile: null });
  });

  it('a port already in use is a configuration error naming agi.port', async () => {
    const clash = new AgiServer({
      host: '127.0.0.1', port: server.address().port, allow: ['127.0.0.1'], secret: () => ({ secret: SECRET }),
      headerTimeoutMs: 500, idleTimeoutMs: 300, commandTimeoutMs: 500, maxConnections: 1, maxConnectionsPerAddress: 1, log: pino({ level: 'silent' }),
    });
    await expect(clash.listen()).rejects.toThrow(/agi: cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\); check agi\.host and agi\.port/);
  });
});

describe('FastAGI server: sessions, timeouts and limits', () => {
  it('a hangup mid-route ends the session quietly; an unknown route is logged and closed', async () => {
    const { attempt } = await placed();
    let n = 0;
    const cmds = await asterisk(server.address().port, 'callback-info', () => (++n === 2 ? 'HANGUP\n200 result=-1\n' : ok()), { uniqueid: attempt.agentChannelId });
    expect(cmds).toHaveLength(2); // nothing sent after the hangup
    const unknown = await asterisk(server.address().port, 'no-such-route', ok);
    expect(unknown).toEqual(['VERBOSE "callbackd: no route no-such-route" 1']);
  });

  it('a reply that does not come is waited for agi.idleTimeoutMs after SET VARIABLE, agi.commandTimeoutMs after a prompt', async () => {
    const port = server.address().port;
    let t0 = Date.now();
    expect(await asterisk(port, 'callback-info?id=1', () => '', { uniqueid: 'nobody' })).toEqual(['SET VARIABLE CALLBACKD_STATUS NOT_FOUND']);
    const idle = Date.now() - t0;
    expect(idle).toBeGreaterThanOrEqual(280);
    expect(idle).toBeLessThan(1200);
    t0 = Date.now();
    expect(await asterisk(port, 'request-callback?campaign=C', () => '', { callerId: 'anonymous' })).toEqual(['GET DATA vm-enter-num-to-call 10000 15']);
    const prompt = Date.now() - t0;
    expect(prompt).toBeGreaterThanOrEqual(1450);
    expect(prompt).toBeLessThan(3500);
  });

  it('a flood of silent clients from the same address cannot keep a real channel out; authenticated sessions are never evicted', async () => {
    const small = await startServer({ maxConnections: 6, maxConnectionsPerAddress: 4, headerTimeoutMs: 3000 });
    const port = small.address().port;
    const silent: Socket[] = [];
    const openSilent = () =>
      new Promise<void>((resolve) => {
        const s = connect(port, '127.0.0.1', () => resolve());
        s.on('error', () => undefined);
        silent.push(s);
      });
    for (let i = 0; i < 12; i++) await openSilent();
    await new Promise((r) => setTimeout(r, 50));
    expect(small.connections().total).toBeLessThanOrEqual(4); // the per-address limit, oldest evicted first
    const { callback, attempt } = await placed();
    const t0 = Date.now();
    const cmds = await asterisk(port, 'callback-info', ok, { uniqueid: attempt.agentChannelId });
    expect(cmds[0]).toBe(`SET VARIABLE CB_ID ${callback.id}`);
    expect(Date.now() - t0).toBeLessThan(1000); // served at once, not after the flood's 3 s header deadline

    // Four authenticated sessions waiting on a prompt fill the address: a fifth is refused, they stay.
    const holders = [1, 2, 3, 4].map(() => asterisk(port, 'request-callback?campaign=C', () => '', { callerId: 'anonymous' }));
    // Under a loaded test run the four may take a moment to authenticate: poll, do not guess.
    for (let i = 0; i < 60 && small.connections().authenticated < 4; i++) await new Promise((r) => setTimeout(r, 50));
    expect(small.connections()).toEqual({ total: 4, authenticated: 4 });
    expect(await asterisk(port, 'callback-info', ok, { uniqueid: attempt.agentChannelId })).toEqual([]);
    expect(small.connections().authenticated).toBe(4);
    await Promise.all(holders);
    silent.forEach((s) => s.destroy());
  });

  it('fuzz: random bytes, half-open and slow clients are closed, and the server still serves a real session afterwards', async () => {
    const fc = (await import('fast-check')).default;
    const port = server.address().port;
    await fc.assert(
      // Mostly clients that send and go away (closed at once); one in ten keeps the socket open
      // and is closed at the 500 ms header deadline.
      fc.asyncProperty(fc.uint8Array({ maxLength: 20_000 }), fc.integer({ min: 0, max: 9 }).map((n) => n > 0), async (bytes, endIt) => {
        await new Promise<void>((resolve) => {
          const s = connect(port, '127.0.0.1', () => {
            s.write(bytes);
            if (endIt) s.end();
          });
          s.on('error', () => undefined);
          s.on('data', () => undefined);
          s.on('close', () => resolve());
        });
      }),
      { numRuns: 300 },
    );
    const { callback, attempt } = await placed();
    const cmds = await asterisk(port, 'callback-info', ok, { uniqueid: attempt.agentChannelId });
    expect(cmds[0]).toBe(`SET VARIABLE CB_ID ${callback.id}`);
    expect(db.$client.pragma('integrity_check', { simple: true })).toBe('ok');
  }, 120_000);
});

describe('FastAGI routes: request-callback', () => {
  const press1 = (c: string) => (c.startsWith('STREAM FILE you-entered') ? `200 result=${'1'.charCodeAt(0)} endpos=100\n` : '200 result=0\n');

  it('a caller without a usable number who types garbage hears "invalid"; nothing is booked', async () => {
    const cmds = await asterisk(server.address().port, 'request-callback?campaign=C', (c) => (c.startsWith('GET DATA') ? '200 result=12\n' : '200 result=0\n'), { callerId: 'anonymous' });
    expect(cmds).toEqual([
      'GET DATA vm-enter-num-to-call 10000 15',
      'SET VARIABLE CALLBACKD_STATUS NO_NUMBER',
      'STREAM FILE invalid 0123456789*#',
      'STREAM FILE goodbye 0123456789*#',
    ]);
    expect(count('SELECT count(*) n FROM callbacks')).toBe(0);
  });

  it('confirmed with 1 during the prompts, booked ANYONE; callers are served first come, first served', async () => {
    const a = await asterisk(server.address().port, 'request-callback?campaign=C', press1, { callerId: '+15551230088' });
    const b = await asterisk(server.address().port, 'request-callback?campaign=C', press1, { callerId: '(555) 123-0078' });
    expect(a.slice(0, 2)).toEqual(['STREAM FILE you-entered 0123456789*#', 'SET VARIABLE CALLBACKD_STATUS BOOKED']);
    expect(b).toContain('SET VARIABLE CALLBACKD_STATUS BOOKED');
    const rows = db.$client.prepare('SELECT c.id, c.type, l.phone_e164 p FROM callbacks c JOIN leads l ON l.id = c.lead_id ORDER BY c.due_at, c.id').all();
    expect(rows).toEqual([
      { id: 1, type: 'ANYONE', p: '+15551230088' },
      { id: 2, type: 'ANYONE', p: '+15551230078' },
    ]);
  });

  it('a list of another campaign is refused before the caller is asked anything; minutes must be a number within max_days_ahead', async () => {
    const port = server.address().port;
    expect(await asterisk(port, 'request-callback?campaign=C&list=L-OTHER', press1, { callerId: '+15551230050' })).toEqual([
      'SET VARIABLE CALLBACKD_STATUS ERROR',
      'SET VARIABLE CALLBACKD_DETAIL "list L-OTHER is not a list of campaign C"',
      'STREAM FILE please-try-call-later 0123456789*#',
      'STREAM FILE goodbye 0123456789*#',
    ]);
    expect(await asterisk(port, 'request-callback?campaign=C&minutes=1e12', press1, { callerId: '+15551230050' })).toContain('SET VARIABLE CALLBACKD_STATUS ERROR');
    // A number of minutes beyond the campaign's max_days_ahead (365 days) is refused like any booking.
    const far = await asterisk(port, 'request-callback?campaign=C&minutes=999999', press1, { callerId: '+15551230050' });
    expect(far).toContain('SET VARIABLE CALLBACKD_STATUS REFUSED');
    expect(far.find((c) => c.startsWith('SET VARIABLE CALLBACKD_DETAIL'))).toMatch(/more than 365 day\(s\) ahead/);
    expect(count('SELECT count(*) n FROM callbacks')).toBe(0);
    expect(count('SELECT count(*) n FROM leads')).toBe(2); // the refused booking left no lead behind
  });

  it("a number that is a lead of another campaign gets a new lead in this campaign's list; the other lead is not moved", async () => {
    // Twice: the second caller's usual lead id (agi-<number>) is then taken by the first booking's lead.
    expect(await asterisk(server.address().port, 'request-callback?campaign=OTHER', press1, { callerId: '+15551230066' })).toContain('SET VARIABLE CALLBACKD_STATUS BOOKED');
    const before = db.$client.prepare('SELECT * FROM leads ORDER BY id').all();
    const otherCallbacks = db.$client.prepare("SELECT id, state, lead_id FROM callbacks WHERE campaign_id = 'OTHER'").all();
    for (const number of ['+15551230077', '+15551230066']) {
      expect(await asterisk(server.address().port, 'request-callback?campaign=C', press1, { callerId: number })).toContain('SET VARIABLE CALLBACKD_STATUS BOOKED');
    }
    const after = db.$client.prepare('SELECT * FROM leads ORDER BY id').all();
    expect(after.filter((l) => before.some((b) => JSON.stringify(b) === JSON.stringify(l)))).toEqual(before); // every old lead unchanged
    const added = db.$client.prepare("SELECT l.list_id, l.phone_e164 FROM leads l JOIN callbacks c ON c.lead_id = l.id WHERE c.campaign_id = 'C' ORDER BY c.id").all();
    expect(added).toEqual([
      { list_id: 'L', phone_e164: '+15551230077' },
      { list_id: 'L', phone_e164: '+15551230066' },
    ]);
    expect(db.$client.prepare("SELECT id, state, lead_id FROM callbacks WHERE campaign_id = 'OTHER'").all()).toEqual(otherCallbacks);
  });
});

describe('FastAGI routes: agent-callback', () => {
  /** Agent a1 spoke to lead l1: an attempt whose customer answered. */
  async function spokeTo(): Promise<void> {
    const { callback, attempt } = await placed();
    db.$client.prepare("UPDATE call_attempts SET customer_answered_at = ?, ended_at = ?, outcome = 'ANSWERED' WHERE id = ?").run(Date.now(), Date.now(), attempt.id);
    db.$client.prepare("UPDATE callbacks SET state = 'COMPLETED', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL WHERE id = ?").run(callback.id);
  }
  const booked = () => db.$client.prepare("SELECT owner_agent_id o, type, lead_id FROM callbacks WHERE created_by IN ('a1', 'a2')").all();

  it('the agent is the owner of the calling phone (agi_channel); ?endpoint= is ignored', async () => {
    await spokeTo();
    // Agent a2's phone claims to be agent1001 in the URL: still a2's (suspended) phone.
    const spoof = await asterisk(server.address().port, 'agent-callback?endpoint=agent1001&minutes=30', ok, { channel: 'PJSIP/agent1002-0000000a' });
    expect(spoof).toContain('SET VARIABLE CALLBACKD_STATUS REFUSED');
    expect(booked()).toEqual([]);
    const real = await asterisk(server.address().port, 'agent-callback?minutes=30', ok, { channel: 'PJSIP/agent1001-0000000b' });
    expect(real, real.join('\n')).toContain('SET VARIABLE CALLBACKD_STATUS BOOKED');
    expect(booked()).toEqual([{ o: 'a1', type: 'USERONLY', lead_id: 'l1' }]);
  });

  it('a SUSPENDED phone, a phone with Active Account off and a channel of no agent are refused with the reason', async () => {
    await spokeTo();
    const detail = async (channel: string) =>
      (await asterisk(server.address().port, 'agent-callback?minutes=30', ok, { channel })).find((c) => c.startsWith('SET VARIABLE CALLBACKD_DETAIL'));
    expect(await detail('PJSIP/agent1002-0000000c')).toBe('SET VARIABLE CALLBACKD_DETAIL "phone agent1002 has status SUSPENDED"');
    expect(await detail('PJSIP/agent1003-0000000d')).toBe('SET VARIABLE CALLBACKD_DETAIL "phone agent1003 has Active Account off"');
    expect(await detail('Local/x@y-00000001;2')).toBe('SET VARIABLE CALLBACKD_DETAIL "phone (not a PJSIP channel) belongs to no agent"');
    expect(booked()).toEqual([]);
  });
});
