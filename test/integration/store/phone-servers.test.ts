// store/phone-servers.ts on SQLite and PostgreSQL (the conformance projects): calls in progress per
// agent, what the phone view shows as an AI agent's "AI, n of max_calls calls".
import { describe, expect, it } from 'vitest';
import type { Conn } from '../../../src/store/conn.js';
import { openCallsByAgent } from '../../../src/store/phone-servers.js';
import { freshEngineEachTest, TEST_ENGINE, type TestEngine } from '../engine.js';

const T = 1_790_000_000_000;
let e: TestEngine;
freshEngineEachTest((x) => (e = x));

/** A campaign, list, lead and callback for the attempts to belong to. */
async function seed(c: Conn): Promise<number> {
  await c.q.insert(c.t.campaigns).values({ id: 'C', name: 'C', timeZone: 'UTC', updatedAt: T });
  await c.q.insert(c.t.lists).values({ id: 'L', campaignId: 'C', name: 'L', updatedAt: T });
  await c.q.insert(c.t.leads).values({ id: 'n1', listId: 'L', phoneE164: '+12125550101', updatedAt: T });
  const [cb] = await c.q
    .insert(c.t.callbacks)
    .values({ leadId: 'n1', campaignId: 'C', type: 'ANYONE', dueAt: T, dueZone: 'UTC', maxAttempts: 3, createdAt: T, updatedAt: T })
    .returning({ id: c.t.callbacks.id });
  return cb!.id;
}

let seq = 0;
const attempt = (callbackId: number, agentId: string | null, outcome: string | null, endedAt: number | null) => ({
  callbackId, seq: ++seq, dialOrder: 'AGENT_FIRST' as const, agentId, callerId: '+15550100001', customerNumber: '+12125550101', trunkId: 'carrier',
  agentChannelId: `a${seq}`, customerChannelId: `c${seq}`, bridgeId: `b${seq}`, leaseToken: 't', startedAt: T, outcome, endedAt,
});

describe(`openCallsByAgent on ${TEST_ENGINE}`, () => {
  it('counts ringing and answered-not-ended attempts per agent, every daemon\'s; ended ones and ones without an agent do not count', async () => {
    const id = await seed(e);
    expect(await openCallsByAgent(e)).toEqual(new Map());
    await e.q.insert(e.t.callAttempts).values([
      attempt(id, 'bot', null, null), // ringing
      attempt(id, 'bot', 'ANSWERED', null), // talking
      attempt(id, 'bot', 'ANSWERED', T + 1), // answered and ended
      attempt(id, 'bot', 'NO_ANSWER', T + 1), // ended unanswered
      attempt(id, 'h1', null, null),
      attempt(id, null, null, null), // customer-first, no agent yet
    ]);
    const counts = await openCallsByAgent(e);
    expect(counts).toEqual(new Map([['bot', 2], ['h1', 1]]));
    expect(typeof counts.get('bot')).toBe('number'); // not PostgreSQL's bigint string
  });
});
