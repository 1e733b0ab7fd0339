import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions } from 'fastify';
import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import YAML from 'yaml';
import { buildApi, type Api } from '../../src/api/server.js';
import { createToken } from '../../src/app/auth.js';
import { applyImport, parseImport } from '../../src/import.js';
import { openDb } from '../../src/store/db.js';

// Another process holds the database's write lock (BEGIN IMMEDIATE in the sqlite3 shell, a backup):
// reads, /healthz and authentication do not wait; a write answers 503 with Retry-After at once
// and changes nothing; last_used_at is written in the background once the lock is gone (issue 12).

let api: Api | undefined;
afterEach(async () => {
  await api?.close();
});

it('while another process holds the write lock: /healthz and reads answer at once, a booking is a 503 with Retry-After, and all is written once it is released', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'cbd-lock-')), 'db.sqlite');
  const setup = openDb(path);
  await applyImport(setup, parseImport(YAML.stringify({
    trunks: [{ id: 't' }], numbers: [{ number: '+15550100001', trunk: 't' }],
    campaigns: [{ id: 'C', name: 'C', time_zone: 'UTC', outbound_number: '+15550100001' }], lists: [{ id: 'L', campaign: 'C' }],
    leads: [{ id: 'l1', list: 'L', phone: '+12125550101' }], users: [{ id: 'root', role: 'admin' }],
  }), 'f'), Date.now());
  const token = (await createToken(setup, 'root', null, Date.now())).token;
  setup.$client.close();
  // As in the daemon: the API's own connection with a short lock wait.
  const db = openDb(path, { migrate: false, busyTimeoutMs: 250 });
  api = await buildApi({ db, log: pino({ level: 'silent' }), now: Date.now, nudge: () => undefined, ready: () => ({ ari: true, ami: true, presence: true }), bodyLimit: 65536 });
  const auth = { authorization: `Bearer ${token}` };
  const timed = async (o: InjectOptions) => {
    const t0 = performance.now();
    const r = await api!.inject(o);
    return { r, ms: performance.now() - t0 };
  };

  const other = new Database(path);
  other.exec('BEGIN IMMEDIATE');
  try {
    const health = await timed({ method: 'GET', url: '/healthz' });
    expect(health.r.statusCode).toBe(200);
    expect(health.ms).toBeLessThan(100);
    for (let i = 0; i < 3; i++) {
      const list = await timed({ method: 'GET', url: '/callbacks', headers: auth });
      expect(list.r.statusCode).toBe(200);
      expect(list.ms).toBeLessThan(150); // authentication no longer writes last_used_at on the request's path
    }
    const booked = await timed({ method: 'POST', url: '/callbacks', headers: auth, payload: { lead: 'l1', due: '+1h' } });
    expect(booked.r.statusCode).toBe(503);
    expect(booked.r.headers['retry-after']).toBe('1');
    expect(booked.r.json()).toMatchObject({ code: 'DB_BUSY' });
    expect(booked.ms).toBeLessThan(1000);
    expect(other.prepare('SELECT count(*) n FROM callbacks').get()).toEqual({ n: 0 });
    expect(other.prepare('SELECT count(*) n FROM leads').get()).toEqual({ n: 1 });
  } finally {
    other.exec('ROLLBACK');
  }
  const again = await api.inject({ method: 'POST', url: '/callbacks', headers: auth, payload: { lead: 'l1', due: '+1h' } });
  expect(again.statusCode).toBe(201);
  // The uses while locked reach last_used_at once the background writer gets the lock.
  await new Promise((r) => setTimeout(r, 1500));
  expect((other.prepare('SELECT last_used_at FROM api_tokens').get() as { last_used_at: number | null }).last_used_at).toBeGreaterThan(0);
  other.close();
}, 20_000);
