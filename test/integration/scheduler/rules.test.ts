import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { bookCallback } from '../../../src/app/book.js';
import { isCode } from '../../../src/errors.js';
import { applyImport, parseImport } from '../../../src/import.js';
import type { Scheduler } from '../../../src/scheduler/scheduler.js';
import * as store from '../../../src/store/callbacks.js';
import { cleanupEngines, dbExec, type TestEngine } from '../engine.js';
import { clockedScheduler, importedEngine, ONE_PASS_MS } from '../fixture.js';
import { FakeAri, FakePresence, until } from '../fakes.js';

// The campaign rules as the scheduler applies them, with time travel: the scheduler's clock is a
// variable the test moves, and it is nudged instead of waited for.

const T0 = Date.parse('2026-11-23T14:30:00Z'); // Monday 09:30 in New York
const base = {
  trunks: [{ id: 'carrier' }],
  numbers: [{ number: '+15550100001', trunk: 'carrier' }],
  lists: [{ id: 'L', campaign: 'C' }],
  agents: [
    { id: 'a1', name: 'A1', campaigns: ['C'] },
    { id: 'a2', name: 'A2', campaigns: ['C'] },
  ],
  phones: [
    { endpoint: 'agent1001', agent: 'a1' },
    { endpoint: 'agent1002', agent: 'a2' },
  ],
  leads: [
    { id: 'ny', list: 'L', phone: '+12125550101', time_zone: 'America/New_York' },
    { id: 'la', list: 'L', phone: '+13105550102', time_zone: 'America/Los_Angeles' },
  ],
};
const campaign = (o: Record<string, unknown> = {}) => ({
  id: 'C', name: 'C', time_zone: 'America/New_York', outbound_number: '+15550100001', calling_windows: { 'mon-fri': '09:00-20:00' }, ...o,
});

let db: TestEngine;
let ari: FakeAri;
let presence: FakePresence;
let sched: Scheduler | null;
let clock = T0;

async function setup(c: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  db = await importedEngine({ ...base, campaigns: [campaign(c)], ...extra }, T0);
}
beforeEach(() => {
  clock = T0;
  ari = new FakeAri();
  presence = new FakePresence();
  sched = null;
});
afterEach(async () => {
  await sched?.stop(0);
  await cleanupEngines();
});

function start(): Scheduler {
  const s = clockedScheduler(db, ari, presence, () => clock);
  sched = s;
  return s;
}
/** Moves the clock and lets the scheduler run one pass. */
async function at(t: number) {
  clock = t;
  sched!.nudge();
  await new Promise((r) => setTimeout(r, ONE_PASS_MS));
}
const book = async (o: Partial<Parameters<typeof bookCallback>[1]> = {}) =>
  (await bookCallback(db, { leadId: 'ny', due: '+0s', actor: 'test', ...o }, clock)).callback.id;

