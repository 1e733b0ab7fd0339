import type { SwaggerOptions } from '@fastify/swagger';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { z } from 'zod';

// The OpenAPI document's frame (served at /openapi.json, shown at /docs) and the operational
// routes' schemas. Every route carries an operationId (client generators name methods by it);
// test/integration/openapi.test.ts checks that and `redocly lint` checks the whole document.

export const OPENAPI: SwaggerOptions = {
  openapi: {
    info: {
      title: 'callbackd',
      version: '1',
      description: 'Call-center callbacks kept through Asterisk. Errors: {code, message, details}.',
      license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' },
    },
    // Relative: the document is served by the daemon it describes, wherever api.host/api.port put it.
    servers: [{ url: '/', description: 'this callbackd (api.host:api.port, default http://127.0.0.1:8580)' }],
    tags: [
      { name: 'callbacks', description: 'Book, find, change and cancel callbacks' },
      { name: 'admin', description: 'The directory: campaigns, lists, leads, agents, phones, trunks, numbers, users, DNC' },
      { name: 'events', description: 'Changes as they happen: the SSE stream and webhooks' },
      { name: 'console', description: "People's sessions and the web console's views" },
      { name: 'operations', description: 'Health, readiness, metrics and this document; no token needed' },
    ],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
  },
  transform: jsonSchemaTransform,
  transformObject: (o) => errorsAsJson((o as { openapiObject: Doc }).openapiObject) as never,
};

/** The error body every route answers with (src/api/server.ts's error handler). */
export const ApiError = z.object({ code: z.string(), message: z.string(), details: z.unknown() });

type Doc = { paths?: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, unknown> }> }>> };

/** A route's `produces` names its success type (a stream, text); its errors are still JSON. */
function errorsAsJson(doc: Doc): Doc {
  for (const ops of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(ops)) {
      for (const [code, res] of Object.entries(op.responses ?? {})) {
        const media = res.content && Object.values(res.content)[0];
        if (Number(code) >= 400 && media && !res.content!['application/json']) res.content = { 'application/json': media };
      }
    }
  }
  return doc;
}

// The serializer drops what a schema does not name: every field /readyz sends is here (app/readiness.ts).
const Readiness = z.object({
  ready: z.boolean(),
  ari: z.boolean(),
  ami: z.boolean(),
  presence: z.boolean(),
  server: z.string().optional().describe('the Asterisk server this daemon places calls on (config `server`)'),
  database: z
    .object({
      engine: z.enum(['sqlite', 'pg']).describe('SQLite (one box) or PostgreSQL (several daemons)'),
      where: z.string().describe('the SQLite file, or host:port/database on PostgreSQL (never a user or password)'),
      reachable: z.boolean().optional().describe('false while the database cannot be reached (PostgreSQL stopped, restarting or cut off): calls in progress go on, no new one is claimed'),
      error: z.string().optional().describe('why it cannot be reached, when it cannot'),
    })
    .optional()
    .describe('the database this daemon uses'),
  phones: z.object({ total: z.number(), registered: z.number(), usable: z.number() }).optional().describe('absent while the database cannot be reached'),
  callbacks: z.object({ dueNow: z.number(), late: z.number(), lateAfterSeconds: z.number() }).optional().describe('absent while the database cannot be reached'),
});

const publicOp = { tags: ['operations'], security: [] };

export const ops = {
  healthz: {
    ...publicOp,
    operationId: 'getHealth',
    summary: 'Liveness: the process answers HTTP',
    description: 'Always 200 while the daemon runs; use it for a process supervisor or load balancer liveness check.',
    response: { 200: z.object({ ok: z.boolean() }) },
  },
  readyz: {
    ...publicOp,
    operationId: 'getReadiness',
    summary: 'Readiness: connected to Asterisk (ARI, AMI) and phone presence known',
    description: '200 when ARI, AMI and presence are all up and the database answers, else 503 with the same body saying which is down; with phones and callbacks due (what `callbackd status` prints).',
    response: { 200: Readiness, 503: Readiness },
  },
  metrics: {
    ...publicOp,
    operationId: 'getMetrics',
    summary: 'Prometheus metrics (text exposition format)',
    description: 'Callbacks by state, dial outcomes, trigger lateness, calls per trunk, Asterisk links, process and Node.js figures.',
    produces: ['text/plain'],
    response: { 200: z.string().describe('Prometheus text format 0.0.4') },
  },
  openapi: {
    ...publicOp,
    operationId: 'getOpenApi',
    summary: 'This OpenAPI document (JSON)',
  },
};
