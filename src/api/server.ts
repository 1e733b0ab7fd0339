import { createServer } from 'node:http';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { ZodError } from 'zod';
import type { Principal } from '../app/auth.js';
import { readinessOrUnreachable } from '../app/readiness.js';
import { CallbackdError, defaultMessage, ErrorCodes, httpStatus } from '../errors.js';
import type { ApiDeps } from './deps.js';
import { adminRoutes } from './admin.js';
import { registry } from '../metrics.js';
import { callbackRoutes } from './callbacks.js';
import { OPENAPI, ops } from './openapi.js';
import { eventRoutes } from './events.js';
import { consoleRoutes } from './console-routes.js';
import { CONSOLE_PUBLIC, consoleStatic, defaultConsoleDir } from './console-static.js';
import { principalOfRequest } from './people-auth.js';
import { cookieSupport, PEOPLE_PUBLIC, peopleRoutes } from './people-routes.js';
import { webhookRoutes } from './webhooks.js';
import { emailRoutes } from './emails.js';
import { reportRoutes } from './reports.js';
import { recordingRoutes } from './recordings.js';
import { AI_CONTEXT_ROUTE, aiContextRoutes } from './ai-context.js';
import { isBusy } from '../store/busy.js';
import { isUnreachable } from '../store/unreachable.js';

// The HTTP API: fastify with zod schemas (validation, serialization and the OpenAPI document from
// one definition). Errors always answer {code, message, details}; codes live in src/errors.ts.

export type { ApiDeps } from './deps.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

export type Api = FastifyInstance;

/** The API: each step below adds one concern to the fastify instance, in this order. */
export async function buildApi(d: ApiDeps): Promise<FastifyInstance> {
  const app = await newFastify(d);
  identifyAndLog(app, d);
  answerErrors(app, d);
  probeRoutes(app, d);
  await featureRoutes(app, d);
  await app.ready();
  return app as unknown as FastifyInstance;
}

type App = Awaited<ReturnType<typeof newFastify>>;

