import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { agentView } from '../app/agent-view.js';
import { canEdit, canReplace, canSee, forbid, scopeOf, type Principal } from '../app/auth.js';
import { bookCallback } from '../app/book.js';
import { CallbackView, viewById, viewMany } from '../app/callback-view.js';
import { PhoneView, phoneViews } from '../app/phone-view.js';
import { bulk, cancelCallback, editCallback, purgeFinished, reassignAll } from '../app/edit.js';
import { toE164 } from '../domain/phone-number.js';
import { ALERT_STYLES } from '../domain/agent-view.js';
import { cleanText } from '../domain/text.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import { auditOf } from '../store/audit.js';
import { listCallbacks } from '../store/callback-list.js';
import { attemptsOf, getCallback } from '../store/callbacks.js';
import type { Conn } from '../store/conn.js';
import * as dir from '../store/directory.js';
import { CALLBACK_STATES, type CallbackRow } from '../store/schema.js';
import type { ApiDeps } from './deps.js';
import { listingFilters } from './query-params.js';

// /callbacks: book, read, list, search, edit, cancel, bulk, purge; /me/callbacks; /phones.

/** A conversation handed over by a human or AI agent: kept with the callback, bounded. */
export const MAX_TRANSCRIPT = 64 * 1024;

const Id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.@+-]+$/, 'letters, digits, _ . @ + - only');
const CallbackType = z.enum(['USERONLY', 'ANYONE']);

const Err = z.object({ code: z.string(), message: z.string(), details: z.unknown() });
const errors = { 400: Err, 401: Err, 403: Err, 404: Err, 409: Err, 413: Err, 422: Err };

