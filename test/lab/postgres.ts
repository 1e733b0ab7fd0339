// A real PostgreSQL per test file (test/lab/postgres.sh: Debian's package, initdb in a temp directory,
// 127.0.0.1 on a free port). Outside CI a machine that cannot start one skips its suites loudly;
// with CI=true the suite fails instead (the caller's beforeAll throws).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'postgres.sh');
const SCRIPT_SRC = SCRIPT.replace(/\/dist\/test\/lab\//, '/test/lab/');

export interface PgLab {
  /** The superuser URL of the cluster's `postgres` database. */
  url: string;
  dir: string;
  /** A new, empty database; its URL. */
  createDatabase(): Promise<string>;
  /** An outage: the server stops (pg_ctl -m MODE), the data stays; `resume` starts it again on the same port. */
  halt(mode: 'fast' | 'immediate'): void;
  resume(): void;
  stop(): void;
}

export type PgStart = { ok: true; lab: PgLab } | { ok: false; reason: string };

export const inCi = process.env.CI === 'true';

/** Debian's PostgreSQL binaries are there (installed now if missing and we are root); why not, or null. */
export function postgresInstalled(): string | null {
  const r = spawnSync('bash', [SCRIPT_SRC, 'install'], { encoding: 'utf8', timeout: 300_000 });
  return r.status === 0 ? null : `test/lab/postgres.sh install failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`;
}

export function startPostgres(): PgStart {
  const r = spawnSync('bash', [SCRIPT_SRC, 'start'], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) return { ok: false, reason: `test/lab/postgres.sh start failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-5).join(' | ')}` };
  const [dir, url] = r.stdout.trim().split('\n');
  if (!dir || !url?.startsWith('postgres://')) return { ok: false, reason: `test/lab/postgres.sh printed no URL: ${r.stdout}` };
  let stopped = false;
  return {
    ok: true,
    lab: {
      url,
      dir,
      async createDatabase() {
        const name = `t_${randomBytes(6).toString('hex')}`;
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          await c.query(`CREATE DATABASE ${name}`);
        } finally {
          await c.end();
        }
        const u = new URL(url);
        u.pathname = `/${name}`;
        return u.toString();
      },
      halt(mode) {
        const h = spawnSync('bash', [SCRIPT_SRC, 'halt', dir, mode], { encoding: 'utf8' });
        if (h.status !== 0) throw new Error(`postgres.sh halt failed (exit ${h.status}): ${h.stderr}`);
      },
      resume() {
        const h = spawnSync('bash', [SCRIPT_SRC, 'resume', dir], { encoding: 'utf8', timeout: 90_000 });
        if (h.status !== 0) throw new Error(`postgres.sh resume failed (exit ${h.status}): ${h.stderr}`);
      },
      stop() {
        if (stopped) return;
        stopped = true;
        spawnSync('bash', [SCRIPT_SRC, 'stop', dir], { encoding: 'utf8' });
      },
    },
  };
}

/** Starts the cluster for a suite: the reason it is skipped (outside CI), or a throw (CI). */
export function pgForSuite(): PgStart {
  const s = startPostgres();
  if (!s.ok) {
    if (inCi) throw new Error(`PostgreSQL could not start (CI=true, so this fails): ${s.reason}`);
    console.warn(`\n*** PostgreSQL suite SKIPPED: ${s.reason}\n*** (with CI=true this is a failure)\n`);
  }
  return s;
}
