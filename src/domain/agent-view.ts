// What an agent sees of their callbacks (VICIdial's callback list and counts). Pure.

export type CountMode = 'LIVE' | 'ACTIVE' | 'ALL_ACTIVE';

/** The campaign's callbacks alert (VICIdial's): red, blink, both, and DEFER variants that stop blinking once the list was opened until the count changes. */
export const ALERT_STYLES = ['NONE', 'RED', 'BLINK', 'BLINK_RED', 'RED_DEFER', 'BLINK_DEFER', 'BLINK_RED_DEFER'] as const;
export type AlertStyle = (typeof ALERT_STYLES)[number];

// Weakest first. Blinking outranks red alone (it is what catches the eye), red+blink outranks both,
// and a style that keeps blinking outranks its DEFER variant (which may stop).
const STRENGTH: readonly AlertStyle[] = ['NONE', 'RED_DEFER', 'RED', 'BLINK_DEFER', 'BLINK', 'BLINK_RED_DEFER', 'BLINK_RED'];

/**
 * The one alert line of an agent whose callbacks span campaigns: the strongest style among the
 * campaigns of the callbacks the counter counts, so no campaign's alert is weakened by another's.
 * Nothing counted: NONE (there is nothing to alert about).
 */
export function strongestAlert(styles: Iterable<AlertStyle>): AlertStyle {
  let best: AlertStyle = 'NONE';
  for (const s of styles) if (STRENGTH.indexOf(s) > STRENGTH.indexOf(best)) best = s;
  return best;
}

export interface ViewCallback {
  state: string;
  type: 'USERONLY' | 'ANYONE';
  ownerAgentId: string | null;
  dueAt: number;
  hiddenUntil: number | null;
}

export interface ViewCampaign {
  countMode: CountMode;
  /** Only callbacks due within this many days are listed; 0 = all. */
  displayDays: number;
}

/** Listed for this agent now? Their own USERONLY callbacks, once the hours block has passed. */
export function agentSees(cb: ViewCallback, c: ViewCampaign, agentId: string, now: number): boolean {
  if (cb.type !== 'USERONLY' || cb.ownerAgentId !== agentId) return false;
  if (cb.state !== 'ACTIVE' && cb.state !== 'LIVE') return false;
  if (cb.hiddenUntil !== null && now < cb.hiddenUntil) return false;
  if (c.displayDays > 0 && cb.dueAt > now + c.displayDays * 86_400_000) return false;
  return true;
}

/** Counted in the agent's callback counter under the campaign's count mode? */
export function counted(state: string, mode: CountMode): boolean {
  if (mode === 'LIVE') return state === 'LIVE';
  if (mode === 'ACTIVE') return state === 'ACTIVE';
  return state === 'ACTIVE' || state === 'LIVE';
}
