import { describe, expect, it } from 'vitest';
import { decideCreate, type AgentFacts, type CampaignRules, type CreateFacts, type CreateRequest } from '../../src/domain/create-rules.js';
import { ALWAYS, parseCalendar } from '../../src/domain/windows.js';

// Every creation rule, each with the error an admin or agent reads.
const NOW = Date.parse('2026-11-23T15:00:00Z'); // Monday 10:00 in New York
const ZONE = 'America/New_York';
const nine2five = (() => {
  const c = parseCalendar({ 'mon-fri': '09:00-17:00' });
  if (!c.ok) throw new Error(c.error);
  return c.calendar;
})();

const campaign = (o: Partial<CampaignRules> = {}): CampaignRules => ({
  id: 'C', scheduledCallbacks: true, myCallbackDefault: 'USERONLY', daysLimit: 0, maxDaysAhead: 365, hoursBlock: 0, activeLimit: 0, calltimeCheck: 'REFUSE', calendar: ALWAYS, maxAttempts: 3, allowUnassignedAgents: false, ...o,
});
const agent = (o: Partial<AgentFacts> = {}): AgentFacts => ({ id: 'a1', scheduledCallbacks: true, agentOnlyCallbacks: true, activeLimit: null, ...o });
const facts = (o: Partial<CreateFacts> = {}): CreateFacts => ({ campaign: campaign(), zone: ZONE, owner: agent(), ownerOnCampaign: true, ownerOpenUseronly: 0, existing: null, now: NOW, ...o });
const req = (o: Partial<CreateRequest> = {}): CreateRequest => ({ dueAt: NOW + 3_600_000, ownerAgentId: 'a1', ...o });

