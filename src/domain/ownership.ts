// Who may take a LIVE USERONLY callback, as time passes. Pure: the scheduler supplies the facts.

export interface OwnershipFacts {
  ownerAgentId: string;
  campaignId: string;
  ownerExists: boolean;
  ownerOnCampaign: boolean;
  allowUnassignedAgents: boolean;
  /** useronly_move_minutes; 0 = never move. */
  moveMinutes: number;
  /** Since when the owner could not be rung; null = not waiting for the owner. */
  ownerWaitingSince: number | null;
  now: number;
}

/** A reason to turn this USERONLY callback into ANYONE now, or null to keep it with its owner. */
export function ownershipMove(f: OwnershipFacts): string | null {
  if (!f.ownerExists) return `owner ${f.ownerAgentId} no longer exists`;
  if (!f.ownerOnCampaign && !f.allowUnassignedAgents) {
    return `owner ${f.ownerAgentId} is no longer on campaign ${f.campaignId} (allow_unassigned_agents is off)`;
  }
  if (f.moveMinutes > 0 && f.ownerWaitingSince !== null && f.now - f.ownerWaitingSince >= f.moveMinutes * 60_000) {
    return `owner ${f.ownerAgentId} could not be rung for ${f.moveMinutes} minute(s) (useronly_move_minutes)`;
  }
  return null;
}

/** When ownershipMove will say yes if nothing changes: the scheduler wakes then. */
export function ownershipDeadline(f: Pick<OwnershipFacts, 'moveMinutes' | 'ownerWaitingSince'>): number | null {
  return f.moveMinutes > 0 && f.ownerWaitingSince !== null ? f.ownerWaitingSince + f.moveMinutes * 60_000 : null;
}