describe('calling windows in the scheduler', () => {
  it("a LIVE callback outside the lead's window waits, says until when, and is dialed when the window opens", async () => {
    await setup({ calltime_check: 'off' });
    const id = (await bookCallback(db, { leadId: 'la', due: '2026-11-23T08:00', actor: 'test', type: 'ANYONE' }, Date.parse('2026-11-23T14:00:00Z'))).callback.id;
    start();
    await at(Date.parse('2026-11-23T16:30:00Z')); // 08:30 in Los Angeles: due, but before 09:00 there
    const cb = (await store.getCallback(db, id))!;
    expect(cb.state).toBe('LIVE');
    expect(cb.nextAttemptAt).toBe(Date.parse('2026-11-23T17:00:00Z'));
    expect(cb.waitReason).toBe('outside calling hours in America/Los_Angeles; next window opens Mon 2026-11-23 09:00 (America/Los_Angeles)');
    expect(ari.originates).toHaveLength(0);
    await at(Date.parse('2026-11-23T16:59:59Z'));
    expect(ari.originates).toHaveLength(0);
    await at(Date.parse('2026-11-23T17:00:00Z'));
    await until('the agent leg', () => ari.originates.length === 1);
  });

  it('the window closing while the agent rings: the customer is not dialed, nor charged an attempt', async () => {
    await setup();
    clock = Date.parse('2026-11-24T00:59:50Z'); // 19:59:50 New York, window until 20:00
    const id = await book({ type: 'ANYONE' });
    start();
    await at(clock + 1000);
    await until('agent leg', () => ari.originates.length === 1);
    clock = Date.parse('2026-11-24T01:00:05Z'); // the agent answers at 20:00:05
    const a = (await store.attemptsOf(db, id))[0]!;
    ari.event({ type: 'StasisStart', channel: { id: a.agentChannelId, name: 'PJSIP/agent1001-1', state: 'Up' } });
    await until('requeued', async () => (await store.getCallback(db, id))!.state === 'LIVE');
    expect(ari.originates).toHaveLength(1);
    expect(await store.getCallback(db, id)).toMatchObject({ attempts: 0, nextAttemptAt: Date.parse('2026-11-24T14:00:00Z') });
    expect((await store.attemptsOf(db, id))[0]!.outcome).toBe('WINDOW_CLOSED');
    expect(ari.hangups).toContain(a.agentChannelId);
  });

  it('force-dial ignores the window', async () => {
    await setup();
    clock = Date.parse('2026-11-24T02:00:00Z'); // 21:00 New York
    const id = await book({ forceDial: true, type: 'ANYONE' });
    start();
    await at(clock + 1000);
    await until('the agent leg', () => ari.originates.length === 1);
    expect((await store.getCallback(db, id))!.state).toBe('DIALING');
  });

  it('a holiday is skipped', async () => {
    await setup({ calltime_check: 'off', holidays: ['2026-11-26'] }); // Thanksgiving
    clock = Date.parse('2026-11-26T15:00:00Z');
    const id = await book({ type: 'ANYONE' });
    start();
    await at(clock + 1000);
    const deferred = Date.parse('2026-11-27T14:00:00Z');
    await until('deferred to Friday 09:00', async () => (await store.getCallback(db, id))!.nextAttemptAt === deferred);
    expect((await store.getCallback(db, id))!.state).toBe('LIVE');
    expect(ari.originates).toHaveLength(0);
  });
});

describe('DNC', () => {
  it('an ANYONE callback on the DNC list fails (dnc) and nothing is dialed; USERONLY too by default', async () => {
    await setup({}, { dnc: [{ number: '(212) 555-0101' }] });
    const anyone = await book({ type: 'ANYONE' });
    start();
    await at(clock + 1000);
    expect(await store.getCallback(db, anyone)).toMatchObject({ state: 'FAILED', lastOutcome: 'DNC' });
    const useronly = await book({ type: 'USERONLY', ownerAgentId: 'a1' });
    await at(clock + 2000);
    expect(await store.getCallback(db, useronly)).toMatchObject({ state: 'FAILED', lastOutcome: 'DNC' });
    expect(ari.originates).toHaveLength(0);
  });

  it("with dnc_filter_useronly off, a USERONLY callback is dialed (VICIdial's behaviour)", async () => {
    await setup({ dnc_filter_useronly: false }, { dnc: [{ number: '+12125550101', campaign: 'C' }] });
    await book({ type: 'USERONLY', ownerAgentId: 'a1' });
    start();
    await at(clock + 1000);
    await until('the agent leg', () => ari.originates.length === 1);
  });
});