describe('creation rules', () => {
  it('a plain booking is set as asked', () => {
    expect(decideCreate(req(), facts())).toMatchObject({ ok: true, type: 'USERONLY', ownerAgentId: 'a1', dueAt: NOW + 3_600_000, maxAttempts: 3, replaces: null, notices: [] });
  });

  it('campaign switch off: refused', () => {
    expect(decideCreate(req(), facts({ campaign: campaign({ scheduledCallbacks: false }) }))).toEqual({
      ok: false, code: 'RULE_CALLBACKS_OFF', message: 'campaign C does not take scheduled callbacks (its scheduled_callbacks option is off)',
    });
  });

  it("agent's scheduled-callbacks option off: the agent may not book", () => {
    const d = decideCreate(req({ bookedByAgent: agent({ scheduledCallbacks: false }) }), facts());
    expect(d).toMatchObject({ ok: false, code: 'RULE_AGENT_NOT_ALLOWED', message: expect.stringContaining("agent a1 may not set callbacks") });
  });

  it('agent-only option off: no USERONLY for that agent, ANYONE is fine', () => {
    const f = facts({ owner: agent({ agentOnlyCallbacks: false }) });
    expect(decideCreate(req({ type: 'USERONLY' }), f)).toMatchObject({ ok: false, code: 'RULE_USERONLY_NOT_ALLOWED', message: expect.stringMatching(/agent_only_callbacks option is off\); book it as ANYONE/) });
    expect(decideCreate(req({ type: 'ANYONE' }), f)).toMatchObject({ ok: true, type: 'ANYONE' });
  });

  it("the campaign's my-callback default decides the type when none is given", () => {
    expect(decideCreate(req(), facts({ campaign: campaign({ myCallbackDefault: 'ANYONE' }) }))).toMatchObject({ ok: true, type: 'ANYONE' });
    expect(decideCreate(req(), facts())).toMatchObject({ ok: true, type: 'USERONLY' });
    expect(decideCreate(req({ ownerAgentId: null }), facts({ owner: undefined }))).toMatchObject({ ok: true, type: 'ANYONE', ownerAgentId: null });
  });

  it('an agent booking for themselves owns the callback', () => {
    expect(decideCreate(req({ ownerAgentId: null, bookedByAgent: agent() }), facts())).toMatchObject({ ok: true, type: 'USERONLY', ownerAgentId: 'a1' });
  });

  it('USERONLY needs a known owner', () => {
    expect(decideCreate(req({ type: 'USERONLY', ownerAgentId: null }), facts({ owner: undefined }))).toEqual({ ok: false, code: 'RULE_OWNER_REQUIRED', message: 'a USERONLY callback needs an owner agent' });
    expect(decideCreate(req({ ownerAgentId: 'ghost' }), facts({ owner: undefined }))).toEqual({ ok: false, code: 'RULE_OWNER_UNKNOWN', message: 'no agent "ghost"' });
  });

  it('days limit: no further ahead than N days, with the last allowed time shown', () => {
    const f = facts({ campaign: campaign({ daysLimit: 7 }) });
    expect(decideCreate(req({ dueAt: NOW + 7 * 86_400_000 }), f)).toMatchObject({ ok: true });
    expect(decideCreate(req({ dueAt: NOW + 7 * 86_400_000 + 60_000 }), f)).toEqual({
      ok: false, code: 'RULE_DAYS_LIMIT',
      message: 'Mon 2026-11-30 10:01 America/New_York is more than 7 day(s) ahead; campaign C takes callbacks up to Mon 2026-11-30 10:00 America/New_York',
    });
  });

  it('hours block: a USERONLY callback is hidden from its owner for X hours; ANYONE is not', () => {
    const f = facts({ campaign: campaign({ hoursBlock: 2 }) });
    expect(decideCreate(req(), f)).toMatchObject({ ok: true, hiddenUntil: NOW + 2 * 3_600_000 });
    expect(decideCreate(req({ type: 'ANYONE' }), f)).toMatchObject({ ok: true, hiddenUntil: null });
  });

  it('active limit: per campaign, overridden per agent; a replaced callback frees its slot', () => {
    const f = facts({ campaign: campaign({ activeLimit: 2 }), ownerOpenUseronly: 2 });
    expect(decideCreate(req(), f)).toEqual({ ok: false, code: 'RULE_ACTIVE_LIMIT', message: 'agent a1 already holds 2 open USERONLY callback(s), the limit is 2' });
    expect(decideCreate(req(), { ...f, owner: agent({ activeLimit: 5 }) })).toMatchObject({ ok: true });
    expect(decideCreate(req(), { ...f, existing: { id: 9, state: 'ACTIVE', type: 'USERONLY', ownerAgentId: 'a1' } })).toMatchObject({ ok: true, replaces: 9 });
    expect(decideCreate(req({ type: 'ANYONE' }), f)).toMatchObject({ ok: true });
  });

  it('calltime check REFUSE: outside calling hours is refused with the next opening', () => {
    const f = facts({ campaign: campaign({ calendar: nine2five }) });
    const evening = Date.parse('2026-11-23T23:30:00Z'); // 18:30 New York
    expect(decideCreate(req({ dueAt: evening }), f)).toEqual({
      ok: false, code: 'RULE_OUTSIDE_HOURS',
      message: "Mon 2026-11-23 18:30 America/New_York is outside campaign C's calling hours; the next window opens Tue 2026-11-24 09:00 America/New_York",
    });
  });

  it('calltime check MOVE: moved into the next window, and the answer says so', () => {
    const f = facts({ campaign: campaign({ calendar: nine2five, calltimeCheck: 'MOVE' }) });
    const d = decideCreate(req({ dueAt: Date.parse('2026-11-23T23:30:00Z') }), f);
    expect(d).toMatchObject({ ok: true, dueAt: Date.parse('2026-11-24T14:00:00Z') });
    expect(d.ok && d.notices).toEqual(['moved from Mon 2026-11-23 18:30 America/New_York to Tue 2026-11-24 09:00 America/New_York: the time asked for is outside calling hours']);
  });

  it('calltime check OFF, and force-dial: set as asked, with a notice', () => {
    const evening = Date.parse('2026-11-23T23:30:00Z');
    expect(decideCreate(req({ dueAt: evening }), facts({ campaign: campaign({ calendar: nine2five, calltimeCheck: 'OFF' }) }))).toMatchObject({
      ok: true, dueAt: evening, notices: ['outside calling hours: it will wait until Tue 2026-11-24 09:00 America/New_York'],
    });
    expect(decideCreate(req({ dueAt: evening, forceDial: true }), facts({ campaign: campaign({ calendar: nine2five }) }))).toMatchObject({
      ok: true, dueAt: evening, forceDial: true, notices: ['force-dial: calling hours will be ignored for this callback'],
    });
  });

  it('a move past the days limit is refused', () => {
    const f = facts({ campaign: campaign({ calendar: nine2five, calltimeCheck: 'MOVE', daysLimit: 1 }) });
    const friday = Date.parse('2026-11-27T23:30:00Z'); // Fri 18:30; next window Mon
    expect(decideCreate(req({ dueAt: friday }), { ...f, now: Date.parse('2026-11-27T22:00:00Z') })).toMatchObject({ ok: false, code: 'RULE_DAYS_LIMIT' });
  });

  it('duplicates: a new callback replaces the open one, unless that one is dialing', () => {
    expect(decideCreate(req(), facts({ existing: { id: 4, state: 'LIVE', type: 'ANYONE', ownerAgentId: null } }))).toMatchObject({
      ok: true, replaces: 4, notices: ['replaces callback 4 (a lead has one open callback per campaign)'],
    });
    expect(decideCreate(req(), facts({ existing: { id: 4, state: 'DIALING', type: 'ANYONE', ownerAgentId: null } }))).toEqual({
      ok: false, code: 'RULE_LEAD_BUSY', message: 'callback 4 for this lead is being dialed right now; set the new one after that call ends',
    });
  });
});
