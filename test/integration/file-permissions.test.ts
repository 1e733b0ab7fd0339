import { chmodSync, existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupDb, openDb } from '../../src/store/db.js';
import { runCli } from './cli-run.js';

// The database holds people's names, numbers and notes: it, its -wal and -shm files and backups
// are created readable by their owner only, whatever the umask (README "Configuration", SECURITY.md).

const mode = (f: string) => (statSync(f).mode & 0o777).toString(8);

describe('file permissions', () => {
  it('a new database and its -wal and -shm files are 0600, also under umask 000', () => {
    const old = process.umask(0);
    try {
      const dir = mkdtempSync(join(tmpdir(), 'cbd-perm-'));
      const path = join(dir, 'callbackd.db');
      const db = openDb(path);
      db.$client.prepare("INSERT INTO trunks (id, updated_at) VALUES ('t', 1)").run(); // something in the WAL
      expect(existsSync(`${path}-wal`)).toBe(true);
      expect([mode(path), mode(`${path}-wal`), mode(`${path}-shm`)]).toEqual(['600', '600', '600']);
      db.$client.close();
    } finally {
      process.umask(old);
    }
  });

  it("an existing database keeps the mode its admin gave it; a backup is a new 0600 file and never overwrites one", async () => {
    const old = process.umask(0);
    try {
      const dir = mkdtempSync(join(tmpdir(), 'cbd-perm-'));
      const path = join(dir, 'callbackd.db');
      openDb(path).$client.close();
      chmodSync(path, 0o640);
      const db = openDb(path);
      expect(mode(path)).toBe('640');
      const copy = join(dir, 'copy.db');
      await backupDb(db, copy);
      expect(mode(copy)).toBe('600');
      expect(openDb(copy, { readonly: true }).$client.prepare('SELECT count(*) n FROM schema_migrations').get()).toMatchObject({ n: expect.any(Number) });
      writeFileSync(join(dir, 'taken.db'), 'keep me');
      await expect(backupDb(db, join(dir, 'taken.db'))).rejects.toThrow(/EEXIST/);
      db.$client.close();
    } finally {
      process.umask(old);
    }
  });

  it('callbackd backup writes a 0600 copy (the CLI, as an admin runs it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cbd-perm-'));
    const path = join(dir, 'callbackd.db');
    openDb(path).$client.close();
    const old = process.umask(0o022);
    try {
      const r = await runCli(['backup', join(dir, 'b.db'), '--db', path]); // in this process: no build needed
      expect(r.code, r.stderr).toBe(0);
    } finally {
      process.umask(old);
    }
    expect(mode(join(dir, 'b.db'))).toBe('600');
  });
});
