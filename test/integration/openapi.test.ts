import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/server.js';
import { EventHub } from '../../src/events/hub.js';
import { openDb } from '../../src/store/db.js';

// The OpenAPI document as GET /openapi.json serves it (every route, /events included): each
// operation named, servers and license set, the operational routes described, `redocly lint` clean;
// the docs UI at /docs served from the package without a token.

const repo = resolve(import.meta.dirname, '../..');
let api: FastifyInstance;
let hub: EventHub;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let doc: any;
type Op = { operationId?: string; tags?: string[]; security?: unknown[]; responses: Record<string, unknown> };
const operations = (): [string, Op][] =>
  Object.entries(doc.paths as Record<string, Record<string, Op>>).flatMap(([path, ms]) => Object.entries(ms).map(([m, op]) => [`${m.toUpperCase()} ${path}`, op] as [string, Op]));

beforeAll(async () => {
  const db = openDb(join(mkdtempSync(join(tmpdir(), 'cbd-openapi-')), 'db.sqlite'));
  hub = await EventHub.open({ db, log: pino({ level: 'silent' }), pollMs: 1000 });
  api = await buildApi({
    db, log: pino({ level: 'silent' }), now: Date.now, nudge: () => undefined, bodyLimit: 65536,
    ready: () => ({ ari: false, ami: true, presence: false }), events: { hub, heartbeatMs: 1000 },
  });
  doc = (await api.inject({ method: 'GET', url: '/openapi.json' })).json();
});
afterAll(async () => {
  hub.stop();
  await api.close();
});

describe('OpenAPI document', () => {
  it('names every operation once, with servers and a license', () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThan(20);
    const missing = ops.filter(([, op]) => !op.operationId).map(([k]) => k);
    expect(missing).toEqual([]);
    const ids = ops.map(([, op]) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(doc.info.license).toMatchObject({ name: 'MIT' });
    expect(ops.map(([k]) => k)).toEqual(expect.arrayContaining(['GET /events', 'POST /callbacks', 'PUT /admin/{entity}/{id}']));
  });

  it('describes /healthz, /readyz, /metrics and /openapi.json as public, and every other route its 4xx', () => {
    const byKey = Object.fromEntries(operations());
    expect(byKey['GET /healthz']).toMatchObject({ operationId: 'getHealth', security: [] });
    expect(byKey['GET /readyz']).toMatchObject({ operationId: 'getReadiness', security: [], responses: { 200: expect.anything(), 503: expect.anything() } });
    expect(byKey['GET /metrics']).toMatchObject({ operationId: 'getMetrics', security: [], responses: { 200: { content: { 'text/plain': expect.anything() } } } });
    expect(byKey['GET /openapi.json']).toMatchObject({ operationId: 'getOpenApi', security: [] });
    expect(byKey['GET /events']!.responses).toMatchObject({ 200: { content: { 'text/event-stream': expect.anything() } }, 401: { content: { 'application/json': expect.anything() } } });
    // redocly.yaml turns operation-4xx-response off only for the input-less operational routes.
    const without4xx = operations().filter(([, op]) => !op.tags?.includes('operations') && !Object.keys(op.responses).some((c) => c.startsWith('4'))).map(([k]) => k);
    expect(without4xx).toEqual([]);
  });

  it('passes `redocly lint` with no error or warning', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cbd-openapi-')), 'openapi.json');
    writeFileSync(file, JSON.stringify(doc));
    const r = spawnSync(join(repo, 'node_modules/.bin/redocly'), ['lint', '--config', join(repo, 'redocly.yaml'), '--format', 'summary', file], { encoding: 'utf8' });
    const out = r.stdout + r.stderr;
    expect(out, out).toMatch(/Your API description is valid/);
    expect(out, out).not.toMatch(/^(warning|error) |You have \d+ (warning|error)/m);
    expect(r.status).toBe(0);
  });

  it('serves the docs UI at /docs without a token', async () => {
    const page = await api.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/swagger-ui/i);
    const init = await api.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(init.statusCode).toBe(200);
    expect(init.body).toContain('/openapi.json');
    const bundle = await api.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
    expect(bundle.statusCode).toBe(200);
    expect(bundle.body.length).toBeGreaterThan(100_000);
  });
});
