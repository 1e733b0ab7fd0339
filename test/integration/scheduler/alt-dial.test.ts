// Alt-dial through the scheduler, Asterisk faked, on both engines: several numbers per lead (sql/0017),
// each attempt on the rotation's next number in its own window. The import, booking and view of those
// numbers: test/integration/lead-phones.test.ts; the real calls: test/e2e/altdial.e2e.test.ts.
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { bookCallback } from '../../../src/app/book.js';
import type { AriClient } from '../../../src/asterisk/ari.js';
import type { Presence } from '../../../src/asterisk/presence.js';
import { TrunkLimiter } from '../../../src/dialer/trunk-limits.js';
import { applyImport, parseImport } from '../../../src/import.js';
import { Scheduler } from '../../../src/scheduler/scheduler.js';
import * as store from '../../../src/store/callbacks.js';
import { cleanupEngines, dbExec, freshEngine, type TestEngine } from '../engine.js';
import { FakeAri, FakePresence, until } from '../fakes.js';
import { altDialCenter, ONE_PASS_MS } from '../fixture.js';

const T0 = Date.parse('2026-11-23T15:00:00Z'); // Monday 10:00 in New York
let db: TestEngine;

const base = altDialCenter;
const load = async (...a: Parameters<typeof base>) => await applyImport(db, parseImport(YAML.stringify(base(...a)), 'fixture'), T0);

beforeEach(async () => {
  db = await freshEngine();
});

