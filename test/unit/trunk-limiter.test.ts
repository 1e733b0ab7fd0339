// The scheduler's in-memory pre-check (src/dialer/trunk-limits.ts) fed with the cluster's load each
// pass, and the busy agents a pass starts from (src/scheduler/dial-pass.ts busyAgents).
import { describe, expect, it } from 'vitest';
import { TrunkLimiter } from '../../src/dialer/trunk-limits.js';
import { busyAgents } from '../../src/scheduler/dial-pass.js';

const NOW = 1_790_000_000_000;
const two = { maxChannels: 2, callsPerSecond: 0 };

describe('TrunkLimiter fed with the cluster load', () => {
  it('counts other daemons\' legs: the cluster count minus this daemon\'s own', () => {
    const l = new TrunkLimiter();
    l.acquire('t', NOW); // one of ours, already in the database's count
    l.observe({ trunks: new Map([['t', 1]]), lastStarts: new Map() });
    expect(l.check('t', two, NOW).ok).toBe(true); // 1 in use (ours), not 2
    l.observe({ trunks: new Map([['t', 2]]), lastStarts: new Map() }); // a peer took the second
    expect(l.check('t', two, NOW)).toMatchObject({ ok: false, why: 'trunk-channels', reason: 'trunk t is at its limit of 2 channels across all daemons' });
    l.release('t'); // ours ended: the peer's one is left
    expect(l.check('t', two, NOW).ok).toBe(true);
    expect(l.snapshot()).toEqual(new Map([['t', 0]]));
  });

  it('a peer\'s later start paces this daemon too; an older one does not undo ours', () => {
    const l = new TrunkLimiter();
    const cps = { maxChannels: 0, callsPerSecond: 1 };
    l.observe({ trunks: new Map(), lastStarts: new Map([['t', NOW - 200]]) });
    expect(l.check('t', cps, NOW)).toMatchObject({ ok: false, why: 'trunk-rate', retryAt: NOW + 800 });
    l.acquire('t', NOW + 800);
    l.observe({ trunks: new Map(), lastStarts: new Map([['t', NOW - 200]]) });
    expect(l.check('t', cps, NOW + 900)).toMatchObject({ ok: false, retryAt: NOW + 1800 });
  });
});

describe('busyAgents', () => {
  it('this daemon\'s sessions and every daemon\'s open attempts: the larger count per agent', () => {
    const local = new Map([['a1', 1], ['bot', 1]]);
    const load = { agents: new Map([['a1', 1], ['a2', 1], ['bot', 3]]) };
    expect(busyAgents(local, load)).toEqual(new Map([['a1', 1], ['a2', 1], ['bot', 3]]));
    expect(local).toEqual(new Map([['a1', 1], ['bot', 1]])); // not changed
  });
});
