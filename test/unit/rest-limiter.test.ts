import { describe, expect, it } from 'vitest';
import { NEW_MAX_WAIT_MS, RestLimiter, type Lane } from '../../src/asterisk/rest-limiter.js';

// The bound on REST calls to Asterisk, and its two lanes (src/asterisk/rest-limiter.ts).

function gate() {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
}

describe('RestLimiter', () => {
  it('never has more than max in flight, and runs every request', async () => {
    const l = new RestLimiter(3);
    let now = 0;
    let peak = 0;
    const work = Array.from({ length: 20 }, (_, i) =>
      l.run(i % 2 ? 'new' : 'urgent', async () => {
        peak = Math.max(peak, ++now);
        await new Promise((r) => setTimeout(r, 1 + (i % 3)));
        now--;
        return i;
      }),
    );
    expect(await Promise.all(work)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(peak).toBe(3);
    expect(l.queued).toBe(0);
    expect(l.peakQueued).toBe(17);
  });

  // One slot held; requests queued in `queued` order (name = lane-n); the order they then run in.
  it.each([
    ['a queued urgent request goes before new ones queued earlier', ['new-1', 'new-2', 'urgent-1'], ['urgent-1', 'new-1', 'new-2']],
    ['background work (the stale-claims sweep) goes only when no urgent or new request waits', ['background-1', 'new-1', 'urgent-1'], ['urgent-1', 'new-1', 'background-1']],
  ] as const)('%s', async (_, queued, runs) => {
    const l = new RestLimiter(1);
    const first = gate();
    const order: string[] = [];
    const busy = l.run('new', () => first.p);
    const done = queued.map((name) => l.run(name.split('-')[0] as Lane, async () => void order.push(name)));
    first.open();
    await Promise.all([busy, ...done]);
    expect(order).toEqual(runs);
  });

  it(`a new call that has waited NEW_MAX_WAIT_MS (${NEW_MAX_WAIT_MS} ms) goes before urgent work; one that has not, after it`, async () => {
    let clock = 0;
    const l = new RestLimiter(1, () => clock);
    const order: string[] = [];
    const hold = async (name: string) => {
      const g = gate();
      const p = l.run(name.startsWith('new') ? 'new' : 'urgent', async () => {
        order.push(name);
        await g.p;
      });
      return { p, open: g.open };
    };
    const busy = await hold('urgent-0'); // takes the one slot
    const n1 = await hold('new-1'); // queued at 0
    clock = 100;
    const u1 = await hold('urgent-1'); // queued at 100
    const u2 = await hold('urgent-2');
    // At 100 ms new-1 has not waited long enough: urgent-1 goes first.
    busy.open();
    await busy.p;
    expect(order).toEqual(['urgent-0', 'urgent-1']);
    // At 300 ms new-1 has waited 300 ms: it goes before urgent-2.
    clock = NEW_MAX_WAIT_MS + 50;
    u1.open();
    await u1.p;
    expect(order).toEqual(['urgent-0', 'urgent-1', 'new-1']);
    n1.open();
    u2.open();
    await Promise.all([n1.p, u2.p]);
    expect(order).toEqual(['urgent-0', 'urgent-1', 'new-1', 'urgent-2']);
  });

  it('a failing request frees its slot', async () => {
    const l = new RestLimiter(1);
    await expect(l.run('urgent', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await l.run('new', async () => 7)).toBe(7);
  });
});
