import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { buildApi } from '../../src/api/server.js';
import { createToken } from '../../src/app/auth.js';
import { DEFAULTS } from '../../src/config.js';
import { startEvents, type EventsService } from '../../src/events/service.js';
import { applyImport, parseImport } from '../../src/import.js';
import * as store from '../../src/store/callbacks.js';
import { openDb, type Db } from '../../src/store/db.js';
import { listEmails } from '../../src/store/emails.js';
import { getCursor } from '../../src/store/events.js';
import { freePort, parseMessage, smtpSinkMissing, startSmtpSink, type SmtpSink } from '../lab/smtp-sink.js';

// Email when a USERONLY callback goes LIVE, through a real SMTP server (Postfix's smtp-sink).

const missing = smtpSinkMissing();
const inCi = process.env.CI === 'true';
if (missing && !inCi) console.warn(`\n*** email tests SKIPPED: ${missing}\n*** (with CI=true this is a failure)\n`);

const FILE = {
  trunks: [{ id: 'carrier' }],
  numbers: [{ number: '+15550100001', trunk: 'carrier' }],
  campaigns: [
    { id: 'MAIL', name: 'Mailing', time_zone: 'America/New_York', outbound_number: '+15550100001', email_when_live: true },
    { id: 'QUIET', name: 'Quiet', time_zone: 'America/New_York', outbound_number: '+15550100001' },
  ],
  lists: [{ id: 'LM', campaign: 'MAIL' }, { id: 'LQ', campaign: 'QUIET' }],
  agents: [
    { id: 'paris', name: 'Camille', campaigns: ['MAIL', 'QUIET'], time_zone: 'Europe/Paris', email: 'camille@example.test' },
    { id: 'noaddr', name: 'No Address', campaigns: ['MAIL'] },
    { id: 'nyc', name: 'Sam', campaigns: ['MAIL'], email: 'sam@example.test' },
  ],
  phones: [{ endpoint: 'p1', agent: 'paris' }, { endpoint: 'p2', agent: 'noaddr' }, { endpoint: 'p3', agent: 'nyc' }],
  leads: [
    { id: 'm1', list: 'LM', first_name: 'Ann', last_name: 'Lee', phone: '+12125550101' },
    { id: 'm2', list: 'LM', phone: '+12125550102' },
    { id: 'm3', list: 'LM', phone: '+12125550103' },
    { id: 'm4', list: 'LM', phone: '+12125550104' },
    { id: 'q1', list: 'LQ', phone: '+12125550105' },
  ],
  users: [{ id: 'root', role: 'admin' }],
};
const DUE = Date.parse('2026-11-23T15:00:00Z'); // 10:00 in New York, 16:00 in Paris

let db: Db;
let svc: EventsService | null = null;
let sink: SmtpSink | null = null;

beforeEach(async () => {
  db = openDb(join(mkdtempSync(join(tmpdir(), 'cbd-email-')), 'db.sqlite'));
  await applyImport(db, parseImport(YAML.stringify(FILE), 'fixture'), DUE - 86_400_000);
});
afterEach(async () => {
  await svc?.stop();
  svc = null;
  await sink?.stop();
  sink = null;
  db.$client.close();
});

const start = async (port: number, over: Record<string, unknown> = {}) => {
  svc = await startEvents({
    db, log: pino({ level: 'silent' }), config: { pollMs: 20, heartbeatMs: 1000, retentionDays: 7 },
    webhooks: { ...DEFAULTS.webhooks },
    smtp: { ...DEFAULTS.smtp, enabled: true, port, from: 'callbackd <callbackd@example.test>', retryBaseMs: 100, retryMaxMs: 300, maxAttempts: 3, timeoutMs: 2000, consoleUrl: 'https://cc.example.test/console/', ...over },
  });
  return svc;
};
const add = (lead: string, campaign: string, type: 'USERONLY' | 'ANYONE', owner: string | null) =>
  Number(
    db.$client
      .prepare('INSERT INTO callbacks (lead_id, campaign_id, type, owner_agent_id, due_at, due_zone, max_attempts, notes, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 3, ?, ?, ?, ?)')
      .run(lead, campaign, type, owner, DUE, 'America/New_York', 'asked for a morning call', 'test', DUE - 3_600_000, DUE - 3_600_000).lastInsertRowid,
  );
