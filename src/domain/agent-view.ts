// What an agent sees of their callbacks (VICIdial's callback list and counts). Pure.

export type CountMode = 'LIVE' | 'ACTIVE' | 'ALL_ACTIVE';

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
