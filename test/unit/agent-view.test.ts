import { describe, expect, it } from 'vitest';
import { ALERT_STYLES, agentSees, counted, strongestAlert, type ViewCallback } from '../../src/domain/agent-view.js';

const NOW = Date.parse('2026-11-23T15:00:00Z');
const cb = (o: Partial<ViewCallback> = {}): ViewCallback => ({ state: 'ACTIVE', type: 'USERONLY', ownerAgentId: 'a1', dueAt: NOW + 3_600_000, hiddenUntil: null, ...o });
const all = { countMode: 'ALL_ACTIVE' as const, displayDays: 0 };

describe("what an agent sees", () => {
  it('own open USERONLY callbacks only', () => {
    expect(agentSees(cb(), all, 'a1', NOW)).toBe(true);
    expect(agentSees(cb({ ownerAgentId: 'a2' }), all, 'a1', NOW)).toBe(false);
    expect(agentSees(cb({ type: 'ANYONE' }), all, 'a1', NOW)).toBe(false);
    expect(agentSees(cb({ state: 'COMPLETED' }), all, 'a1', NOW)).toBe(false);
  });
  it('hours block hides a callback until it runs out', () => {
    expect(agentSees(cb({ hiddenUntil: NOW + 1 }), all, 'a1', NOW)).toBe(false);
    expect(agentSees(cb({ hiddenUntil: NOW }), all, 'a1', NOW)).toBe(true);
  });
  it('display days: only what is due within the horizon', () => {
    const c = { countMode: 'ALL_ACTIVE' as const, displayDays: 2 };
    expect(agentSees(cb({ dueAt: NOW + 2 * 86_400_000 }), c, 'a1', NOW)).toBe(true);
    expect(agentSees(cb({ dueAt: NOW + 2 * 86_400_000 + 1 }), c, 'a1', NOW)).toBe(false);
  });
  it('count modes', () => {
    expect([counted('LIVE', 'LIVE'), counted('ACTIVE', 'LIVE')]).toEqual([true, false]);
    expect([counted('LIVE', 'ACTIVE'), counted('ACTIVE', 'ACTIVE')]).toEqual([false, true]);
    expect([counted('LIVE', 'ALL_ACTIVE'), counted('ACTIVE', 'ALL_ACTIVE'), counted('DIALING', 'ALL_ACTIVE')]).toEqual([true, true, false]);
  });
  it("the alert line: the strongest campaign style among the counted callbacks' campaigns", () => {
    expect(strongestAlert([])).toBe('NONE'); // nothing counted, nothing to alert about
    expect(strongestAlert(['RED'])).toBe('RED');
    expect(strongestAlert(['RED', 'BLINK_DEFER'])).toBe('BLINK_DEFER'); // blinking catches the eye more than red
    expect(strongestAlert(['BLINK', 'BLINK_RED_DEFER'])).toBe('BLINK_RED_DEFER');
    expect(strongestAlert(['BLINK_RED_DEFER', 'BLINK_RED', 'NONE'])).toBe('BLINK_RED'); // one that keeps blinking beats its DEFER
    expect(strongestAlert(['RED_DEFER', 'RED'])).toBe('RED');
    expect(strongestAlert(['NONE', 'NONE'])).toBe('NONE');
    // A total order: each style alone is itself, and the order does not matter.
    for (const a of ALERT_STYLES) {
      expect(strongestAlert([a])).toBe(a);
      for (const b of ALERT_STYLES) expect(strongestAlert([a, b])).toBe(strongestAlert([b, a]));
    }
  });
});
