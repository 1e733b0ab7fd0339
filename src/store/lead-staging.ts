import type { Db } from './db.js';

// The CSV import's rows on their way into `leads`: checked rows are staged in a TEMP table (the
// connection's own temporary database, kept in a file, so neither memory nor the main database's
// write lock is taken while a big file is read), then copied into `leads` a chunk per transaction,
// so a running daemon writes between chunks. The staging table's unique id finds a lead listed twice.

export interface StagedLead {
  id: string;
  listId: string;
  firstName: string | null;
  lastName: string | null;
  phoneE164: string;
  timeZone: string | null;
  /** the lead's numbers in dial order, JSON [[e164, label, dnc 0|1, time_zone|null], …] */
  numbers: string;
}

export interface Staging {
  /** false when the id is staged already (listed twice in the file) */
  add(l: StagedLead): boolean;
  count(): number;
  /** Copies the staged leads into `leads`, `chunk` rows per transaction; existing ids are updated in place. */
  copy(chunk: number, updatedAt: number, onChunk?: (done: number) => void): { created: number; updated: number };
  drop(): void;
}

export function leadStaging(db: Db): Staging {
  const c = db.$client;
  c.pragma('temp_store = FILE');
  c.exec(`DROP TABLE IF EXISTS temp.csv_leads;
    CREATE TEMP TABLE csv_leads (n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, list_id TEXT NOT NULL, first_name TEXT, last_name TEXT, phone_e164 TEXT NOT NULL, time_zone TEXT, numbers TEXT NOT NULL)`);
  const ins = c.prepare('INSERT INTO temp.csv_leads (id, list_id, first_name, last_name, phone_e164, time_zone, numbers) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING');
  const existing = c.prepare('SELECT count(*) FROM temp.csv_leads s JOIN main.leads l ON l.id = s.id WHERE s.n > ? AND s.n <= ?').pluck();
  const move = c.prepare(`INSERT INTO main.leads (id, list_id, first_name, last_name, phone_e164, time_zone, updated_at)
    SELECT id, list_id, first_name, last_name, phone_e164, time_zone, ? FROM temp.csv_leads WHERE n > ? AND n <= ?
    ON CONFLICT (id) DO UPDATE SET list_id = excluded.list_id, first_name = excluded.first_name, last_name = excluded.last_name,
      phone_e164 = excluded.phone_e164, time_zone = excluded.time_zone, updated_at = excluded.updated_at`);
  // The bulk twin of lead-phones.ts writeLeadPhones (import.ts writes YAML leads with writeLeadsPhones): the lead's numbers are
  // replaced by the file's (position 1 = leads.phone_e164); import-csv.test.ts compares the two.
  const dropNumbers = c.prepare('DELETE FROM main.lead_phones WHERE lead_id IN (SELECT id FROM temp.csv_leads WHERE n > ? AND n <= ?)');
  const addNumbers = c.prepare(`INSERT INTO main.lead_phones (lead_id, position, e164, label, dnc, time_zone)
    SELECT s.id, j.key + 1, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'), json_extract(j.value, '$[3]')
    FROM temp.csv_leads s, json_each(s.numbers) j WHERE s.n > ? AND s.n <= ?`);
  const last = c.prepare('SELECT coalesce(max(n), 0) FROM temp.csv_leads').pluck();
  return {
    add: (l) => ins.run(l.id, l.listId, l.firstName, l.lastName, l.phoneE164, l.timeZone, l.numbers).changes === 1,
    count: () => last.get() as number,
    copy(chunk, updatedAt, onChunk) {
      const end = last.get() as number;
      let updated = 0;
      for (let from = 0; from < end; from += chunk) {
        c.transaction(() => {
          updated += existing.get(from, from + chunk) as number;
          move.run(updatedAt, from, from + chunk);
          dropNumbers.run(from, from + chunk);
          addNumbers.run(from, from + chunk);
        })();
        onChunk?.(Math.min(end, from + chunk));
      }
      return { created: end - updated, updated };
    },
    drop: () => c.exec('DROP TABLE IF EXISTS temp.csv_leads'),
  };
}

/** The ids of a table, for a did-you-mean on a mistyped --list or --campaign (at most 10,000). */
export function knownIds(db: Db, table: 'lists' | 'campaigns'): string[] {
  return db.$client.prepare(`SELECT id FROM ${table === 'lists' ? 'lists' : 'campaigns'} LIMIT 10000`).pluck().all() as string[];
}
