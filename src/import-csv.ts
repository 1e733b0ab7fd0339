import { parse } from 'csv-parse';
import { createReadStream, statSync } from 'node:fs';
import { z } from 'zod';
import { planColumns, rowEntry, type ColumnPlan } from './csv-columns.js';
import { closest } from './did-you-mean.js';
import { CallbackdError, ErrorCodes, messageOf } from './errors.js';
import { checkLeadRefs, LeadEntry, leadRow, MAX_LEAD_PHONES, type LeadProblem } from './import-lead.js';
import type { Conn } from './store/conn.js';
import * as dir from './store/directory.js';
import { knownIds, leadStaging, type StagedLead, type Staging } from './store/lead-staging.js';

// CSV lead import (README "Import leads from CSV"): the header is checked first, then every row with
// the YAML import's own lead checks (LeadEntry, checkLeadRefs), streaming, so memory stays bounded
// whatever the file's size. Good rows are staged (src/store/lead-staging.ts, both engines); only when
// the whole file is read and all is well (or --skip-bad) are they copied into `leads`, in transactions
// of `batchRows` so a running daemon's own writes go in between them.

export interface CsvLeadOptions {
  /** the list of rows without a `list` column (or with that cell empty) */
  list?: string;
  /** create `list` in this campaign when it does not exist yet */
  campaign?: string;
  /** field → CSV column (README "Import leads from CSV") */
  map: Map<string, string>;
  skipBad: boolean;
  ignoreExtraColumns: boolean;
  batchRows: number;
  now: number;
  progress?: (p: Progress) => void;
}

export interface Progress {
  phase: 'checking' | 'writing';
  rows: number;
  bytes: number;
  totalBytes: number;
}

export interface CsvLeadResult {
  file: string;
  rows: number;
  created: number;
  updated: number;
  skipped: number;
  /** the first problems, one line each ("line 12 (L7): column "Phone" (phone): …") */
  problems: string[];
  problemRows: number;
  listCreated: string | null;
}

/** Problems told in full; past this many only counted (a million bad rows must not fill memory). */
export const MAX_PROBLEMS = 100;

/** A lead's numbers as columns: phone, phone2 … phone10, dialed in that order (`phones:` in YAML). */
const PHONE_COLUMNS = ['phone', ...Array.from({ length: MAX_LEAD_PHONES - 1 }, (_, k) => `phone${k + 2}`)];
/** The CSV's fields: a lead's own (LeadEntry) with `phones` spread over PHONE_COLUMNS. */
const FIELDS = [...Object.keys(LeadEntry.shape).filter((f) => f !== 'phones' && f !== 'time_zone'), ...PHONE_COLUMNS.slice(1), 'time_zone'];
const REQUIRED = ['id', 'list', 'phone'];
const FIELDS_TEXT = `id, list, first_name, last_name, phone, phone2 … ${PHONE_COLUMNS.at(-1)}, time_zone`;

const invalid = (message: string, lines?: string[]) => new CallbackdError(ErrorCodes.IMPORT_INVALID, message, lines);

interface Row {
  line: number;
  cells: string[];
}

/** Reads the file's records with the line each starts on; the first one is the header. */
async function* records(file: string, onBytes: (n: number) => void): AsyncGenerator<Row> {
  const input = createReadStream(file);
  // csv-parse counts a CR and an LF inside quotes as two lines: lines are counted here from the raw text.
  const parser = input.pipe(parse({ bom: true, raw: true, relax_column_count: true, skip_empty_lines: false }));
  input.on('error', (err) => parser.destroy(err));
  let line = 1;
  try {
    for await (const r of parser as AsyncIterable<{ record: string[]; raw: string }>) {
      const start = line;
      line += 1 + (r.raw.replace(/\r?\n$|\r$/, '').match(/\n/g)?.length ?? 0);
      onBytes(input.bytesRead);
      if (r.record.length === 1 && r.record[0] === '') continue; // an empty line
      yield { line: start, cells: r.record };
    }
  } catch (err) {
    const at = (err as { lines?: number }).lines;
    throw invalid(`${file}${at ? `: line ${at}` : ''}: not readable as CSV: ${messageOf(err)}`);
  }
}

/** Where a list's leads go and how their national numbers are read. */
interface ListInfo {
  campaignId: string;
  region: string;
}

/**
 * The list facts a row needs, looked up once per list (a file has a few lists and many rows).
 * `load` asks the database (async); `get` answers from what was loaded, so the per-row check stays
 * synchronous and asks the database nothing.
 */
