import { describe, expect, it } from 'vitest';
import { endingWhileAway, parseLegRecord } from '../../src/domain/leg-record.js';

describe('what the hold dialplan recorded', () => {
  it('parses the stamps (epoch seconds → ms); nothing recorded is null', () => {
    expect(parseLegRecord('answered:1700000000 held:1700000001 apologised:1700000021 ended:1700000024')).toEqual({
      answeredAt: 1_700_000_000_000,
      heldAt: 1_700_000_001_000,
      apologisedAt: 1_700_000_021_000,
      endedAt: 1_700_000_024_000,
    });
    expect(parseLegRecord(null)).toBeNull();
    expect(parseLegRecord('')).toBeNull();
    expect(parseLegRecord('garbage')).toBeNull();
  });

  it('an answered customer is never "not answered": apologised, or hung up while waiting; no record = unknown', () => {
    const apologised = endingWhileAway(parseLegRecord('answered:10 held:10 apologised:30 ended:33'), 'x');
    expect(apologised).toMatchObject({ kind: 'customer', outcome: 'APOLOGISED', answeredAt: 10_000, endedAt: 33_000 });
    const hungUp = endingWhileAway(parseLegRecord('answered:10 held:10 ended:12'), 'x');
    expect(hungUp).toMatchObject({ kind: 'customer', outcome: 'HUNG_UP_WAITING', answeredAt: 10_000, endedAt: 12_000 });
    expect(endingWhileAway(null, 'restart found the customer leg gone')).toEqual({ kind: 'interrupted', reason: 'restart found the customer leg gone' });
  });
});