/** fastify with its timeouts, zod schemas and the OpenAPI document (+ its docs UI). */
async function newFastify(d: ApiDeps) {
  // fastify's own request lines are left out (warn and up only); ours below name the user instead.
  // A client must send its headers within headersMs and its whole request within requestMs (a body
  // sent byte by byte is cut off); Node checks both every second. Responses (GET /events) are not bounded.
  const t = { headersMs: d.timeouts?.headersMs ?? 10_000, requestMs: d.timeouts?.requestMs ?? 30_000 };
  const app = Fastify({
    loggerInstance: d.log.child({}, { level: 'warn' }) as unknown as FastifyBaseLogger,
    bodyLimit: d.bodyLimit,
    requestTimeout: t.requestMs,
    serverFactory: (handler) => createServer({ headersTimeout: t.headersMs, requestTimeout: t.requestMs, connectionsCheckingInterval: 1000 }, handler),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(fastifySwagger, OPENAPI);
  // The kept docs UI (Swagger UI's own assets, served from the package, no CDN) over /openapi.json.
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', uiConfig: { url: '/openapi.json', validatorUrl: null } as Record<string, unknown> });
  await cookieSupport(app);
  return app;
}

/** Who is asking (every route but PUBLIC), and one log line per request naming them. */
function identifyAndLog(app: App, d: ApiDeps): void {
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const route = req.routeOptions.url;
    if (!route || PUBLIC.has(route) || route.startsWith('/docs')) return; // public, or a 404 that needs no token
    req.principal = await principalOfRequest(d.db, req, d.now()); // bearer token, or the console's cookie (+ CSRF)
    req.log = req.log.child({ user: req.principal.userId, role: req.principal.role });
  });
  app.addHook('onResponse', async (req, reply) => {
    // Probes and scrapes arrive every few seconds: at debug, so they do not bury the requests people make.
    const level = QUIET.has(req.routeOptions.url ?? '') ? 'debug' : 'info';
    d.log[level]({ user: req.principal?.userId, method: req.method, url: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'api request');
  });
}

/** Every error answers {code, message, details}, with the status its code means. */
function answerErrors(app: App, d: ApiDeps): void {
  app.setErrorHandler((err, req, reply) => {
    const e = err as Error & { code?: string; statusCode?: number; validation?: unknown; validationContext?: string };
    if (isBusy(e)) {
      // Another process holds the write lock past our short wait: nothing was written; come back.
      return reply.status(503).header('retry-after', '1').send({ code: ErrorCodes.DB_BUSY, message: defaultMessage(ErrorCodes.DB_BUSY), details: null });
    }
    if (isUnreachable(e)) {
      // PostgreSQL stopped or restarting (/readyz says so too): not a bug of ours, and nothing was written.
      return reply.status(503).header('retry-after', '5').send({ code: ErrorCodes.DB_UNREACHABLE, message: defaultMessage(ErrorCodes.DB_UNREACHABLE), details: null });
    }
    if (e instanceof CallbackdError) {
      const status = httpStatus(e.code);
      return reply.status(status).send({ code: e.code, message: e.message, details: e.details ?? null });
    }
    if (e.validation || e instanceof ZodError || e.code === 'FST_ERR_VALIDATION') {
      const issues = (e instanceof ZodError ? e.issues : (e.validation as { instancePath?: string; message?: string; params?: { issue?: { path: (string | number)[]; message: string } } }[] | undefined)?.map((v) => v.params?.issue ?? { path: [v.instancePath ?? ''], message: v.message ?? 'invalid' })) ?? [];
      const where = (e as { validationContext?: string }).validationContext ?? 'request';
      const message = issues.length ? issues.map((i) => `${where}${i.path.length ? '.' + i.path.join('.') : ''}: ${i.message}`).join('; ') : e.message;
      return reply.status(400).send({ code: ErrorCodes.INPUT_INVALID, message, details: issues });
    }
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.status(413).send({ code: ErrorCodes.TOO_LARGE, message: `request body over ${d.bodyLimit} bytes`, details: null });
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return reply.status(e.statusCode).send({ code: ErrorCodes.INPUT_INVALID, message: e.message, details: null });
    req.log.error({ err: e.message, stack: e.stack }, 'API error');
    return reply.status(500).send({ code: 'INTERNAL', message: 'internal error; see the daemon log', details: null });
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send({ code: ErrorCodes.NOT_FOUND, message: `no route ${req.method} ${req.url.split('?')[0]}`, details: null }));
}

/** Health, readiness, the API's shape and Prometheus: public (PUBLIC). */
function probeRoutes(app: App, d: ApiDeps): void {
  app.get('/healthz', { schema: ops.healthz }, async () => ({ ok: true }));
  app.get('/readyz', { schema: ops.readyz }, async (_req, reply) => {
    const r = d.ready();
    const { reachable, ...facts } = await readinessOrUnreachable(d.db, d.now());
    const ok = r.ari && r.ami && r.presence && reachable;
    const database = r.database && { ...r.database, reachable, ...('error' in facts ? { error: facts.error } : {}) };
    return reply.status(ok ? 200 : 503).send({ ready: ok, ...r, ...(database ? { database } : {}), ...('phones' in facts ? facts : {}) });
  });
  app.get('/openapi.json', { schema: ops.openapi }, async () => app.swagger());
  app.get('/metrics', { schema: ops.metrics }, async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
}

/** The API's own routes, then the console's files. */
async function featureRoutes(app: App, d: ApiDeps): Promise<void> {
  await app.register(callbackRoutes(d));
  await app.register(adminRoutes(d));
  if (d.events) await app.register(eventRoutes({ ...d, ...d.events }));
  await app.register(webhookRoutes(d));
  await app.register(emailRoutes(d));
  await app.register(reportRoutes(d));
  await app.register(recordingRoutes(d));
  await app.register(aiContextRoutes(d));
  await app.register(peopleRoutes(d));
  await app.register(consoleRoutes(d));
  await app.register(consoleStatic(d.consoleDir === undefined ? defaultConsoleDir() : d.consoleDir));
}

// Prometheus scrapes without a token; the API listens on loopback unless an admin opens it.
// The AI context route's credential is its signed URL (src/api/ai-context.ts).
const PUBLIC = new Set(['/healthz', '/readyz', '/openapi.json', '/metrics', AI_CONTEXT_ROUTE, ...PEOPLE_PUBLIC, ...CONSOLE_PUBLIC]);
const QUIET = new Set(['/healthz', '/readyz', '/metrics']);
