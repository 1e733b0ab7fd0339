import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApi, type Api } from '../../src/api/server.js';
import { contextUrl } from '../../src/domain/ai-context.js';
import { importFile } from '../../src/import.js';
import { readAiContextSecret } from '../../src/ai-secret.js';
import { insertCallback } from '../../src/store/callbacks.js';
import { openDb, type Db } from '../../src/store/db.js';
import { aiLimitsOf, getAgent } from '../../src/store/directory.js';

// GET /ai/context/{id} (README "AI voice agents") on SQLite through the real fastify app: the
// signed URL is the only credential; valid → the context, tampered / expired / another callback →
// 403 with a bare body, a good URL for a callback that is gone → 404. And the import of kind: ai.

const NOW = Date.parse('2026-11-28T12:00:00Z');
const secret = Buffer.from('integration-secret-0123456789abcdef');
let dir: string;
let db: Db;
let api: Api;
let now = NOW;
let id: number;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cbd-ai-'));
  db = openDb(join(dir, 'db.sqlite'));
  const f = join(dir, 'cc.yaml');
  writeFileSync(
    f,
    `trunks: [{ id: t }]
campaigns: [{ id: C, name: Sales, time_zone: UTC }]
lists: [{ id: L, campaign: C }]
agents:
  - { id: bot, name: Voice Bot, kind: ai, max_calls: 5, campaigns: [C] }
  - { id: "1001", name: Alice, campaigns: [C] }
phones: [{ endpoint: ai-bot, agent: bot }]
leads:
  - { id: ann, list: L, first_name: Ann, last_name: Lee, phones: [{ number: "+15551230001", label: mobile }, { number: "+15551230002", label: work }] }
`,
  );
  await importFile(db, f, NOW);
  id = await insertCallback(db, { leadId: 'ann', campaignId: 'C', type: 'USERONLY', ownerAgentId: 'bot', dueAt: NOW, dueZone: 'UTC', maxAttempts: 3, notes: 'wants the premium plan', context: 'caller: my order 1234 never arrived' }, NOW);
  now = NOW;
  api = await buildApi({ db, log: pino({ level: 'silent' }), now: () => now, nudge: () => undefined, ready: () => ({ ari: true, ami: true, presence: true }), bodyLimit: 65536, aiContextSecret: secret });
});
afterEach(async () => {
  await api.close();
  db.$client.close();
});

const path = (u: string) => {
  const x = new URL(u);
  return x.pathname + x.search;
};
const get = (u: string) => api.inject({ method: 'GET', url: path(u) });
const exp = () => Math.floor(NOW / 1000) + 320;

