// One e2e suite's lab, written once: the real Asterisk brought up for the file (and server b's
// for a suite that asks), a fresh database with test/e2e/callcenter.yaml for each test (a SQLite file, or
// with `database: 'pg'` a database of a real PostgreSQL cluster started for the file), callbackd as
// child processes, SIPp peers, and one teardown. Outside CI a lab that cannot start skips the file
// loudly; with CI=true the suite runs and fails in beforeAll naming why (a suite whose real part
// cannot start never passes by skipping). describeIfLab is that gate alone, for a suite that sets
// the rest up itself (burst: bench/lab-bench.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect } from 'vitest';
import { attemptsOf, getCallback } from '../../src/store/callbacks.js';
import type { Engine } from '../../src/store/conn.js';
import { openDb, type Db } from '../../src/store/db.js';
import { openEngine } from '../../src/store/open-engine.js';
import { cli, DaemonProc, REPO, startAsterisk, startAsteriskB, stopAsterisk, stopAsteriskB, tempDir, tryLab, waitFor, type Sipp } from './lab.js';
import { startPgCenter, type PgCenter, type PgCenterOptions } from './pg-center.js';
import { postgresInstalled, startPostgres, type PgLab } from './postgres.js';

export interface LabGateOptions {
  /** How the skip warning names the suite ("hold suite"). */
  name: string;
  /** Something else the suite needs besides the lab (e.g. smtp-sink): why it is missing, or null. */
  needs?: () => string | null;
}

export interface LabSuiteOptions extends LabGateOptions {
  /** Prefix of each test's temporary directory. */
  prefix: string;
  /** Also the lab's second Asterisk (server b, README "Running several servers"), restarted before each test. */
  serverB?: boolean;
  /**
   * 'pg': one PostgreSQL cluster for the file (test/lab/postgres.ts), a new database in it for each
   * test; the daemons and the CLI get its URL. A cluster that cannot start is a missing part (skip
   * outside CI, fail with CI=true). Default 'sqlite': a file in the test's directory.
   */
  database?: 'sqlite' | 'pg';
  /** YAML imported after test/e2e/callcenter.yaml into each test's database. */
  extraImport?: string;
  /** Config overrides of a daemon started (not yet ready) before each test; omitted: the test starts it. */
  daemon?: Record<string, unknown>;
  /** The exit code SIGTERM must give after a test (null: not checked); default 0. */
  exitCode?: (testName: string) => number | null;
}

/** What a test of a lab suite uses; its fields are fresh for each test. */
export class LabTest {
  dir = '';
  /** What `--db` and a daemon's database take: the SQLite file, or on PostgreSQL the database's URL. */
  dbPath = '';
  /** The test's database through the store contract, on either engine. */
  engine!: Engine;
  /** The same database as a SQLite Db (its `$client` for raw SQL): SQLite suites only. */
  get db(): Db {
    if (this.engine.kind !== 'sqlite') throw new Error('this suite runs on PostgreSQL: use t.engine (the store contract), not t.db');
    return this.engine as Db;
  }
  /** The daemon the teardown stops (SIGTERM); a test may replace it. */
  daemon!: DaemonProc;
  /** More daemons (one per server, say) the teardown stops and checks as it does `daemon`. */
  readonly others: DaemonProc[] = [];
  /** SIPp processes the teardown kills. */
  readonly peers: Sipp[] = [];

  /** A daemon on this test's database and directory, not started. */
  newDaemon(extra?: Record<string, unknown>, env?: Record<string, string>): DaemonProc {
    return new DaemonProc({ db: this.dbPath, dir: this.dir, extra, env });
  }

  /** Starts a daemon (it becomes `daemon`) and waits until ARI is connected and presence is known. */
  async startDaemon(extra?: Record<string, unknown>): Promise<DaemonProc> {
    this.daemon = this.newDaemon(extra).start();
    await this.daemon.ready();
    return this.daemon;
  }

  /** `callbackd callback add --json ARGS` as another process would; its id. `quiet`: stderr must be empty too. */
  add(args: string[], o: { quiet?: boolean } = {}): number {
    const r = cli(['callback', 'add', '--db', this.dbPath, '--json', ...args]);
    if (o.quiet) expect(r.stderr).toBe('');
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout).id as number;
  }

  /** `callbackd import FILE` of YAML/JSON text into this test's database. */
  importText(name: string, text: string): void {
    const f = join(this.dir, name);
    writeFileSync(f, text);
    const r = cli(['import', f, '--db', this.dbPath]);
    expect(r.code, r.stderr).toBe(0);
  }

  async cb(id: number) {
    return (await getCallback(this.engine, id))!;
  }

  untilState(id: number, states: string[], ms = 20000) {
    return waitFor(`callback ${id} to reach ${states.join('/')}`, async () => states.includes((await this.cb(id)).state) && await this.cb(id), ms);
  }

  /** Waits until callback `id` is COMPLETED and its first attempt's end is recorded; that attempt. */
  untilCallEnded(id: number, ms = 30000) {
    return waitFor(`callback ${id}'s call to end`, async () => {
      const [a] = await attemptsOf(this.engine, id);
      return (await this.cb(id)).state === 'COMPLETED' && a?.durationMs != null && a;
    }, ms);
  }

  /** The port the daemon's HTTP API listens on (a free one each run), from its log. */
  apiPort(): Promise<number> {
    return waitFor('the API to listen', () => Number(/"port":(\d+),"msg":"HTTP API listening"/.exec(this.daemon.log)?.[1] ?? 0) || false);
  }
}

