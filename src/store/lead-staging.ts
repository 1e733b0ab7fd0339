import { randomUUID } from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import type { Conn } from './conn.js';
import { all, op, run, sqliteClient, transaction } from './engine.js';
import type { NewLeadPhone } from './lead-phones.js';

// The CSV import's rows on their way into `leads` (sql/0026_lead_import_staging.sql), one body for both
// engines: checked rows are staged under the import's id, a batch per transaction (the file is read
// meanwhile, so no transaction lasts longer than one batch), and only when the whole file is read and good
// are they copied into `leads` and `lead_phones`, a chunk per transaction, so a running daemon writes
// between chunks. The staging's unique (import, lead id) finds a lead listed twice in the file.
//
// Why staging and not upserts straight from the file: "all or nothing" means nothing is written before the
// last row is checked, and memory must not follow the file; without staging that is a second pass over the
// file (parsing and libphonenumber again: they are most of an import's time, README "Import leads from
// CSV") plus a set of every id in memory to find doubles. The figures with staging, both engines, are in
// the README (bench/csv-import.ts).
//
// Plain SQL (engine.ts `all`/`run`): the statements are the same text on both engines (only how many rows
// one INSERT carries differs: insertRows), and these tables are the import's scratch space, not part of
// the store's model (c.t).

export interface StagedLead {
  id: string;
  listId: string;
  firstName: string | null;
  lastName: string | null;
  phoneE164: string;
  timeZone: string | null;
  /** the lead's numbers in dial order (position 1 = phoneE164) */
  numbers: readonly NewLeadPhone[];
}

/** Rows per INSERT: 8 parameters each (7 per number), far below both engines' limits (32766, 65535). */
const ROWS_PER_STATEMENT = 1000;
/** Rows per DELETE when an import's leftovers are removed: short transactions, a daemon writes between them. */
const DROP_CHUNK = 10_000;
/** A killed import's staged rows are removed by a later import once they are this old. */
export const STALE_IMPORT_MS = 86_400_000;

/** The staged rows (from, to] of an import; `alias` = the table's alias with its dot. */
function range(importId: string, from: number, to: number, alias = ''): SQL {
  const a = sql.raw(alias);
  return sql`${a}import_id = ${importId} AND ${a}n > ${from} AND ${a}n <= ${to}`;
}

/** Removes an import's staged rows (in chunks) and the import itself. */
export const dropLeadImport = op('dropLeadImport', async (c: Conn, importId: string): Promise<void> => {
  const top = Number((await all<{ n: number | string | null }>(c, sql`SELECT max(n) AS n FROM lead_import_rows WHERE import_id = ${importId}`))[0]?.n ?? 0);
  for (let from = 0; from < top; from += DROP_CHUNK) {
    await transaction(c, async (tx) => {
      await run(tx, sql`DELETE FROM lead_import_phones WHERE ${range(importId, from, from + DROP_CHUNK)}`);
      await run(tx, sql`DELETE FROM lead_import_rows WHERE ${range(importId, from, from + DROP_CHUNK)}`);
    });
  }
  await run(c, sql`DELETE FROM lead_imports WHERE id = ${importId}`);
});

/** A new import's id; first removes what imports killed more than STALE_IMPORT_MS ago left behind. */
export const beginLeadImport = op('beginLeadImport', async (c: Conn, now: number): Promise<string> => {
  const stale = await all<{ id: string }>(c, sql`SELECT id FROM lead_imports WHERE started_at < ${now - STALE_IMPORT_MS}`);
  for (const s of stale) await dropLeadImport(c, s.id);
  const id = randomUUID();
  await run(c, sql`INSERT INTO lead_imports (id, started_at) VALUES (${id}, ${now})`);
  return id;
});

const ROWS_INTO = 'lead_import_rows (import_id, n, id, list_id, first_name, last_name, phone_e164, time_zone)';
const PHONES_INTO = 'lead_import_phones (import_id, n, position, e164, label, dnc, time_zone)';

/**
 * `INSERT INTO ${into} VALUES … ${tail}` of many rows (each an array of values, its n second); for each
 * row, whether it went in (false: ON CONFLICT … DO NOTHING kept it out).
 *
 * The one place the engines differ, for speed. PostgreSQL: a multi-row VALUES per ROWS_PER_STATEMENT rows
 * (every statement is a round trip), RETURNING n. SQLite: one prepared statement run per row (no round
 * trips to save): building a 1000-row VALUES through drizzle's sql template costs more than SQLite's
 * insert itself — with it the SQLite import of 100,000 rows ran at 6,065 rows/s, against 11,278 for the
 * TEMP-table import before (bench/csv-import.ts, one after the other, 2026-11-28, load ~6).
 */
async function insertRows(c: Conn, into: string, tail: string, rows: readonly unknown[][]): Promise<boolean[]> {
  if (rows.length === 0) return [];
  if (c.kind === 'sqlite') {
    const st = sqliteClient(c).prepare(`INSERT INTO ${into} VALUES (${rows[0]!.map(() => '?').join(', ')}) ${tail}`);
    return rows.map((r) => st.run(...r).changes === 1);
  }
  const went: boolean[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const part = rows.slice(i, i + ROWS_PER_STATEMENT);
    const values = sql.join(part.map((r) => sql`(${sql.join(r.map((v) => sql`${v}`), sql`, `)})`), sql`, `);
    const kept = new Set((await all<{ n: number }>(c, sql`INSERT INTO ${sql.raw(into)} VALUES ${values} ${sql.raw(tail)} RETURNING n`)).map((r) => Number(r.n)));
    for (const r of part) went.push(kept.has(r[1] as number));
  }
  return went;
}

