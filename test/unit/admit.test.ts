import { describe, expect, it } from 'vitest';
import { admit, type AdmitFacts } from '../../src/domain/admit.js';
import type { DialContext } from '../../src/domain/eligibility.js';
import { ALWAYS, parseCalendar } from '../../src/domain/windows.js';

// admit() without a database: the facts in, the one decision out.

const NOW = Date.parse('2026-03-04T12:00:00Z'); // a Wednesday, noon UTC
const up = { registered: true, inUse: false, idleSince: 0 };

function facts(over: Partial<Extract<AdmitFacts, { kind: 'loaded' }>> = {}, ctx: Partial<DialContext> = {}): AdmitFacts {
  return {
    kind: 'loaded',
    now: NOW,
    cb: { id: 1, type: 'USERONLY', forceDial: false, ownerAgentId: 'a1', ownerWaitingSince: null },
    campaign: { id: 'C', allowUnassignedAgents: false, useronlyMoveMinutes: 10, leadDailyCap: 0 },
    leadId: 'lead1',
    zone: 'UTC',
    calendar: ALWAYS,
    leadDialsLast24h: [],
    trunk: { ok: true },
    ctx: {
      type: 'USERONLY',
      ownerAgentId: 'a1',
      customerNumber: '+15551230001',
      dncHit: false,
      outboundNumber: { e164: '+15550100001', outboundEnabled: true, trunkId: 't' },
      agents: [{ agentId: 'a1', onCampaign: true, phones: [{ endpoint: 'p1', activeAccount: true, status: 'ACTIVE' }] }],
      presence: () => up,
      busyAgents: new Set(),
      ...ctx,
    },
    ...over,
  };
}
const nights = () => {
  const c = parseCalendar({ mon: '22:00-23:00', tue: '22:00-23:00', wed: '22:00-23:00', thu: '22:00-23:00', fri: '22:00-23:00' });
  if (!c.ok) throw new Error(c.error);
  return c.calendar;
};

describe('admit', () => {
  it('dials the owner when everything allows it', () => {
    expect(admit(facts())).toEqual({ kind: 'dial', agentId: 'a1', endpoint: 'p1', callerId: '+15550100001', trunkId: 't', outsideHours: false });
  });

  it('a trunk already found full, or a missing row, decides without reading anything else', () => {
    expect(admit({ kind: 'trunkFull', reason: 'full' })).toMatchObject({ kind: 'wait', reason: 'full', ownerClock: false, fullTrunk: null });
    expect(admit({ kind: 'missing', reason: 'lead x no longer exists' })).toEqual({ kind: 'fail', outcome: 'MISSING', reason: 'lead x no longer exists' });
  });

  it('outside calling hours: deferred to the window; force-dial dials and says it is outside hours', () => {
    const d = admit(facts({ calendar: nights() }));
    expect(d).toMatchObject({ kind: 'defer', until: Date.parse('2026-03-04T22:00:00Z') });
    const forced = admit(facts({ calendar: nights(), cb: { id: 1, type: 'USERONLY', forceDial: true, ownerAgentId: 'a1', ownerWaitingSince: null } }));
    expect(forced).toMatchObject({ kind: 'dial', outsideHours: true });
  });

  it('the daily cap defers until the oldest call of the last 24 h is a day old', () => {
    const d = admit(facts({ campaign: { id: 'C', allowUnassignedAgents: false, useronlyMoveMinutes: 0, leadDailyCap: 2 }, leadDialsLast24h: [NOW - 3_600_000, NOW - 60_000] }));
    expect(d).toMatchObject({ kind: 'defer', until: NOW - 3_600_000 + 86_400_000 });
    expect((d as { reason: string }).reason).toMatch(/lead_daily_cap/);
  });

  it('an owner busy on the phone: wait, start the owner clock, wake at its deadline', () => {
    const d = admit(facts({}, { presence: () => ({ ...up, inUse: true }) }));
    expect(d).toMatchObject({ kind: 'wait', ownerClock: true, wakeAt: NOW + 10 * 60_000, fullTrunk: null });
    const running = admit(facts({ cb: { id: 1, type: 'USERONLY', forceDial: false, ownerAgentId: 'a1', ownerWaitingSince: NOW - 60_000 } }, { presence: () => ({ ...up, inUse: true }) }));
    expect(running).toMatchObject({ kind: 'wait', wakeAt: NOW - 60_000 + 10 * 60_000 });
  });

  it('an owner waited for past useronly_move_minutes, or gone: convert to ANYONE', () => {
    const late = admit(facts({ cb: { id: 1, type: 'USERONLY', forceDial: false, ownerAgentId: 'a1', ownerWaitingSince: NOW - 11 * 60_000 } }));
    expect(late).toMatchObject({ kind: 'convert' });
    expect(admit(facts({}, { agents: [] }))).toMatchObject({ kind: 'convert', reason: 'owner a1 no longer exists' });
  });

  it('DNC fails before any agent or trunk is considered', () => {
    expect(admit(facts({ trunk: { ok: false, retryAt: null, reason: 'full' } }, { dncHit: true }))).toMatchObject({ kind: 'fail', outcome: 'DNC' });
  });

  it('a full trunk: wait, mark the trunk full for the pass, wake when the rate allows', () => {
    const d = admit(facts({ trunk: { ok: false, retryAt: NOW + 500, reason: 'trunk t is at 2 calls per second' } }));
    expect(d).toEqual({ kind: 'wait', reason: 'trunk t is at 2 calls per second', ownerClock: false, wakeAt: NOW + 500, fullTrunk: 't' });
  });

  it('ANYONE with no idle agent waits without an owner clock', () => {
    const d = admit(facts({ cb: { id: 1, type: 'ANYONE', forceDial: false, ownerAgentId: null, ownerWaitingSince: null } }, { type: 'ANYONE', ownerAgentId: null, busyAgents: new Set(['a1']) }));
    expect(d).toMatchObject({ kind: 'wait', ownerClock: false, wakeAt: null });
  });
});
