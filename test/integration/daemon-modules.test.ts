// What the built daemon loads at start (issue 18 item 6, README "Memory after 200 calls, session 6"): code a
// configuration does not use stays on disk, out of the heap. The daemon runs from dist/ with Asterisk absent
// (its ARI and AMI ports closed: it keeps retrying, its API and events run) and a preload that lists every
// module it loaded (test/lab/module-trace.ts).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, DaemonProc, REPO, tempDir, waitFor } from '../lab/lab.js';

const TRACE = join(REPO, 'dist/test/lab/module-trace.js');

/** Starts the built daemon on a fresh SQLite center with `extra` config, stops it, and returns the module URLs it loaded. */
async function modulesLoaded(extra: Record<string, unknown>): Promise<string[]> {
  if (!existsSync(TRACE)) throw new Error('run npm run build first (the test runs dist/src/cli.js with dist/test/lab/module-trace.js)');
  const dir = tempDir('modules');
  const db = join(dir, 'callbackd.db');
  writeFileSync(join(dir, 'import.json'), JSON.stringify({ campaigns: [{ id: 'C', name: 'C', time_zone: 'UTC' }], agents: [{ id: 'a1', name: 'A', campaigns: ['C'] }] }));
  const imported = cli(['import', join(dir, 'import.json'), '--db', db]);
  expect(imported.code, imported.stderr).toBe(0);
  const file = join(dir, 'modules.txt');
  const d = new DaemonProc({
    db,
    dir,
    extra: { ari: { url: 'http://127.0.0.1:9' }, ami: { port: 9 }, log: { level: 'info' }, ...extra },
    env: { NODE_OPTIONS: `--import ${TRACE}`, MODULE_TRACE_FILE: file },
  }).start();
  try {
    await waitFor('the HTTP API', () => /HTTP API listening/.test(d.log), 20000);
  } finally {
    await d.kill('SIGTERM');
  }
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

const loads = (mods: string[], part: string) => mods.some((m) => m.includes(part));

describe('modules the daemon loads', () => {
  it('a SQLite daemon without email loads neither nodemailer nor the PostgreSQL driver, and one copy of zod-to-json-schema', async () => {
    const mods = await modulesLoaded({});
    // The trace saw the daemon's own modules, ESM and CommonJS both.
    expect(loads(mods, '/dist/src/daemon.js')).toBe(true);
    expect(loads(mods, '/node_modules/fastify/fastify.js')).toBe(true);
    expect(loads(mods, '/node_modules/better-sqlite3/')).toBe(true);
    expect(loads(mods, '/node_modules/nodemailer/')).toBe(false);
    expect(loads(mods, '/dist/src/events/email.js')).toBe(false);
    expect(loads(mods, '/node_modules/pg/')).toBe(false);
    expect(loads(mods, '/node_modules/drizzle-orm/node-postgres/')).toBe(false);
    expect(loads(mods, '/dist/src/store/pg/engine.js')).toBe(false);
    // fastify-type-provider-zod needs the CommonJS build; the admin API uses the same one.
    expect(loads(mods, '/node_modules/zod-to-json-schema/dist/cjs/')).toBe(true);
    expect(loads(mods, '/node_modules/zod-to-json-schema/dist/esm/')).toBe(false);
  });

  it('with smtp.enabled the daemon loads the email loop and nodemailer', async () => {
    const mods = await modulesLoaded({ smtp: { enabled: true, host: '127.0.0.1', port: 9 } });
    expect(loads(mods, '/dist/src/events/email.js')).toBe(true);
    expect(loads(mods, '/node_modules/nodemailer/')).toBe(true);
  });
});
