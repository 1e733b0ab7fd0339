import { DateTime, IANAZone } from 'luxon';

export type DueParse = { ok: true; dueAt: number; zone: string } | { ok: false; error: string };

const RELATIVE = /^\+(\d+)(s|m|h|d)$/;
/** Nothing is booked further ahead than this, whatever a campaign allows (max_days_ahead ≤ 3650): dates stay far inside what a Date holds. */
export const MAX_DUE_AHEAD_MS = 3660 * 86_400_000;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

// Luxon builds an Intl.DateTimeFormat for every check (the CSV import's top cost per row): the valid
// names, a few hundred at most, are remembered.
const validZones = new Set<string>();
export function isValidZone(zone: string): boolean {
  if (validZones.has(zone)) return true;
  const ok = IANAZone.isValidZone(zone);
  if (ok) validZones.add(zone);
  return ok;
}

/**
 * Parses a due time typed by a person: "+10m" / "+2h" / "+1d" relative to now, an ISO instant with
 * an offset ("2026-11-26T14:00:00-05:00", "...Z"), or an ISO wall-clock time without offset, read in
 * `zone`. A wall-clock time that does not exist (spring-forward gap) or exists twice (fall-back
 * overlap) is refused with the two readings, never silently shifted.
 */
export function parseDue(input: string, zone: string, now: number): DueParse {
  const text = input.trim();
  if (!isValidZone(zone)) return { ok: false, error: `unknown time zone "${zone}" (use an IANA name like America/New_York)` };
  const rel = RELATIVE.exec(text);
  if (rel) {
    const n = Number(rel[1]);
    return aheadCheck(now + n * UNIT_MS[rel[2] as keyof typeof UNIT_MS], input, now, zone);
  }
  if (text === 'now') return { ok: true, dueAt: now, zone };
  const hasOffset = /(Z|[+-]\d\d:?\d\d)$/i.test(text);
  if (hasOffset) {
    const dt = DateTime.fromISO(text, { setZone: true });
    if (!dt.isValid) return { ok: false, error: `"${input}" is not an ISO 8601 time (${dt.invalidExplanation ?? dt.invalidReason})` };
    return pastCheck(dt.toMillis(), input, now, zone);
  }
  const local = DateTime.fromISO(text, { zone });
  if (!local.isValid) {
    return { ok: false, error: `"${input}" is not a time: use +10m, +2h, an ISO time like 2026-11-26T14:00 (read in ${zone}), or one with an offset` };
  }
  const wall = DateTime.fromObject(
    { year: local.year, month: local.month, day: local.day, hour: local.hour, minute: local.minute, second: local.second },
    { zone },
  );
  const sameWall = (d: DateTime) => d.hour === local.hour && d.minute === local.minute;
  // Luxon moves a nonexistent time forward; detect it by reading the wall clock back.
  const typed = DateTime.fromISO(text, { setZone: false });
  if (typed.isValid && (wall.hour !== typed.hour || wall.minute !== typed.minute)) {
    // The alternatives: the typed wall time read with the offset before and after the jump.
    const asUtc = Date.UTC(typed.year, typed.month - 1, typed.day, typed.hour, typed.minute, typed.second);
    const offsets = [DateTime.fromMillis(wall.toMillis() - 6 * 3_600_000, { zone }).offset, DateTime.fromMillis(wall.toMillis() + 6 * 3_600_000, { zone }).offset];
    const alt = [...new Set(offsets.map((o) => asUtc - o * 60_000))].sort((a, b) => a - b).map((t) => DateTime.fromMillis(t, { zone }).toISO({ suppressMilliseconds: true }));
    return { ok: false, error: `${text} does not exist in ${zone} (clocks jump forward then); pick another time, e.g. ${alt.join(' or ')}` };
  }
  // Ambiguous: the same wall time one hour (or 30 min, Lord Howe) earlier/later in another offset.
  for (const shiftMin of [-60, -30, 30, 60]) {
    const other = wall.plus({ minutes: shiftMin }).setZone(zone);
    const candidate = DateTime.fromMillis(wall.toMillis() + shiftMin * 60_000, { zone });
    if (other.offset !== wall.offset && sameWall(candidate) && candidate.toMillis() !== wall.toMillis()) {
      const a = Math.min(wall.toMillis(), candidate.toMillis());
      const b = Math.max(wall.toMillis(), candidate.toMillis());
      return {
        ok: false,
        error: `${text} happens twice in ${zone} (clocks fall back then): give the offset, e.g. ${DateTime.fromMillis(a, { zone }).toISO({ suppressMilliseconds: true })} or ${DateTime.fromMillis(b, { zone }).toISO({ suppressMilliseconds: true })}`,
      };
    }
  }
  return pastCheck(wall.toMillis(), input, now, zone);
}

function pastCheck(dueAt: number, input: string, now: number, zone: string): DueParse {
  // A second of grace: "+0s" or a time typed a moment ago is "now", not an error.
  if (dueAt < now - 1000) {
    return { ok: false, error: `${input} is in the past (now is ${DateTime.fromMillis(now, { zone }).toISO({ suppressMilliseconds: true })}); use "now" to call at once` };
  }
  return aheadCheck(dueAt, input, now, zone);
}

function aheadCheck(dueAt: number, input: string, now: number, zone: string): DueParse {
  if (!(dueAt <= now + MAX_DUE_AHEAD_MS)) return { ok: false, error: `${input.slice(0, 40)} is more than 10 years ahead; book callbacks within the campaign's max_days_ahead` };
  return { ok: true, dueAt, zone };
}
