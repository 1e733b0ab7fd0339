// Cluster-wide limits enforced by the claim (src/store/call-attempts.ts claimForDial, issue 16 item 3) on
// both engines: a trunk's channels and calls per second, an agent on one call at a time (an AI agent up
// to max_calls), counted over every daemon's open attempts. PostgreSQL only: two engines (two daemons)
// racing claims on one trunk and shared agents never go over.
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { OPEN_ATTEMPT_HORIZON_MS } from '../../../src/domain/channel-limits.js';
import * as store from '../../../src/store/callbacks.js';
import { clusterLoad, type LimitRefused } from '../../../src/store/claim.js';
import type { Conn } from '../../../src/store/conn.js';
import { dbExec, freshEngineEachTest, secondConnection, TEST_ENGINE, type TestEngine } from '../engine.js';

const T0 = Date.parse('2026-11-22T12:00:00Z');
let e: TestEngine;

async function seed(c: Conn): Promise<void> {
  const { trunks, campaigns, lists, agents, leads } = c.t;
  await c.q.insert(trunks).values([
    { id: 'carrier', maxChannels: 2, updatedAt: T0 },
    { id: 'paced', callsPerSecond: 2, updatedAt: T0 },
    { id: 'open', updatedAt: T0 },
  ]);
  await c.q.insert(campaigns).values({ id: 'C', name: 'C', timeZone: 'UTC', updatedAt: T0 });
  await c.q.insert(lists).values({ id: 'L', campaignId: 'C', name: 'L', updatedAt: T0 });
  await c.q.insert(agents).values([
    ...Array.from({ length: 8 }, (_, n) => ({ id: `a${n}`, name: `A${n}`, updatedAt: T0 })),
    { id: 'bot', name: 'Bot', kind: 'ai' as const, maxCalls: 3, updatedAt: T0 },
  ]);
  await c.q.insert(leads).values({ id: 'lead1', listId: 'L', phoneE164: '+15551230001', updatedAt: T0 });
}
freshEngineEachTest((x) => (e = x), seed);

/** `n` LIVE callbacks, due at T0. */
async function live(n: number, c: Conn = e): Promise<number[]> {
  const rows = await c.q
    .insert(c.t.callbacks)
    .values(Array.from({ length: n }, () => ({ leadId: 'lead1', campaignId: 'C', type: 'ANYONE' as const, dueAt: T0, dueZone: 'UTC', maxAttempts: 3, state: 'ACTIVE' as const, createdAt: T0, updatedAt: T0 })))
    .returning({ id: c.t.callbacks.id });
  expect(await store.promoteDue(c, T0)).toBe(n);
  return rows.map((r) => r.id);
}

interface Try {
  attempt: Awaited<ReturnType<typeof store.claimForDial>>;
  limited: LimitRefused | null;
  refused: string | null;
}

async function claim(id: number, trunkId: string, agentId: string, now = T0, c: Conn = e): Promise<Try> {
  const out: Try = { attempt: null, limited: null, refused: null };
  out.attempt = await store.claimForDial(c, {
    callbackId: id, owner: 'me', token: `tok-${id}-${now}`, leaseMs: 60_000, now, dialOrder: 'AGENT_FIRST', agentId, phoneEndpoint: `ep-${agentId}`,
    callerId: '+15550100001', customerNumber: '+15551230001', trunkId,
    ids: (seq) => ({ agentChannelId: `a-${id}-${seq}`, customerChannelId: `c-${id}-${seq}`, bridgeId: `b-${id}-${seq}` }),
    refused: (w) => (out.refused = w),
    limited: (r) => (out.limited = r),
  });
  return out;
}

/** Ends a claimed attempt unanswered (ended_at written), the callback COMPLETED. */
async function endUnanswered(t: Try, at: number, c: Conn = e): Promise<void> {
  const a = t.attempt!;
  await store.finishAttempt(c, a.callbackId, a.leaseToken, a.id, { outcome: 'BUSY', cause: 17, sipCode: 486, endedAt: at, detail: null }, { state: 'COMPLETED' }, at);
}