describe('GET /ai/context/{id}', () => {
  it('a valid URL gives the callback, the lead with every number, the notes and the booking context; no token needed', async () => {
    const r = await get(contextUrl('http://cb', secret, id, exp()));
    expect(r.statusCode).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.json()).toEqual({
      callback: { id, campaign: 'C', campaignName: 'Sales', type: 'USERONLY', owner: 'bot', state: 'ACTIVE', dueAt: '2026-11-28T12:00:00.000Z', attempts: 0, maxAttempts: 3 },
      lead: {
        id: 'ann', firstName: 'Ann', lastName: 'Lee', phone: '+15551230001',
        phones: [{ position: 1, number: '+15551230001', label: 'mobile' }, { position: 2, number: '+15551230002', label: 'work' }],
      },
      notes: 'wants the premium plan',
      context: 'caller: my order 1234 never arrived',
    });
  });

  it('a tampered signature, a stretched expiry, a malformed query or no query: 403 with no details', async () => {
    const good = new URL(contextUrl('http://cb', secret, id, exp()));
    const sig = good.searchParams.get('sig')!;
    const bad = [
      `/ai/context/${id}?exp=${exp()}&sig=${(sig[0] === '0' ? '1' : '0') + sig.slice(1)}`,
      `/ai/context/${id}?exp=${exp() + 3600}&sig=${sig}`,
      `/ai/context/${id}?exp=abc&sig=${sig}`,
      `/ai/context/${id}?exp=${exp()}&sig=${sig}&sig=${sig}`,
      `/ai/context/${id}`,
      `/ai/context/0${id}?exp=${exp()}&sig=${sig}`,
    ];
    for (const u of bad) {
      const r = await api.inject({ method: 'GET', url: u });
      expect(r.statusCode, u).toBe(403);
      expect(r.json(), u).toEqual({ code: 'FORBIDDEN' });
    }
  });

  it('an expired URL: 403', async () => {
    const u = contextUrl('http://cb', secret, id, exp());
    now = (exp() - 1) * 1000;
    expect((await get(u)).statusCode).toBe(200);
    now = exp() * 1000;
    expect((await get(u)).statusCode).toBe(403);
  });

  it('a URL signed for another callback: 403; a good URL for a callback that does not exist: 404', async () => {
    const other = new URL(contextUrl('http://cb', secret, id + 1, exp()));
    expect((await api.inject({ method: 'GET', url: `/ai/context/${id}${other.search}` })).statusCode).toBe(403);
    const gone = await get(other.toString());
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toEqual({ code: 'NOT_FOUND' });
  });

  it('a URL signed with another secret: 403; without a configured secret the route answers 404', async () => {
    expect((await get(contextUrl('http://cb', Buffer.from('some-other-secret-0123456789'), id, exp()))).statusCode).toBe(403);
    const bare = await buildApi({ db, log: pino({ level: 'silent' }), now: () => now, nudge: () => undefined, ready: () => ({ ari: true, ami: true, presence: true }), bodyLimit: 65536 });
    const r = await bare.inject({ method: 'GET', url: path(contextUrl('http://cb', secret, id, exp())) });
    expect(r.statusCode).toBe(404);
    await bare.close();
  });
});

describe('AI agents in the directory', () => {
  it('kind: ai and max_calls are imported; a human stays human with one call', async () => {
    expect(await getAgent(db, 'bot')).toMatchObject({ kind: 'ai', maxCalls: 5 });
    expect(await getAgent(db, '1001')).toMatchObject({ kind: 'human', maxCalls: 1 });
    expect([...await aiLimitsOf(db, ['bot', '1001', 'nobody'])]).toEqual([['bot', { maxCalls: 5 }]]);
    expect((await aiLimitsOf(db, ['1001'])).size).toBe(0);
  });

  it('max_calls on a human agent is refused by the import, naming the field', async () => {
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, 'agents:\n  - { id: "1002", name: Bob, max_calls: 3 }\n');
    await expect(importFile(db, f, NOW)).rejects.toThrow(/max_calls is for kind: ai/);
  });
});

describe('the AI context secret', () => {
  it('comes from the env, else the file; too short or unreadable is an error naming where, never the value', () => {
    const f = join(dir, 'secret');
    writeFileSync(f, 'file-secret-0123456789abcdef\n');
    expect(readAiContextSecret(f, {})).toEqual({ secret: Buffer.from('file-secret-0123456789abcdef') });
    expect(readAiContextSecret(f, { CALLBACKD_AI_CONTEXT_SECRET: 'env-secret-0123456789abcdef' })).toEqual({ secret: Buffer.from('env-secret-0123456789abcdef') });
    expect(readAiContextSecret(null, {})).toEqual({ secret: null });
    const short = readAiContextSecret(null, { CALLBACKD_AI_CONTEXT_SECRET: 'tooshort' });
    expect(short).toEqual({ error: expect.stringMatching(/at least 16 characters/) });
    expect(JSON.stringify(short)).not.toContain('tooshort');
    expect(readAiContextSecret(join(dir, 'missing'), {})).toEqual({ error: expect.stringMatching(/cannot read ai.contextSecretFile .*ENOENT/) });
  });
});
