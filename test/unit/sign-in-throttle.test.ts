import { describe, expect, it } from 'vitest';
import { recentFailures, signInWait } from '../../src/domain/sign-in-throttle.js';

const rule = { max: 3, windowMs: 60_000 };

describe('sign-in throttle', () => {
  it('allows tries until max failures fall inside the window', () => {
    expect(signInWait([], 1000, rule)).toBe(0);
    expect(signInWait([1000, 2000], 3000, rule)).toBe(0);
  });
  it('then waits until the oldest counted failure leaves the window', () => {
    expect(signInWait([1000, 2000, 3000], 3000, rule)).toBe(58_000);
    expect(signInWait([1000, 2000, 3000], 61_000, rule)).toBe(0);
  });
  it('forgets failures older than the window', () => {
    expect(recentFailures([0, 10, 70_000], 70_001, rule)).toEqual([70_000]);
  });
});
