import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { verifyPassword } from '../../src/app/people.js';
import { openDb } from '../../src/store/db.js';
import { passwordHashOf } from '../../src/store/people.js';

// `callbackd user passwd U` (the built CLI) reads the password from stdin and stores only its hash.
const CLI = join(import.meta.dirname, '../../dist/src/cli.js');

it('sets a password from stdin; refuses short ones and unknown users', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cbd-passwd-'));
  const db = join(dir, 'db.sqlite');
  writeFileSync(join(dir, 'f.yaml'), 'users:\n  - id: admin\n    role: admin\n');
  execFileSync('node', [CLI, 'import', join(dir, 'f.yaml'), '--db', db]);
  const run = (user: string, input: string) => spawnSync('node', [CLI, 'user', 'passwd', user, '--db', db], { input, encoding: 'utf8' });
  const short = run('admin', 'short\n');
  expect(short.status).toBe(2);
  expect(short.stderr).toMatch(/at least 8 characters/);
  expect(run('nobody', 'long enough one\n').stderr).toMatch(/no user "nobody"/);
  const good = run('admin', 'long enough one\n');
  expect(good.status, good.stderr).toBe(0);
  expect(good.stdout + good.stderr).not.toContain('long enough one');
  const d = openDb(db);
  const hash = (await passwordHashOf(d, 'admin'))!;
  expect(hash).toMatch(/^scrypt\$16384\$8\$1\$/);
  expect(await verifyPassword(hash, 'long enough one')).toBe(true);
  expect(await verifyPassword(hash, 'long enough two')).toBe(false);
  d.$client.close();
});
