import { DateTime } from 'luxon';

// Calling windows: when a lead may be called, read on the lead's own wall clock. Pure: no I/O.
//
// The rule is deliberately the plainest one a manager can check by looking at the customer's
// clock: an instant is dialable when, in the lead's zone, its date is not a holiday and its wall
// time lies inside one of that weekday's windows [start, end). Daylight-saving changes need no
// special case in that rule; they only matter when searching for the next dialable instant,
// because the wall clock can jump over a window start (spring forward) or back into a window
// (fall back). Those jumps are candidates of their own (see earliestDialable).

/** Seconds since local midnight; end may be 86400 (24:00). */
export interface Window {
  start: number;
  end: number;
}

export interface Calendar {
  /** Index 1 = Monday … 7 = Sunday (ISO, as luxon's weekday). Missing or empty = no calling that day. */
  week: Partial<Record<1 | 2 | 3 | 4 | 5 | 6 | 7, Window[]>>;
  /** Local dates (YYYY-MM-DD) with no calling at all. */
  holidays: ReadonlySet<string>;
}

/** No windows configured: any instant is dialable. */
export const ALWAYS: Calendar = {
  week: Object.fromEntries([1, 2, 3, 4, 5, 6, 7].map((d) => [d, [{ start: 0, end: 86_400 }]])),
  holidays: new Set(),
};

const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type DayName = (typeof DAY_NAMES)[number];

/**
 * Reads a campaign's windows as people write them: { "mon-fri": "09:00-20:00", "sat": "10:00-14:00" }
 * or several ranges "09:00-12:00,13:00-20:00". Errors name the key and say what is wrong.
 */
export function parseCalendar(spec: Record<string, string> | null | undefined, holidays: readonly string[] = []): { ok: true; calendar: Calendar } | { ok: false; error: string } {
  for (const h of holidays) {
    if (!/^\d{4}-\d\d-\d\d$/.test(h) || !DateTime.fromISO(h).isValid) return { ok: false, error: `holiday "${h}" is not a date like 2026-12-25` };
  }
  if (!spec || Object.keys(spec).length === 0) return { ok: true, calendar: { week: ALWAYS.week, holidays: new Set(holidays) } };
  const week: Calendar['week'] = {};
  for (const [key, value] of Object.entries(spec)) {
    const days = parseDays(key.trim().toLowerCase());
    if (!days) return { ok: false, error: `calling_windows key "${key}": use a day or range like mon, sat or mon-fri` };
    const windows: Window[] = [];
    for (const part of value.split(',')) {
      // HH:MM as people write it; HH:MM:SS accepted too (the lab's tests open windows seconds ahead).
      const m = /^\s*(\d\d):(\d\d)(?::(\d\d))?\s*-\s*(\d\d):(\d\d)(?::(\d\d))?\s*$/.exec(part);
      if (!m) return { ok: false, error: `calling_windows "${key}": "${part.trim()}" is not a range like 09:00-20:00` };
      const [h1, m1, s1, h2, m2, s2] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((x) => Number(x ?? 0)) as [number, number, number, number, number, number];
      const start = (h1 * 60 + m1) * 60 + s1;
      const end = (h2 * 60 + m2) * 60 + s2;
      if (m1 > 59 || m2 > 59 || s1 > 59 || s2 > 59 || start >= 86_400 || end > 86_400) {
        return { ok: false, error: `calling_windows "${key}": "${part.trim()}" is not a time of day (00:00 to 24:00)` };
      }
      if (end <= start) return { ok: false, error: `calling_windows "${key}": "${part.trim()}" ends before it starts (a window cannot cross midnight; split it)` };
      windows.push({ start, end });
    }
    for (const d of days) {
      if (week[d]) return { ok: false, error: `calling_windows: ${DAY_NAMES[d - 1]} is given twice` };
      week[d] = windows;
    }
  }
  return { ok: true, calendar: { week, holidays: new Set(holidays) } };
}

function parseDays(key: string): (1 | 2 | 3 | 4 | 5 | 6 | 7)[] | null {
  const idx = (n: string) => DAY_NAMES.indexOf(n as DayName) + 1;
  const m = /^([a-z]{3})(?:-([a-z]{3}))?$/.exec(key);
  if (!m) return null;
  const a = idx(m[1]!);
  const b = m[2] ? idx(m[2]) : a;
  if (a === 0 || b === 0 || b < a) return null;
  return Array.from({ length: b - a + 1 }, (_, i) => (a + i) as 1 | 2 | 3 | 4 | 5 | 6 | 7);
}

/** Is `t` inside the calendar on the wall clock of `zone`? */
export function mayDialAt(t: number, zone: string, cal: Calendar): boolean {
  return windowAt(DateTime.fromMillis(t, { zone }), cal) !== null;
}