describe(`claim limits on ${TEST_ENGINE}`, () => {
  it('a trunk with max_channels 2: the third claim is refused in words an admin can act on, and passes once an attempt ends', async () => {
    const [x, y, z] = await live(3);
    const first = await claim(x!, 'carrier', 'a0');
    const second = await claim(y!, 'carrier', 'a1');
    expect(first.attempt && second.attempt).toBeTruthy();
    const third = await claim(z!, 'carrier', 'a2');
    expect(third.attempt).toBeNull();
    expect(third.limited).toEqual({ ok: false, why: 'trunk-channels', retryAt: null, reason: 'trunk carrier is at its limit of 2 channels across all daemons' });
    expect((await store.getCallback(e, z!))!.state).toBe('LIVE'); // nothing written
    expect(await dbExec(e, 'SELECT count(*) AS n FROM call_attempts').then((r) => Number(r.rows[0]!.n))).toBe(2);
    await endUnanswered(first, T0 + 1000);
    const again = await claim(z!, 'carrier', 'a2', T0 + 1000);
    expect(again.limited).toBeNull();
    expect(again.attempt!.trunkId).toBe('carrier');
  });

  it('an answered, bridged call keeps its channel (and its agent) until closeAnsweredAttempt writes its end', async () => {
    const [x, y, z] = await live(3);
    const answered = await claim(x!, 'carrier', 'a0');
    await claim(y!, 'carrier', 'a1');
    const a = answered.attempt!;
    await store.finishAttempt(e, x!, a.leaseToken, a.id, { outcome: 'ANSWERED', cause: null, sipCode: null, endedAt: null, detail: null }, { state: 'COMPLETED' }, T0 + 500);
    expect((await store.getCallback(e, x!))!.state).toBe('COMPLETED');
    expect((await claim(z!, 'carrier', 'a2', T0 + 600)).limited?.why).toBe('trunk-channels');
    expect((await claim(z!, 'open', 'a0', T0 + 600)).limited?.why).toBe('agent-busy'); // a0 is still talking
    await store.closeAnsweredAttempt(e, a.id, T0 + 60_000, 59_500);
    expect((await claim(z!, 'carrier', 'a0', T0 + 60_000)).attempt).not.toBeNull();
  });

  it(`an open attempt older than the horizon (${OPEN_ATTEMPT_HORIZON_MS / 3_600_000} h: a row whose end was never written) no longer blocks its trunk or agent`, async () => {
    const [x, y, z] = await live(3);
    await claim(x!, 'carrier', 'a0', T0);
    await claim(y!, 'carrier', 'a1', T0);
    expect((await claim(z!, 'carrier', 'a0', T0 + OPEN_ATTEMPT_HORIZON_MS - 1)).limited?.why).toBe('agent-busy');
    expect((await claim(z!, 'carrier', 'a2', T0 + OPEN_ATTEMPT_HORIZON_MS - 1)).limited?.why).toBe('trunk-channels');
    const later = await claim(z!, 'carrier', 'a0', T0 + OPEN_ATTEMPT_HORIZON_MS);
    expect(later.limited).toBeNull();
    expect(later.attempt).not.toBeNull();
  });

  it('calls per second: a claim within 1/cps of the last leg start (any daemon\'s) is refused with the instant it may go', async () => {
    const [x, y, z] = await live(3);
    expect((await claim(x!, 'paced', 'a0', T0)).attempt).not.toBeNull();
    const early = await claim(y!, 'paced', 'a1', T0 + 100);
    expect(early.limited).toEqual({ ok: false, why: 'trunk-rate', retryAt: T0 + 500, reason: 'trunk paced is at its limit of 2 calls per second across all daemons' });
    expect((await claim(y!, 'paced', 'a1', T0 + 500)).attempt).not.toBeNull();
    expect((await claim(z!, 'paced', 'a2', T0 + 999)).limited?.retryAt).toBe(T0 + 1000);
    const starts = await e.q.select().from(e.t.trunkStarts);
    expect(starts).toEqual([{ trunkId: 'paced', lastStartAt: T0 + 500 }]);
  });

  it('a person on an open attempt is not rung for another callback; an agent unknown to the directory counts as a person', async () => {
    const [x, y, z, w] = await live(4);
    const busy = await claim(x!, 'open', 'a3');
    const refused = await claim(y!, 'open', 'a3');
    expect(refused.limited).toEqual({ ok: false, why: 'agent-busy', retryAt: null, reason: 'agent a3 is already on a callback (placed by another daemon or still being closed)' });
    expect((await claim(z!, 'open', 'ghost')).attempt).not.toBeNull();
    expect((await claim(w!, 'open', 'ghost')).limited?.why).toBe('agent-busy');
    await endUnanswered(busy, T0 + 10);
    expect((await claim(y!, 'open', 'a3', T0 + 10)).attempt).not.toBeNull();
  });

  it('an AI agent takes up to its max_calls (3) at once', async () => {
    const ids = await live(4);
    for (const id of ids.slice(0, 3)) expect((await claim(id, 'open', 'bot')).attempt).not.toBeNull();
    const fourth = await claim(ids[3]!, 'open', 'bot');
    expect(fourth.limited).toEqual({ ok: false, why: 'agent-busy', retryAt: null, reason: 'AI agent bot is on 3 callbacks (max_calls 3) across all daemons' });
  });

  it('a row no longer LIVE is refused as moved before any limit is looked at', async () => {
    const [x] = await live(1);
    await claim(x!, 'open', 'a0');
    const again = await claim(x!, 'carrier', 'a1');
    expect(again.refused).toBe('moved');
    expect(again.limited).toBeNull();
  });

  it('clusterLoad: open attempts per trunk and per agent, and the last start of rate-limited trunks, in one read', async () => {
    const [x, y, z, w] = await live(4);
    await claim(x!, 'carrier', 'a0');
    const ended = await claim(y!, 'carrier', 'a1');
    await claim(z!, 'paced', 'bot');
    await claim(w!, 'open', 'bot');
    await endUnanswered(ended, T0 + 5);
    const load = await clusterLoad(e, T0 + 10);
    expect(Object.fromEntries(load.trunks)).toEqual({ carrier: 1, paced: 1, open: 1 });
    expect(Object.fromEntries(load.agents)).toEqual({ a0: 1, bot: 2 });
    expect(Object.fromEntries(load.lastStarts)).toEqual({ paced: T0 });
    expect(Object.fromEntries((await clusterLoad(e, T0 + OPEN_ATTEMPT_HORIZON_MS + 1)).trunks)).toEqual({});
  });
});