function listLookup(db: Conn, pending: { list: string; campaignId: string } | null) {
  const cache = new Map<string, ListInfo | null>();
  return {
    async load(id: string): Promise<void> {
      if (cache.has(id)) return;
      const campaignId = pending?.list === id ? pending.campaignId : (await dir.getList(db, id))?.campaignId;
      const c = campaignId ? await dir.getCampaign(db, campaignId) : undefined;
      cache.set(id, campaignId ? { campaignId, region: c?.defaultRegion ?? 'US' } : null);
    },
    get: (id: string): ListInfo | null => cache.get(id) ?? null,
  };
}

/** --list and --campaign, checked before any row: the list to create, if any. */
async function targetList(db: Conn, o: CsvLeadOptions): Promise<{ list: string; campaignId: string } | null> {
  if (o.campaign && !await dir.getCampaign(db, o.campaign)) throw invalid(`--campaign: no campaign "${o.campaign}"${await hint(db, 'campaigns', o.campaign)}`);
  if (!o.list) {
    if (o.campaign) throw invalid('--campaign names the campaign of a new --list; give --list too');
    return null;
  }
  const existing = await dir.getList(db, o.list);
  if (existing && o.campaign && existing.campaignId !== o.campaign) throw invalid(`--list ${o.list} is in campaign "${existing.campaignId}", not "${o.campaign}"`);
  if (existing) return null;
  if (!o.campaign) throw invalid(`--list: no list "${o.list}"${await hint(db, 'lists', o.list)}; give --campaign C to create it`);
  return { list: o.list, campaignId: o.campaign };
}

async function hint(db: Conn, table: 'lists' | 'campaigns', id: string): Promise<string> {
  const m = closest(id, await knownIds(db, table));
  return m ? ` (did you mean "${m}"?)` : '';
}

/** A zod issue on a row, in an admin's words. */
function issueText(issue: z.ZodIssue): string {
  return issue.code === z.ZodIssueCode.invalid_type && issue.received === 'undefined' ? 'is empty' : issue.message;
}

type Checked = { ok: true; lead: StagedLead; where: string } | { ok: false; problems: string[] };

/**
 * A row's cells as a YAML `leads:` entry: one number stays `phone`; several become `phones` in column
 * order (labelled mobile). `from[k]` is the field the k-th number came from, to name it in problems.
 */
function leadEntry(cells: Record<string, string>): { entry: Record<string, unknown>; from: string[] } {
  const from = PHONE_COLUMNS.filter((f) => cells[f] !== undefined);
  const entry: Record<string, unknown> = Object.fromEntries(Object.entries(cells).filter(([k]) => !PHONE_COLUMNS.includes(k)));
  if (from.length === 1) entry.phone = cells[from[0]!];
  else if (from.length > 1) entry.phones = from.map((f) => ({ number: cells[f] }));
  return { entry, from };
}

/** One row through the YAML import's lead checks ("listed twice" within the file is found when it is staged). */
function checkRow(plan: ColumnPlan, row: Row, defaults: Record<string, string>, listOf: (id: string) => ListInfo | null): Checked {
  const cells = rowEntry(plan, row.cells, defaults);
  const where = `line ${row.line}${cells.id ? ` (${cells.id})` : ''}`;
  if (row.cells.length !== plan.header.length) return { ok: false, problems: [`${where}: has ${row.cells.length} cells, the header has ${plan.header.length}`] };
  const { entry, from } = leadEntry(cells);
  const col = (field: string, at?: readonly PropertyKey[]) => {
    const f = field === 'phones' && typeof at?.[0] === 'number' ? (from[at[0]] ?? 'phone') : field === 'phones' ? 'phone' : field;
    const i = plan.columns.get(f);
    return i === undefined ? (f === 'list' ? '--list' : f) : `column "${plan.header[i]}" (${f})`;
  };
  const r = LeadEntry.safeParse(entry);
  if (!r.success) return { ok: false, problems: r.error.issues.map((i) => `${where}: ${col(String(i.path[0]), i.path.slice(1))}: ${issueText(i)}`) };
  const info = listOf(r.data.list);
  const refs = checkLeadRefs(r.data, info !== null, info?.region ?? 'US');
  const problems = refs.problems.map((p: LeadProblem) => `${where}: ${col(p.field, p.at)}: ${p.message}`);
  if (problems.length || !refs.e164 || !refs.numbers) return { ok: false, problems };
  const { updatedAt: _, ...lead } = leadRow(r.data, refs.e164, 0);
  return { ok: true, lead: { ...lead, numbers: refs.numbers }, where: `${where}: ${col('id')}` };
}

