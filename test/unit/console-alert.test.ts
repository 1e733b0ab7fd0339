import { describe, expect, it } from 'vitest';
import { alertClasses } from '../../console/src/alert.js';

// The one thing the console computes itself: how the agent's alert line looks.
describe("the agent's alert line", () => {
  it('is plain with nothing counted or style NONE', () => {
    expect(alertClasses('BLINK_RED', 0, null)).toEqual([]);
    expect(alertClasses('NONE', 3, null)).toEqual([]);
  });
  it('RED, BLINK and BLINK_RED', () => {
    expect(alertClasses('RED', 1, null)).toEqual(['red']);
    expect(alertClasses('BLINK', 1, null)).toEqual(['blink']);
    expect(alertClasses('BLINK_RED', 1, 1)).toEqual(['red', 'blink']); // not a DEFER style: opening changes nothing
  });
  it('DEFER: stops blinking once the list was opened at this count, blinks again when the count changes', () => {
    expect(alertClasses('BLINK_RED_DEFER', 2, null)).toEqual(['red', 'blink']);
    expect(alertClasses('BLINK_RED_DEFER', 2, 2)).toEqual(['red']);
    expect(alertClasses('BLINK_RED_DEFER', 3, 2)).toEqual(['red', 'blink']);
    expect(alertClasses('BLINK_DEFER', 2, 2)).toEqual([]);
    expect(alertClasses('RED_DEFER', 2, 2)).toEqual(['red']);
  });
});
