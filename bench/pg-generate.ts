// generateCallbacks (bench/generate.ts) for PostgreSQL, in SQL: millions of rows through one client
// round trip per chunk (INSERT … SELECT generate_series), not a row per statement. The same rows as
// the SQLite generator's `allFuture` shape: one lead per callback, ACTIVE, due 30+ days ahead (never
// due during a bench), a third USERONLY owned round-robin by the given agents.
// A bulk load, the way PostgreSQL's manual advises (14.4, "Populating a Database"): the rows are known
// good, so the session runs with triggers and foreign-key checks off (session_replication_role =
// replica) and the tables' secondary indexes are dropped and built again from their own definitions
// at the end, in the same transaction. Measured at 200,000 rows: 24 s as plain inserts, 10 s without
// triggers, 5 s with the indexes built afterwards. Without triggers the stored callbacks have no
// `callback.created` event; sqliteBenchDb (bench/bench-db.ts) removes the SQLite generator's so the
// engines hold the same rows.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { liveReady, nextWakeAt, promoteDue } from '../src/store/callbacks.js';
import { openPgEngine } from '../src/store/pg/engine.js';

export interface PgGenerateOptions {
  campaigns: string[];
  agents: string[];
  now: number;
  prefix?: string;
  /** Rows per INSERT statement (default 1,000,000): progress to print between them. */
  chunk?: number;
  onProgress?: (what: string, ms: number) => void;
}

/** Inserts `n` leads and their callbacks; ms spent (including VACUUM ANALYZE, so the planner knows the new size). */
export async function generateCallbacksPg(url: string, n: number, o: PgGenerateOptions): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const t0 = performance.now();
  try {
    // The lab cluster already runs with fsync off; this session also skips waiting for its WAL flush.
    await c.query('SET synchronous_commit = off');
    await c.query("SET maintenance_work_mem = '256MB'");
    await c.query('SET session_replication_role = replica');
    await c.query('BEGIN');
    // Secondary indexes only: those backing a constraint (primary keys) stay.
    const indexes = (
      await c.query<{ name: string; def: string }>(
        `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i
         WHERE i.indrelid IN ('callbacks'::regclass, 'leads'::regclass) AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)`,
      )
    ).rows;
    for (const x of indexes) await c.query(`DROP INDEX ${x.name}`);
    const chunk = o.chunk ?? 1_000_000;
    const prefix = o.prefix ?? 'lead';
    for (let from = 0; from < n; from += chunk) {
      const to = Math.min(n, from + chunk) - 1;
      // $1 first, $2 last index, $3 prefix, $4 campaigns, then the agents and now. Arrays are 1-based.
      await c.query(
        `INSERT INTO leads (id, list_id, phone_e164, updated_at)
         SELECT $3::text || i, 'L-' || ($4::text[])[1 + i % cardinality($4::text[])], '+1555' || right((1000000 + i)::text, 7), $5::bigint
         FROM generate_series($1::bigint, $2::bigint) AS i`,
        [from, to, prefix, o.campaigns, o.now],
      );
      await c.query(
        `INSERT INTO callbacks (lead_id, campaign_id, type, owner_agent_id, due_at, due_zone, state, attempts, max_attempts, created_at, updated_at)
         SELECT $3::text || i, ($4::text[])[1 + i % cardinality($4::text[])],
           CASE WHEN i % 3 = 0 THEN 'USERONLY' ELSE 'ANYONE' END,
           CASE WHEN i % 3 = 0 THEN ($5::text[])[1 + i % cardinality($5::text[])] END,
           $6::bigint + 30::bigint * 86400000 + i * 1000, 'America/New_York', 'ACTIVE', 0, 3, $6::bigint, $6::bigint
         FROM generate_series($1::bigint, $2::bigint) AS i`,
        [from, to, prefix, o.campaigns, o.agents, o.now],
      );
      o.onProgress?.(`${to + 1} rows`, performance.now() - t0);
    }
    for (const x of indexes) await c.query(x.def);
    o.onProgress?.(`${indexes.length} indexes built`, performance.now() - t0);
    await c.query('COMMIT');
    await c.query('VACUUM ANALYZE leads');
    await c.query('VACUUM ANALYZE callbacks');
    return performance.now() - t0;
  } finally {
    await c.end();
  }
}

/**
 * The plans PostgreSQL chose for the scheduler's due queries, as the store itself sends them: the real
 * promoteDue, nextWakeAt and liveReady run once on a fresh engine while auto_explain (contrib, in
 * Debian's package) logs every plan with its timings into the cluster's server.log, read back here.
 * Nothing is due, so promoteDue changes no row.
 */
export async function explainDueQueries(url: string, clusterDir: string, now: number): Promise<{ name: string; plan: string }[]> {
  const db = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const log = join(clusterDir, 'server.log');
  const from = statSync(log).size;
  try {
    // Per-database settings reach only sessions opened afterwards: the engine's, below.
    await admin.query(`ALTER DATABASE ${db} SET session_preload_libraries = 'auto_explain'`);
    await admin.query(`ALTER DATABASE ${db} SET auto_explain.log_min_duration = 0`);
    await admin.query(`ALTER DATABASE ${db} SET auto_explain.log_analyze = on`);
    const e = await openPgEngine(url, { migrate: false, poolSize: 1 });
    try {
      await promoteDue(e, now);
      await nextWakeAt(e, now);
      await liveReady(e, now, 50);
    } finally {
      await e.close();
    }
  } finally {
    await admin.query(`ALTER DATABASE ${db} RESET ALL`);
    await admin.end();
  }
  // Each plan: a "LOG:  duration: … plan:" line, then its lines until the next timestamped line.
  const text = readFileSync(log, 'utf8').slice(from);
  const blocks = text.split(/^(?=\d{4}-\d\d-\d\d )/m).filter((b) => /LOG:\s+duration: [\d.]+ ms\s+plan:/.test(b) && /\bcallbacks\b/.test(b));
  const named = [
    ['promoteDue', /^\s*Query Text: update "callbacks"/im],
    ['nextWakeAt (ACTIVE)', /^\s*Query Text: select min\("(?:callbacks"\.")?due_at"\)/im],
    ['nextWakeAt (LIVE)', /^\s*Query Text: select min\("(?:callbacks"\.")?next_attempt_at"\)/im],
    ['liveReady', /^\s*Query Text: select .* from "callbacks" where \("callbacks"\."state" = \$1 and "callbacks"\."next_attempt_at" <= \$2\)/im],
  ] as const;
  return blocks.map((b) => ({ name: named.find(([, re]) => re.test(b))?.[0] ?? 'other', plan: b.trim() }));
}
