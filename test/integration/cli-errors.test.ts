import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/server.js';
import { openDb } from '../../src/store/db.js';
import { runCli } from './cli-run.js';

// What a user sees when something is wrong: one line naming the flag or setting (never a stack
// trace), exit 2 for their mistakes (usage, input, configuration) and 1 for failures at run time.

const dir = mkdtempSync(join(tmpdir(), 'cbd-clierr-'));
const file = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const secrets = { CALLBACKD_ARI_PASSWORD: 'x', CALLBACKD_AMI_SECRET: 'y' };
const good = join(dir, 'good.db');
const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

beforeAll(() => openDb(good).$client.close());

describe('CLI errors and exit codes', () => {
  // [args, env, exit code, what stderr says]
  const cases: [string, string[], Record<string, string>, number, RegExp][] = [
    ['start without -c', ['start'], {}, 2, /required option '-c, --config <file>' not specified/],
    ['start -c a missing file', ['start', '-c', join(dir, 'nope.yaml')], secrets, 2, /cannot read config file .*nope\.yaml/],
    ['start with a database in a missing directory', ['start', '-c', file('baddb.yaml', 'database: { path: /nonexistent/dir/t.db }\n')], secrets, 2, /database\.path in .*baddb\.yaml: cannot open the database \/nonexistent\/dir\/t\.db/],
    ['migrate --db a directory', ['migrate', '--db', dir], {}, 2, /--db: cannot open the database/],
    ['migrate -c with a typo', ['migrate', '-c', file('typo.yaml', 'databse: { path: x.db }\n')], secrets, 2, /Unrecognized key\(s\) in object: 'databse' \(did you mean 'database' for 'databse'\?\)/],
    ['an ari.url without a scheme', ['migrate', '-c', file('url.yaml', 'ari: { url: "127.0.0.1:8088" }\n')], secrets, 2, /ari\.url: must be an http:\/\/ or https:\/\/ URL like http:\/\/127\.0\.0\.1:8088/],
    ['a read command on a file that is not a database', ['callback', 'list', '--db', file('junk.db', 'this is not sqlite, just some text long enough to fill a header')], {}, 2, /--db: cannot open the database .*junk\.db: file is not a database/],
    ['a read command on a missing database', ['callback', 'list', '--db', join(dir, 'typo.db')], {}, 2, /--db: no database at .*typo\.db \(create one with `callbackd migrate/],
    ['backup of a missing database', ['backup', join(dir, 'b1.db'), '--db', join(dir, 'missing.db')], {}, 2, /no database at .*missing\.db/],
    ['callback add without --lead', ['callback', 'add', '--due', '+1h', '--db', good], {}, 2, /required option '--lead <id>' not specified/],
    ['--max-attempts 0', ['callback', 'add', '--lead', 'l1', '--due', '+1h', '--max-attempts', '0', '--db', good], {}, 2, /option '--max-attempts <n>' argument '0' is invalid\. must be a whole number of 1 or more/],
    ['a callback that does not exist', ['callback', 'show', '99', '--db', good], {}, 2, /no callback 99/],
    ['an unknown command', ['callbak'], {}, 2, /unknown command 'callbak'/],
    ['the daemon not running (a failure at run time)', ['status', '--api', 'http://127.0.0.1:9'], {}, 1, /the daemon at http:\/\/127\.0\.0\.1:9 is not reachable/],
  ];
  it.each(cases)('%s', async (_name, args, env, code, message) => {
    const r = await runCli(args, env);
    expect(r.stderr).toMatch(message);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
    if (!/required option|unknown command|is invalid/.test(r.stderr)) expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('read commands and backup never create a database', async () => {
    await runCli(['callback', 'list', '--db', join(dir, 'never.db')]);
    await runCli(['agents', '--db', join(dir, 'never.db')]);
    await runCli(['backup', join(dir, 'b2.db'), '--db', join(dir, 'never.db')]);
    expect(existsSync(join(dir, 'never.db'))).toBe(false);
    expect(existsSync(join(dir, 'b2.db'))).toBe(false);
  });

  it('--version and -V print the version; --help shows examples and marks required options', async () => {
    expect(await runCli(['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
    expect(await runCli(['-V'])).toMatchObject({ code: 0, stdout: `${version}\n` });
    const help = await runCli(['callback', 'add', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--lead <id>\s+\(required\)/);
    expect(help.stdout).toMatch(/Examples:\n\s+\$ callbackd callback add --lead/);
    expect(help.stdout).not.toMatch(/--as-agent/); // the old name still works, hidden
  });
});

describe('callbackd status', () => {
  let api: FastifyInstance;
  let url: string;
  let ready = true;
  beforeAll(async () => {
    const db = openDb(good);
    api = await buildApi({ db, log: pino({ level: 'silent' }), now: Date.now, nudge: () => undefined, ready: () => ({ ari: ready, ami: true, presence: ready }), bodyLimit: 65536 });
    await api.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(api.server.address() as { port: number }).port}`;
  });
  afterAll(async () => api.close());

  it('prints the links, phones and due callbacks from /readyz; exit 0 when ready, 1 when not', async () => {
    const r = await runCli(['status', '--api', url]);
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toMatch(new RegExp(`callbackd at ${url}: ready\\n  ARI connected, AMI connected, presence loaded\\n  phones: 0 registered, 0 usable now, of 0\\n  callbacks: 0 due now, 0 late \\(over 60 s past due\\)`));
    ready = false;
    const down = await runCli(['status', '--json'], { CALLBACKD_API: url });
    expect(down.code).toBe(1);
    expect(JSON.parse(down.stdout)).toMatchObject({ ready: false, ari: false, phones: { total: 0 }, callbacks: { dueNow: 0, late: 0 } });
  });
});
