import { agentSees, counted, strongestAlert, type AlertStyle } from '../domain/agent-view.js';
import { listAllCallbacks, type ListedCallback } from '../store/callback-list.js';
import type { Conn } from '../store/conn.js';
import * as dir from '../store/directory.js';
import type { CampaignRow } from '../store/schema.js';

// What an agent sees (VICIdial's callback list and counter): their open USERONLY callbacks, read
// through the one listing, then filtered by the pure rules of domain/agent-view.ts.

export interface AgentView {
  agentId: string;
  live: number;
  active: number;
  /** The number the agent's counter shows: each campaign counts by its own count_mode. */
  counted: number;
  /** The alert line's style: the strongest callback_alert among the campaigns of the counted callbacks (NONE when none). */
  alert: AlertStyle;
  callbacks: ListedCallback[];
}

export async function agentView(db: Conn, agentId: string, now: number): Promise<AgentView> {
  const rows = await listAllCallbacks(db, { scope: { kind: 'all' }, agent: [agentId], type: 'USERONLY', state: ['ACTIVE', 'LIVE'], sort: 'due' });
  // One read per campaign on the list, before the rows are judged.
  const campaigns = new Map<string, CampaignRow | undefined>();
  for (const id of new Set(rows.map((r) => r.campaignId))) campaigns.set(id, await dir.getCampaign(db, id));
  const opts = (id: string) => {
    const c = campaigns.get(id);
    return { countMode: c?.countMode ?? 'ALL_ACTIVE', displayDays: c?.displayDays ?? 0, alert: c?.callbackAlert ?? 'BLINK_RED_DEFER' };
  };
  const seen = rows.filter((cb) => agentSees(cb, opts(cb.campaignId), agentId, now));
  const inCounter = seen.filter((c) => counted(c.state, opts(c.campaignId).countMode));
  return {
    agentId,
    live: seen.filter((c) => c.state === 'LIVE').length,
    active: seen.filter((c) => c.state === 'ACTIVE').length,
    counted: inCounter.length,
    alert: strongestAlert(inCounter.map((c) => opts(c.campaignId).alert)),
    callbacks: seen,
  };
}
