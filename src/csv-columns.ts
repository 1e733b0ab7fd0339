import { closest } from './did-you-mean.js';

// Which CSV column feeds which lead field, decided from the header row before any row is read, so a
// typo in the header or in --map is one clear message, not a million bad rows. Pure: no I/O.

/** `--map "phone=Phone Number,first_name=First"`: field → column, as the admin typed them. */
export function parseMap(text: string | undefined): { map: Map<string, string> } | { error: string } {
  const map = new Map<string, string>();
  if (!text?.trim()) return { map };
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const field = part.slice(0, eq).trim();
    const column = part.slice(eq + 1).trim();
    if (eq < 0 || !field || !column) return { error: `--map: "${part.trim()}" is not FIELD=COLUMN (e.g. --map "phone=Phone Number,first_name=First")` };
    if (map.has(field)) return { error: `--map: ${field} is mapped twice` };
    map.set(field, column);
  }
  return { map };
}

/** "First Name", " first-name " and "FIRST_NAME" all name the field first_name; "Phone 2" names phone2. */
export const normalizeHeader = (h: string): string =>
  h.trim().toLowerCase().replace(/[\s-]+/g, '_').replace(/_(\d+)$/, '$1');

/** A name that contains the other ("Phone Number" for phone, last_name for last), or else a close spelling. */
function suggest(word: string, candidates: string[]): string | undefined {
  const w = normalizeHeader(word);
  return candidates.find((c) => w.length > 2 && (normalizeHeader(c).includes(w) || w.includes(normalizeHeader(c)))) ?? closest(word, candidates);
}

export interface ColumnPlan {
  /** field → index of its column in each row */
  columns: Map<string, number>;
  /** the header name of each column (for messages) */
  header: string[];
}

export interface PlanInput {
  header: string[];
  /** every lead field a column may fill */
  fields: readonly string[];
  /** fields every row must have a column for */
  required: readonly string[];
  map: Map<string, string>;
  /** how messages list the fields (default: all of them) */
  fieldsText?: string;
  /** columns that are not a field: refused (named, with did-you-mean) unless this is set */
  ignoreExtra: boolean;
}

/** Every header problem at once (missing, unknown, doubled columns, bad --map entries), or the plan. */
export function planColumns(p: PlanInput): { plan: ColumnPlan } | { problems: string[] } {
  const problems: string[] = [];
  const header = p.header.map((h) => h.trim());
  const fieldList = p.fieldsText ?? p.fields.join(', ');
  const indexOf = new Map<string, number>();
  header.forEach((h, i) => {
    if (!h) return;
    if (indexOf.has(h)) problems.push(`column "${h}" appears twice in the header`);
    else indexOf.set(h, i);
  });
  const columns = new Map<string, number>();
  for (const [field, column] of p.map) {
    if (!p.fields.includes(field)) {
      const m = suggest(field, [...p.fields]);
      problems.push(`--map: ${field} is not a lead field${m ? ` (did you mean '${m}'?)` : ''}; the fields are ${fieldList}`);
      continue;
    }
    const i = indexOf.get(column) ?? header.findIndex((h) => h.toLowerCase() === column.toLowerCase());
    if (i < 0) {
      const m = suggest(column, header.filter(Boolean));
      problems.push(`--map ${field}=${column}: no column "${column}" in the header${m ? ` (did you mean "${m}"?)` : ''}`);
      continue;
    }
    columns.set(field, i);
  }
  const mappedColumns = new Set(columns.values());
  // Columns not named in --map feed the field of their own name.
  header.forEach((h, i) => {
    if (!h || mappedColumns.has(i) || indexOf.get(h) !== i) return;
    const field = normalizeHeader(h);
    if (p.fields.includes(field) && !p.map.has(field) && !columns.has(field)) columns.set(field, i);
    else if (p.fields.includes(field) && columns.get(field) !== i) {
      if (!p.ignoreExtra) problems.push(`column "${h}" is ${field}, which --map or another column already fills; drop one, or pass --ignore-extra-columns`);
    } else if (!p.fields.includes(field) && !p.ignoreExtra) {
      const m = suggest(field, [...p.fields]);
      problems.push(
        `column "${h}" is not a lead field${m ? ` (did you mean '${m}'? --map ${m}="${h}")` : ''}; map it with --map FIELD="${h}", or pass --ignore-extra-columns (the fields are ${fieldList})`,
      );
    }
  });
  for (const field of p.required) {
    if (columns.has(field) || p.map.has(field)) continue;
    const m = suggest(field, header.filter((h, i) => h && !mappedColumns.has(i)));
    problems.push(`no column for ${field}: name a column "${field}" or map one with --map ${field}=COLUMN${m ? ` (did you mean --map ${field}="${m}"?)` : ''}`);
  }
  return problems.length ? { problems } : { plan: { columns, header } };
}

/** One row as a lead entry: the mapped cells, trimmed; an empty cell is a field not given. */
export function rowEntry(plan: ColumnPlan, row: string[], defaults: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, i] of plan.columns) {
    const v = (row[i] ?? '').trim();
    if (v) out[field] = v;
  }
  for (const [k, v] of Object.entries(defaults)) if (!(k in out)) out[k] = v;
  return out;
}