/**
 * Stages `rows` numbered firstN, firstN+1, … in one transaction. Returns the indexes (into `rows`) not
 * staged because their lead id is staged already (listed twice in the file; the first one stays).
 */
export const stageLeads = op('stageLeads', async (c: Conn, importId: string, firstN: number, rows: readonly StagedLead[]): Promise<Set<number>> => {
  const twice = new Set<number>();
  await transaction(c, async (tx) => {
    const went = await insertRows(
      tx,
      ROWS_INTO,
      'ON CONFLICT (import_id, id) DO NOTHING',
      rows.map((l, k) => [importId, firstN + k, l.id, l.listId, l.firstName, l.lastName, l.phoneE164, l.timeZone]),
    );
    const phones: unknown[][] = [];
    rows.forEach((l, k) => {
      if (!went[k]) twice.add(k);
      else l.numbers.forEach((p, j) => phones.push([importId, firstN + k, j + 1, p.e164, p.label ?? 'mobile', p.dnc ? 1 : 0, p.timeZone ?? null]));
    });
    await insertRows(tx, PHONES_INTO, '', phones);
  });
  return twice;
});

/**
 * Copies the staged rows numbered (from, to] into `leads` (existing ids updated in place, as the YAML
 * import does) and replaces those leads' numbers with the staged ones — the bulk twin of writeLeadsPhones
 * (store/import-csv.test.ts compares the two) — then forgets them; one transaction. Returns the rows
 * copied and how many of them were leads already.
 */
export const copyStagedLeads = op('copyStagedLeads', async (c: Conn, importId: string, from: number, to: number, updatedAt: number): Promise<{ copied: number; updated: number }> =>
  transaction(c, async (tx) => {
    const existing = await all<{ n: number | string }>(tx, sql`SELECT count(*) AS n FROM lead_import_rows s JOIN leads l ON l.id = s.id WHERE ${range(importId, from, to, 's.')}`);
    const copied = await run(
      tx,
      sql`INSERT INTO leads (id, list_id, first_name, last_name, phone_e164, time_zone, updated_at)
        SELECT id, list_id, first_name, last_name, phone_e164, time_zone, CAST(${updatedAt} AS BIGINT) FROM lead_import_rows WHERE ${range(importId, from, to)}
        ON CONFLICT (id) DO UPDATE SET list_id = excluded.list_id, first_name = excluded.first_name, last_name = excluded.last_name,
          phone_e164 = excluded.phone_e164, time_zone = excluded.time_zone, updated_at = excluded.updated_at`,
    );
    await run(tx, sql`DELETE FROM lead_phones WHERE lead_id IN (SELECT id FROM lead_import_rows WHERE ${range(importId, from, to)})`);
    await run(
      tx,
      sql`INSERT INTO lead_phones (lead_id, position, e164, label, dnc, time_zone)
        SELECT r.id, p.position, p.e164, p.label, p.dnc, p.time_zone FROM lead_import_phones p JOIN lead_import_rows r ON r.import_id = p.import_id AND r.n = p.n
        WHERE ${range(importId, from, to, 'p.')}`,
    );
    await run(tx, sql`DELETE FROM lead_import_phones WHERE ${range(importId, from, to)}`);
    await run(tx, sql`DELETE FROM lead_import_rows WHERE ${range(importId, from, to)}`);
    return { copied, updated: Number(existing[0]?.n ?? 0) };
  }));

/** One import's staging: rows numbered as they are staged; copied in chunks; dropped at the end whatever happened. */
export interface Staging {
  /** Stages a batch; the indexes (into `rows`) of leads listed twice in the file. */
  add(rows: readonly StagedLead[]): Promise<Set<number>>;
  /** rows staged so far */
  count(): number;
  /** Copies the staged leads into `leads`, `chunk` rows per transaction; existing ids are updated in place. */
  copy(chunk: number, updatedAt: number, onChunk?: (done: number) => void): Promise<{ created: number; updated: number }>;
  drop(): Promise<void>;
}

export async function leadStaging(c: Conn, now: number): Promise<Staging> {
  const id = await beginLeadImport(c, now);
  // n is handed out per row offered (a row listed twice leaves a gap), so chunks are ranges of n.
  let next = 1;
  let staged = 0;
  return {
    async add(rows) {
      const twice = await stageLeads(c, id, next, rows);
      next += rows.length;
      staged += rows.length - twice.size;
      return twice;
    },
    count: () => staged,
    async copy(chunk, updatedAt, onChunk) {
      let done = 0;
      let updated = 0;
      for (let from = 0; from < next - 1; from += chunk) {
        const r = await copyStagedLeads(c, id, from, from + chunk, updatedAt);
        done += r.copied;
        updated += r.updated;
        onChunk?.(done);
      }
      return { created: done - updated, updated };
    },
    drop: () => dropLeadImport(c, id),
  };
}

/** The ids of a table, for a did-you-mean on a mistyped --list or --campaign (at most 10,000). */
export const knownIds = op('knownIds', async (c: Conn, table: 'lists' | 'campaigns'): Promise<string[]> => {
  const t = table === 'lists' ? c.t.lists : c.t.campaigns;
  return (await c.q.select({ id: t.id }).from(t).limit(10_000)).map((r) => r.id);
});