/**
 * `describe` if the lab is up: `body` registers the tests. Outside CI a lab that cannot start (or
 * a missing `needs`) skips the suite loudly; with CI=true the suite fails in beforeAll naming why.
 * The Asterisk tryLab started is stopped after the file.
 */
export function describeIfLab(title: string, o: LabGateOptions, body: () => void): void {
  const lab = tryLab();
  const missing = lab.ok ? (o.needs?.() ?? null) : lab.reason;
  const inCi = process.env.CI === 'true';
  if (missing && !inCi) console.warn(`\n*** ${o.name} SKIPPED: ${missing}\n*** (with CI=true this is a failure)\n`);

  describe.skipIf(missing !== null && !inCi)(title, () => {
    beforeAll(() => {
      if (missing) throw new Error(`the ${o.name} cannot start: ${missing}`);
    });
    afterAll(() => {
      if (lab.ok) stopAsterisk();
    });
    body();
  });
}

/**
 * `describe` on the lab: `body` registers the tests and gets the LabTest they share. The lab is
 * started once for the file, Asterisk (and server b's) restarted before each test (no registrations
 * or calls left from the last one), and after each test the daemons are stopped, the peers killed,
 * the database closed, and the daemons' logs printed if the test failed.
 */
export function describeOnLab(title: string, o: LabSuiteOptions, body: (t: LabTest) => void): void {
  // PostgreSQL's binaries are a part the suite needs (missing: skipped outside CI, failed in CI); the
  // cluster itself is started once for the file in beforeAll, so a file whose tests are all filtered
  // out (-t) starts none, and one that cannot start on a machine that has them fails.
  const needs = o.database !== 'pg' ? o.needs : needsPostgres(o.needs);
  describeIfLab(title, { ...o, needs }, () => {
    const t = new LabTest();
    const cluster = o.database === 'pg' ? clusterForFile(o.name) : undefined;
    if (o.serverB) afterAll(() => stopAsteriskB());
    beforeEach(async () => {
      startAsterisk();
      if (o.serverB) startAsteriskB();
      t.dir = tempDir(o.prefix);
      const pg = cluster?.lab;
      t.dbPath = pg ? await pg.createDatabase() : join(t.dir, 'callbackd.db');
      t.daemon = undefined as unknown as DaemonProc;
      t.engine = undefined as unknown as Engine;
      t.others.splice(0);
      const imp = cli(['import', join(REPO, 'test/e2e/callcenter.yaml'), '--db', t.dbPath]); // on PostgreSQL, migrates first
      expect(imp.code, imp.stderr).toBe(0);
      if (o.extraImport !== undefined) t.importText('extra.yaml', o.extraImport);
      t.engine = pg ? await openEngine({ url: t.dbPath }, { migrate: false }, {}) : openDb(t.dbPath);
      if (o.daemon) t.daemon = t.newDaemon(o.daemon).start();
    });
    afterEach(async (ctx) => {
      const daemons = [t.daemon as DaemonProc | undefined, ...t.others].filter((d): d is DaemonProc => d !== undefined);
      const codes = await Promise.all(daemons.map((d) => d.kill('SIGTERM')));
      const want = o.exitCode ? o.exitCode(ctx.task.name) : 0;
      t.peers.splice(0).forEach((p) => p.stop());
      await (t.engine as Engine | undefined)?.close();
      if (ctx.task.result?.state === 'fail') for (const d of daemons) console.error(`--- daemon log (${t.dir}) ---\n${d.log.slice(-8000)}`);
      if (want !== null) expect(codes, 'exit codes after SIGTERM').toEqual(codes.map(() => want));
    });
    body(t);
  });
}

/** `needs` plus PostgreSQL's binaries: missing, the suite is skipped outside CI and failed with CI=true. */
const needsPostgres = (needs?: () => string | null) => () => needs?.() ?? postgresInstalled();

/**
 * A PostgreSQL cluster for the file (test/lab/postgres.ts), started in beforeAll (a file whose tests
 * are all filtered out with -t starts none) and stopped after it. Register inside the suite's describe.
 */
function clusterForFile(name: string): { readonly lab: PgLab } {
  let pg: PgLab | undefined;
  beforeAll(() => {
    const s = startPostgres();
    if (!s.ok) throw new Error(`the ${name} cannot start PostgreSQL: ${s.reason}`);
    pg = s.lab;
  });
  afterAll(() => pg?.stop());
  return {
    get lab() {
      if (!pg) throw new Error('no PostgreSQL cluster (see beforeAll)');
      return pg;
    },
  };
}

/**
 * A suite on one PostgreSQL call center for the whole file (test/lab/pg-center.ts: the lab, a cluster,
 * agents, a carrier, daemons started by the tests), gated as describeOnLab: started before the tests,
 * closed after them with the cluster. `t.center` and `t.pg` are the started ones (read them inside tests).
 */
export function describeOnPgCenter(title: string, name: string, o: PgCenterOptions, body: (t: { readonly center: PgCenter; readonly pg: PgLab }) => void): void {
  describeIfLab(title, { name: `${name} suite`, needs: needsPostgres() }, () => {
    const cluster = clusterForFile(`${name} suite`);
    let center: PgCenter | undefined;
    beforeAll(async () => {
      center = await startPgCenter(cluster.lab, o);
    }, 180_000);
    afterAll(async () => {
      await center?.close();
    });
    body({
      get center() {
        if (!center) throw new Error('no PostgreSQL center (see beforeAll)');
        return center;
      },
      get pg() {
        return cluster.lab;
      },
    });
  });
}
