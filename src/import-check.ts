import { LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { closest, didYouMean } from './did-you-mean.js';
import { allServers, getServer } from './store/servers.js';
import { DEFAULT_SERVER } from './domain/server-placement.js';
import { toE164 } from './domain/phone-number.js';
import type { Conn } from './store/conn.js';
import * as dir from './store/directory.js';

// Everything wrong with an import file, found in one pass and told in file order with line numbers:
// each entry is checked against its section's schema on its own (so one bad entry hides nothing
// else), then every reference (a list's campaign, a phone's agent…) against the file and the database.

export type Path = (string | number)[];
export interface Problem {
  path: Path;
  message: string;
}

/** A parsed file: the YAML document (for line numbers) and its plain value. */
export interface Source {
  name: string;
  doc: Document | null;
  lines: LineCounter | null;
  raw: unknown;
}

export function readSource(text: string, name: string): Source | { error: string } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length) return { error: `${name} is not valid YAML/JSON: ${doc.errors[0]!.message}` };
  return { name, doc, lines, raw: doc.toJS() };
}

/** Entries that passed their schema, each with its index in the file. */
export type Checked<T> = { [K in keyof T]: T[K] extends (infer E)[] ? { i: number; v: E }[] : never };

/** Checks each entry of each section with `schema` (an object of arrays of entries), on its own. */
export function checkEntries<S extends z.AnyZodObject>(schema: S, raw: unknown): { ok: Checked<z.infer<S>>; problems: Problem[] } {
  const problems: Problem[] = [];
  const ok = Object.fromEntries(Object.keys(schema.shape).map((k) => [k, []])) as Record<string, { i: number; v: unknown }[]>;
  if (raw === null || raw === undefined) return { ok: ok as Checked<z.infer<S>>, problems };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push({ path: [], message: 'must be a mapping of sections like `campaigns:` and `leads:` (see README "Import file"); CSV is not read' });
    return { ok: ok as Checked<z.infer<S>>, problems };
  }
  for (const [section, entries] of Object.entries(raw)) {
    const arr = (schema.shape as Record<string, z.ZodTypeAny>)[section];
    if (!arr) {
      const issue = { code: z.ZodIssueCode.unrecognized_keys, keys: [section], path: [], message: '' } as z.ZodIssue;
      problems.push({ path: [section], message: `not a section of an import file${didYouMean(schema, issue)}` });
      continue;
    }
    if (!Array.isArray(entries)) {
      if (entries !== null) problems.push({ path: [section], message: 'must be a list of entries (- id: …)' });
      continue;
    }
    const element = ((arr instanceof z.ZodDefault ? arr._def.innerType : arr) as z.ZodArray<z.ZodTypeAny>).element;
    entries.forEach((e, i) => {
      const r = element.safeParse(e);
      if (r.success) ok[section]!.push({ i, v: r.data });
      else for (const issue of r.error.issues) problems.push({ path: [section, i, ...issue.path], message: issue.message + didYouMean(element, issue) });
    });
  }
  return { ok: ok as Checked<z.infer<S>>, problems };
}

/** "leads[3] (L7).phone": the entry (with its id) and field an admin must fix. */
export function describePath(raw: unknown, path: Path): string {
  let out = '';
  let node: unknown = raw;
  for (const seg of path) {
    node = node && typeof node === 'object' ? (node as Record<string | number, unknown>)[seg] : undefined;
    if (typeof seg === 'number') {
      out += `[${seg}]`;
      const o = node && typeof node === 'object' ? (node as Record<string, unknown>) : undefined;
      const key = o?.id ?? o?.endpoint ?? o?.number;
      if (typeof key === 'string' || typeof key === 'number') out += ` (${key})`;
    } else out += out ? `.${seg}` : seg;
  }
  return out || '(top level)';
}

/** The line the path points at (or its nearest existing parent), if known. */
function lineOf(src: Source, path: Path): number | null {
  if (!src.doc || !src.lines) return null;
  for (let p = path; ; p = p.slice(0, -1)) {
    const node = p.length ? src.doc.getIn(p, true) : src.doc.contents;
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return src.lines.linePos(range[0]).line;
    if (p.length === 0) return null;
  }
}

/** One line per problem, in file order: "line 12: leads[3] (L7).phone: not a phone number". */
export function formatProblems(src: Source, problems: Problem[]): string[] {
  return problems
    .map((p, k) => ({ k, line: lineOf(src, p.path), text: `${describePath(src.raw, p.path)}: ${p.message}` }))
    .sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || a.k - b.k)
    .map((p) => (p.line === null ? p.text : `line ${p.line}: ${p.text}`));
}

/** A phone typed in the file: text, or a number YAML read from an unquoted +15551230001 or 2125550101. */
export function phoneE164(typed: string, region: string): ReturnType<typeof toE164> {
  const r = toE164(typed, region);
  if (r.ok || !/^\d+$/.test(typed)) return r;
  // An unquoted +44… arrives as the number 44…: read it back as international when national fails.
  const intl = toE164(`+${typed}`, region);
  return intl.ok ? intl : r;
}

/** Does `id` exist in the file (any entry, even a bad one) or in the database? */
export function knownIn(tx: Conn, raw: unknown) {
  const inFile = (section: string, key: string) =>
    new Set(((raw as Record<string, unknown> | null)?.[section] as Record<string, unknown>[] | undefined ?? []).filter((e) => e && typeof e === 'object').map((e) => String(e[key])));
  const ids = {
    servers: inFile('servers', 'id'),
    trunks: inFile('trunks', 'id'),
    numbers: inFile('numbers', 'number'),
    campaigns: inFile('campaigns', 'id'),
    lists: inFile('lists', 'id'),
    agents: inFile('agents', 'id'),
  };
  // Each id is asked of the database once: 10,000 leads of one list are one lookup, not 10,000 (a round trip each on PostgreSQL).
  const asked = new Map<string, Promise<boolean>>();
  const inDb = (table: keyof typeof ids, id: string): Promise<boolean> => {
    const k = `${table}\u0000${id}`;
    let p = asked.get(k);
    if (!p) asked.set(k, (p = table === 'servers' ? getServer(tx, id).then((s) => !!s) : dir.exists(tx, table, id)));
    return p;
  };
  return async (table: keyof typeof ids, id: string) =>
    ids[table].has(id) || (table === 'numbers' && ids.numbers.has(id.replace(/^\+/, ''))) || (table === 'servers' && id === DEFAULT_SERVER) || await inDb(table, id);
}

/** Every server id in the file or the database, and "; did you mean …?" for a mistyped one. */
export async function serverNames(tx: Conn, raw: unknown): Promise<{ suggest: (id: string) => string }> {
  const inFile = ((raw as Record<string, unknown> | null)?.servers as Record<string, unknown>[] | undefined ?? [])
    .filter((e) => e && typeof e === 'object' && e.id !== undefined)
    .map((e) => String(e.id));
  const all = [...new Set([...inFile, ...(await allServers(tx)).map((s) => s.id), DEFAULT_SERVER])];
  return {
    suggest: (id) => {
      const near = closest(id, all);
      return near ? `; did you mean "${near}"?` : ` (servers: ${all.join(', ')})`;
    },
  };
}
