import { expect, it } from 'vitest';
import { parseDue } from '../../src/domain/due.js';

// A wall time in a spring-forward gap is refused with the two readings a person can pick from
// (the console shows this message as it is).
it('a DST-gap time is refused with the alternatives', () => {
  const now = Date.parse('2026-11-28T00:00:00Z');
  expect(parseDue('2027-03-14T02:30', 'America/New_York', now)).toEqual({
    ok: false,
    error: '2027-03-14T02:30 does not exist in America/New_York (clocks jump forward then); pick another time, e.g. 2027-03-14T01:30:00-05:00 or 2027-03-14T03:30:00-04:00',
  });
  expect(parseDue('2027-03-28T01:30', 'Europe/London', now)).toMatchObject({ ok: false, error: expect.stringMatching(/e\.g\. 2027-03-28T00:30:00\+00:00 or 2027-03-28T02:30:00\+01:00$/) });
});
