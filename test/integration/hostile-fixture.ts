import type { FastifyInstance } from 'fastify';
import { afterAll, expect } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { callCenter, importedDb, NOW, testApi, tokensFor } from './fixture.js';

// The call center a hostile client attacks (test/integration/hostile-*.test.ts): two campaigns,
// agents, a token for each role, the API through fastify's inject.

export const FILE = callCenter({
  agents: [{ id: 'a3', name: 'A3', campaigns: ['C2'] }],
  phones: [{ endpoint: 'p3', agent: 'a3' }],
  users: [
    { id: 'viewer', role: 'manager', campaigns: ['C1'] },
    { id: 'a1', role: 'agent' },
    { id: 'a3', role: 'agent' },
  ],
});
export const USERS = FILE.users!.map((u) => u.id as string);
export { NOW };

export let db: Db;
export let dbPath: string;
let api: FastifyInstance | undefined;
let tok: Record<string, string> = {};

/** A new database and API for each property: one test's leftovers never excuse another's. */
export async function fresh(): Promise<void> {
  await api?.close();
  ({ db, dbPath } = await importedDb('hostile', FILE));
  tok = await tokensFor(db, FILE);
  api = await testApi(db, { bodyLimit: 256 * 1024 });
}
afterAll(async () => {
  await api?.close();
});

export async function call(who: string | null, method: string, url: string, payload?: unknown): Promise<{ status: number; body: string; ms: number }> {
  const t0 = performance.now();
  const r = await api!.inject({
    method: method as 'GET',
    url,
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload), headers: { 'content-type': 'application/json', ...(who ? { authorization: `Bearer ${tok[who]}` } : {}) } }),
    ...(payload === undefined && who ? { headers: { authorization: `Bearer ${tok[who]}` } } : {}),
  });
  return { status: r.statusCode, body: r.body, ms: performance.now() - t0 };
}

/** The answer's JSON (any: tests read fields freely). */
export const json = (r: { body: string }) => JSON.parse(r.body) as any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every callback row, for "nothing changed for anyone else". */
export const allCallbacks = () => db.$client.prepare('SELECT * FROM callbacks ORDER BY id').all();
export const allLeads = () => db.$client.prepare('SELECT * FROM leads ORDER BY id').all();

/** Every listing, for every role, still answers 200; /healthz stays fast. */
export async function everythingStillAnswers(): Promise<void> {
  const health = await call(null, 'GET', '/healthz');
  expect(health.status).toBe(200);
  expect(health.ms).toBeLessThan(250);
  for (const who of USERS) {
    for (const url of ['/callbacks?limit=500', '/callbacks/search?phone=%2B12125550101']) {
      const r = await call(who, 'GET', url);
      expect(r.status, `${who} GET ${url}: ${r.body.slice(0, 300)}`).toBe(200);
    }
  }
  expect((await call('a1', 'GET', '/me/callbacks')).status).toBe(200);
  for (const { id } of db.$client.prepare('SELECT id FROM callbacks').all() as { id: number }[]) {
    const r = await call('root', 'GET', `/callbacks/${id}`);
    expect(r.status, `GET /callbacks/${id}: ${r.body.slice(0, 300)}`).toBe(200);
  }
}

