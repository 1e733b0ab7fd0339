import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

// `callbackd start` as systemd runs it (the built bin): once the daemon logs, a fatal start-up
// error is one JSON line in that stream (journald keeps it whole), never a plain-text stack.

const CLI = resolve(import.meta.dirname, '../../dist/src/cli.js');

describe('callbackd start: a fatal start-up error', () => {
  it('is one JSON line at level fatal, and the exit code says it was not a usage mistake', () => {
    expect(existsSync(CLI), 'build first: npm run build').toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'cbd-start-'));
    // A database whose tables clash with the first migration: it cannot be brought up to date.
    const db = join(dir, 'clash.db');
    const raw = new Database(db);
    raw.exec('CREATE TABLE trunks (x TEXT)');
    raw.close();
    const cfg = join(dir, 'callbackd.yaml');
    writeFileSync(cfg, [`database: { path: ${JSON.stringify(db)} }`, 'ari: { url: "http://127.0.0.1:9", password: x }', 'ami: { port: 9, secret: x }', 'api: { port: 0 }', 'agi: { enabled: false }'].join('\n'), { mode: 0o600 });
    const r = spawnSync(process.execPath, [CLI, 'start', '-c', cfg], { encoding: 'utf8', timeout: 30_000 });
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines, r.stderr).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 60, service: 'callbackd', pid: r.pid, code: 'DB_MIGRATION', msg: expect.stringMatching(/migration 0001_init\.sql failed: table trunks already exists/) });
    expect(r.stdout).toBe('');
    expect(r.status).toBe(1);
  });
});
