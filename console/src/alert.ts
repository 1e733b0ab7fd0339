// The agent's callbacks alert line, VICIdial-style: NONE, RED, BLINK, BLINK_RED, and the DEFER
// variants that stop blinking once the agent opened the list, until the count changes. The style
// is the campaign's (callback_alert), as GET /me/callbacks says; only "was the list opened" is the browser's.

// Spelled out (this file is also compiled by the unit tests' tsconfig); Agent.tsx passes the API's
// value here, so a style the API adds and this union lacks fails the console's type check.
export type AlertStyle = 'NONE' | 'RED' | 'BLINK' | 'BLINK_RED' | 'RED_DEFER' | 'BLINK_DEFER' | 'BLINK_RED_DEFER';

/** CSS classes of the alert line: `count` is what the campaign's count mode counts; `seenCount` the count when the list was last opened (null: never). */
export function alertClasses(style: AlertStyle, count: number, seenCount: number | null): string[] {
  if (count === 0 || style === 'NONE') return [];
  const deferred = style.endsWith('_DEFER') && seenCount === count;
  const base = style.replace('_DEFER', '');
  const out: string[] = [];
  if (base === 'RED' || base === 'BLINK_RED') out.push('red');
  if ((base === 'BLINK' || base === 'BLINK_RED') && !deferred) out.push('blink');
  return out;
}
