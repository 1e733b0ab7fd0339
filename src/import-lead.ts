import { z } from 'zod';
import { phoneE164, type Path } from './import-check.js';
import { Id, Phone, strict, Zone } from './import-fields.js';
import type { NewLeadPhone } from './store/lead-phones.js';
import { PHONE_LABELS } from './store/schema.js';

// One lead, as the YAML import (`leads:`, src/import.ts) and the CSV import (a row, src/import-csv.ts)
// both take it: the same schema and the same checks, so the same lead gets the same messages.

/** Numbers per lead: ipSCAPE has 3, VICIdial 3 plus ALT/ADDR3; 10 leaves room without inviting lists. */
export const MAX_LEAD_PHONES = 10;

/** One of a lead's numbers (`phones:`): dialed in the order listed; its own DNC flag and zone. */
export const LeadPhoneEntry = strict({
  number: Phone,
  label: z.enum(PHONE_LABELS).default('mobile'),
  time_zone: Zone.optional(),
  dnc: z.boolean().default(false),
});

/** One lead as an admin writes it: a `leads:` entry of an import file, or a row of a CSV (src/import-csv.ts). */
export const LeadEntry = strict({
  id: Id,
  list: Id,
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  /** One number; or `phones` for several (exactly one of the two). */
  phone: Phone.optional(),
  phones: z.array(LeadPhoneEntry).min(1, 'give at least one number').max(MAX_LEAD_PHONES, `at most ${MAX_LEAD_PHONES} numbers per lead`).optional(),
  time_zone: Zone.optional(),
});
export type LeadEntry = z.infer<typeof LeadEntry>;

/** A problem of one lead: the field, and within it where (`phones` → [2, 'number']). */
export type LeadProblem = { field: keyof LeadEntry; at?: Path; message: string };

/**
 * The checks of one lead beyond its schema, the same for the YAML and the CSV import: its list must
 * be known; `phone` or `phones` (not both, not neither); every number must read as a number (E.164,
 * or national in the region of its list's campaign) and appear once. `numbers` are in dial order
 * (null when any is wrong); `e164` is the first.
 */
export function checkLeadRefs(l: LeadEntry, listKnown: boolean, region: string): { e164: string | null; numbers: NewLeadPhone[] | null; problems: LeadProblem[] } {
  const problems: LeadProblem[] = [];
  if (!listKnown) problems.push({ field: 'list', message: `no list "${l.list}"` });
  const numbers: NewLeadPhone[] = [];
  if (l.phone !== undefined && l.phones !== undefined) problems.push({ field: 'phones', message: 'give phone (one number) or phones (several), not both' });
  else if (l.phone === undefined && l.phones === undefined) problems.push({ field: 'phone', message: 'a lead needs phone (one number) or phones (several)' });
  else if (l.phone !== undefined) {
    const r = phoneE164(l.phone, region);
    if (r.ok) numbers.push({ e164: r.e164, label: 'mobile', dnc: false, timeZone: null });
    else problems.push({ field: 'phone', message: r.error });
  } else {
    l.phones!.forEach((p, k) => {
      const r = phoneE164(p.number, region);
      if (!r.ok) problems.push({ field: 'phones', at: [k, 'number'], message: r.error });
      else if (numbers.some((n) => n.e164 === r.e164)) problems.push({ field: 'phones', at: [k, 'number'], message: `${r.e164} is listed twice for this lead` });
      else numbers.push({ e164: r.e164, label: p.label, dnc: p.dnc, timeZone: p.time_zone ?? null });
    });
  }
  const ok = problems.every((p) => p.field === 'list') && numbers.length > 0;
  return { e164: ok ? numbers[0]!.e164 : null, numbers: ok ? numbers : null, problems };
}

/** The stored row of a checked lead (its numbers are written by storeLead). */
export const leadRow = (l: LeadEntry, e164: string, now: number) => ({
  id: l.id,
  listId: l.list,
  firstName: l.first_name ?? null,
  lastName: l.last_name ?? null,
  phoneE164: e164,
  timeZone: l.time_zone ?? null,
  updatedAt: now,
});
