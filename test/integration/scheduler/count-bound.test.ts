import { afterEach, describe, expect, it } from 'vitest';
import { COUNT_BOUND_MS } from '../../../src/dialer/session-flow.js';
import * as store from '../../../src/store/callbacks.js';
import { openDb } from '../../../src/store/db.js';
import { TEST_ENGINE } from '../engine.js';
import { until } from '../fakes.js';
import { dialerOnOwnConnection, ONE_TRUNK } from '../fixture.js';

// The agent answered, and the database cannot take the customer's attempt count (session-flow.ts
// dialCustomer): the customer is never dialed uncounted, and the agent is not left on the line for
// longer than COUNT_BOUND_MS: told (an apology) and released; the attempt ends, not charged to the
// customer, with a reason an admin can act on, written once the database takes writes again.
// Here the database is held by another process's write lock (SQLite's BEGIN IMMEDIATE), the same
// path as an unreachable PostgreSQL (that one on the lab: test/e2e/pg-outage-agent.e2e.test.ts).

const FILE = {
  ...ONE_TRUNK,
  campaigns: [{ id: 'C', name: 'C', time_zone: 'UTC', outbound_number: '+15550100001' }],
  lists: [{ id: 'L', campaign: 'C' }],
  agents: [{ id: 'a1', name: 'A1', campaigns: ['C'] }],
  phones: [{ endpoint: 'agent1001', agent: 'a1' }],
  leads: [{ id: 'lead1', list: 'L', phone: '+15551230001' }],
};

const stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

describe.skipIf(TEST_ENGINE !== 'sqlite')('the agent answered and the attempt cannot be counted', () => {
  it(`the database held past ${COUNT_BOUND_MS / 1000} s: the customer is not dialed, the agent is released within the bound, the attempt ends DB_BUSY once the database is free`, async () => {
    const { db, dbPath, lines, ari, sched } = await dialerOnOwnConnection('count-bound', FILE, 60_000, stops);
    const id = await store.insertCallback(db, { leadId: 'lead1', campaignId: 'C', type: 'USERONLY', ownerAgentId: 'a1', dueAt: Date.now(), dueZone: 'UTC', maxAttempts: 3, notes: null }, Date.now());
    sched.nudge();
    await until('the agent leg', () => ari.originates.length === 1);
    const [attempt] = await store.attemptsOf(db, id);

    const other = openDb(dbPath, { migrate: false });
    stops.push(() => void other.$client.close());
    other.$client.exec('BEGIN IMMEDIATE');
    const answeredAt = Date.now();
    ari.event({ type: 'StasisStart', channel: { id: attempt!.agentChannelId, name: 'PJSIP/agent1001', state: 'Up' } });
    await until('the agent to be released', () => ari.hangups.includes(attempt!.agentChannelId), COUNT_BOUND_MS + 3000);
    const releasedAfter = Date.now() - answeredAt;
    expect(releasedAfter).toBeGreaterThanOrEqual(COUNT_BOUND_MS - 50);
    expect(releasedAfter).toBeLessThan(COUNT_BOUND_MS + 1500);
    expect(ari.originates, 'the customer was not dialed').toHaveLength(1);
    // Nothing could be written yet: the attempt's end waits in the call's queue.
    expect((await store.getCallback(db, id))!.state).toBe('DIALING');
    other.$client.exec('COMMIT');
    ari.event({ type: 'ChannelDestroyed', channel: { id: attempt!.agentChannelId, name: 'PJSIP/agent1001', state: 'Up' }, cause: 16 });

    await until("the attempt's end", async () => (await store.attemptsOf(db, id))[0]!.outcome !== null, 3000);
    const [ended] = await store.attemptsOf(db, id);
    const cb = (await store.getCallback(db, id))!;
    console.info(`agent released ${releasedAfter} ms after answering; attempt ${ended!.outcome}: ${ended!.detail}`);
    expect(ended).toMatchObject({ outcome: 'DB_BUSY', customerAttempt: null, customerDialedAt: null });
    expect(ended!.detail).toMatch(/^database busy .*: customer not dialed/);
    expect(cb).toMatchObject({ state: 'LIVE', attempts: 0, leaseToken: null });
    expect(cb.waitReason).toMatch(/customer not dialed/);
    expect(lines.some((l) => /"level":50/.test(l) && /not dialing the customer, releasing the agent/.test(l))).toBe(true);
    // Requeued for after the agent retry delay (as an agent that did not answer), not redialed at once.
    expect(cb.nextAttemptAt).toBeGreaterThan(Date.now());
    await new Promise((r) => setTimeout(r, 300));
    expect(ari.originates).toHaveLength(1);
  }, 20_000);
});