/** The window the wall-clock instant `dt` is in, with `dt` as ms of its day; null outside every window. */
function windowAt(dt: DateTime, cal: Calendar): { end: number; at: number } | null {
  if (cal.holidays.has(dt.toISODate()!)) return null;
  const at = ((dt.hour * 60 + dt.minute) * 60 + dt.second) * 1000 + dt.millisecond;
  const w = (cal.week[dt.weekday as 1 | 2 | 3 | 4 | 5 | 6 | 7] ?? []).find((x) => at >= x.start * 1000 && at < x.end * 1000);
  return w ? { end: w.end * 1000, at } : null;
}

/** How far ahead to look before saying "never": a year covers any sane holiday list. */
const HORIZON_DAYS = 370;

/**
 * The first instant ≥ t that is dialable, or null when the calendar has none within a year.
 * Candidates, day by local day: t itself, every instant whose wall clock reads a window start
 * (two on a fall-back day, none when the start falls in a spring-forward gap), and every offset
 * change of the zone (the wall clock jumps there, possibly over or into a window).
 */
export function earliestDialable(t: number, zone: string, cal: Calendar): number | null {
  if (mayDialAt(t, zone, cal)) return t;
  let day = DateTime.fromMillis(t, { zone }).startOf('day');
  for (let i = 0; i <= HORIZON_DAYS; i++, day = day.plus({ days: 1 }).startOf('day')) {
    const date = day.toISODate()!;
    if (cal.holidays.has(date)) continue;
    const wins = cal.week[day.weekday as 1 | 2 | 3 | 4 | 5 | 6 | 7];
    if (!wins || wins.length === 0) continue;
    const dayStart = day.toMillis();
    const dayEnd = day.plus({ days: 1 }).startOf('day').toMillis();
    const candidates = new Set<number>([dayStart]);
    for (const w of wins) for (const c of wallInstants(day, w.start, zone)) candidates.add(c);
    const tr = offsetChange(dayStart, dayEnd, zone);
    if (tr !== null) candidates.add(tr);
    const sorted = [...candidates].filter((c) => c >= t && c >= dayStart && c < dayEnd).sort((a, b) => a - b);
    for (const c of sorted) if (mayDialAt(c, zone, cal)) return c;
  }
  return null;
}

/** Every instant of local date `day` whose wall clock reads `second` (0, 1 or 2 of them). */
function wallInstants(day: DateTime, second: number, zone: string): number[] {
  const asUtc = Date.UTC(day.year, day.month - 1, day.day) + second * 1000;
  const offsets = new Set<number>();
  for (const probe of [asUtc - 36 * 3_600_000, asUtc, asUtc + 36 * 3_600_000, asUtc - 14 * 3_600_000, asUtc + 14 * 3_600_000]) {
    offsets.add(DateTime.fromMillis(probe, { zone }).offset);
  }
  const out: number[] = [];
  for (const off of offsets) {
    const inst = asUtc - off * 60_000;
    const back = DateTime.fromMillis(inst, { zone });
    if (back.day === day.day && back.month === day.month && (back.hour * 60 + back.minute) * 60 + back.second === second) out.push(inst);
  }
  return out;
}

/** The instant within [from, to) at which the zone's UTC offset changes, if it does. */
function offsetChange(from: number, to: number, zone: string): number | null {
  const off = (t: number) => DateTime.fromMillis(t, { zone }).offset;
  const a = off(from);
  if (off(to - 1) === a) return null;
  // One change per day at most in every real zone: binary search it to the millisecond.
  let lo = from;
  let hi = to - 1;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (off(mid) === a) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Why an instant is not dialable, in words for `list`. */
export function describeWait(earliest: number | null, zone: string): string {
  if (earliest === null) return `outside calling hours in ${zone}, and no calling window opens within a year`;
  const at = DateTime.fromMillis(earliest, { zone });
  return `outside calling hours in ${zone}; next window opens ${at.toFormat("ccc yyyy-LL-dd HH:mm")} (${zone})`;
}

/**
 * "May it be dialed at `t`?", the question the scheduler asks at claim and the dialer asks again
 * before the customer leg. Null: yes. Otherwise until when it must wait (null = no window within a
 * year) and why, in words for `list`.
 */
export function windowWait(t: number, zone: string, cal: Calendar): { until: number | null; reason: string } | null {
  if (mayDialAt(t, zone, cal)) return null;
  const until = earliestDialable(t, zone, cal);
  return { until, reason: describeWait(until, zone) };
}

/**
 * Open from `t` through `t + ms` without a break: inside one window of the day, with no change of the
 * zone's offset in between (conservative: a span over midnight or a DST change says no). The claim
 * counts a customer-first attempt only then, so the dialer's own check before the customer leg,
 * moments later, finds the window open too.
 */
export function openThrough(t: number, ms: number, zone: string, cal: Calendar): boolean {
  const dt = DateTime.fromMillis(t, { zone });
  const w = windowAt(dt, cal);
  return w !== null && w.at + ms <= w.end && DateTime.fromMillis(t + ms, { zone }).offset === dt.offset;
}
