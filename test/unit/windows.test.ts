import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { parseDue } from '../../src/domain/due.js';
import { earliestDialable, mayDialAt, openThrough, parseCalendar, type Calendar, type Window } from '../../src/domain/windows.js';

// Property tests of calling windows and typed times against an oracle that does not use luxon:
// the wall clock comes from Intl.DateTimeFormat (ICU), so a luxon misuse cannot hide itself.

const ZONES = [
  'Asia/Kolkata', // +05:30, no DST
  'Australia/Lord_Howe', // 30-minute DST
  'America/St_Johns', // -03:30 / -02:30
  'Pacific/Chatham', // +12:45 / +13:45
  'Europe/London',
  'America/New_York',
  'America/Sao_Paulo',
  'Asia/Tehran',
  'Pacific/Apia',
  'Africa/Casablanca',
  'UTC',
];

const fmt = new Map<string, Intl.DateTimeFormat>();
function wall(t: number, zone: string) {
  let f = fmt.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    fmt.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(t).map((x) => [x.type, x.value]));
  const weekday = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(p.weekday!) + 1;
  const msOfDay = ((Number(p.hour) * 60 + Number(p.minute)) * 60 + Number(p.second)) * 1000 + (((t % 1000) + 1000) % 1000);
  return { date: `${p.year}-${p.month}-${p.day}`, weekday, msOfDay, hour: Number(p.hour), minute: Number(p.minute) };
}
function oracleMayDial(t: number, zone: string, cal: Calendar): boolean {
  const w = wall(t, zone);
  if (cal.holidays.has(w.date)) return false;
  return (cal.week[w.weekday as 1] ?? []).some((x) => w.msOfDay >= x.start * 1000 && w.msOfDay < x.end * 1000);
}

/** Every UTC offset change of `zone` in 2026–2027, found with the oracle (hourly scan + bisection). */
function transitions(zone: string): number[] {
  const off = (t: number) => {
    const w = wall(t, zone);
    const [y, m, d] = w.date.split('-').map(Number);
    return Date.UTC(y!, m! - 1, d!, w.hour, w.minute) - Math.floor(t / 60_000) * 60_000;
  };
  const out: number[] = [];
  const from = Date.UTC(2026, 0, 1);
  const to = Date.UTC(2028, 0, 1);
  for (let t = from; t < to; t += 3_600_000) {
    if (off(t) !== off(t + 3_600_000)) {
      let lo = t;
      let hi = t + 3_600_000;
      while (hi - lo > 60_000) {
        const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
        if (off(mid) === off(lo)) lo = mid;
        else hi = mid;
      }
      out.push(hi);
    }
  }
  return out;
}
const TRANSITIONS = new Map(ZONES.map((z) => [z, transitions(z)]));

// Mostly whole minutes, as admins write them, sometimes with seconds.
const windowArb: fc.Arbitrary<Window> = fc
  .tuple(fc.integer({ min: 0, max: 1439 }), fc.integer({ min: 1, max: 720 }), fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 59 })))
  .map(([start, len, sec]) => ({ start: start * 60 + sec, end: Math.min(86_400, (start + len) * 60) }));
const calendarArb: fc.Arbitrary<Calendar> = fc
  .tuple(
    fc.array(fc.array(windowArb, { maxLength: 2 }), { minLength: 7, maxLength: 7 }),
    fc.array(fc.date({ min: new Date('2026-01-01'), max: new Date('2027-12-31') }).map((d) => d.toISOString().slice(0, 10)), { maxLength: 10 }),
  )
  .filter(([days]) => days.some((w) => w.length > 0))
  .map(([days, holidays]) => ({ week: Object.fromEntries(days.map((w, i) => [i + 1, w])), holidays: new Set(holidays) }));

/** Instants anywhere in 2026–2027, and half the time within two days of a DST change. */
const instantArb = (zone: string) =>
  fc.oneof(
    fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 11, 1) }),
    TRANSITIONS.get(zone)!.length
      ? fc.tuple(fc.constantFrom(...TRANSITIONS.get(zone)!), fc.integer({ min: -2 * 86_400_000, max: 2 * 86_400_000 })).map(([a, b]) => a + b)
      : fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 11, 1) }),
  );
const caseArb = fc.constantFrom(...ZONES).chain((zone) => fc.tuple(fc.constant(zone), instantArb(zone), calendarArb));

