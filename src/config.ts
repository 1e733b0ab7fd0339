import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import YAML from 'yaml';
import { z } from 'zod';
import { didYouMean } from './did-you-mean.js';
import { CallbackdError, ErrorCodes, messageOf } from './errors.js';

// One object holds every default; README's "Configuration" table lists the same names (kept by hand).
export const DEFAULTS = {
  // The Asterisk server this daemon places calls on (README "Running several servers").
  server: 'default',
  // PostgreSQL only: a connection is made within connectTimeoutMs (a host that drops packets fails in
  // seconds, not the OS's minutes); a daemon's statement runs at most queryTimeoutMs (the server cancels
  // it), and one with no answer at all 2 s later is deemed cut (database unreachable). The CLI's imports
  // and exports have no statement bound. keepAliveMs: TCP keepalive's idle time.
  database: { path: './callbackd.db', connectTimeoutMs: 5000, queryTimeoutMs: 15000, keepAliveMs: 10000 },
  ari: {
    url: 'http://127.0.0.1:8088',
    username: 'callbackd',
    app: 'callbackd',
    requestTimeoutMs: 5000,
    // Asterisk's HTTP server stalls under ~100 simultaneous requests (see asterisk/ari.ts).
    maxConcurrentRequests: 8,
    // The longest a new call's first leg waits behind calls in progress (asterisk/rest-limiter.ts).
    newCallMaxWaitMs: 250,
  },
  ami: { host: '127.0.0.1', port: 5038, username: 'callbackd', actionTimeoutMs: 5000 },
  reconnect: { initialDelayMs: 500, maxDelayMs: 15000 },
  scheduler: {
    // A backstop only: in-process inserts nudge the loop, and other processes' writes are seen
    // through SQLite's data_version within externalWriteCheckMs.
    backstopPollMs: 30000,
    externalWriteCheckMs: 200,
    leaseMs: 120000,
    shutdownGraceMs: 60000,
    // An agent who did not answer is not rung again for this long (the customer is not charged).
    agentRetryDelayMs: 30000,
  },
  // The HTTP API (README "HTTP API"). Loopback only unless an admin opens it.
  api: { enabled: true, host: '127.0.0.1', port: 8580, bodyLimitBytes: 256 * 1024 },
  // FastAGI for dialplan hooks (README "Dialplan hooks"). Loopback only unless an admin opens it.
  // Every request must carry the shared secret from agi.secretFile (SECURITY.md); none = all refused.
  agi: {
    enabled: true, host: '127.0.0.1', port: 4573, allow: ['127.0.0.1', '::1'], secretFile: null as string | null,
    headerTimeoutMs: 5000, idleTimeoutMs: 5000, commandTimeoutMs: 60000, maxConnections: 200, maxConnectionsPerAddress: 100,
  },
  // The event outbox (README "Events, webhooks, email, reports"): how often other processes'
  // changes are looked for, SSE heartbeats, and how long delivered events are kept.
  events: { pollMs: 200, heartbeatMs: 15000, retentionDays: 7 },
  // Webhook deliveries: a try gives up after timeoutMs; retries back off from retryBaseMs, doubling
  // up to retryMaxMs, jittered; after maxAttempts tries a delivery is dead-lettered.
  webhooks: { timeoutMs: 10000, maxAttempts: 12, retryBaseMs: 2000, retryMaxMs: 600000, concurrency: 16, perEndpoint: 4, idleMs: 1000 },
  // Email to the owner of a USERONLY callback when it goes LIVE (campaign option email_when_live).
  smtp: {
    enabled: false, host: '127.0.0.1', port: 25, secure: false, requireTLS: false, ignoreTLS: false, from: 'callbackd <callbackd@localhost>',
    timeoutMs: 10000, maxAttempts: 8, retryBaseMs: 30000, retryMaxMs: 3600000, concurrency: 2, idleMs: 1000, consoleUrl: 'http://127.0.0.1:8580/',
  },
  // AI voice agents (README "AI voice agents"): the HMAC secret of the context URLs (a file, or the
  // env CALLBACKD_AI_CONTEXT_SECRET), the API's address as the bot reaches it, and how long after the
  // ring a URL stays valid. No secret = no headers on INVITEs and no GET /ai/context.
  ai: { contextSecretFile: null as string | null, contextBaseUrl: 'http://127.0.0.1:8580', contextGraceSec: 300 },
  log: { level: 'info' },
} as const;

