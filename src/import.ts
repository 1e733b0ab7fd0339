import { readFileSync } from 'node:fs';
import { CallbackdError, ErrorCodes, messageOf } from './errors.js';
import { checkEntries, formatProblems, knownIn, phoneE164, readSource, serverNames, type Checked, type Path, type Problem, type Source } from './import-check.js';
import { checkLeadRefs } from './import-lead.js';
import { ImportSchema, trunksOf, type ImportFile } from './import-schema.js';
import { writeImport, type ImportCounts } from './import-write.js';
import type { Conn } from './store/conn.js';
import { transaction } from './store/engine.js';
import * as dir from './store/directory.js';
import type { NewLeadPhone } from './store/lead-phones.js';

// The import file (README "Import file"): read, every problem found at once (schema: import-schema.ts,
// via import-check.ts; references and duplicates: here), then written in one transaction
// (import-write.ts) — nothing written unless all is well.
export { ImportSchema, type ImportFile } from './import-schema.js';
export type { ImportCounts } from './import-write.js';

/** Parses and checks an import file's text; throws IMPORT_INVALID listing every schema problem. */
export function parseImport(text: string, source: string): ImportFile {
  const src = sourceOf(text, source);
  const { ok, problems } = checkEntries(ImportSchema, src.raw);
  if (problems.length) throw invalid(src, problems, '');
  return plain(ok);
}

function sourceOf(text: string, name: string): Source {
  const src = readSource(text, name);
  if ('error' in src) throw new CallbackdError(ErrorCodes.IMPORT_INVALID, src.error);
  const raw = src.raw as Record<string, unknown[] | null> | null;
  const empty = raw === null || raw === undefined || (typeof raw === 'object' && Object.values(raw).every((v) => Array.isArray(v) && v.length === 0));
  if (empty) throw new CallbackdError(ErrorCodes.IMPORT_INVALID, `${name} has nothing to import (an empty file, or only empty sections)`);
  return src;
}

function invalid(src: Source, problems: Problem[], tail: string): CallbackdError {
  const lines = formatProblems(src, problems);
  return new CallbackdError(ErrorCodes.IMPORT_INVALID, `${src.name}: ${lines.length} problem(s), nothing imported${tail}:\n  ${lines.join('\n  ')}`, lines);
}

const plain = (c: Checked<ImportFile>): ImportFile => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, (v as { v: unknown }[]).map((e) => e.v)])) as ImportFile;
const indexed = (f: ImportFile): Checked<ImportFile> =>
  Object.fromEntries(Object.entries(f).map(([k, v]) => [k, (v as unknown[]).map((e, i) => ({ i, v: e }))])) as Checked<ImportFile>;

