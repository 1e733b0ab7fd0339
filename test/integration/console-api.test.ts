import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { buildApi } from '../../src/api/server.js';
import { defaultConsoleDir } from '../../src/api/console-static.js';
import { createToken } from '../../src/app/auth.js';
import { setPassword } from '../../src/app/people.js';
import { applyImport, parseImport } from '../../src/import.js';
import { openDb, type Db } from '../../src/store/db.js';

// People's sign-in (cookie + CSRF) and the console's files, through fastify's inject.

const FILE = {
  trunks: [{ id: 'carrier' }],
  numbers: [{ number: '+15550100001', trunk: 'carrier' }],
  campaigns: [{ id: 'C1', name: 'One', time_zone: 'America/New_York', outbound_number: '+15550100001' }],
  lists: [{ id: 'L1', campaign: 'C1' }],
  agents: [{ id: 'a1', name: 'A1', campaigns: ['C1'] }, { id: 'a3', name: 'A3', campaigns: ['C1'] }, { id: 'boss', name: 'Boss', campaigns: ['C1'] }],
  phones: [{ endpoint: 'p1', agent: 'a1' }, { endpoint: 'p3', agent: 'a3', status: 'SUSPENDED' }, { endpoint: 'pb', agent: 'boss', status: 'ADMIN' }],
  leads: [{ id: 'n1', list: 'L1', phone: '+12125550101' }],
  users: [{ id: 'mgr', role: 'manager', campaigns: ['C1'], lead_modify: true }, { id: 'a1', role: 'agent' }, { id: 'a3', role: 'agent' }, { id: 'boss', role: 'agent' }],
};
const NOW = Date.parse('2026-11-23T15:00:00Z');
const PW = 'correct horse battery';
let db: Db;
let api: FastifyInstance;
let now = NOW;
const logs: Record<string, unknown>[] = [];

beforeEach(async () => {
  db = openDb(join(mkdtempSync(join(tmpdir(), 'cbd-console-')), 'db.sqlite'));
  await applyImport(db, parseImport(YAML.stringify(FILE), 'fixture'), NOW);
  for (const u of FILE.users) await setPassword(db, u.id, PW, NOW);
  now = NOW;
  logs.length = 0;
  const log = pino({ level: 'info' }, { write: (s: string) => logs.push(JSON.parse(s) as Record<string, unknown>) });
  api = await buildApi({ db, log, now: () => now, nudge: () => {}, ready: () => ({ ari: true, ami: true, presence: true }), bodyLimit: 128 * 1024 });
});
afterEach(async () => {
  await api.close();
});

async function signIn(user: string, password = PW, ip = '10.0.0.1') {
  const r = await api.inject({ method: 'POST', url: '/sign-in', payload: { user, password }, remoteAddress: ip });
  const set = r.headers['set-cookie'];
  const cookie = (Array.isArray(set) ? set[0] : set) ?? '';
  return { status: r.statusCode, body: JSON.parse(r.body), cookie, value: cookie.split(';')[0]!, headers: r.headers };
}