function isHttpUrl(s: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(s).protocol);
  } catch {
    return false;
  }
}

/** Only the URL's scheme is looked at: zod's messages never echo the value (it may hold a password). */
export function isPgUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'postgres:' || u.protocol === 'postgresql:';
  } catch {
    return false;
  }
}

/** A secret the file or the environment variable `env` must give. */
const secret = (env: string) => z.string({ required_error: `is required (or set ${env})` }).min(1, `is required (or set ${env})`);

const ms = (min: number, max: number) => z.number().int().min(min).max(max);

export const ConfigSchema = z
  .object({
    instanceId: z.string().min(1).default(hostname()),
    server: z.string().min(1).max(64).regex(/^[A-Za-z0-9_.@-]+$/, 'letters, digits, _ . @ - only').default(DEFAULTS.server),
    // SQLite (a file path, the default) or PostgreSQL (a URL; README "PostgreSQL"), never both.
    // `path` stays filled with the default while the daemon opens SQLite only (open-engine.ts picks by url).
    database: z
      .object({
        path: z.string().min(1).optional(),
        url: z.string().refine(isPgUrl, 'must be a postgres:// or postgresql:// URL like postgres://callbackd@db.example:5432/callbackd').optional(),
        connectTimeoutMs: ms(100, 600_000).default(DEFAULTS.database.connectTimeoutMs),
        queryTimeoutMs: ms(1000, 3_600_000).default(DEFAULTS.database.queryTimeoutMs),
        keepAliveMs: ms(1000, 3_600_000).default(DEFAULTS.database.keepAliveMs),
      })
      .strict()
      .default({})
      .superRefine((d, ctx) => {
        if (d.path !== undefined && d.url !== undefined)
          ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['url'], message: 'set database.path (SQLite) or database.url (PostgreSQL), not both' });
      })
      .transform((d) => ({ ...d, path: d.path ?? DEFAULTS.database.path, url: d.url })),
    ari: z
      .object({
        url: z.string().refine(isHttpUrl, 'must be an http:// or https:// URL like http://127.0.0.1:8088').default(DEFAULTS.ari.url),
        username: z.string().min(1).default(DEFAULTS.ari.username),
        password: secret('CALLBACKD_ARI_PASSWORD'),
        app: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only').default(DEFAULTS.ari.app),
        requestTimeoutMs: ms(100, 120000).default(DEFAULTS.ari.requestTimeoutMs),
        maxConcurrentRequests: z.number().int().min(1).max(64).default(DEFAULTS.ari.maxConcurrentRequests),
        newCallMaxWaitMs: ms(0, 60000).default(DEFAULTS.ari.newCallMaxWaitMs),
      })
      .strict(),
    ami: z
      .object({
        host: z.string().min(1).default(DEFAULTS.ami.host),
        port: z.number().int().min(1).max(65535).default(DEFAULTS.ami.port),
        username: z.string().min(1).default(DEFAULTS.ami.username),
        secret: secret('CALLBACKD_AMI_SECRET'),
        actionTimeoutMs: ms(100, 120000).default(DEFAULTS.ami.actionTimeoutMs),
      })
      .strict(),
    reconnect: z
      .object({
        initialDelayMs: ms(10, 60000).default(DEFAULTS.reconnect.initialDelayMs),
        maxDelayMs: ms(100, 600000).default(DEFAULTS.reconnect.maxDelayMs),
      })
      .strict()
      .default({}),
    scheduler: z
      .object({
        backstopPollMs: ms(100, 3600000).default(DEFAULTS.scheduler.backstopPollMs),
        externalWriteCheckMs: ms(10, 60000).default(DEFAULTS.scheduler.externalWriteCheckMs),
        leaseMs: ms(5000, 3600000).default(DEFAULTS.scheduler.leaseMs),
        shutdownGraceMs: ms(0, 3600000).default(DEFAULTS.scheduler.shutdownGraceMs),
        agentRetryDelayMs: ms(0, 3600000).default(DEFAULTS.scheduler.agentRetryDelayMs),
      })
      .strict()
      .default({}),
    api: z
      .object({
        enabled: z.boolean().default(DEFAULTS.api.enabled),
        host: z.string().min(1).default(DEFAULTS.api.host),
        port: z.number().int().min(0).max(65535).default(DEFAULTS.api.port),
        bodyLimitBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(DEFAULTS.api.bodyLimitBytes),
      })
      .strict()
      .default({}),
    agi: z
      .object({
        enabled: z.boolean().default(DEFAULTS.agi.enabled),
        host: z.string().min(1).default(DEFAULTS.agi.host),
        port: z.number().int().min(0).max(65535).default(DEFAULTS.agi.port),
        allow: z.array(z.string().ip({ message: 'must be an IP address' })).min(1, 'name at least one address (Asterisk\'s)').default([...DEFAULTS.agi.allow]),
        secretFile: z.string().min(1).nullable().default(DEFAULTS.agi.secretFile),
        headerTimeoutMs: ms(100, 120000).default(DEFAULTS.agi.headerTimeoutMs),
        // Replies that do not wait for the caller (SET VARIABLE...) come at once: a short bound.
        idleTimeoutMs: ms(100, 120000).default(DEFAULTS.agi.idleTimeoutMs),
        // A command like GET DATA waits for the caller to type: this bounds how long.
        commandTimeoutMs: ms(1000, 600000).default(DEFAULTS.agi.commandTimeoutMs),
        maxConnections: z.number().int().min(1).max(10000).default(DEFAULTS.agi.maxConnections),
        maxConnectionsPerAddress: z.number().int().min(1).max(10000).default(DEFAULTS.agi.maxConnectionsPerAddress),
      })
      .strict()
      .default({}),
    events: z
      .object({
        pollMs: ms(10, 60000).default(DEFAULTS.events.pollMs),
        heartbeatMs: ms(100, 600000).default(DEFAULTS.events.heartbeatMs),
        retentionDays: z.number().min(0.001).max(3650).default(DEFAULTS.events.retentionDays),
      })
      .strict()
      .default({}),
    webhooks: z
      .object({
        timeoutMs: ms(100, 120000).default(DEFAULTS.webhooks.timeoutMs),
        maxAttempts: z.number().int().min(1).max(100).default(DEFAULTS.webhooks.maxAttempts),
        retryBaseMs: ms(10, 3600000).default(DEFAULTS.webhooks.retryBaseMs),
        retryMaxMs: ms(10, 86400000).default(DEFAULTS.webhooks.retryMaxMs),
        concurrency: z.number().int().min(1).max(256).default(DEFAULTS.webhooks.concurrency),
        perEndpoint: z.number().int().min(1).max(256).default(DEFAULTS.webhooks.perEndpoint),
        idleMs: ms(10, 60000).default(DEFAULTS.webhooks.idleMs),
      })
      .strict()
      .default({}),
    smtp: z
      .object({
        enabled: z.boolean().default(DEFAULTS.smtp.enabled),
        host: z.string().min(1).default(DEFAULTS.smtp.host),
        port: z.number().int().min(1).max(65535).default(DEFAULTS.smtp.port),
        secure: z.boolean().default(DEFAULTS.smtp.secure),
        requireTLS: z.boolean().default(DEFAULTS.smtp.requireTLS),
        ignoreTLS: z.boolean().default(DEFAULTS.smtp.ignoreTLS),
        username: z.string().min(1).optional(),
        password: z.string().min(1).optional(),
        from: z.string().min(3).default(DEFAULTS.smtp.from),
        timeoutMs: ms(100, 120000).default(DEFAULTS.smtp.timeoutMs),
        maxAttempts: z.number().int().min(1).max(100).default(DEFAULTS.smtp.maxAttempts),
        retryBaseMs: ms(10, 3600000).default(DEFAULTS.smtp.retryBaseMs),
        retryMaxMs: ms(10, 86400000).default(DEFAULTS.smtp.retryMaxMs),
        concurrency: z.number().int().min(1).max(64).default(DEFAULTS.smtp.concurrency),
        idleMs: ms(10, 60000).default(DEFAULTS.smtp.idleMs),
        consoleUrl: z.string().url().default(DEFAULTS.smtp.consoleUrl),
        subject: z.string().min(1).max(500).optional(),
        body: z.string().min(1).max(20000).optional(),
      })
      .strict()
      .default({}),
    ai: z
      .object({
        contextSecretFile: z.string().min(1).nullable().default(DEFAULTS.ai.contextSecretFile),
        contextBaseUrl: z.string().refine(isHttpUrl, 'must be an http:// or https:// URL the AI endpoint can reach').default(DEFAULTS.ai.contextBaseUrl),
        contextGraceSec: z.number().int().min(30).max(3600).default(DEFAULTS.ai.contextGraceSec),
      })
      .strict()
      .default({}),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') })
      .strict()
      .default({}),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;

