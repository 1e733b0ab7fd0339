import { describe, expect, it } from 'vitest';
import { admit, type AdmitFacts } from '../../src/domain/admit.js';
import { arrivalMaxAgeMs, arrivalOf, compareInLine, inboundExpiry, keptArrival, linePlace, type InLine } from '../../src/domain/queue-place.js';
import { ALWAYS } from '../../src/domain/windows.js';

// Inbound callbacks keep their place in line: the order rule, where an arrival comes from, expiry.

const NOW = Date.parse('2026-11-28T09:00:00Z');
const MIN = 60_000;
const HOUR = 3_600_000;
const cb = (id: number, dueAt: number, arrivedAt: number | null = null, nextAttemptAt: number | null = null): InLine => ({ id, dueAt, arrivedAt, nextAttemptAt });
const order = (xs: InLine[]) => [...xs].sort(compareInLine).map((x) => x.id);

describe('line order (compareInLine)', () => {
  it('the earlier arrival comes first even when it was booked (and is due) later', () => {
    const b = cb(1, NOW, NOW - 2 * MIN); // arrived 2 min ago, booked first
    const a = cb(2, NOW + 1000, NOW - 5 * MIN); // arrived 5 min ago, booked a second later
    expect(order([b, a])).toEqual([2, 1]);
  });

  it('a callback nobody queued for stands at its due time among the arrivals', () => {
    const early = cb(1, NOW, NOW - 10 * MIN);
    const plain = cb(2, NOW - 5 * MIN); // an agent's ANYONE callback, due 5 min ago
    const late = cb(3, NOW, NOW - MIN);
    expect(order([late, plain, early])).toEqual([1, 2, 3]);
    expect(linePlace(plain)).toBe(NOW - 5 * MIN);
  });

  it('a retried callback without an arrival stands at its next attempt; one with an arrival keeps it', () => {
    expect(linePlace(cb(1, NOW - HOUR, null, NOW))).toBe(NOW);
    expect(linePlace(cb(1, NOW - HOUR, NOW - 2 * HOUR, NOW))).toBe(NOW - 2 * HOUR);
  });

  it('ties: the due time, then the lower id (booked first)', () => {
    expect(order([cb(3, NOW, NOW - MIN), cb(2, NOW - 1000, NOW - MIN), cb(1, NOW, NOW - MIN)])).toEqual([2, 1, 3]);
  });

  it('is a total order: any shuffle sorts the same way', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const xs = Array.from({ length: 60 }, (_, i) => cb(i + 1, NOW + Math.floor(rnd() * 5) * MIN, rnd() < 0.5 ? null : NOW - Math.floor(rnd() * 5) * MIN));
    const once = order(xs);
    for (let k = 0; k < 20; k++) expect(order([...xs].sort(() => rnd() - 0.5))).toEqual(once);
    for (let i = 1; i < once.length; i++) {
      const [p, q] = [xs[once[i - 1]! - 1]!, xs[once[i]! - 1]!];
      expect(linePlace(p)).toBeLessThanOrEqual(linePlace(q));
    }
  });
});

describe('keptArrival', () => {
  it('a caller asking again keeps the earlier of their two arrivals; nothing queued, nothing kept', () => {
    expect(keptArrival(NOW, NOW - MIN)).toBe(NOW - MIN);
    expect(keptArrival(NOW - MIN, NOW)).toBe(NOW - MIN);
    expect(keptArrival(NOW, null)).toBe(NOW);
    expect(keptArrival(null, NOW - MIN)).toBeNull(); // an agent's rebooking is not an arrival
  });
});