describe('sign-in', () => {
  it('sets an HttpOnly SameSite=Strict cookie with an expiry; the cookie then acts as the user', async () => {
    const s = await signIn('mgr');
    expect(s.status).toBe(200);
    expect(s.body).toMatchObject({ user: 'mgr', role: 'manager', campaigns: ['C1'], leadModify: true });
    expect(s.cookie).toMatch(/^cbd_session=[\w-]{40,};/);
    expect(s.cookie).toMatch(/HttpOnly/);
    expect(s.cookie).toMatch(/SameSite=Strict/);
    expect(s.cookie).toMatch(/Expires=Tue, 24 Nov 2026 03:00:00 GMT/); // 12 h
    const me = await api.inject({ method: 'GET', url: '/session', headers: { cookie: s.value } });
    expect(JSON.parse(me.body)).toMatchObject({ user: 'mgr', csrf: s.body.csrf });
    const list = await api.inject({ method: 'GET', url: '/callbacks', headers: { cookie: s.value } });
    expect(list.statusCode).toBe(200);
    // The token is stored hashed: the cookie's value is nowhere in the database.
    const rows = db.$client.prepare('SELECT token_hash FROM console_sessions').all() as { token_hash: string }[];
    expect(rows.map((r) => r.token_hash)).not.toContain(s.value.split('=')[1]);
  });

  it('refuses a wrong password (logged without it) and an unknown user alike', async () => {
    const bad = await signIn('mgr', 'wrong password 1');
    expect(bad.status).toBe(401);
    expect(bad.body.message).toBe('wrong user or password');
    expect(bad.cookie).toBe('');
    expect((await signIn('nobody', 'whatever')).body.message).toBe('wrong user or password');
    const line = logs.find((l) => l.msg === 'console sign-in refused: wrong user or password' && l.user === 'mgr');
    expect(line).toMatchObject({ user: 'mgr', ip: '10.0.0.1' });
    expect(JSON.stringify(logs)).not.toContain('wrong password 1');
  });

  it('rate-limits wrong passwords per user and address', async () => {
    for (let i = 0; i < 5; i++) expect((await signIn('mgr', `nope${i}`)).status).toBe(401);
    const limited = await signIn('mgr'); // even the right password waits
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await signIn('mgr', PW, '10.0.0.2')).status).toBe(200); // another address is not blocked
    now += 15 * 60_000 + 1;
    expect((await signIn('mgr')).status).toBe(200);
  });

  it('applies the API roles: a suspended agent cannot sign in, an ADMIN phone grants admin', async () => {
    const a3 = await signIn('a3');
    expect(a3.status).toBe(403);
    expect(a3.body.message).toMatch(/agent access refused/);
    expect((await signIn('boss')).body.role).toBe('admin');
    expect((await signIn('a1')).body).toMatchObject({ role: 'agent', agentId: 'a1' });
  });

  it('ends the session at sign-out and at expiry', async () => {
    const s = await signIn('mgr');
    const out = await api.inject({ method: 'POST', url: '/sign-out', headers: { cookie: s.value, 'x-csrf-token': s.body.csrf } });
    expect(out.statusCode).toBe(200);
    expect(out.headers['set-cookie']).toMatch(/cbd_session=;/);
    expect((await api.inject({ method: 'GET', url: '/callbacks', headers: { cookie: s.value } })).statusCode).toBe(401);
    const t = await signIn('mgr');
    now += 12 * 3600_000 + 1;
    const late = await api.inject({ method: 'GET', url: '/callbacks', headers: { cookie: t.value } });
    expect(late.statusCode).toBe(401);
    expect(JSON.parse(late.body).message).toMatch(/session has ended/);
  });

  it('a new password ends open sessions', async () => {
    const s = await signIn('mgr');
    await setPassword(db, 'mgr', 'another long one', now);
    expect((await api.inject({ method: 'GET', url: '/callbacks', headers: { cookie: s.value } })).statusCode).toBe(401);
  });
});

describe('CSRF', () => {
  it('refuses a change made with the cookie but without the token; accepts it with the token; bearer needs none', async () => {
    const s = await signIn('mgr');
    const body = { lead: 'n1', due: '+1h' };
    const without = await api.inject({ method: 'POST', url: '/callbacks', payload: body, headers: { cookie: s.value } });
    expect(without.statusCode).toBe(403);
    expect(JSON.parse(without.body).message).toMatch(/CSRF/);
    const wrong = await api.inject({ method: 'POST', url: '/callbacks', payload: body, headers: { cookie: s.value, 'x-csrf-token': 'x'.repeat(32) } });
    expect(wrong.statusCode).toBe(403);
    expect((db.$client.prepare('SELECT count(*) n FROM callbacks').get() as { n: number }).n).toBe(0);
    const withToken = await api.inject({ method: 'POST', url: '/callbacks', payload: body, headers: { cookie: s.value, 'x-csrf-token': s.body.csrf } });
    expect(withToken.statusCode).toBe(201);
    const token = (await createToken(db, 'mgr', 't', NOW)).token;
    const bearer = await api.inject({ method: 'POST', url: '/callbacks', payload: { ...body, due: '+2h' }, headers: { authorization: `Bearer ${token}` } });
    expect(bearer.statusCode).toBe(201);
  });
});

describe('the console files', () => {
  it.runIf(defaultConsoleDir() !== null || process.env.CI === 'true')('serves index.html no-cache with a CSP, hashed assets immutable and compressed, pages for unknown HTML paths', async () => {
    const index = await api.inject({ method: 'GET', url: '/', headers: { accept: 'text/html' } });
    expect(index.statusCode).toBe(200);
    expect(index.headers['cache-control']).toBe('no-cache');
    const csp = String(index.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(index.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(index.body)![1]!;
    const js = await api.inject({ method: 'GET', url: asset, headers: { 'accept-encoding': 'br, gzip' } });
    expect(js.statusCode).toBe(200);
    expect(js.headers['cache-control']).toMatch(/max-age=31536000.*immutable/);
    expect(js.headers['content-encoding']).toBe('br');
    const page = await api.inject({ method: 'GET', url: '/console/callbacks/12', headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toBe(index.body);
    const json404 = await api.inject({ method: 'GET', url: '/nothing/here', headers: { accept: 'application/json' } });
    expect(json404.statusCode).toBe(404);
    expect(JSON.parse(json404.body).code).toBe('NOT_FOUND');
    expect((await api.inject({ method: 'GET', url: '/callbacks' })).statusCode).toBe(401); // the API is unchanged
  });
});