/** A claim input for claimBatch, recording its refusal in `out`. */
function input(id: number, trunkId: string, agentId: string, out: Try, more: Partial<store.ClaimInput> = {}): store.ClaimInput {
  return {
    callbackId: id, owner: 'me', token: `tok-${id}`, leaseMs: 60_000, now: T0, dialOrder: 'AGENT_FIRST', agentId, phoneEndpoint: `ep-${agentId}`,
    callerId: '+15550100001', customerNumber: '+15551230001', trunkId,
    ids: (seq) => ({ agentChannelId: `a-${id}-${seq}`, customerChannelId: `c-${id}-${seq}`, bridgeId: `b-${id}-${seq}` }),
    refused: (w) => (out.refused = w),
    limited: (r) => (out.limited = r),
    ...more,
  };
}
const blank = (): Try => ({ attempt: null, limited: null, refused: null });

describe(`claims in a batch (claimBatch) on ${TEST_ENGINE}`, () => {
  it('each claim is decided on its own inside the one transaction: limits met within the batch and a moved row refuse only those', async () => {
    const ids = await live(6);
    await e.q.update(e.t.callbacks).set({ state: 'CANCELLED' }).where(eq(e.t.callbacks.id, ids[5]!)); // cancelled meanwhile
    const outs = ids.map(blank);
    // carrier has max_channels 2: the third claim on it is refused; a0 twice: the second is refused (a person takes one call).
    const wants: [string, string][] = [['carrier', 'a0'], ['carrier', 'a1'], ['carrier', 'a2'], ['open', 'a0'], ['open', 'a3'], ['open', 'a4']];
    const got = await store.claimBatch(e, ids.map((id, k) => input(id, wants[k]![0], wants[k]![1], outs[k]!)));
    expect(got.map((a) => a !== null)).toEqual([true, true, false, false, true, false]);
    expect(outs[2]!.limited?.why).toBe('trunk-channels');
    expect(outs[2]!.limited?.reason).toMatch(/trunk carrier is at its limit of 2 channels/);
    expect(outs[3]!.limited?.why).toBe('agent-busy');
    expect(outs[5]!.refused).toBe('moved');
    const states = await e.q.select({ id: e.t.callbacks.id, state: e.t.callbacks.state }).from(e.t.callbacks);
    const byId = new Map(states.map((r) => [r.id, r.state]));
    expect(ids.map((id) => byId.get(id))).toEqual(['DIALING', 'DIALING', 'LIVE', 'LIVE', 'DIALING', 'CANCELLED']);
    expect((await e.q.select().from(e.t.callAttempts)).length).toBe(3);
  });

  it('a customer-first claim counts the customer attempt in the claim; countCustomerAttempt then finds it counted and counts nothing more', async () => {
    const [x, y] = await live(2);
    const [ox, oy] = [blank(), blank()];
    const [ax, ay] = await store.claimBatch(e, [
      input(x!, 'open', 'a0', ox, { dialOrder: 'CUSTOMER_FIRST', countCustomer: true }),
      input(y!, 'open', 'a1', oy, { dialOrder: 'CUSTOMER_FIRST' }), // window closed at the claim: not counted here
    ]);
    expect(ax!.customerAttempt).toBe(1);
    expect(ax!.customerDialedAt).toBe(T0);
    expect(ay!.customerAttempt).toBeNull();
    expect((await store.getCallback(e, x!))!.attempts).toBe(1);
    expect((await store.getCallback(e, y!))!.attempts).toBe(0);
    expect(await store.countCustomerAttempt(e, x!, `tok-${x}`, ax!.id, T0 + 5)).toBe(1);
    expect((await store.getCallback(e, x!))!.attempts).toBe(1);
    expect(await store.countCustomerAttempt(e, y!, `tok-${y}`, ay!.id, T0 + 5)).toBe(1);
  });
});

