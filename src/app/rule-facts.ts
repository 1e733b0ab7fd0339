import type { AgentFacts, CampaignRules } from '../domain/create-rules.js';
import { countOwnerOpenUseronly } from '../store/callback-changes.js';
import type { Conn } from '../store/conn.js';
import type { AgentRow, CampaignRow } from '../store/schema.js';
import { campaignCalendar } from './calendar.js';

// The facts the pure callback rules (domain/create-rules.ts) judge, read the same way for a
// booking and an edit.

export function campaignRules(c: CampaignRow): CampaignRules {
  return {
    id: c.id,
    scheduledCallbacks: c.scheduledCallbacks,
    myCallbackDefault: c.myCallbackDefault,
    daysLimit: c.daysLimit,
    maxDaysAhead: c.maxDaysAhead,
    hoursBlock: c.hoursBlock,
    activeLimit: c.activeLimit,
    calltimeCheck: c.calltimeCheck,
    calendar: campaignCalendar(c),
    maxAttempts: c.maxAttempts,
    allowUnassignedAgents: c.allowUnassignedAgents,
  };
}

export const agentFacts = (a: AgentRow): AgentFacts => ({
  id: a.id,
  scheduledCallbacks: a.scheduledCallbacks,
  agentOnlyCallbacks: a.agentOnlyCallbacks,
  activeLimit: a.activeLimit,
});

/** The owner's open USERONLY callbacks that count against active limits (0 without an owner). */
export async function ownerOpenUseronly(db: Conn, ownerId: string | null, except?: number): Promise<number> {
  return ownerId ? await countOwnerOpenUseronly(db, ownerId, except) : 0;
}