describe('ownership', () => {
  it('a USERONLY callback whose owner stays unreachable becomes ANYONE after useronly_move_minutes, with an audit row', async () => {
    await setup({ useronly_move_minutes: 5 });
    presence.phones.set('agent1001', { registered: false, inUse: false, idleSince: 0 });
    const id = await book({ type: 'USERONLY', ownerAgentId: 'a1' });
    presence.phones.set('agent1002', { registered: false, inUse: false, idleSince: 0 });
    start();
    await at(clock + 1000);
    expect(await store.getCallback(db, id)).toMatchObject({ state: 'LIVE', type: 'USERONLY', ownerWaitingSince: T0 + 1000 });
    await at(T0 + 1000 + 5 * 60_000 - 1);
    expect((await store.getCallback(db, id))!.type).toBe('USERONLY');
    presence.phones.delete('agent1002'); // a2 registers
    await at(T0 + 1000 + 5 * 60_000);
    await until('a2 rung', () => ari.originates.length === 1);
    expect(ari.originates[0]!.endpoint).toBe('PJSIP/agent1002');
    expect((await store.getCallback(db, id))!.type).toBe('ANYONE');
    expect((await store.auditOf(db, id)).map((a) => [a.action, a.reason])).toEqual([
      ['create', null],
      ['convert-to-anyone', 'owner a1 could not be rung for 5 minute(s) (useronly_move_minutes)'],
    ]);
  });

  it('an owner no longer on the campaign: ANYONE unless allow_unassigned_agents', async () => {
    await setup();
    const id = await book({ type: 'USERONLY', ownerAgentId: 'a1' });
    await applyImport(db, parseImport(YAML.stringify({ agents: [{ id: 'a1', name: 'A1', campaigns: [] }] }), 'x'), T0);
    start();
    await at(clock + 1000);
    await until('someone rung', () => ari.originates.length === 1);
    expect(ari.originates[0]!.endpoint).toBe('PJSIP/agent1002');
    expect((await store.auditOf(db, id)).at(-1)!.reason).toBe('owner a1 is no longer on campaign C (allow_unassigned_agents is off)');
  });

  it('with allow_unassigned_agents, the owner still gets it', async () => {
    await setup({ allow_unassigned_agents: true });
    await book({ type: 'USERONLY', ownerAgentId: 'a1' });
    await applyImport(db, parseImport(YAML.stringify({ agents: [{ id: 'a1', name: 'A1', campaigns: [] }] }), 'x'), T0);
    start();
    await at(clock + 1000);
    await until('a1 rung', () => ari.originates.length === 1);
    expect(ari.originates[0]!.endpoint).toBe('PJSIP/agent1001');
  });
});

describe('retry policy', () => {
  const answerAgentThenCustomer = async (id: number, customerCause: number) => {
    await until('agent leg', () => ari.originates.length % 2 === 1);
    const a = (await store.attemptsOf(db, id)).at(-1)!;
    ari.event({ type: 'StasisStart', channel: { id: a.agentChannelId, name: 'PJSIP/agent1001-1', state: 'Up' } });
    await until('customer leg', () => ari.originates.length % 2 === 0);
    ari.event({ type: 'ChannelDestroyed', channel: { id: a.customerChannelId, name: 'PJSIP/carrier-1', state: 'Down' }, cause: customerCause });
    await until('attempt settled', async () => (await store.getCallback(db, id))!.state !== 'DIALING');
    ari.event({ type: 'ChannelDestroyed', channel: { id: a.agentChannelId, name: 'PJSIP/agent1001-1', state: 'Up' }, cause: 16 });
    await new Promise((r) => setTimeout(r, 30));
  };

  it('per-lead daily cap: the next call waits until 24 h after the oldest counted one', async () => {
    await setup({ lead_daily_cap: 1, max_attempts: 3, retry_delays: { busy: 60 } });
    const id = await book({ type: 'ANYONE' });
    start();
    await at(clock + 1000);
    await answerAgentThenCustomer(id, 17); // busy → retry in ~60 s
    const cb = (await store.getCallback(db, id))!;
    expect(cb).toMatchObject({ state: 'LIVE', attempts: 1 });
    await at(cb.nextAttemptAt! + 1);
    const dialedAt = (await store.attemptsOf(db, id))[0]!.customerDialedAt!;
    expect(await store.getCallback(db, id)).toMatchObject({ state: 'LIVE', nextAttemptAt: dialedAt + 86_400_000 });
    expect((await store.getCallback(db, id))!.waitReason).toMatch(/lead ny was called 1 time\(s\) in the last 24 h \(lead_daily_cap\)/);
    expect(ari.originates).toHaveLength(2);
  });

  it('auto-reschedule: an exhausted ANYONE callback comes back next day at the same local time, in the window', async () => {
    await setup({ auto_reschedule: 'next_day', max_attempts: 1 });
    const id = await book({ type: 'ANYONE', due: '2026-11-23T09:30' });
    start();
    await at(clock + 1000);
    await answerAgentThenCustomer(id, 19); // no answer, last attempt
    expect(await store.getCallback(db, id)).toMatchObject({ state: 'ACTIVE', attempts: 0, dueAt: Date.parse('2026-11-24T14:30:00Z') });
    expect((await store.auditOf(db, id)).at(-1)).toMatchObject({ action: 'auto-reschedule' });
  });

  it('without auto-reschedule, or for USERONLY, exhausted stays final', async () => {
    await setup({ auto_reschedule: 'next_day', max_attempts: 1 });
    const id = await book({ type: 'USERONLY', ownerAgentId: 'a1' });
    start();
    await at(clock + 1000);
    await answerAgentThenCustomer(id, 19);
    expect((await store.getCallback(db, id))!.state).toBe('NO_ANSWER');
  });
});

