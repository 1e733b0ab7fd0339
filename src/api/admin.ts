import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { forbid } from '../app/auth.js';
import { toE164 } from '../domain/phone-number.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import { applyImport, ImportSchema } from '../import.js';
import { writeAudit } from '../store/audit.js';
import { addDnc, getCampaign } from '../store/directory.js';
import { importEntry } from '../store/directory-entry.js';
import { deleteEntry, getEntry, listDnc, listEntries, removeDnc, SECTIONS, type Section } from '../store/directory-admin.js';
import type { ApiDeps } from './deps.js';
import { transaction } from '../store/engine.js';

// zod-to-json-schema's CommonJS build, the one fastify-type-provider-zod loads anyway: importing the ESM build
// put a second copy in the daemon's heap (0.7 MiB; README "Memory after 200 calls, session 6").
const { zodToJsonSchema } = createRequire(import.meta.url)('zod-to-json-schema') as typeof import('zod-to-json-schema');

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
    const one = async (entity: Section, id: string) => {
      const row = await getEntry(db, entity, id);
      if (!row) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no ${entity.slice(0, -1)} "${id}"`);
      return row;
    };

    app.get('/admin/:entity', { schema: { operationId: 'listEntries', tags: ['admin'], summary: 'List campaigns, lists, leads, agents, phones, trunks, numbers or users (admin)', params: z.object({ entity: Entity }), querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict(), response: { 200: z.object({ items: z.array(z.record(z.unknown())) }), ...errors } } }, async (req) => ({
      items: await listEntries(db, req.params.entity, req.query.limit),
    }));

    // The console's per-option forms are drawn from this (the import file's own zod schema as JSON
    // Schema: types, enums, min/max, defaults, descriptions), so a new option shows up without console code.
    app.get('/admin/schema/:entity', { schema: { operationId: 'entrySchema', tags: ['admin'], summary: 'The JSON Schema of one entry of a section, as a PUT body takes it (idField comes from the URL)', params: z.object({ entity: Entity }), response: { 200: z.object({ idField: z.string(), schema: z.record(z.unknown()) }), ...errors } } }, async (req) => ({
      idField: ID_FIELD[req.params.entity],
      schema: entrySchema(req.params.entity),
    }));

    app.get('/admin/:entity/:id', { schema: { operationId: 'getEntry', tags: ['admin'], summary: 'One directory entry (admin)', params: z.object({ entity: Entity, id: z.string().min(1).max(64) }), response: { 200: z.record(z.unknown()), ...errors } } }, async (req) => await one(req.params.entity, req.params.id));

    // The entry as the import file writes it (the PUT body): the console's Edit starts from this, so a
    // save keeps what the listing does not show (an agent's campaigns, a number's trunks, a lead's numbers).
    app.get('/admin/:entity/:id/entry', { schema: { operationId: 'getImportEntry', tags: ['admin'], summary: 'One directory entry as an import-file entry: the PUT body that leaves it unchanged (admin)', params: z.object({ entity: Entity, id: z.string().min(1).max(64) }), response: { 200: z.record(z.unknown()), ...errors } } }, async (req) => {
      const { entity, id } = req.params;
      const entry = await importEntry(db, entity, id);
      if (!entry) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no ${entity.slice(0, -1)} "${id}"`);
      return entry;
    });

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
        await transaction(db, async (tx) => {
          const before = await getEntry(tx, entity, id) ?? null;
          await applyImport(tx, parsed.data, d.now());
          await writeAudit(tx, { at: d.now(), actor: req.principal.userId, action: `admin-put ${entity}`, before, after: { ...entry } });
        });
        d.nudge();
        return await one(entity, id);
      },
    );

    app.delete('/admin/:entity/:id', { schema: { operationId: 'deleteEntry', tags: ['admin'], summary: 'Delete one entry; refused (409) while something still uses it', params: z.object({ entity: Entity, id: z.string().min(1).max(64) }), response: { 200: z.object({ deleted: z.string() }), ...errors } } }, async (req) => {
      const { entity, id } = req.params;
      const before = await one(entity, id);
      await transaction(db, async (tx) => {
        await deleteEntry(tx, entity, id);
        await writeAudit(tx, { at: d.now(), actor: req.principal.userId, action: `admin-delete ${entity}`, before });
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
    app.get('/admin/dnc', { schema: { operationId: 'listDnc', tags: ['admin'], summary: 'DNC entries (admin)', response: { 200: z.object({ items: z.array(z.record(z.unknown())) }), ...errors } } }, async () => ({ items: await listDnc(db) }));
    app.post('/admin/dnc', { schema: { operationId: 'addDnc', tags: ['admin'], summary: 'Add a number to the global (campaign "") or a campaign DNC list', body: Dnc, response: { 200: z.record(z.unknown()), ...errors } } }, async (req) => {
      const k = dncKey(req.body);
      if (k.campaignId && !await getCampaign(db, k.campaignId)) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no campaign "${k.campaignId}"`);
      await transaction(db, async (tx) => {
        await addDnc(tx, { ...k, createdAt: d.now() });
        await writeAudit(tx, { at: d.now(), actor: req.principal.userId, action: 'admin-dnc-add', after: k });
      });
      d.nudge();
      return k;
    });
    app.post('/admin/dnc/remove', { schema: { operationId: 'removeDnc', tags: ['admin'], summary: 'Remove a number from a DNC list', body: Dnc, response: { 200: z.object({ removed: z.boolean() }), ...errors } } }, async (req) => {
      const k = dncKey(req.body);
      const removed = await transaction(db, async (tx) => {
        const gone = await removeDnc(tx, k);
        await writeAudit(tx, { at: d.now(), actor: req.principal.userId, action: 'admin-dnc-remove', before: k });
        return gone;
      });
      return { removed };
    });
  };
}


/**
 * Help for the options (README "Callback rules" and the campaign sections), as the console shows it
 * under each input. Options without a line here still get their type, bounds and default.
 */
const HELP: Partial<Record<Section, Record<string, string>>> = {
  campaigns: {
    name: 'shown to managers and agents',
    time_zone: 'IANA zone of the campaign (a lead without its own zone is called in this one)',
    outbound_number: 'caller id presented to the customer (E.164)',
    dial_order: 'who is rung first: the agent, or the customer',
    max_attempts: 'customer attempts before a callback fails',
    retry_delays: 'seconds before the next attempt per outcome; doubled per retry, capped at max',
    agent_ring_seconds: 'how long the agent\'s phone rings',
    customer_ring_seconds: 'how long the customer\'s phone rings',
    scheduled_callbacks: 'off: the campaign takes no callbacks',
    my_callback_default: 'the type when a booking names an owner but no type',
    days_limit: 'no callback further ahead than N days (0: unlimited)',
    max_days_ahead: 'the hard horizon for every booking, edit and hook',
    hours_block: 'a USERONLY callback is hidden from its owner for N hours after it is set',
    active_limit: 'max open USERONLY callbacks per agent (0: unlimited)',
    calltime_check: 'a booking outside calling hours: refuse, move to the next opening, or keep (off)',
    calling_windows: 'per weekday in the lead\'s zone, e.g. {"mon-fri": "09:00-20:00"}; none = any time',
    holidays: 'local dates with no calling, e.g. ["2026-12-25"]',
    lead_daily_cap: 'customer legs per lead in any 24 h (0: none)',
    auto_reschedule: 'an ANYONE callback out of attempts on busy / no answer comes back next day or week',
    useronly_move_minutes: 'a LIVE USERONLY callback whose owner could not be rung for N minutes becomes ANYONE (0: never)',
    allow_unassigned_agents: 'an owner no longer on the campaign still gets the callback',
    dnc_filter_useronly: 'check USERONLY callbacks against the DNC lists too',
    default_region: 'region for numbers given in national format',
    count_mode: 'what the agent\'s counter counts',
    display_days: 'the agent\'s list shows callbacks due within N days (0: all)',
    callback_alert: 'how the agent\'s callbacks alert line looks',
    email_when_live: 'mail the owner of a USERONLY callback when it goes LIVE',
    record: 'record answered calls',
    recording_retention_days: 'days a recording is kept',
    alt_dial: 'after NO_ANSWER/BUSY the next attempt dials the lead\'s next number',
    whisper: 'agent-first: what the agent hears once they answer, before the customer is dialed (the lead\'s name or number)',
    agent_accept: 'agent-first: the agent must press 1 to have the customer dialed',
    accept_timeout_seconds: 'how long after the whisper the agent has to press a key',
    customer_choice: 'the customer chooses when they answer, before the bridge (talk, snooze, cancel)',
    snooze_minutes: '"call me again in N minutes"',
    inbound_callback_expiry_hours: 'an inbound callback not placed this long after the caller arrived ends FAILED/EXPIRED (0: never)',
  },
};

/** One section's entry schema (the element of its array in ImportSchema) as JSON Schema; effects render as their input. */
function entrySchema(entity: Section): Record<string, unknown> {
  const section = ImportSchema.shape[entity] as unknown as z.ZodDefault<z.ZodArray<z.ZodTypeAny>>;
  const json = zodToJsonSchema(section._def.innerType.element, { $refStrategy: 'none', effectStrategy: 'input' }) as { properties?: Record<string, { description?: string }> };
  for (const [k, text] of Object.entries(HELP[entity] ?? {})) {
    const p = json.properties?.[k];
    if (p && !p.description) p.description = text; // a .describe() in the schema itself wins
  }
  return json as Record<string, unknown>;
}
