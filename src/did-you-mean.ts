import { z } from 'zod';

// "did you mean …" for a mistyped key in the config or an import file: the known keys come from
// the zod schema that refused it.

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row[j]!;
      row[j] = next;
    }
  }
  return row[b.length]!;
}

/** The candidate closest to `word`, if it is close enough to be a typo of it. */
export function closest(word: string, candidates: string[]): string | undefined {
  const scored = candidates.map((c) => ({ c, d: distance(word.toLowerCase(), c.toLowerCase()) })).sort((x, y) => x.d - y.d);
  const best = scored[0];
  return best && best.d <= Math.max(1, Math.floor(word.length / 3)) ? best.c : undefined;
}

/** The object schema found by following `path` (array indexes included) down from `schema`. */
function objectAt(schema: z.ZodTypeAny, path: (string | number)[]): z.AnyZodObject | undefined {
  let s: z.ZodTypeAny | undefined = schema;
  const unwrap = (t: z.ZodTypeAny): z.ZodTypeAny => {
    if (t instanceof z.ZodDefault) return unwrap(t._def.innerType);
    if (t instanceof z.ZodOptional || t instanceof z.ZodNullable) return unwrap(t.unwrap());
    if (t instanceof z.ZodEffects) return unwrap(t.innerType());
    return t;
  };
  for (const seg of path) {
    s = s ? unwrap(s) : undefined;
    if (s instanceof z.ZodArray && typeof seg === 'number') s = s.element;
    else if (s instanceof z.ZodObject && typeof seg === 'string') s = (s.shape as Record<string, z.ZodTypeAny>)[seg];
    else return undefined;
  }
  s = s ? unwrap(s) : undefined;
  return s instanceof z.ZodObject ? s : undefined;
}

/** " (did you mean 'password'?)" for an unrecognized-keys issue with a close known key, else ''. */
export function didYouMean(schema: z.ZodTypeAny, issue: z.ZodIssue): string {
  if (issue.code !== z.ZodIssueCode.unrecognized_keys) return '';
  const known = Object.keys(objectAt(schema, issue.path)?.shape ?? {});
  const hints = issue.keys.map((k) => [k, closest(k, known)] as const).filter(([, m]) => m);
  return hints.length ? ` (did you mean ${hints.map(([k, m]) => `'${m}' for '${k}'`).join(', ')}?)` : '';
}
