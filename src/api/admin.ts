import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { forbid } from '../app/auth.js';
import { toE164 } from '../domain/phone-number.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import { applyImport, ImportSchema } from '../import.js';
import { writeAudit } from '../store/audit.js';
import { addDnc, getCampaign } from '../store/directory.js';
import { deleteEntry, getEntry, listDnc, listEntries, removeDnc, SECTIONS, type Section } from '../store/directory-admin.js';
import type { ApiDeps } from './deps.js';

// Admin CRUD for the directory. A PUT goes through the import file's own schema and checks, one
// entry at a time, so the API and `callbackd import` accept exactly the same things.

/** The field of an import-file entry that holds its id. */
const ID_FIELD: Record<Section, string> = { trunks: 'id', numbers: 'number', campaigns: 'id', lists: 'id', agents: 'id', phones: 'endpoint', leads: 'id', users: 'id' };
const Entity = z.enum(SECTIONS);
const Err = z.object({ code: z.string(), message: z.string(), details: z.unknown() });
const errors = { 400: Err, 401: Err, 403: Err, 404: Err, 409: Err };

export function adminRoutes(d: ApiDeps) {
  return async (root: FastifyInstance) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const { db } = d;
    // onRequest: the role is checked before the body is parsed or validated (no hints for a non-admin).
    app.addHook('onRequest', async (req) => {
      if (req.principal.role !== 'admin') forbid('admin only');
    });
    const one = (entity: Section, id: string) => {
      const row = getEntry(db, entity, id);
      if (!row) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no ${entity.slice(0, -1)} "${id}"`);
      return row;
    };

    app.get('/admin/:entity', { schema: { operationId: 'listEntries', tags: ['admin'], summary: 'List campaigns, lists, leads, agents, phones, trunks, numbers or users (admin)', params: z.object({ entity: Entity }), querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict(), response: { 200: z.object({ items: z.array(z.record(z.unknown())) }), ...errors } } }, async (req) => ({
      items: listEntries(db, req.params.entity, req.query.limit),
    }));

    app.get('/admin/:entity/:id', { schema: { operationId: 'getEntry', tags: ['admin'], summary: 'One directory entry (admin)', params: z.object({ entity: Entity, id: z.string().min(1).max(64) }), response: { 200: z.record(z.unknown()), ...errors } } }, async (req) => one(req.params.entity, req.params.id));

    app.put(
      '/admin/:entity/:id',
      {
        schema: {
          operationId: 'putEntry', tags: ['admin'],
          summary: 'Create or replace one entry; the body is an import-file entry of that section (README "Import file"); id comes from the URL',
          params: z.object({ entity: Entity, id: z.string().min(1).max(64) }),
          body: z.record(z.unknown()),
          response: { 200: z.record(z.unknown()), ...errors },
        },
      },
      async (req) => {
        const { entity, id } = req.params;
        const entry = { ...req.body, [ID_FIELD[entity]]: id };
        const parsed = ImportSchema.safeParse({ [entity]: [entry] });
        if (!parsed.success) {
          throw new CallbackdError(ErrorCodes.INPUT_INVALID, parsed.error.issues.map((i) => `${i.path.slice(2).join('.') || entity}: ${i.message}`).join('; '), parsed.error.issues);
        }
        db.transaction((tx) => {
          const before = getEntry(tx, entity, id) ?? null;
          applyImport(tx, parsed.data, d.now());
          writeAudit(tx, { at: d.now(), actor: req.principal.userId, action: `admin-put ${entity}`, before, after: { ...entry } });
        });
        d.nudge();
        return one(entity, id);
      },
    );

    app.delete('/admin/:entity/:id', { schema: { operationId: 'deleteEntry', tags: ['admin'], summary: 'Delete one entry; refused (409) while something still uses it', params: z.object({ entity: Entity, id: z.string().min(1).max(64) }), response: { 200: z.object({ deleted: z.string() }), ...errors } } }, async (req) => {
      const { entity, id } = req.params;
      const before = one(entity, id);
      db.transaction((tx) => {
        deleteEntry(tx, entity, id);
        writeAudit(tx, { at: d.now(), actor: req.principal.userId, action: `admin-delete ${entity}`, before });
      });
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
    app.get('/admin/dnc', { schema: { operationId: 'listDnc', tags: ['admin'], summary: 'DNC entries (admin)', response: { 200: z.object({ items: z.array(z.record(z.unknown())) }), ...errors } } }, async () => ({ items: listDnc(db) }));
    app.post('/admin/dnc', { schema: { operationId: 'addDnc', tags: ['admin'], summary: 'Add a number to the global (campaign "") or a campaign DNC list', body: Dnc, response: { 200: z.record(z.unknown()), ...errors } } }, async (req) => {
      const k = dncKey(req.body);
      if (k.campaignId && !getCampaign(db, k.campaignId)) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no campaign "${k.campaignId}"`);
      db.transaction((tx) => {
        addDnc(tx, { ...k, createdAt: d.now() });
        writeAudit(tx, { at: d.now(), actor: req.principal.userId, action: 'admin-dnc-add', after: k });
      });
      d.nudge();
      return k;
    });
    app.post('/admin/dnc/remove', { schema: { operationId: 'removeDnc', tags: ['admin'], summary: 'Remove a number from a DNC list', body: Dnc, response: { 200: z.object({ removed: z.boolean() }), ...errors } } }, async (req) => {
      const k = dncKey(req.body);
      const removed = db.transaction((tx) => {
        const gone = removeDnc(tx, k);
        writeAudit(tx, { at: d.now(), actor: req.principal.userId, action: 'admin-dnc-remove', before: k });
        return gone;
      });
      return { removed };
    });
  };
}

