import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { claimedChannels, staleClaims, sweepBatch, type ChannelLook } from '../../src/asterisk/stale-claims.js';

// The pure part of the CBDAPP_ sweep (src/asterisk/stale-claims.ts): which globals are claims,
// which of them one run looks at, and which it deletes.

describe('claimedChannels: the CBDAPP_ globals in `dialplan show globals`', () => {
  it('reads channel ids of CBDAPP_ lines only, an empty value too, sorted and once each', () => {
    // The AMI Command output as Asterisk 22 prints it (Output: lines, trimmed by the AMI parser).
    const out = [
      '',
      'Global variable list:',
      '   CALLBACKD_HOLD_SEC=20',
      '   CBD_1732790000.42=answered:1732790000 held:1732790001',
      '   CBDAPP_c-7f3e2a10-aaaa-4bbb-8ccc-000000000002=callbackd-b',
      'CBDAPP_1732790000.17=',
      '   CBDAPP_c-7f3e2a10-aaaa-4bbb-8ccc-000000000002=callbackd-b',
      '   CBDAPP_=nothing',
      '   NOTCBDAPP_x=y',
      '    -- 5 variable(s)',
    ];
    expect(claimedChannels(out)).toEqual(['1732790000.17', 'c-7f3e2a10-aaaa-4bbb-8ccc-000000000002']);
  });

  it('no globals, no claims', () => {
    expect(claimedChannels(['', '    -- 0 variable(s)'])).toEqual([]);
  });
});

describe('sweepBatch: one pass through the ids, at most `max` per run', () => {
  const ids = ['a', 'b', 'c', 'd', 'e'];
  it('from the start; the rest on the next runs, after the last one looked at; the pass ends at the last id', () => {
    expect(sweepBatch(ids, null, 2)).toEqual({ batch: ['a', 'b'], more: true });
    expect(sweepBatch(ids, 'b', 2)).toEqual({ batch: ['c', 'd'], more: true });
    expect(sweepBatch(ids, 'd', 2)).toEqual({ batch: ['e'], more: false });
    expect(sweepBatch(ids, null, 10)).toEqual({ batch: ['a', 'b', 'c', 'd', 'e'], more: false });
    expect(sweepBatch(ids, null, 5)).toEqual({ batch: ['a', 'b', 'c', 'd', 'e'], more: false });
  });
  it('the last id looked at was deleted meanwhile: goes on after where it was', () => {
    expect(sweepBatch(['a', 'c', 'e'], 'b', 1)).toEqual({ batch: ['c'], more: true });
    expect(sweepBatch(['a', 'c'], 'd', 1)).toEqual({ batch: [], more: false });
  });
  it('property: never more than max per run; a pass looks at every id once and ends within ceil(n / max) runs', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z0-9]{1,6}$/), { maxLength: 40 }), fc.integer({ min: 1, max: 12 }), (raw, max) => {
        const sorted = [...raw].sort();
        const looked: string[] = [];
        let after: string | null = null;
        let runs = 0;
        for (;;) {
          const { batch, more } = sweepBatch(sorted, after, max);
          runs++;
          expect(batch.length).toBeLessThanOrEqual(max);
          looked.push(...batch);
          if (!more) break;
          after = batch.at(-1)!;
        }
        expect(looked).toEqual(sorted);
        expect(runs).toBeLessThanOrEqual(Math.max(1, Math.ceil(sorted.length / max)));
      }),
    );
  });
});

describe('staleClaims: only a channel known to be gone loses its global', () => {
  it('up and unknown (the look failed) are kept', () => {
    const looks = new Map<string, ChannelLook>([['live', 'up'], ['ended', 'gone'], ['timed-out', 'unknown'], ['ended-2', 'gone']]);
    expect(staleClaims(looks)).toEqual(['ended', 'ended-2']);
  });
});