describe.skipIf(TEST_ENGINE !== 'pg')('PostgreSQL only: two daemons claiming on one trunk and shared agents', () => {
  it('40 LIVE rows, a trunk of C=3, 6 agents, two engines racing: never more than 3 open on the trunk, never an agent on two', async () => {
    await e.q.update(e.t.trunks).set({ maxChannels: 3 }).where(eq(e.t.trunks.id, 'carrier'));
    const ids = await live(40);
    const d1 = await secondConnection(e);
    const d2 = await secondConnection(e);
    const done = new Set<number>();
    const seen = { maxTrunk: 0, agentTwice: 0, claims: 0, limited: 0 };
    const check = async () => {
      const r = await dbExec(
        e,
        `SELECT (SELECT count(*)::int FROM call_attempts WHERE trunk_id = 'carrier' AND ended_at IS NULL) AS trunk,
                (SELECT count(*)::int FROM (SELECT agent_id FROM call_attempts WHERE ended_at IS NULL GROUP BY agent_id HAVING count(*) > 1) x) AS twice`,
      );
      const row = r.rows[0] as { trunk: number; twice: number };
      seen.maxTrunk = Math.max(seen.maxTrunk, row.trunk);
      seen.agentTwice += row.twice;
    };
    // Each daemon walks the callbacks not done yet, in the same order, 3 claims at a time; a claimed call
    // lasts a few ms, then ends (ended_at written), so channels and agents keep being freed and retaken.
    const daemon = async (c: Conn) => {
      const worker = async (w: number) => {
        for (let round = 0; round < 400 && done.size < ids.length; round++) {
          for (const id of ids) {
            if (done.has(id)) continue;
            const t = await claim(id, 'carrier', `a${(id + w + round) % 6}`, Date.now(), c);
            if (t.limited) seen.limited++;
            if (!t.attempt) continue;
            seen.claims++;
            await check();
            await new Promise((r) => setTimeout(r, 10)); // long enough that three calls overlap on a loaded machine
            await endUnanswered(t, Date.now(), c);
            done.add(id);
          }
        }
      };
      await Promise.all([worker(0), worker(1), worker(2)]);
    };
    // Besides the check after every claim, a sampler looks all the time, from its own connection.
    let racing = true;
    let sampled = 0;
    const sampler = (async () => {
      for (; racing; sampled++) await check();
    })();
    await Promise.all([daemon(d1), daemon(d2)]);
    racing = false;
    await sampler;
    expect(done.size).toBe(40);
    expect(seen.claims).toBe(40);
    expect(seen.maxTrunk).toBeLessThanOrEqual(3);
    expect(seen.agentTwice).toBe(0);
    expect(seen.limited, 'the limits were reached at least once (else the race proves nothing)').toBeGreaterThan(0);
    expect(seen.maxTrunk, 'the trunk itself was full at some point (not only agents busy)').toBe(3);
    // The final counts: every callback claimed once, every attempt ended, nothing left DIALING.
    const rows = (await dbExec(e, 'SELECT count(*)::int AS n, count(DISTINCT callback_id)::int AS cbs, count(ended_at)::int AS ended FROM call_attempts')).rows;
    expect(rows).toEqual([{ n: 40, cbs: 40, ended: 40 }]);
    expect((await dbExec(e, "SELECT count(*)::int AS n FROM callbacks WHERE state <> 'COMPLETED'")).rows).toEqual([{ n: 0 }]);
    expect(sampled).toBeGreaterThan(0);
    console.log(`claim-limits race: 40 claims, ${seen.limited} refused by a limit, at most ${seen.maxTrunk} open on the trunk`);
  });
  it('two engines claiming the same 40 rows in batches of 8, agents in opposite orders: each row claimed once, no deadlock, no error', async () => {
    const d1 = e;
    const d2 = await secondConnection(e);
    try {
      const ids = await live(40);
      const agentsOf = (id: number, reverse: boolean) => `a${reverse ? 7 - (id % 8) : id % 8}`;
      const claimed: number[] = [];
      const daemon = async (c: Conn, reverse: boolean) => {
        const order = reverse ? [...ids].reverse() : ids;
        for (let k = 0; k < order.length; k += 8) {
          const batch = order.slice(k, k + 8).map((id) => input(id, 'open', agentsOf(id, reverse), blank(), { token: `tok-${id}-${reverse}` }));
          for (const a of await store.claimBatch(c, batch)) if (a) claimed.push(a.callbackId);
        }
      };
      await Promise.all([daemon(d1, false), daemon(d2, true)]);
      // Each agent takes one call: 8 agents, so 8 rows claimed, every one once; the rest stay LIVE for later.
      expect(new Set(claimed).size).toBe(claimed.length);
      expect(claimed.length).toBe(8);
      expect((await dbExec(e, "SELECT count(*)::int AS n FROM callbacks WHERE state = 'DIALING'")).rows).toEqual([{ n: 8 }]);
    } finally {
      await d2.close();
    }
  });
});