async function until(pred: () => boolean | Promise<boolean>, what: string, ms = 5000) {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const settle = () => new Promise((r) => setTimeout(r, 300));
/** The email consumer starts at the newest event: wait until it has placed its cursor. */
const consumerReady = () => until(async () => await getCursor(db, 'email') !== undefined, 'the email consumer');

describe.skipIf(missing !== null && !inCi)('callback email over real SMTP (smtp-sink)', () => {
  it('the owner of a USERONLY callback of an email_when_live campaign gets exactly one email, with the due time in their zone', async () => {
    if (missing) throw new Error(missing);
    sink = await startSmtpSink();
    await start(sink.port);
    await consumerReady();
    const mailed = add('m1', 'MAIL', 'USERONLY', 'paris');
    const noAddress = add('m2', 'MAIL', 'USERONLY', 'noaddr');
    const anyone = add('m3', 'MAIL', 'ANYONE', null);
    const optionOff = add('q1', 'QUIET', 'USERONLY', 'paris');
    expect(await store.promoteDue(db, DUE)).toBe(4);
    await until(async () => (await listEmails(db, { limit: 1 }))[0]?.state === 'SENT', 'one email sent'); // the server has the whole message
    // A retry puts it back to LIVE (DIALING → LIVE): not mailed again.
    const a = (await store.claimForDial(db, {
      callbackId: mailed, owner: 't', token: 'tk', leaseMs: 60_000, now: DUE + 1000, dialOrder: 'AGENT_FIRST', agentId: 'paris', phoneEndpoint: 'p1',
      callerId: '+15550100001', customerNumber: '+12125550101', trunkId: 'carrier', ids: (s) => ({ agentChannelId: `a${s}`, customerChannelId: `c${s}`, bridgeId: `b${s}` }),
    }))!;
    await store.finishAttempt(db, mailed, 'tk', a.id, { outcome: 'AGENT_NO_ANSWER', cause: 19, sipCode: 480, endedAt: DUE + 5000, detail: null }, { state: 'LIVE', nextAttemptAt: DUE + 60_000, waitReason: 'agent' }, DUE + 5000);
    await settle();

    const msgs = sink.messages();
    expect(msgs).toHaveLength(1);
    const m = parseMessage(msgs[0]!);
    expect(m.header('X-Rcpt-Args')).toBe('<camille@example.test>');
    expect(m.header('From')).toBe('callbackd <callbackd@example.test>');
    expect(m.header('Subject')).toBe('Callback due: Ann Lee +12125550101');
    expect(m.header('X-Callbackd-Callback')).toBe(String(mailed));
    expect(m.body).toContain('Hello Camille,');
    expect(m.body).toContain('Promised for: Monday 23 November 2026, 16:00 (Europe/Paris, UTC+01:00)');
    expect(m.body).toContain('Open it: https://cc.example.test/console/callbacks/' + mailed);
    expect(m.body).toContain('Notes: asked for a morning call');
    expect((await listEmails(db, { limit: 10 })).map((e) => [e.callbackId, e.state, e.attempts])).toEqual([[mailed, 'SENT', 1]]);
    for (const id of [noAddress, anyone, optionOff]) expect(await listEmails(db, { callbackId: id, limit: 10 })).toEqual([]);
  });

  it('an agent without a zone reads the campaign\'s', async () => {
    if (missing) throw new Error(missing);
    sink = await startSmtpSink();
    await start(sink.port);
    await consumerReady();
    add('m4', 'MAIL', 'USERONLY', 'nyc');
    await store.promoteDue(db, DUE);
    await until(async () => (await listEmails(db, { limit: 1 }))[0]?.state === 'SENT', 'one email sent');
    expect(sink.messages()).toHaveLength(1);
    expect(parseMessage(sink.messages()[0]!).body).toContain('Promised for: Monday 23 November 2026, 10:00 (America/New_York, UTC-05:00)');
  });

  it('SMTP down: the failure is retried and visible in the API; a restart of the daemon does not send it twice', async () => {
    if (missing) throw new Error(missing);
    const port = await freePort(); // nothing listens yet
    await start(port);
    await consumerReady();
    const id = add('m1', 'MAIL', 'USERONLY', 'paris');
    await store.promoteDue(db, DUE);
    await until(async () => ((await listEmails(db, { limit: 1 }))[0]?.attempts ?? 0) >= 1, 'a failed try');
    const api = await buildApi({ db, log: pino({ level: 'silent' }), now: Date.now, nudge: () => svc?.wake(), bodyLimit: 65536, ready: () => ({ ari: true, ami: true, presence: true }) });
    const token = (await createToken(db, 'root', 't', Date.now())).token;
    const res = await api.inject({ method: 'GET', url: `/emails?callback=${id}`, headers: { authorization: `Bearer ${token}` } });
    const items = JSON.parse(res.body).items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ state: 'PENDING', toAddress: 'camille@example.test' });
    expect(items[0].lastError).toMatch(/ECONNREFUSED|connect/i);
    await api.close();

    // The SMTP server comes up; the daemon restarts meanwhile (its email consumer resumes from its cursor).
    await svc!.stop();
    sink = await startSmtpSink(port);
    await start(port);
    await until(async () => (await listEmails(db, { limit: 1 }))[0]?.state === 'SENT', 'sent after the retry', 8000);
    await settle();
    expect(sink.messages()).toHaveLength(1);
    expect(await listEmails(db, { limit: 10 })).toHaveLength(1);
  });

  it('a server that keeps refusing: given up after maxAttempts (DEAD), with its reply as the error', async () => {
    if (missing) throw new Error(missing);
    sink = await startSmtpSink(undefined, ['-f', 'rcpt']); // 5xx to every RCPT TO
    await start(sink.port);
    await consumerReady();
    add('m1', 'MAIL', 'USERONLY', 'paris');
    await store.promoteDue(db, DUE);
    await until(async () => (await listEmails(db, { limit: 1 }))[0]?.state === 'DEAD', 'given up', 8000);
    const [e] = await listEmails(db, { limit: 1 });
    expect(e!.attempts).toBe(3);
    expect(e!.lastError).toMatch(/5\d\d/);
  });
});