describe('booking through the one path', () => {
  it('refusals name the rule and write nothing; a second booking replaces the first', async () => {
    await setup({ active_limit: 1 });
    const first = await book({ type: 'USERONLY', ownerAgentId: 'a1' });
    const again = await bookCallback(db, { leadId: 'ny', due: '+1h', type: 'USERONLY', ownerAgentId: 'a1', actor: 'test' }, clock);
    expect(again.replaced).toBe(first);
    expect(await store.getCallback(db, first)).toMatchObject({ state: 'CANCELLED', replacedBy: again.callback.id });
    let err: unknown;
    try {
      await bookCallback(db, { leadId: 'la', due: '+3h', type: 'USERONLY', ownerAgentId: 'a1', actor: 'test' }, clock); // 09:30 in LA
    } catch (e) {
      err = e;
    }
    expect(isCode(err, 'RULE_ACTIVE_LIMIT')).toBe(true);
    expect((await dbExec(db, "SELECT count(*) AS n FROM callbacks WHERE lead_id = 'la'")).rows.map((r) => Number(r.n))).toEqual([0]);
  });

  it("a wall-clock time typed in the agent's zone is read there, and kept as the lead's promise", async () => {
    await setup({}, { agents: [{ id: 'a1', name: 'A1', campaigns: ['C'], time_zone: 'Europe/London' }, { id: 'a2', name: 'A2', campaigns: ['C'] }] });
    const r = await bookCallback(db, { leadId: 'ny', due: '2026-11-24T15:00', zone: 'agent', ownerAgentId: 'a1', actor: 'test' }, clock);
    expect(r.callback.dueAt).toBe(Date.parse('2026-11-24T15:00:00Z'));
    expect(r.callback.dueZone).toBe('America/New_York');
  });
});

describe('what listings show', () => {
  it('scheduled vs earliest dialable, the agent counts with hours block and count mode, and the alert style of what is counted', async () => {
    const { agentView } = await import('../../../src/app/agent-view.js');
    const { dialableOf } = await import('../../../src/app/callback-view.js');
    await setup({ calltime_check: 'off', hours_block: 1, count_mode: 'live', callback_alert: 'red' });
    const evening = (await bookCallback(db, { leadId: 'ny', due: '2026-11-23T21:00', ownerAgentId: 'a1', actor: 't' }, clock)).callback;
    expect(await dialableOf(db, evening, clock)).toEqual({
      earliestDialableAt: Date.parse('2026-11-24T14:00:00Z'),
      why: 'outside calling hours in America/New_York; first dialable Tue 2026-11-24 09:00',
    });
    await bookCallback(db, { leadId: 'la', due: '2026-11-23T10:00', ownerAgentId: 'a1', actor: 't' }, clock);
    expect(await agentView(db, 'a1', clock)).toMatchObject({ live: 0, active: 0, counted: 0, callbacks: [] }); // hours block
    const later = clock + 3_600_000;
    expect(await agentView(db, 'a1', later)).toMatchObject({ live: 0, active: 2, counted: 0, alert: 'NONE' }); // count_mode live: nothing counted, no alert
    await store.promoteDue(db, Date.parse('2026-11-23T18:00:00Z'));
    expect(await agentView(db, 'a1', Date.parse('2026-11-23T18:00:00Z'))).toMatchObject({ live: 1, active: 1, counted: 1, alert: 'RED' }); // the campaign's callback_alert
  });
});
