import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/server.js';
import { CallbackdError, ErrorCodes } from '../../src/errors.js';
import { createLogger, logFatal } from '../../src/log.js';
import { openDb } from '../../src/store/db.js';

describe('logging', () => {
  it('never writes passwords, secrets or tokens', () => {
    let out = '';
    const sink = new Writable({ write(c, _e, cb) { out += c; cb(); } });
    const log = createLogger('info', sink);
    log.info({ ari: { password: 'p4ss' }, secret: 's3cret', config: { ami: { secret: 'x9' } }, token: 't0k' }, 'config loaded');
    log.warn({ action: { Action: 'Login', Username: 'callbackd', Secret: 'amiS3cret' }, req: { headers: { authorization: 'Bearer cbd_abc' } } }, 'AMI login');
    expect(out).toContain('config loaded');
    expect(out).toContain('"Username":"callbackd"');
    for (const s of ['p4ss', 's3cret', 'x9', 't0k', 'amiS3cret', 'cbd_abc']) expect(out).not.toContain(s);
  });
});

describe('the daemon logger writes asynchronously and loses nothing on the way out', () => {
  const viteNode = join(import.meta.dirname, '../../node_modules/.bin/vite-node');
  const child = join(import.meta.dirname, 'log-exit-child.ts');
  for (const how of ['return', 'exit', 'throw']) {
    it(`20,000 lines then the last one, ending by ${how}: every line is on stderr`, () => {
      const r = spawnSync(viteNode, [child, how, '20000'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      expect(r.status).toBe(how === 'exit' ? 3 : how === 'throw' ? 1 : 0);
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; i?: number });
      expect(lines.filter((l) => l.msg === 'line').map((l) => l.i)).toEqual(Array.from({ length: 20000 }, (_, i) => i));
      expect(lines.at(-1)?.msg).toBe('last line');
    }, 60_000);
  }
});

describe('log lines', () => {
  const capture = (level: string) => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write(c, _e, cb) { for (const l of String(c).split('\n').filter(Boolean)) lines.push(JSON.parse(l)); cb(); } });
    return { log: createLogger(level, sink), lines };
  };

  it("keep pino's pid and hostname next to the service name", () => {
    const { log, lines } = capture('info');
    log.info('hello');
    expect(lines[0]).toMatchObject({ pid: process.pid, hostname: hostname(), service: 'callbackd', msg: 'hello', level: 30 });
  });

  it('a fatal error is one JSON line: code and message for a user mistake, the stack as a field for a bug', () => {
    let out = '';
    const log = createLogger('info', new Writable({ write(c, _e, cb) { out += c; cb(); } }));
    logFatal(log, new CallbackdError(ErrorCodes.CONFIG_INVALID, 'database.path: directory /nonexistent does not exist'));
    logFatal(log, new TypeError('Cannot open database because the directory does not exist'));
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(2);
    const [mistake, bug] = lines.map((l) => JSON.parse(l));
    expect(mistake).toMatchObject({ level: 60, code: ErrorCodes.CONFIG_INVALID, msg: 'database.path: directory /nonexistent does not exist' });
    expect(mistake.err).toBeUndefined();
    expect(bug).toMatchObject({ level: 60, msg: 'unexpected error: Cannot open database because the directory does not exist', err: { type: 'TypeError' } });
    expect(bug.err.stack).toMatch(/^TypeError: Cannot open database/);
  });

  it('logs probe and scrape requests (/healthz, /readyz, /metrics) at debug, people’s requests at info', async () => {
    const run = async (level: string) => {
      const { log, lines } = capture(level);
      const db = openDb(join(mkdtempSync(join(tmpdir(), 'cbd-log-')), 'db.sqlite'));
      const api = await buildApi({ db, log, now: Date.now, nudge: () => undefined, bodyLimit: 65536, ready: () => ({ ari: true, ami: true, presence: true }) });
      for (const url of ['/healthz', '/readyz', '/metrics', '/callbacks']) await api.inject({ method: 'GET', url });
      await api.close();
      return lines.filter((l) => l.msg === 'api request').map((l) => [l.url, l.level]);
    };
    expect(await run('info')).toEqual([['/callbacks', 30]]);
    expect(await run('debug')).toEqual([['/healthz', 20], ['/readyz', 20], ['/metrics', 20], ['/callbacks', 30]]);
  });

  it('reads well through pino-pretty (the documented dev option)', () => {
    let out = '';
    const log = createLogger('info', new Writable({ write(c, _e, cb) { out += c; cb(); } }));
    log.info({ callback: 7 }, 'callback placed');
    const pretty = spawnSync(join(import.meta.dirname, '../../node_modules/.bin/pino-pretty'), ['--colorize=false'], { input: out, encoding: 'utf8' });
    expect(pretty.status).toBe(0);
    expect(pretty.stdout).toMatch(/INFO \(\d+\): callback placed/);
    expect(pretty.stdout).toMatch(/callback: 7/);
  });
});
