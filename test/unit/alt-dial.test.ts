import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chooseNumber, dialOrder, type LeadNumber, type NumberQuestion } from '../../src/domain/alt-dial.js';
import { earliestDialable, mayDialAt, parseCalendar, type Calendar } from '../../src/domain/windows.js';

const cal = (spec: Record<string, string>): Calendar => {
  const r = parseCalendar(spec);
  if (!r.ok) throw new Error(r.error);
  return r.calendar;
};
const NINE_TO_FIVE = cal({ 'mon-sun': '09:00-17:00' });
const num = (position: number, over: Partial<LeadNumber> = {}): LeadNumber => ({ position, e164: `+1555000000${position}`, label: 'mobile', dnc: false, zone: 'America/New_York', ...over });
const three = [num(1), num(2), num(3)];
// 2026-06-03 12:00 in New York (UTC-4): inside 09-17 there, 09:00 in Los Angeles, 17:00 in London.
const NOON_NY = Date.UTC(2026, 5, 3, 16, 0, 0);
const ask = (over: Partial<NumberQuestion>): NumberQuestion => ({ numbers: three, altDial: true, preferred: null, last: null, now: NOON_NY, calendar: NINE_TO_FIVE, ...over });
const dialed = (q: NumberQuestion) => {
  const c = chooseNumber(q);
  return c.kind === 'dial' ? c.number.position : c.kind;
};

describe('alt-dial: which number the next attempt dials', () => {
  it('starts with number 1, or with the number the booking asked for', () => {
    expect(dialed(ask({}))).toBe(1);
    expect(dialed(ask({ preferred: 3 }))).toBe(3);
    expect(dialed(ask({ preferred: 9 }))).toBe(1); // an unknown position falls back to the first
  });

  it('moves on after NO_ANSWER or BUSY, wrapping; stays after any other ending', () => {
    expect(dialed(ask({ last: { position: 1, outcome: 'BUSY' } }))).toBe(2);
    expect(dialed(ask({ last: { position: 2, outcome: 'NO_ANSWER' } }))).toBe(3);
    expect(dialed(ask({ last: { position: 3, outcome: 'NO_ANSWER' } }))).toBe(1);
    expect(dialed(ask({ last: { position: 2, outcome: 'AGENT_NO_ANSWER' } }))).toBe(2);
    expect(dialed(ask({ last: { position: 2, outcome: 'CONGESTION' } }))).toBe(2);
    expect(dialed(ask({ preferred: 3, last: { position: 3, outcome: 'BUSY' } }))).toBe(1);
  });

  it('with alt_dial off always dials the same number: the asked-for one or number 1', () => {
    expect(dialed(ask({ altDial: false, last: { position: 1, outcome: 'BUSY' } }))).toBe(1);
    expect(dialed(ask({ altDial: false, preferred: 2, last: { position: 2, outcome: 'NO_ANSWER' } }))).toBe(2);
    expect(chooseNumber(ask({ altDial: false, numbers: [num(1, { dnc: true }), num(2)] }))).toEqual({ kind: 'none', reason: 'number +15550000001 is on the do-not-call list' });
  });

  it('skips a DNC-flagged number and says so; all DNC means nothing to dial', () => {
    const c = chooseNumber(ask({ numbers: [num(1), num(2, { dnc: true }), num(3)], last: { position: 1, outcome: 'BUSY' } }));
    expect(c).toMatchObject({ kind: 'dial', number: { position: 3 }, skipped: ['number 2 (+15550000002) is on the do-not-call list'] });
    // Only the numbers passed over before the chosen one are named: a DNC'd number after it is not.
    expect(chooseNumber(ask({ numbers: [num(1, { dnc: true }), num(2), num(3)], last: { position: 2, outcome: 'BUSY' } }))).toMatchObject({ kind: 'dial', number: { position: 3 }, skipped: [] });
    expect(chooseNumber(ask({ numbers: three.map((n) => ({ ...n, dnc: true })) }))).toEqual({ kind: 'none', reason: 'all 3 numbers of the lead are on the do-not-call list' });
    expect(chooseNumber(ask({ numbers: [] })).kind).toBe('none');
  });

  it("checks each number's window in its own zone: skips one outside for one inside", () => {
    // 12:00 New York = 17:00 London (closed, window ends at 17:00) = 09:00 Los Angeles (open).
    const numbers = [num(1, { zone: 'Europe/London' }), num(2, { zone: 'America/Los_Angeles' })];
    expect(chooseNumber(ask({ numbers }))).toMatchObject({ kind: 'dial', number: { position: 2 }, skipped: ['number 1 (+15550000001) is outside its calling hours in Europe/London'] });
  });

  it('when no number is in window, waits for the earliest window among them', () => {
    const at = Date.UTC(2026, 5, 3, 3, 0, 0); // 23:00 NY, 20:00 LA, 04:00 London, 12:00 Tokyo
    const numbers = [num(1, { zone: 'America/Los_Angeles' }), num(2, { zone: 'Europe/London' }), num(3, { zone: 'America/New_York' })];
    const c = chooseNumber(ask({ numbers, now: at }));
    expect(c).toMatchObject({ kind: 'wait', number: { position: 2 }, until: Date.UTC(2026, 5, 3, 8, 0, 0) }); // 09:00 London
  });

  it('force-dial (no calendar) ignores windows but never DNC', () => {
    const at = Date.UTC(2026, 5, 3, 3, 0, 0);
    expect(dialed(ask({ now: at, calendar: null }))).toBe(1);
    expect(dialed(ask({ now: at, calendar: null, numbers: [num(1, { dnc: true }), num(2)] }))).toBe(2);
  });
});

