import { describe, expect, it } from 'vitest';
import { countWithin } from '../../src/dialer/count-within.js';
import { WriteQueue } from '../../src/dialer/write-queue.js';
import { createLogger } from '../../src/log.js';

// The customer's attempt count within a bound (src/dialer/count-within.ts): what dialCustomer waits
// for before dialing the customer, with an agent on the line.

const log = createLogger('silent');
const BOUND = 300;
const unreachable = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
const busy = () => Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const timed = async <T>(p: Promise<T>) => {
  const t0 = performance.now();
  const r = await p;
  return { r, ms: performance.now() - t0 };
};

describe('countWithin', () => {
  it('answers the count when the database takes it', async () => {
    expect(await countWithin({ log, writes: new WriteQueue(log), boundMs: BOUND, count: async () => 3 })).toEqual({ n: 3 });
  });

  it('a failure that is not a wait (the lease lost) is returned at once', async () => {
    const lost = new Error('lease lost');
    const { r, ms } = await timed(countWithin({ log, writes: new WriteQueue(log), boundMs: BOUND, count: async () => { throw lost; } }));
    expect(r).toEqual({ err: lost });
    expect(ms).toBeLessThan(BOUND / 2);
  });

  it('refused (unreachable) past the bound: timed out as unreachable, and no try starts after it', async () => {
    const tries: number[] = [];
    const t0 = Date.now();
    const { r, ms } = await timed(countWithin({ log, writes: new WriteQueue(log), boundMs: BOUND, count: async () => { tries.push(Date.now() - t0); throw unreachable(); } }));
    expect(r).toEqual({ timedOut: 'unreachable' });
    expect(ms).toBeGreaterThanOrEqual(BOUND - 20);
    expect(ms).toBeLessThan(BOUND + 200);
    const before = tries.length;
    expect(before).toBeGreaterThan(1); // retried with backoff meanwhile
    await sleep(1500);
    expect(tries.length, 'a try after the bound').toBe(before);
  });

  it('no answer at all (a black hole): timed out at the bound; the late answer changes nothing', async () => {
    let answer: (n: number) => void = () => undefined;
    const { r, ms } = await timed(countWithin({ log, writes: new WriteQueue(log), boundMs: BOUND, count: () => new Promise<number>((res) => (answer = res)) }));
    expect(r).toEqual({ timedOut: 'unreachable' });
    expect(ms).toBeLessThan(BOUND + 200);
    answer(1);
  });

  it("the call's earlier writes wait on a busy database: timed out as busy, the count never tried", async () => {
    const writes = new WriteQueue(log, { firstMs: 20, maxMs: 50 });
    let locked = true;
    writes.push('answer time', async () => { if (locked) throw busy(); });
    let tried = false;
    const r = await countWithin({ log, writes, boundMs: BOUND, count: async () => { tried = true; return 1; } });
    expect(r).toEqual({ timedOut: 'busy' });
    locked = false;
    await writes.idle();
    await sleep(50);
    expect(tried, 'the count ran after the bound').toBe(false);
  });
});
