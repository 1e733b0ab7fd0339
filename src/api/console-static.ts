import fastifyCompress from '@fastify/compress';
import fastifyHelmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes } from '../errors.js';

// The console's files (built by `npm run build` into dist/console), on the API's host and port.
// Hashed assets are cached for a year; index.html is revalidated every time so a new build shows
// at once. Any other GET that a browser makes for a page (Accept: text/html) gets index.html: the
// console routes on the client. Programs asking for JSON still get the API's 404.

export const CONSOLE_PUBLIC = ['/', '/assets/*', '/*'];

/** dist/console, found from src/api or dist/src/api. */
export function defaultConsoleDir(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const c = join(dir, 'dist', 'console');
    if (existsSync(join(c, 'index.html'))) return c;
    dir = dirname(dir);
  }
  return null;
}

const CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  frameAncestors: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
};

export function consoleStatic(root: string | null) {
  return async (app: FastifyInstance) => {
    // Registered in this plugin's own context: the API's JSON keeps its headers, and the event
    // stream (/events) is never buffered by compression.
    await app.register(fastifyHelmet, { contentSecurityPolicy: { useDefaults: false, directives: CSP }, hsts: false });
    await app.register(fastifyCompress, { global: true, encodings: ['br', 'gzip'], threshold: 1024 });
    if (root) {
      await app.register(fastifyStatic, {
        root: join(root, 'assets'),
        prefix: '/assets/',
        cacheControl: true,
        maxAge: '365d',
        immutable: true,
        index: false,
      });
    }
    const page = async (req: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
      if (!root) return reply.status(503).type('text/plain').send('the console is not built: run `npm run build`');
      reply.header('cache-control', 'no-cache');
      return reply.sendFile('index.html', root, { cacheControl: false });
    };
    app.get('/', { schema: { hide: true } }, page);
    app.get('/*', { schema: { hide: true } }, async (req, reply) => {
      if ((req.headers.accept ?? '').includes('text/html')) return page(req, reply);
      return reply.status(404).send({ code: ErrorCodes.NOT_FOUND, message: `no route ${req.method} ${req.url.split('?')[0]}`, details: null });
    });
  };
}