describe('arrivalOf', () => {
  const maxAge = arrivalMaxAgeMs(96);
  const s = (ms: number) => String(ms / 1000);

  it("the dialplan's CALLBACKD_ARRIVED (epoch seconds, fractions allowed) comes first", () => {
    expect(arrivalOf(s(NOW - 90_000), '1764320000.5', NOW, maxAge)).toEqual({ at: NOW - 90_000, source: 'dialplan' });
    expect(arrivalOf(((NOW - 1234) / 1000).toFixed(3), undefined, NOW, maxAge)).toEqual({ at: NOW - 1234, source: 'dialplan' });
  });

  it("else the channel's creation time from its UNIQUEID (with or without a system name)", () => {
    expect(arrivalOf('', `${(NOW - 60_000) / 1000}.42`, NOW, maxAge)).toEqual({ at: NOW - 60_000, source: 'channel' });
    expect(arrivalOf(undefined, `pbx-1-${(NOW - 60_000) / 1000}.7`, NOW, maxAge)).toEqual({ at: NOW - 60_000, source: 'channel' });
  });

  it('garbage, the future, or older than the limit is ignored; then the booking instant', () => {
    expect(arrivalOf('yesterday', 'cbd-12-1-abc-cust', NOW, maxAge)).toEqual({ at: NOW, source: 'booking' });
    expect(arrivalOf(s(NOW + HOUR), undefined, NOW, maxAge).source).toBe('booking');
    expect(arrivalOf(s(NOW - 200 * HOUR), `${(NOW - 30_000) / 1000}.1`, NOW, maxAge)).toEqual({ at: NOW - 30_000, source: 'channel' });
    // a little clock drift between Asterisk and callbackd is clamped to now, not refused
    expect(arrivalOf(s(NOW + 2000), undefined, NOW, maxAge)).toEqual({ at: NOW, source: 'dialplan' });
  });

  it('the oldest accepted arrival is a day, or the expiry when longer', () => {
    expect(arrivalMaxAgeMs(0)).toBe(24 * HOUR);
    expect(arrivalMaxAgeMs(96)).toBe(96 * HOUR);
  });
});

describe('inbound callback expiry', () => {
  it('expires at arrival + inbound_callback_expiry_hours, with a reason an admin understands', () => {
    const arrived = NOW - 96 * HOUR;
    expect(inboundExpiry(arrived + 1, 96, NOW)).toBeNull();
    expect(inboundExpiry(arrived, 96, NOW)).toBe(
      'inbound callback expired: the caller joined the line at 2026-11-24T09:00:00.000Z and was not reached within 96 h (campaign option inbound_callback_expiry_hours)',
    );
  });

  it('never for callbacks without an arrival, nor with 0 hours', () => {
    expect(inboundExpiry(null, 96, NOW)).toBeNull();
    expect(inboundExpiry(NOW - 1000 * HOUR, 0, NOW)).toBeNull();
  });

  it('admit() fails an expired inbound callback as EXPIRED before anything else is asked', () => {
    const f = (arrivedAt: number | null): AdmitFacts => ({
      kind: 'loaded',
      now: NOW,
      cb: { id: 1, type: 'ANYONE', forceDial: false, ownerAgentId: null, ownerWaitingSince: null, arrivedAt },
      campaign: { id: 'C', allowUnassignedAgents: false, useronlyMoveMinutes: 0, leadDailyCap: 0, inboundCallbackExpiryHours: 2 },
      leadId: 'l1',
      zone: 'UTC',
      calendar: ALWAYS,
      leadDialsLast24h: [],
      trunk: { ok: true },
      ctx: {
        type: 'ANYONE', ownerAgentId: null, customerNumber: '+15551230001', dncHit: false,
        outboundNumber: { e164: '+15550100001', outboundEnabled: true, trunkId: 't' },
        agents: [{ agentId: 'a1', onCampaign: true, phones: [{ endpoint: 'p1', activeAccount: true, status: 'ACTIVE' }] }],
        presence: () => ({ registered: true, inUse: false, idleSince: 0 }),
        busyAgents: new Set(),
      },
    });
    expect(admit(f(NOW - 3 * HOUR))).toEqual({ kind: 'fail', outcome: 'EXPIRED', reason: expect.stringMatching(/^inbound callback expired: .* within 2 h/) });
    expect(admit(f(NOW - HOUR))).toMatchObject({ kind: 'dial', agentId: 'a1' });
    expect(admit(f(null))).toMatchObject({ kind: 'dial' });
  });
});
