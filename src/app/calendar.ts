import { isValidZone } from '../domain/due.js';
import { parseCalendar, type Calendar } from '../domain/windows.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import type { AgentRow, CampaignRow, LeadRow } from '../store/schema.js';

// Which clock a callback lives on: the campaign's calling calendar and the zones a lead is called
// and a typed time is read in. Used by booking, editing, the view and the scheduler.

export function campaignCalendar(c: CampaignRow): Calendar {
  const cal = parseCalendar(c.callingWindows, c.holidays);
  if (!cal.ok) throw new CallbackdError(ErrorCodes.CONFIG_INVALID, `campaign ${c.id}: ${cal.error} (fix it and import again)`);
  return cal.calendar;
}

/** The zone a lead is called in: its own, else its campaign's. */
export const leadZone = (lead: LeadRow, c: CampaignRow): string => lead.timeZone ?? c.timeZone;

/** Which zone a typed time is read in: lead (default), campaign, agent, or an IANA zone. */
export function resolveZone(choice: string | undefined, lead: LeadRow, c: CampaignRow, agent: AgentRow | undefined): string {
  switch (choice ?? 'lead') {
    case 'lead':
      return leadZone(lead, c);
    case 'campaign':
      return c.timeZone;
    case 'agent':
      if (!agent) throw new CallbackdError(ErrorCodes.INPUT_INVALID, 'zone "agent" needs an owner or booking agent');
      if (!agent.timeZone) throw new CallbackdError(ErrorCodes.INPUT_INVALID, `agent ${agent.id} has no time_zone set; give an IANA zone instead`);
      return agent.timeZone;
    default:
      if (!isValidZone(choice!)) {
        throw new CallbackdError(ErrorCodes.INPUT_INVALID, `zone "${choice}" is not lead, campaign, agent or an IANA zone like America/New_York`);
      }
      return choice!;
  }
}