/** CALLBACKD_SERVER_<ID>_ARI_PASSWORD: the id upper-cased, anything but letters and digits as _. */
export function serverSecretEnv(serverId: string, what: 'ARI_PASSWORD' | 'AMI_SECRET'): string {
  return `CALLBACKD_SERVER_${serverId.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${what}`;
}

/** Zod issues as "ari.password: is required" lines, one per problem. */
export function formatIssues(issues: z.ZodIssue[]): string[] {
  return issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}${didYouMean(ConfigSchema, i)}`);
}

/** Reads a YAML/JSON config file; secrets may come from the environment instead. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Config {
  let raw: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new CallbackdError(ErrorCodes.CONFIG_NOT_FOUND, `cannot read config file ${file}: ${messageOf(err)}`);
    }
    try {
      raw = (YAML.parse(text) ?? {}) as Record<string, unknown>;
    } catch (err) {
      throw new CallbackdError(ErrorCodes.CONFIG_INVALID, `config file ${file} is not valid YAML/JSON: ${messageOf(err)}`);
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      throw new CallbackdError(ErrorCodes.CONFIG_INVALID, `config file ${file} must hold a mapping of settings`);
    }
  }
  const withEnv = structuredClone(raw) as Record<string, Record<string, unknown>>;
  const put = (section: string, key: string, value: string | undefined) => {
    if (value === undefined || value === '') return;
    withEnv[section] = { ...(withEnv[section] ?? {}), [key]: value };
  };
  put('ari', 'password', env.CALLBACKD_ARI_PASSWORD);
  put('ami', 'secret', env.CALLBACKD_AMI_SECRET);
  if (typeof raw.server === 'string' || env.CALLBACKD_SERVER) {
    if (env.CALLBACKD_SERVER) withEnv.server = env.CALLBACKD_SERVER as unknown as Record<string, unknown>;
    // A server's own secrets win over the shared ones: one environment can hold every server's.
    const id = String(withEnv.server);
    put('ari', 'password', env[serverSecretEnv(id, 'ARI_PASSWORD')]);
    put('ami', 'secret', env[serverSecretEnv(id, 'AMI_SECRET')]);
  }
  put('database', 'path', env.CALLBACKD_DB);
  put('database', 'url', env.CALLBACKD_DATABASE_URL);
  put('smtp', 'password', env.CALLBACKD_SMTP_PASSWORD);
  put('agi', 'secretFile', env.CALLBACKD_AGI_SECRET_FILE);
  put('ai', 'contextSecretFile', env.CALLBACKD_AI_CONTEXT_SECRET_FILE);
  withEnv.ari ??= {};
  withEnv.ami ??= {};
  const parsed = ConfigSchema.safeParse(withEnv);
  if (!parsed.success) {
    const where = file ? `config file ${file}` : 'configuration';
    throw new CallbackdError(
      ErrorCodes.CONFIG_INVALID,
      `${where} is invalid:\n  ${formatIssues(parsed.error.issues).join('\n  ')}`,
    );
  }
  if (parsed.data.reconnect.maxDelayMs < parsed.data.reconnect.initialDelayMs) {
    throw new CallbackdError(ErrorCodes.CONFIG_INVALID, 'reconnect.maxDelayMs must be >= reconnect.initialDelayMs');
  }
  return parsed.data;
}

/** A config file holding secrets should not be readable by other users: say so at start. */
export function looseSecretsWarning(file: string): string | null {
  try {
    const st = statSync(file);
    const text = readFileSync(file, 'utf8');
    // A database.url may carry its password (postgres://user:PASSWORD@host/db).
    if ((st.mode & 0o004) !== 0 && /password|secret|postgres(ql)?:\/\/[^/\s@:]*:[^@\s]+@/i.test(text)) {
      return `config file ${file} holds a password or secret and is readable by every user (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it, or pass secrets as CALLBACKD_ARI_PASSWORD / CALLBACKD_AMI_SECRET`;
    }
  } catch {
    /* loadConfig already reported an unreadable file */
  }
  return null;
}