describe('calling windows (property-based, oracle = Intl)', () => {
  it('the zones under test really have the DST changes we mean to cover', () => {
    expect(TRANSITIONS.get('Asia/Kolkata')).toEqual([]);
    expect(TRANSITIONS.get('Australia/Lord_Howe')!.length).toBeGreaterThanOrEqual(4);
    expect(TRANSITIONS.get('Pacific/Chatham')!.length).toBeGreaterThanOrEqual(4);
    expect(TRANSITIONS.get('America/St_Johns')!.length).toBeGreaterThanOrEqual(4);
    expect(TRANSITIONS.get('Europe/London')!.length).toBe(4);
  });

  it('"may dial now?" agrees with the wall clock: never true outside a window', () => {
    fc.assert(
      fc.property(caseArb, ([zone, t, cal]) => {
        expect(mayDialAt(t, zone, cal)).toBe(oracleMayDial(t, zone, cal));
      }),
      { numRuns: 5000 },
    );
  });

  it('the earliest dialable instant is in a window, never before the due instant, and nothing dialable comes before it', () => {
    fc.assert(
      fc.property(caseArb, fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 20, maxLength: 20 }), ([zone, t, cal], probes) => {
        const e = earliestDialable(t, zone, cal);
        expect(e).not.toBeNull(); // every generated calendar has a window within a week
        expect(e!).toBeGreaterThanOrEqual(t);
        expect(oracleMayDial(e!, zone, cal)).toBe(true);
        if (e! > t) {
          expect(oracleMayDial(e! - 1, zone, cal)).toBe(false);
          for (const p of probes) expect(oracleMayDial(t + Math.floor(p * (e! - t)), zone, cal)).toBe(false);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('a window whose start falls in a spring-forward gap opens when the clock jumps past it', () => {
    // Europe/London, 2026-03-29 01:00 → 02:00. A Sunday window 01:30–03:00 opens at the jump.
    const cal = parseCalendar({ sun: '01:30-03:00' });
    if (!cal.ok) throw new Error(cal.error);
    const jump = Date.UTC(2026, 2, 29, 1, 0);
    expect(earliestDialable(Date.UTC(2026, 2, 29, 0, 0), 'Europe/London', cal.calendar)).toBe(jump);
  });

  it('openThrough: open for the whole span inside one window; not across a closure of seconds, a window end, midnight or a DST change', () => {
    const r = parseCalendar({ 'mon-sun': '00:00-09:00:30,09:00:45-23:00' });
    if (!r.ok) throw new Error(r.error);
    const cal = r.calendar;
    const at = (iso: string) => DateTime.fromISO(iso, { zone: 'America/New_York' }).toMillis();
    expect(openThrough(at('2026-11-23T08:58:00'), 60_000, 'America/New_York', cal)).toBe(true);
    expect(openThrough(at('2026-11-23T09:00:00'), 60_000, 'America/New_York', cal)).toBe(false); // a 15 s closure inside the minute
    expect(mayDialAt(at('2026-11-23T09:01:00'), 'America/New_York', cal)).toBe(true); // though both ends are open
    expect(openThrough(at('2026-11-23T22:59:30'), 60_000, 'America/New_York', cal)).toBe(false); // the window ends
    expect(openThrough(at('2026-11-23T23:30:00'), 60_000, 'America/New_York', cal)).toBe(false); // closed
    const all = (parseCalendar({}) as { ok: true; calendar: Calendar }).calendar; // no windows: always open
    expect(openThrough(at('2026-11-23T23:59:30'), 60_000, 'America/New_York', all)).toBe(false); // over midnight: conservative
    expect(openThrough(Date.parse('2026-11-01T05:59:30Z'), 60_000, 'America/New_York', all)).toBe(false); // 01:59:30 EDT: the fall-back change at 02:00
    expect(openThrough(at('2026-11-01T12:00:00'), 60_000, 'America/New_York', all)).toBe(true);
  });

  it('parses windows as people write them, and names what is wrong', () => {
    const ok = parseCalendar({ 'mon-fri': '09:00-20:00', sat: '10:00-12:00,13:00-14:00' }, ['2026-12-25']);
    expect(ok.ok && ok.calendar.week[3]).toEqual([{ start: 9 * 3600, end: 20 * 3600 }]);
    expect(ok.ok && ok.calendar.week[6]).toEqual([{ start: 10 * 3600, end: 12 * 3600 }, { start: 13 * 3600, end: 14 * 3600 }]);
    expect(parseCalendar({ mon: '09:00:30-09:01' })).toMatchObject({ ok: true, calendar: { week: { 1: [{ start: 32430, end: 32460 }] } } });
    expect(ok.ok && ok.calendar.week[7]).toBeUndefined();
    expect(parseCalendar({ 'fri-mon': '09:00-10:00' })).toMatchObject({ ok: false, error: expect.stringMatching(/"fri-mon".*mon-fri/) });
    expect(parseCalendar({ mon: '22:00-02:00' })).toMatchObject({ ok: false, error: expect.stringMatching(/cannot cross midnight/) });
    expect(parseCalendar({ mon: '9-17' })).toMatchObject({ ok: false, error: expect.stringMatching(/"9-17" is not a range/) });
    expect(parseCalendar({ mon: '09:00-10:00', 'mon-tue': '11:00-12:00' })).toMatchObject({ ok: false, error: expect.stringMatching(/mon is given twice/) });
    expect(parseCalendar({}, ['2026-13-01'])).toMatchObject({ ok: false, error: expect.stringMatching(/holiday "2026-13-01"/) });
  });
});

describe('times typed by people (property-based)', () => {
  const localArb = fc.record({
    zone: fc.constantFrom(...ZONES),
    y: fc.integer({ min: 2026, max: 2027 }),
    mo: fc.integer({ min: 1, max: 12 }),
    d: fc.integer({ min: 1, max: 28 }),
    h: fc.integer({ min: 0, max: 23 }),
    mi: fc.integer({ min: 0, max: 59 }),
  });
  const pad = (n: number) => String(n).padStart(2, '0');

  it('a wall-clock booking keeps its local time across DST; gaps and overlaps are refused, never shifted', () => {
    const NOW = Date.UTC(2025, 0, 1);
    const check = ({ zone, y, mo, d, h, mi }: { zone: string; y: number; mo: number; d: number; h: number; mi: number }) => {
      const text = `${y}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}`;
      // Oracle: every instant whose wall clock reads `text`, from the offsets seen around that date.
      const asUtc = Date.UTC(y, mo - 1, d, h, mi);
      const offs = new Set<number>();
      for (let k = -2; k <= 2; k++) {
        const t = asUtc + k * 86_400_000;
        const w = wall(t, zone);
        const [yy, mm, dd] = w.date.split('-').map(Number);
        offs.add(Date.UTC(yy!, mm! - 1, dd!, w.hour, w.minute) - Math.floor(t / 60_000) * 60_000);
      }
      const hits = [...offs].map((o) => asUtc - o).filter((t) => {
        const w = wall(t, zone);
        return w.date === `${y}-${pad(mo)}-${pad(d)}` && w.hour === h && w.minute === mi;
      });
      const r = parseDue(text, zone, NOW);
      if (hits.length === 1) expect(r).toEqual({ ok: true, dueAt: hits[0], zone });
      else if (hits.length === 0) expect(r).toMatchObject({ ok: false, error: expect.stringMatching(/does not exist/) });
      else expect(r).toMatchObject({ ok: false, error: expect.stringMatching(/happens twice/) });
    };
    fc.assert(fc.property(localArb, check), { numRuns: 3000 });
    // And the wall times right at each DST change of every zone, where the gaps and overlaps are.
    for (const zone of ZONES) {
      for (const tr of TRANSITIONS.get(zone)!) {
        for (let k = -90; k <= 90; k += 15) {
          const w = wall(tr + k * 60_000, zone);
          const [y, mo, d] = w.date.split('-').map(Number);
          check({ zone, y: y!, mo: mo!, d: d!, h: w.hour, mi: w.minute });
        }
      }
    }
  });

  it('a time in the past is refused with the current time shown; "now" is accepted', () => {
    const now = Date.UTC(2026, 10, 22, 12, 0);
    expect(parseDue('2026-11-22T06:00', 'America/New_York', now)).toMatchObject({ ok: false, error: expect.stringMatching(/in the past \(now is 2026-11-22T07:00:00-05:00\)/) });
    expect(parseDue('now', 'America/New_York', now)).toEqual({ ok: true, dueAt: now, zone: 'America/New_York' });
  });
});