// Properties over random leads (1-4 numbers, random DNC, zones, windows, history).
const ZONES = ['America/New_York', 'America/Los_Angeles', 'Europe/London', 'Asia/Tokyo', 'Australia/Sydney'];
const numbersArb = fc
  .array(fc.record({ dnc: fc.boolean(), zone: fc.constantFrom(...ZONES) }), { minLength: 1, maxLength: 4 })
  .map((xs) => xs.map((x, i) => num(i + 1, x)));
const calendarArb = fc
  .tuple(fc.integer({ min: 0, max: 22 }), fc.integer({ min: 1, max: 10 }))
  .map(([h, len]) => cal({ 'mon-fri': `${String(h).padStart(2, '0')}:00-${String(Math.min(24, h + len)).padStart(2, '0')}:00` }));
const questionArb: fc.Arbitrary<NumberQuestion> = numbersArb.chain((numbers) =>
  fc.record({
    numbers: fc.constant(numbers),
    altDial: fc.boolean(),
    preferred: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }),
    last: fc.option(fc.record({ position: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }), outcome: fc.constantFrom('BUSY', 'NO_ANSWER', 'CONGESTION', 'AGENT_NO_ANSWER', null) }), { nil: null }),
    now: fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 0, 1) }),
    calendar: fc.option(calendarArb, { nil: null }),
  }),
);

describe('alt-dial properties', () => {
  it('never dials a DNC number, never one outside its window, and takes the first allowed one in order', () => {
    fc.assert(
      fc.property(questionArb, (q) => {
        const c = chooseNumber(q);
        const order = dialOrder(q);
        const open = (n: LeadNumber) => q.calendar === null || mayDialAt(q.now, n.zone, q.calendar);
        const firstOk = order.find((n) => !n.dnc && open(n));
        if (c.kind === 'dial') {
          expect(c.number.dnc).toBe(false);
          expect(open(c.number)).toBe(true);
          expect(c.number).toEqual(firstOk);
          expect(c.skipped).toHaveLength(order.indexOf(firstOk!));
        } else if (c.kind === 'wait') {
          expect(firstOk).toBeUndefined();
          expect(c.number.dnc).toBe(false);
          // The earliest opening among the allowed numbers, and at that instant the number is open.
          const openings = order.filter((n) => !n.dnc).map((n) => earliestDialable(q.now, n.zone, q.calendar!)).filter((t): t is number => t !== null);
          expect(c.until).toBe(openings.length ? Math.min(...openings) : null);
          if (c.until !== null) expect(mayDialAt(c.until, c.number.zone, q.calendar!)).toBe(true);
        } else {
          expect(order.every((n) => n.dnc)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the order is a rotation of the numbers starting after a BUSY/NO_ANSWER number (alt on), or the asked-for/first number alone (alt off)', () => {
    fc.assert(
      fc.property(questionArb, (q) => {
        const order = dialOrder(q).map((n) => n.position);
        const all = q.numbers.map((n) => n.position);
        if (!q.altDial) {
          expect(order).toHaveLength(1);
        } else {
          expect([...order].sort()).toEqual(all);
          const s = all.indexOf(order[0]!);
          expect(order).toEqual(all.map((_, i) => all[(s + i) % all.length]));
        }
        const lastIdx = q.altDial && q.last?.position != null ? all.indexOf(q.last.position) : -1;
        if (lastIdx >= 0 && (q.last!.outcome === 'BUSY' || q.last!.outcome === 'NO_ANSWER')) expect(order[0]).toBe(all[(lastIdx + 1) % all.length]);
        else if (lastIdx >= 0) expect(order[0]).toBe(all[lastIdx]);
        else expect(order[0]).toBe(all.includes(q.preferred ?? -1) ? q.preferred : 1);
      }),
      { numRuns: 300 },
    );
  });
});