describe('alt-dial through the scheduler (Asterisk faked)', () => {
  let ari: FakeAri;
  let sched: Scheduler | null = null;
  let clock = T0;
  afterEach(async () => {
    await sched?.stop(0);
    sched = null;
    await cleanupEngines();
  });
  const start = () => {
    ari = new FakeAri();
    sched = new Scheduler({
      db, ari: ari as unknown as AriClient, presence: new FakePresence() as unknown as Presence, limiter: new TrunkLimiter(), log: pino({ level: 'silent' }),
      owner: 't', leaseMs: 60_000, backstopPollMs: 600_000, externalWriteCheckMs: 1000, agentRetryDelayMs: 30_000, now: () => clock,
    });
    sched.start();
    ari.emit('connected');
  };
  const at = async (t: number) => {
    clock = t;
    sched!.nudge();
    await new Promise((r) => setTimeout(r, ONE_PASS_MS));
  };
  /** The customer leg of the latest attempt ends with this Q.850 cause. */
  const customerEnds = async (id: number, cause: number) => {
    const a = (await store.attemptsOf(db, id)).at(-1)!;
    ari.event({ type: 'ChannelDestroyed', channel: { id: a.customerChannelId, name: 'PJSIP/carrier-1', state: 'Down' }, cause });
    // Customer-first: no agent was rung yet, so the session closes at once (no agent leg to end).
    await until('the attempt to end', () => sched!.busyAgents().size === 0);
    expect(ari.hangups).not.toContain(a.agentChannelId);
    // The session is gone once the end is queued; its write commits a round trip later on PostgreSQL.
    await until('the callback back to LIVE', async () => (await store.getCallback(db, id))!.state === 'LIVE');
  };
  const dialedTo = () => ari.originates.map((o) => /PJSIP\/(\+\d+)@/.exec(o.endpoint)?.[1]);

  it('BUSY on number 1 → number 2; a DNC-flagged number is skipped; a non-busy ending stays; each attempt records its number', async () => {
    clock = T0;
    await load({ alt_dial: 'on' }, [{ id: 'p', list: 'L', phones: [{ number: '+12125550101' }, { number: '+12125550102', dnc: true }, { number: '+12125550103' }] }]);
    const id = (await bookCallback(db, { leadId: 'p', due: '+0s', actor: 't', type: 'ANYONE' }, clock)).callback.id;
    start();
    await at(clock + 1000);
    await until('attempt 1', () => ari.originates.length === 1);
    await customerEnds(id, 17); // BUSY
    await at((await store.getCallback(db, id))!.nextAttemptAt! + 1);
    await until('attempt 2', () => ari.originates.length === 2);
    await customerEnds(id, 34); // CONGESTION: says nothing about the number, tried again
    await at((await store.getCallback(db, id))!.nextAttemptAt! + 1);
    await until('attempt 3', () => ari.originates.length === 3);
    await customerEnds(id, 19); // NO_ANSWER on 3 → wraps to 1
    await at((await store.getCallback(db, id))!.nextAttemptAt! + 1);
    await until('attempt 4', () => ari.originates.length === 4);
    expect(dialedTo()).toEqual(['+12125550101', '+12125550103', '+12125550103', '+12125550101']);
    expect((await store.attemptsOf(db, id)).map((a) => [a.phonePosition, a.customerNumber, a.outcome])).toEqual([
      [1, '+12125550101', 'BUSY'],
      [3, '+12125550103', 'CONGESTION'],
      [3, '+12125550103', 'NO_ANSWER'],
      [1, '+12125550101', null],
    ]);
  });

  it("each number's own window: none open → waits for the earliest; the next number closed → skipped for an open one; alt_dial off keeps to one number", async () => {
    // 13:30 UTC: 08:30 in New York, 05:30 in Los Angeles: both closed; New York opens first (14:00 UTC).
    clock = Date.parse('2026-11-23T13:30:00Z');
    await load({ alt_dial: 'on' }, [{ id: 'p', list: 'L', phones: [{ number: '+13105550102', time_zone: 'America/Los_Angeles' }, { number: '+12125550101', time_zone: 'America/New_York' }] }]);
    const id = (await bookCallback(db, { leadId: 'p', due: '+0s', actor: 't', type: 'ANYONE', calltimeCheck: 'OFF' }, clock)).callback.id;
    start();
    await at(clock + 1000);
    await until('the wait for New York', async () => (await store.getCallback(db, id))!.nextAttemptAt === Date.parse('2026-11-23T14:00:00Z'));
    const waiting = (await store.getCallback(db, id))!;
    expect(ari.originates).toHaveLength(0);
    expect(waiting.nextAttemptAt).toBe(Date.parse('2026-11-23T14:00:00Z'));
    expect(waiting.waitReason).toMatch(/outside calling hours in America\/New_York/);
    await at(Date.parse('2026-11-23T14:00:00Z'));
    await until('attempt 1', () => ari.originates.length === 1);
    expect(dialedTo()).toEqual(['+12125550101']); // number 2, the one in its window
    await customerEnds(id, 17);
    // BUSY on number 2: the rotation's next is number 1 (Los Angeles, closed until 17:00 UTC), so number 2 again.
    await at((await store.getCallback(db, id))!.nextAttemptAt! + 1);
    await until('attempt 2', () => ari.originates.length === 2);
    expect(dialedTo()).toEqual(['+12125550101', '+12125550101']);
    await customerEnds(id, 17);

    // The same lead with alt_dial off: number 1 only (Los Angeles): it waits for that window even
    // though number 2 is open, and a BUSY there is retried on number 1.
    await sched!.stop(0);
    sched = null;
    await dbExec(db, "UPDATE campaigns SET alt_dial = 'off'");
    const off = (await bookCallback(db, { leadId: 'p', due: '+0s', actor: 't', type: 'ANYONE', calltimeCheck: 'OFF' }, clock)).callback.id;
    start();
    await at(clock + 1000);
    await until('the wait for Los Angeles', async () => (await store.getCallback(db, off))!.nextAttemptAt === Date.parse('2026-11-23T17:00:00Z'));
    expect(ari.originates).toHaveLength(0);
    await at(Date.parse('2026-11-23T17:00:00Z'));
    await until('off: attempt 1', () => ari.originates.length === 1);
    await customerEnds(off, 17);
    await at((await store.getCallback(db, off))!.nextAttemptAt! + 1);
    await until('off: attempt 2', () => ari.originates.length === 2);
    expect(dialedTo()).toEqual(['+13105550102', '+13105550102']);
  });
});
