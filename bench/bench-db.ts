// The lab benches' database, apart from the lab: the bench center (N agents with a phone each, one
// lead per agent, campaign B) imported through the CLI, plus STORED other callbacks, on SQLite (a
// file) or PostgreSQL (a real cluster from test/lab/postgres.ts). Prepared before the lab lock is
// taken: generating 10M rows takes minutes and needs no Asterisk.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { openDb } from '../src/store/db.js';
import { cli, tempDir } from '../test/lab/lab.js';
import { agentCenterImport } from '../test/lab/pg-cluster.js';
import { startPostgres, type PgLab } from '../test/lab/postgres.js';
import { generateCallbacks } from './generate.js';
import { explainDueQueries, generateCallbacksPg } from './pg-generate.js';

export type BenchEngine = 'sqlite' | 'pg';
export type BenchDatabase = { engine: 'sqlite'; path: string } | { engine: 'pg'; url: string };

export const benchAgents = (n: number) => Array.from({ length: n }, (_, i) => `bench${2001 + i}`);
/** The customer number of bench lead i. */
export const benchNumber = (i: number) => `+1555200${String(i).padStart(4, '0')}`;

export interface CenterOptions {
  n: number;
  trunk?: { max_channels: number; calls_per_second: number };
  dialOrder?: 'agent_first' | 'customer_first';
}

/** `callbackd import` of the bench center into `db` (a SQLite path or a PostgreSQL URL). */
export function importBenchCenter(dir: string, db: string, o: CenterOptions): void {
  const imp = agentCenterImport({
    campaign: 'B', name: 'Bench', agents: benchAgents(o.n), number: benchNumber, moreLists: ['L-B'],
    trunk: { id: 'carrier', ...(o.trunk ?? {}) }, outbound: '+15550100001', dialOrder: o.dialOrder,
  });
  const file = join(dir, 'bench.json');
  writeFileSync(file, JSON.stringify(imp));
  const r = cli(['import', file, '--db', db]);
  if (r.code !== 0) throw new Error(`import into the bench database failed: ${r.stderr}`);
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A fresh SQLite file with the center and `stored` other callbacks (bench/generate.ts); prints the generation time. */
export function sqliteBenchDb(dir: string, o: CenterOptions & { stored: number }): BenchDatabase {
  const path = join(dir, 'callbackd.db');
  importBenchCenter(dir, path, o);
  if (o.stored > 0) {
    const g = openDb(path);
    const t0 = performance.now();
    const lastEvent = (g.$client.prepare('SELECT coalesce(max(id), 0) m FROM events').get() as { m: number }).m;
    generateCallbacks(g, o.stored, { campaigns: ['B'], agents: benchAgents(o.n), now: Date.now(), allFuture: true, prefix: 'stored' });
    // The PostgreSQL generator writes no `callback.created` event per stored row (bench/pg-generate.ts): neither side keeps them.
    g.$client.prepare('DELETE FROM events WHERE id > ?').run(lastEvent);
    g.$client.pragma('wal_checkpoint(TRUNCATE)');
    g.$client.close();
    console.log(`  sqlite: ${o.stored} stored callbacks generated in ${secs(performance.now() - t0)}`);
  }
  return { engine: 'sqlite', path };
}

/**
 * One PostgreSQL cluster for a bench invocation, with a seed database (the center and `stored` other
 * callbacks, generated once); each phase gets its own copy (CREATE DATABASE … TEMPLATE), so phases
 * start from the same rows without generating them again.
 */
export class BenchPg {
  private constructor(readonly lab: PgLab, private readonly seedUrl: string) {}

  /** The seed database itself, for a bench of one phase. */
  get seed(): BenchDatabase {
    return { engine: 'pg', url: this.seedUrl };
  }

  /** Starts a cluster (or takes `o.cluster`, already started: stop() stops it too) and makes the seed. */
  static async start(dir: string, o: CenterOptions & { stored: number; explain?: boolean; cluster?: PgLab }): Promise<BenchPg> {
    const s = o.cluster ? { ok: true as const, lab: o.cluster } : startPostgres();
    if (!s.ok) throw new Error(`PostgreSQL could not start: ${s.reason}`);
    let ok = false;
    try {
      const seed = await s.lab.createDatabase();
      importBenchCenter(dir, seed, o);
      if (o.stored > 0) {
        const ms = await generateCallbacksPg(seed, o.stored, {
          campaigns: ['B'], agents: benchAgents(o.n), now: Date.now(), prefix: 'stored',
          onProgress: (what, at) => console.log(`  pg: ${what} after ${secs(at)}`),
        });
        console.log(`  pg: ${o.stored} stored callbacks (and their leads) generated in ${secs(ms)}, indexes and VACUUM ANALYZE included`);
      }
      if (o.explain) {
        for (const e of await explainDueQueries(seed, s.lab.dir, Date.now())) console.log(`  EXPLAIN ${e.name}:\n${e.plan.replace(/^/gm, '      ')}`);
      }
      ok = true;
      return new BenchPg(s.lab, seed);
    } finally {
      if (!ok) s.lab.stop();
    }
  }

  /** A copy of the seed database: its URL. */
  async copy(): Promise<BenchDatabase> {
    const seedName = new URL(this.seedUrl).pathname.slice(1);
    const name = `run_${Date.now().toString(36)}`;
    const c = new pg.Client({ connectionString: this.lab.url });
    await c.connect();
    try {
      const t0 = performance.now();
      // FILE_COPY: copies the files, not WAL-logs every block (PostgreSQL 15's default), much faster for gigabytes.
      await c.query(`CREATE DATABASE ${name} TEMPLATE ${seedName} STRATEGY FILE_COPY`);
      const ms = performance.now() - t0;
      if (ms > 2000) console.log(`  pg: seed database copied in ${secs(ms)}`);
    } finally {
      await c.end();
    }
    const u = new URL(this.lab.url);
    u.pathname = `/${name}`;
    return { engine: 'pg', url: u.toString() };
  }

  /** Drops a copy once its phase is over (gigabytes at 10M rows). */
  async drop(url: string): Promise<void> {
    const c = new pg.Client({ connectionString: this.lab.url });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
    } finally {
      await c.end();
    }
  }

  stop(): void {
    this.lab.stop();
  }
}

/**
 * The database of a one-phase bench (burst, vs-callfiles) on either engine, with no stored rows;
 * `done` stops the PostgreSQL cluster, if any.
 */
export async function oneBenchDatabase(engine: BenchEngine, o: CenterOptions): Promise<{ database: BenchDatabase; done: () => void }> {
  const dir = tempDir(`bench-db-${engine}`);
  if (engine === 'sqlite') return { database: sqliteBenchDb(dir, { ...o, stored: 0 }), done: () => undefined };
  const p = await BenchPg.start(dir, { ...o, stored: 0 });
  return { database: p.seed, done: () => p.stop() };
}

/** ENGINE and DAEMONS from a bench's arguments (default sqlite, 1). */
export function engineArgs(engine: string | undefined, daemons: string | undefined): { engine: BenchEngine; daemons: 1 | 2 } {
  const e = engine ?? 'sqlite';
  const d = Number(daemons ?? 1);
  if ((e !== 'sqlite' && e !== 'pg') || (d !== 1 && d !== 2) || (d === 2 && e !== 'pg')) throw new Error(`ENGINE sqlite|pg and DAEMONS 1|2 (2 on pg only), not ${e} ${d}`);
  return { engine: e, daemons: d };
}
