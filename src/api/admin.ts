import { and, eq, type Column } from 'drizzle-orm';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { forbid } from '../app/auth.js';
import { toE164 } from '../domain/phone-number.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import { applyImport, ImportSchema } from '../import.js';
import * as schema from '../store/schema.js';
import type { ApiDeps } from './server.js';

// Admin CRUD for the directory. A PUT goes through the import file's own schema and checks, one
// entry at a time, so the API and `callbackd import` accept exactly the same things.

type Section = 'trunks' | 'numbers' | 'campaigns' | 'lists' | 'agents' | 'phones' | 'leads' | 'users';
const ENTITIES: Record<Section, { table: SQLiteTable; key: Column; field: string }> = {
  trunks: { table: schema.trunks, key: schema.trunks.id, field: 'id' },
  numbers: { table: schema.numbers, key: schema.numbers.e164, field: 'number' },
  campaigns: { table: schema.campaigns, key: schema.campaigns.id, field: 'id' },
  lists: { table: schema.lists, key: schema.lists.id, field: 'id' },
  agents: { table: schema.agents, key: schema.agents.id, field: 'id' },
  phones: { table: schema.phones, key: schema.phones.endpoint, field: 'endpoint' },
  leads: { table: schema.leads, key: schema.leads.id, field: 'id' },
  users: { table: schema.users, key: schema.users.id, field: 'id' },
};
const Entity = z.enum(Object.keys(ENTITIES) as [Section, ...Section[]]);
const Err = z.object({ code: z.string(), message: z.string(), details: z.unknown() });
const errors = { 400: Err, 401: Err, 403: Err, 404: Err, 409: Err };

export function adminRoutes(d: ApiDeps) {
  return async (root: FastifyInstance) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const { db } = d;
    app.addHook('preHandler', async (req) => {
      if (req.principal.role !== 'admin') forbid('admin only');
    });
    const one = (entity: Section, id: string) => {
      const e = ENTITIES[entity];
      const row = db.select().from(e.table).where(eq(e.key, id)).get();
      if (!row) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no ${entity.slice(0, -1)} "${id}"`);
      return row as Record<string, unknown>;
    };

    app.get('/admin/:entity', { schema: { summary: 'List campaigns, lists, leads, agents, phones, trunks, numbers or users (admin)', params: z.object({ entity: Entity }), querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict(), response: { 200: z.object({ items: z.array(z.record(z.unknown())) }), ...errors } } }, async (req) => ({
      items: db.select().from(ENTITIES[req.params.entity].table).limit(req.query.limit).all() as Record<string, unknown>[],
    }));

    app.get('/admin/:entity/:id', { schema: { summary: 'One directory entry (admin)', params: z.object({ entity: Entity, id: z.string().min(1).max(64) }), response: { 200: z.record(z.unknown()), ...errors } } }, async (req) => one(req.params.entity, req.params.id));

    app.put(
      '/admin/:entity/:id',
      {
        schema: {
          summary: 'Create or replace one entry; the body is an import-file entry of that section (README "Import file"); id comes from the URL',
          params: z.object({ entity: Entity, id: z.string().min(1).max(64) }),
          body: z.record(z.unknown()),
          response: { 200: z.record(z.unknown()), ...errors },
        },
      },
      async (req) => {
        const { entity, id } = req.params;
        const entry = { ...req.body, [ENTITIES[entity].field]: id };
        const parsed = ImportSchema.safeParse({ [entity]: [entry] });
        if (!parsed.success) {
          throw new CallbackdError(ErrorCodes.INPUT_INVALID, parsed.error.issues.map((i) => `${i.path.slice(2).join('.') || entity}: ${i.message}`).join('; '), parsed.error.issues);
        }
        const before = db.select().from(ENTITIES[entity].table).where(eq(ENTITIES[entity].key, id)).get() ?? null;
        applyImport(db, parsed.data, d.now());
        db.insert(schema.audit).values({ at: d.now(), actor: req.principal.userId, action: `admin-put ${entity}`, callbackId: null, before, after: { ...entry }, reason: null }).run();
        d.nudge();
        return one(entity, id);
      },
    );

    app.delete('/admin/:entity/:id', { schema: { summary: 'Delete one entry; refused (409) while something still uses it', params: z.object({ entity: Entity, id: z.string().min(1).max(64) }), response: { 200: z.object({ deleted: z.string() }), ...errors } } }, async (req) => {
      const { entity, id } = req.params;
      const before = one(entity, id);
      try {
        db.transaction((tx) => {
          if (entity === 'agents') tx.delete(schema.agentCampaigns).where(eq(schema.agentCampaigns.agentId, id)).run();
          tx.delete(ENTITIES[entity].table).where(eq(ENTITIES[entity].key, id)).run();
        });
      } catch (err) {
        if (/FOREIGN KEY/.test((err as Error).message)) throw new CallbackdError(ErrorCodes.CONFLICT, `${entity.slice(0, -1)} "${id}" is still used (by callbacks, leads, phones or numbers); remove those first`);
        throw err;
      }
      db.insert(schema.audit).values({ at: d.now(), actor: req.principal.userId, action: `admin-delete ${entity}`, callbackId: null, before, after: null, reason: null }).run();
      d.nudge();
      return { deleted: id };
    });

    // DNC entries are keyed by number and campaign ('' = global).
    const Dnc = z.object({ number: z.string().min(1).max(40), campaign: z.string().max(64).default(''), region: z.string().length(2).default('US') }).strict();
    const dncKey = (b: z.infer<typeof Dnc>) => {
      const n = toE164(b.number, b.region);
      if (!n.ok) throw new CallbackdError(ErrorCodes.INPUT_INVALID, `number: ${n.error}`);
      return { phoneE164: n.e164, campaignId: b.campaign };
    };
    app.get('/admin/dnc', { schema: { summary: 'DNC entries (admin)', response: { 200: z.object({ items: z.array(z.record(z.unknown())) }), ...errors } } }, async () => ({ items: db.select().from(schema.dnc).all() }));
    app.post('/admin/dnc', { schema: { summary: 'Add a number to the global (campaign "") or a campaign DNC list', body: Dnc, response: { 200: z.record(z.unknown()), ...errors } } }, async (req) => {
      const k = dncKey(req.body);
      if (k.campaignId && !db.select().from(schema.campaigns).where(eq(schema.campaigns.id, k.campaignId)).get()) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no campaign "${k.campaignId}"`);
      db.insert(schema.dnc).values({ ...k, createdAt: d.now() }).onConflictDoNothing().run();
      db.insert(schema.audit).values({ at: d.now(), actor: req.principal.userId, action: 'admin-dnc-add', callbackId: null, before: null, after: k, reason: null }).run();
      d.nudge();
      return k;
    });
    app.post('/admin/dnc/remove', { schema: { summary: 'Remove a number from a DNC list', body: Dnc, response: { 200: z.object({ removed: z.boolean() }), ...errors } } }, async (req) => {
      const k = dncKey(req.body);
      const n = db.delete(schema.dnc).where(and(eq(schema.dnc.phoneE164, k.phoneE164), eq(schema.dnc.campaignId, k.campaignId))).run().changes;
      db.insert(schema.audit).values({ at: d.now(), actor: req.principal.userId, action: 'admin-dnc-remove', callbackId: null, before: k, after: null, reason: null }).run();
      return { removed: n === 1 };
    });
  };
}