/** Checks every row, staging the good ones (nothing is written to `leads` yet); the problems told. */
async function stage(db: Conn, file: string, o: CsvLeadOptions, pending: { list: string; campaignId: string } | null, staging: Staging) {
  const totalBytes = statSync(file).size;
  let bytes = 0;
  const out = { rows: 0, problemRows: 0, problems: [] as string[] };
  let untold = 0;
  const listOf = listLookup(db, pending);
  const defaults: Record<string, string> = o.list ? { list: o.list } : {};
  let plan: ColumnPlan | null = null;
  let batch: Row[] = [];
  const flush = async () => {
    for (const row of batch) {
      const list = rowEntry(plan!, row.cells, defaults).list;
      if (typeof list === 'string') await listOf.load(list);
    }
    const checked = batch.map((row) => checkRow(plan!, row, defaults, listOf.get));
    const good = checked.flatMap((c) => (c.ok ? [c] : []));
    // One transaction per batch (stageLeads): the checking above took no lock.
    const twice = await staging.add(good.map((c) => c.lead));
    const listedTwice = new Set([...twice].map((i) => good[i]!));
    for (const c of checked) {
      const problems = !c.ok ? c.problems : listedTwice.has(c) ? [`${c.where}: lead ${c.lead.id} is listed twice in the file`] : [];
      if (!problems.length) continue;
      out.problemRows++;
      for (const p of problems) if (out.problems.length < MAX_PROBLEMS) out.problems.push(p);
      else untold++;
    }
    out.rows += batch.length;
    batch = [];
    o.progress?.({ phase: 'checking', rows: out.rows, bytes, totalBytes });
  };
  for await (const row of records(file, (n) => (bytes = n))) {
    if (!plan) {
      const r = planColumns({ header: row.cells, fields: FIELDS, required: REQUIRED.filter((f) => !(f === 'list' && o.list)), map: o.map, ignoreExtra: o.ignoreExtraColumns, fieldsText: FIELDS_TEXT });
      if ('problems' in r) throw invalid(`${file}: the header (line ${row.line}) has ${r.problems.length} problem(s), nothing imported:\n  ${r.problems.join('\n  ')}`, r.problems);
      plan = r.plan;
      continue;
    }
    batch.push(row);
    if (batch.length >= o.batchRows) await flush();
  }
  if (batch.length) await flush();
  if (!plan) throw invalid(`${file} is empty: give a header row (id,list,first_name,last_name,phone,time_zone; phone2 … phone10 for more numbers) and one lead per row`);
  if (out.rows === 0) throw invalid(`${file} has a header and no rows: nothing to import`);
  if (untold) out.problems.push(`… and ${untold} more problem(s): ${out.problemRows} bad row(s) in all`);
  return out;
}

/** Checks the whole file; then, all well (or --skip-bad), writes its good rows. Either engine. */
export async function importCsvLeads(db: Conn, file: string, o: CsvLeadOptions): Promise<CsvLeadResult> {
  try {
    statSync(file);
  } catch (err) {
    throw invalid(`cannot read ${file}: ${messageOf(err)}`);
  }
  const pending = await targetList(db, o);
  const staging = await leadStaging(db, o.now);
  try {
    const checked = await stage(db, file, o, pending, staging);
    const good = staging.count();
    if (checked.problemRows && !o.skipBad) {
      throw invalid(`${file}: ${checked.problemRows} of ${checked.rows} row(s) have problems, nothing imported (--skip-bad imports the others):\n  ${checked.problems.join('\n  ')}`, checked.problems);
    }
    if (good === 0) throw invalid(`${file}: every one of its ${checked.rows} row(s) has a problem, nothing imported:\n  ${checked.problems.join('\n  ')}`, checked.problems);
    if (pending) await dir.upsertList(db, { id: pending.list, campaignId: pending.campaignId, name: pending.list, updatedAt: o.now });
    // Existing leads (same id) are updated in place, as the YAML import does.
    const { created, updated } = await staging.copy(o.batchRows, o.now, (done) => o.progress?.({ phase: 'writing', rows: done, bytes: done, totalBytes: good }));
    return { file, rows: checked.rows, created, updated, skipped: checked.problemRows, problems: checked.problems, problemRows: checked.problemRows, listCreated: pending?.list ?? null };
  } finally {
    await staging.drop();
  }
}
