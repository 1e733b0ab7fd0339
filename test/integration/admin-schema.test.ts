import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callCenter, importedDb, testApi, tokensFor } from './fixture.js';

// GET /admin/schema/{entity}: the import file's own zod schema of one entry as JSON Schema, which the
// console draws its admin forms from, so an option added to the schema reaches the form by itself.

const FILE = callCenter({ users: [{ id: 'a1', role: 'agent' }] });
let api: FastifyInstance;
let tok: Record<string, string>;
beforeAll(async () => {
  const { db } = await importedDb('admin-schema', FILE);
  tok = await tokensFor(db, FILE);
  api = await testApi(db);
});
afterAll(async () => {
  await api.close();
});
const get = async (who: string, url: string) => {
  const r = await api.inject({ method: 'GET', url, headers: { authorization: `Bearer ${tok[who]}` } });
  return { status: r.statusCode, body: r.json() as { idField: string; schema: { properties: Record<string, Record<string, unknown>>; required: string[] } } };
};

describe('GET /admin/schema/{entity}', () => {
  it('a campaign: enums, bounds, defaults, nested retry delays, help; id is the id field', async () => {
    const { status, body } = await get('root', '/admin/schema/campaigns');
    expect(status).toBe(200);
    expect(body.idField).toBe('id');
    const p = body.schema.properties;
    expect(p.whisper).toMatchObject({ type: 'string', enum: ['off', 'name', 'digits'], default: 'off', description: expect.stringContaining('agent') });
    expect(p.accept_timeout_seconds).toMatchObject({ type: 'integer', minimum: 2, maximum: 60, default: 8 });
    expect(p.alt_dial).toMatchObject({ enum: ['off', 'on'], default: 'off' }); // on/off read through its preprocess
    expect(p.retry_delays!.properties).toMatchObject({ busy: { type: 'integer', default: 300 } });
    expect(body.schema.required).toEqual(expect.arrayContaining(['id', 'name', 'time_zone']));
  });

  it("an agent entry carries the AI agent's kind and max_calls (options added elsewhere, no console code)", async () => {
    const { body } = await get('root', '/admin/schema/agents');
    expect(body.schema.properties.kind).toMatchObject({ enum: ['human', 'ai'], default: 'human' });
    expect(body.schema.properties.max_calls).toMatchObject({ type: 'integer', minimum: 1 });
  });

  it('numbers are keyed by number; a non-admin gets 403', async () => {
    expect((await get('root', '/admin/schema/numbers')).body.idField).toBe('number');
    expect((await get('a1', '/admin/schema/campaigns')).status).toBe(403);
  });
});