async function visible(db: Conn, p: Principal, id: number): Promise<CallbackRow> {
  const cb = await getCallback(db, id);
  // Someone who may not see it is told it does not exist: ids of other campaigns do not leak.
  if (!cb || !canSee(p, cb)) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no callback ${id}`);
  return cb;
}

async function editable(db: Conn, p: Principal, id: number): Promise<CallbackRow> {
  // Role first: a role that can never change a callback learns nothing about which ids exist.
  if (p.role === 'agent') forbid('agents cannot change callbacks');
  if (p.role === 'manager' && !p.leadModify) forbid('editing callbacks needs the lead-modify permission');
  const cb = await visible(db, p, id);
  if (!canEdit(p, cb)) {
    forbid(p.role === 'manager' ? `editing callbacks needs the lead-modify permission on campaign ${cb.campaignId}` : `${p.role}s cannot change callbacks`);
  }
  return cb;
}

export function callbackRoutes(d: ApiDeps) {
  return async (root: FastifyInstance) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const { db } = d;

    app.post(
      '/callbacks',
      {
        schema: {
          operationId: 'bookCallback', tags: ['callbacks'],
          summary: 'Book a callback (the booking tool for human and AI agents)',
          body: z
            .object({
              lead: Id.optional().describe('a lead id; or give phone + campaign'),
              phone: z.string().max(40).optional().describe('E.164 or national; a new number becomes a lead of the campaign'),
              campaign: Id.optional(),
              number: z.string().min(1).max(40).optional().describe("the number the customer asked to be called on first: a position (1, 2…) or one of the lead's numbers; with phone, that number"),
              due: z.string().min(1).max(64).describe('+10m, now, 2026-11-26T14:00 (read in zone), or ISO with offset'),
              zone: z.string().max(64).optional().describe('lead (default) | campaign | agent | an IANA zone'),
              type: CallbackType.optional(),
              owner: Id.nullable().optional(),
              notes: z.string().max(4000).transform(cleanText).nullable().optional(),
              transcript: z.string().max(MAX_TRANSCRIPT, `transcript is limited to ${MAX_TRANSCRIPT} characters`).transform(cleanText).optional(),
              forceDial: z.boolean().optional(),
              maxAttempts: z.number().int().min(1).max(100).optional(),
            })
            .strict()
            .refine((b) => b.lead || (b.phone && b.campaign), 'give lead, or phone and campaign'),
          response: { 201: z.object({ callback: CallbackView, notices: z.array(z.string()), replaced: z.number().nullable() }), ...errors },
        },
      },
      async (req, reply) => {
        const p = req.principal;
        const b = req.body;
        const now = d.now();
        // Who may book where is checked before anything is written; the lead is found or created
        // inside the booking's transaction (app/lead-for-booking.ts).
        const campaignId = b.lead ? await dir.campaignOfLead(db, b.lead) : (await dir.getCampaign(db, b.campaign!))?.id;
        if (!campaignId) throw new CallbackdError(ErrorCodes.NOT_FOUND, b.lead ? `no lead "${b.lead}"` : `no campaign "${b.campaign}"`);
        if (p.role !== 'admin' && !p.campaigns.includes(campaignId)) forbid(`you may not book callbacks in campaign ${campaignId}`);
        if (p.role === 'agent') {
          if (b.owner && b.owner !== p.agentId) forbid('agents book callbacks for themselves (owner must be you) or as ANYONE');
          if (b.forceDial) forbid('force-dial is for managers and admins');
        }
        const r = await bookCallback(
          db,
          {
            leadId: b.lead,
            byPhone: b.lead ? undefined : { phone: b.phone!, campaignId, source: 'api' },
            number: b.number,
            due: b.due,
            zone: b.zone,
            type: b.type,
            ownerAgentId: b.owner ?? null,
            bookedByAgentId: p.role === 'agent' ? p.agentId : null,
            notes: b.notes ?? null,
            forceDial: b.forceDial,
            maxAttempts: b.maxAttempts,
            transcript: b.transcript,
            actor: p.userId,
            mayReplace: (existing) => canReplace(p, existing),
          },
          now,
        );
        d.nudge();
        return reply.status(201).send({ callback: await viewById(db, r.callback.id, now), notices: r.notices, replaced: r.replaced });
      },
    );

    app.get(
      '/callbacks',
      {
        schema: {
          operationId: 'listCallbacks', tags: ['callbacks'],
          summary: 'List callbacks (filters, cursor pagination, sorting); views by user, campaign and list',
          querystring: z
            .object({
              ...listingFilters,
              limit: z.coerce.number().int().min(1).max(500).default(50),
              cursor: z.string().max(200).optional(),
            })
            .strict(),
          response: { 200: z.object({ items: z.array(CallbackView), nextCursor: z.string().nullable() }), ...errors },
        },
      },
      async (req) => {
        const q = req.query;
        const bad = q.state?.find((s) => !(CALLBACK_STATES as readonly string[]).includes(s.toUpperCase()));
        if (bad) throw new CallbackdError(ErrorCodes.INPUT_INVALID, `state "${bad}" is not one of ${CALLBACK_STATES.join(', ')}`);
        const page = await listCallbacks(db, { ...q, scope: scopeOf(req.principal), state: q.state?.map((s) => s.toUpperCase()) });
        return { items: await viewMany(db, page.items, d.now()), nextCursor: page.nextCursor };
      },
    );

    app.get(
      '/callbacks/search',
      {
        schema: {
          operationId: 'searchCallbacks', tags: ['callbacks'],
          summary: "Find callbacks by the lead's phone number (E.164 or national)",
          querystring: z.object({ phone: z.string().min(1).max(40), region: z.string().length(2).default('US'), limit: z.coerce.number().int().min(1).max(500).default(50) }).strict(),
          response: { 200: z.object({ e164: z.string(), items: z.array(CallbackView) }), ...errors },
        },
      },
      async (req) => {
        const n = toE164(req.query.phone, req.query.region);
        if (!n.ok) throw new CallbackdError(ErrorCodes.INPUT_INVALID, n.error);
        const page = await listCallbacks(db, { scope: scopeOf(req.principal), phone: n.e164, sort: 'due', order: 'desc', limit: req.query.limit });
        return { e164: n.e164, items: await viewMany(db, page.items, d.now()) };
      },
    );

    app.get(
      '/callbacks/:id',
      {
        schema: {
          operationId: 'getCallback', tags: ['callbacks'],
          summary: 'One callback with its context (transcript), call log and audit trail',
          params: z.object({ id: z.coerce.number().int().positive() }),
          response: { 200: z.object({ callback: CallbackView, context: z.string().nullable(), callAttempts: z.array(z.record(z.unknown())), audit: z.array(z.record(z.unknown())) }), ...errors },
        },
      },
      async (req) => {
        const cb = await visible(db, req.principal, req.params.id);
        return { callback: await viewById(db, cb.id, d.now()), context: cb.context, callAttempts: await attemptsOf(db, cb.id), audit: await auditOf(db, cb.id) };
      },
    );

    app.patch(
      '/callbacks/:id',
      {
        schema: {
          operationId: 'editCallback', tags: ['callbacks'],
          summary: 'Reschedule, convert USERONLY ↔ ANYONE, reassign, move to another campaign, or change notes',
          params: z.object({ id: z.coerce.number().int().positive() }),
          body: z
            .object({
              version: z.number().int().positive().describe('the version you read; a stale one gets 409'),
              due: z.string().min(1).max(64).optional(),
              zone: z.string().max(64).optional(),
              type: CallbackType.optional(),
              owner: Id.nullable().optional(),
              campaign: Id.optional(),
              notes: z.string().max(4000).transform(cleanText).nullable().optional(),
            })
            .strict(),
          response: { 200: CallbackView, ...errors },
        },
      },
      async (req) => {
        await editable(db, req.principal, req.params.id);
        const b = req.body;
        if (b.campaign && req.principal.role !== 'admin' && !req.principal.campaigns.includes(b.campaign)) forbid(`you do not manage campaign ${b.campaign}`);
        await editCallback(db, req.params.id, { version: b.version, due: b.due, zone: b.zone, type: b.type, ownerAgentId: b.owner, campaignId: b.campaign, notes: b.notes }, req.principal.userId, d.now());
        d.nudge();
        return await viewById(db, req.params.id, d.now());
      },
    );

    app.post(
      '/callbacks/:id/cancel',
      {
        schema: {
          operationId: 'cancelCallback', tags: ['callbacks'],
          summary: 'Cancel (only before it dials: 409 otherwise)',
          params: z.object({ id: z.coerce.number().int().positive() }),
          body: z.object({ version: z.number().int().positive().optional(), reason: z.string().max(500).transform(cleanText).optional() }).strict().default({}),
          response: { 200: CallbackView, ...errors },
        },
      },
      async (req) => {
        await editable(db, req.principal, req.params.id);
        await cancelCallback(db, req.params.id, req.body.version, req.principal.userId, req.body.reason ?? null, d.now());
        d.nudge();
        return await viewById(db, req.params.id, d.now());
      },
    );

    app.post(
      '/callbacks/bulk',
      {
        schema: {
          operationId: 'bulkCallbacks', tags: ['callbacks'],
          summary: "Bulk: reassign or convert all of one agent's callbacks, or cancel a selection",
          body: z.discriminatedUnion('action', [
            z.object({ action: z.literal('reassign'), fromAgent: Id, toAgent: Id }).strict(),
            z.object({ action: z.literal('convert'), fromAgent: Id }).strict().describe('USERONLY → ANYONE'),
            z.object({ action: z.literal('cancel'), ids: z.array(z.number().int().positive()).min(1).max(1000), reason: z.string().max(500).transform(cleanText).optional() }).strict(),
          ]),
          response: { 200: z.object({ changed: z.array(z.number()), refused: z.array(z.object({ id: z.number(), code: z.string(), message: z.string() })) }), ...errors },
        },
      },
      async (req) => {
        const p = req.principal;
        if (p.role === 'agent' || (p.role === 'manager' && !p.leadModify)) forbid('bulk changes need a manager with lead-modify, or an admin');
        const b = req.body;
        const now = d.now();
        const scope = p.role === 'admin' ? null : p.campaigns;
        const r =
          b.action === 'cancel'
            ? await bulk(b.ids, async (id) => {
                await editable(db, p, id);
                await cancelCallback(db, id, undefined, p.userId, b.reason ?? 'bulk cancel', now);
              })
            : await reassignAll(db, b.fromAgent, b.action === 'reassign' ? { owner: b.toAgent } : 'ANYONE', scope, p.userId, now);
        d.nudge();
        return r;
      },
    );

    app.post(
      '/callbacks/purge',
      {
        schema: {
          operationId: 'purgeCallbacks', tags: ['callbacks'],
          summary: 'Archive finished callbacks (and their call log) not touched for N days',
          body: z.object({ olderThanDays: z.number().int().min(1).max(3650) }).strict(),
          response: { 200: z.object({ archived: z.number() }), ...errors },
        },
      },
      async (req) => {
        const p = req.principal;
        if (p.role === 'agent' || (p.role === 'manager' && !p.leadModify)) forbid('purging needs a manager with lead-modify, or an admin');
        return { archived: await purgeFinished(db, req.body.olderThanDays, p.role === 'admin' ? null : p.campaigns, p.userId, d.now()) };
      },
    );

    app.get(
      '/me/callbacks',
      {
        schema: {
          operationId: 'listMyCallbacks', tags: ['callbacks'],
          summary: "An agent's own list, with LIVE / ACTIVE counts (the campaign's count mode, display days, hours block)",
          response: {
            200: z.object({
              agent: z.string(), live: z.number(), active: z.number(), counted: z.number(),
              alert: z.enum(ALERT_STYLES).describe("how the alert line looks: the strongest callback_alert among the campaigns of the counted callbacks (NONE when nothing is counted); the DEFER variants stop blinking once the agent opened the list, until `counted` changes"),
              callbacks: z.array(CallbackView),
            }),
            ...errors,
          },
        },
      },
      async (req) => {
        const p = req.principal;
        if (!p.agentId) forbid('this user is not an agent');
        const v = await agentView(db, p.agentId, d.now());
        return { agent: v.agentId, live: v.live, active: v.active, counted: v.counted, alert: v.alert, callbacks: await viewMany(db, v.callbacks, d.now()) };
      },
    );

    app.get(
      '/phones',
      {
        schema: {
          operationId: 'listPhones', tags: ['callbacks'],
          summary: "Each agent's phones as the daemons see them in AMI: server, registered, in use (an AI agent: its calls of max_calls), whether callbackd may ring them (what `callbackd agents` prints)",
          response: { 200: z.object({ presenceWrittenAt: z.string().nullable(), phones: z.array(PhoneView) }), ...errors },
        },
      },
      async (req) => {
        if (req.principal.role === 'agent') forbid('phone presence is for managers and admins');
        return phoneViews(db);
      },
    );
  };
}