/** References and duplicates: every problem of the entries that passed their schema. */
async function referenceProblems(tx: Conn, f: Checked<ImportFile>, raw: unknown): Promise<{ problems: Problem[]; leadPhones: Map<number, NewLeadPhone[]>; dncNumbers: Map<number, string> }> {
  const problems: Problem[] = [];
  const known = knownIn(tx, raw);
  const knownServers = await serverNames(tx, raw);
  const need = (ok: boolean, path: Path, message: string) => ok || problems.push({ path, message });
  // for-of, not forEach: `known` may ask the database, and each answer is awaited in file order.
  for (const { i, v: n } of f.numbers) for (const t of trunksOf(n)) need(await known('trunks', t), ['numbers', i, 'trunk'], `no trunk "${t}"`);
  const server = async (path: Path, id: string | undefined) => id === undefined || need(await known('servers', id), path, `no server "${id}"${knownServers.suggest(id)}`);
  for (const { i, v: t } of f.trunks) await server(['trunks', i, 'server'], t.server);
  for (const { i, v: p } of f.phones) await server(['phones', i, 'server'], p.server);
  for (const { i, v: c } of f.campaigns) need(!c.outbound_number || await known('numbers', c.outbound_number), ['campaigns', i, 'outbound_number'], `${c.outbound_number} is not in numbers`);
  for (const { i, v: l } of f.lists) need(await known('campaigns', l.campaign), ['lists', i, 'campaign'], `no campaign "${l.campaign}"`);
  for (const { i, v: a } of f.agents) for (const c of a.campaigns) need(await known('campaigns', c), ['agents', i, 'campaigns'], `no campaign "${c}"`);
  for (const { i, v: p } of f.phones) need(await known('agents', p.agent), ['phones', i, 'agent'], `no agent "${p.agent}"`);
  for (const { i, v: u } of f.users) {
    if (u.role === 'agent') need(await known('agents', u.agent ?? u.id), ['users', i, 'agent'], `no agent "${u.agent ?? u.id}"`);
    for (const c of u.campaigns) need(await known('campaigns', c), ['users', i, 'campaigns'], `no campaign "${c}"`);
  }
  for (const { i, v: d } of f.dnc) need(!d.campaign || await known('campaigns', d.campaign), ['dnc', i, 'campaign'], `no campaign "${d.campaign}"`);
  // Every number is stored in E.164; national ones are read in their campaign's region.
  // Asked once per campaign and per list (not per lead: 10,000 leads of one list are one lookup).
  const regions = new Map<string, Promise<string>>();
  const regionOfCampaign = async (id: string | undefined): Promise<string> => {
    if (!id) return 'US';
    if (!regions.has(id)) regions.set(id, (async () => (f.campaigns.find((c) => c.v.id === id)?.v.default_region ?? (await dir.getCampaign(tx, id))?.defaultRegion) || 'US')());
    return regions.get(id)!;
  };
  const listCampaigns = new Map<string, Promise<string | undefined>>();
  const campaignOfList = (id: string): Promise<string | undefined> => {
    if (!listCampaigns.has(id)) listCampaigns.set(id, (async () => f.lists.find((l) => l.v.id === id)?.v.campaign ?? (await dir.getList(tx, id))?.campaignId)());
    return listCampaigns.get(id)!;
  };
  const e164 = (out: Map<number, string>, i: number, path: Path, typed: string, region: string) => {
    const r = phoneE164(typed, region);
    if (r.ok) out.set(i, r.e164);
    else problems.push({ path, message: r.error });
  };
  const leadPhones = new Map<number, NewLeadPhone[]>();
  for (const { i, v: l } of f.leads) {
    const r = checkLeadRefs(l, await known('lists', l.list), await regionOfCampaign(await campaignOfList(l.list)));
    for (const p of r.problems) problems.push({ path: ['leads', i, p.field, ...(p.at ?? [])], message: p.message });
    if (r.numbers) leadPhones.set(i, r.numbers);
  }
  const dncNumbers = new Map<number, string>();
  for (const { i, v: d } of f.dnc) e164(dncNumbers, i, ['dnc', i, 'number'], d.number, d.region ?? await regionOfCampaign(d.campaign));
  const dup = <T>(section: keyof ImportFile, entries: { i: number; v: T }[], key: (v: T) => string) => {
    const seen = new Set<string>();
    for (const { i, v } of entries) {
      const k = key(v);
      if (seen.has(k)) problems.push({ path: [section, i], message: 'listed twice' });
      seen.add(k);
    }
  };
  dup('servers', f.servers, (s) => s.id);
  dup('trunks', f.trunks, (t) => t.id);
  dup('numbers', f.numbers, (n) => n.number);
  dup('campaigns', f.campaigns, (c) => c.id);
  dup('lists', f.lists, (l) => l.id);
  dup('agents', f.agents, (a) => a.id);
  dup('phones', f.phones, (p) => p.endpoint);
  dup('leads', f.leads, (l) => l.id);
  dup('users', f.users, (u) => u.id);
  return { problems, leadPhones, dncNumbers };
}

/** Writes the whole file in one transaction: on any error nothing is written. */
export async function applyImport(db: Conn, f: ImportFile, now: number): Promise<ImportCounts> {
  return transaction(db, async (tx) => {
    const checked = indexed(f);
    const r = await referenceProblems(tx, checked, f);
    if (r.problems.length) {
      const lines = formatProblems({ name: '', doc: null, lines: null, raw: f }, r.problems);
      throw new CallbackdError(ErrorCodes.IMPORT_INVALID, `${lines.length} problem(s), nothing imported:\n  ${lines.join('\n  ')}`, lines);
    }
    return await writeImport(tx, f, r.leadPhones, r.dncNumbers, now);
  });
}

/** Reads, checks and writes an import file: every problem at once, in file order; nothing written unless all is well. */
export async function importFile(db: Conn, path: string, now: number): Promise<ImportCounts> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CallbackdError(ErrorCodes.IMPORT_INVALID, `cannot read ${path}: ${messageOf(err)}`);
  }
  const src = sourceOf(text, path);
  return transaction(db, async (tx) => {
    const { ok, problems } = checkEntries(ImportSchema, src.raw);
    const refs = await referenceProblems(tx, ok, src.raw);
    if (problems.length || refs.problems.length) throw invalid(src, [...problems, ...refs.problems], '');
    return await writeImport(tx, plain(ok), refs.leadPhones, refs.dncNumbers, now);
  });
}
