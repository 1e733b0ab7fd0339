import type { Conn } from '../store/conn.js';
import { getCallback } from '../store/callbacks.js';
import { getCampaign, getLead } from '../store/directory.js';
import { numbersOfLead } from '../store/lead-phones.js';

// What an AI voice agent is given to continue the conversation (GET /ai/context/{id}, README "AI
// voice agents"): the callback, its lead with every number, the booking's notes and the transcript
// or context the booking carried. Nothing about other callbacks, agents or the directory.

export interface AiContextView {
  callback: { id: number; campaign: string; campaignName: string | null; type: 'USERONLY' | 'ANYONE'; owner: string | null; state: string; dueAt: string; attempts: number; maxAttempts: number };
  lead: { id: string; firstName: string | null; lastName: string | null; phone: string; phones: { position: number; number: string; label: string }[] };
  notes: string | null;
  /** The booking's transcript or context (POST /callbacks `transcript`), as stored. */
  context: string | null;
}

/** The view, or null when the callback or its lead is gone (the route then answers 404). */
export async function aiContextOf(db: Conn, callbackId: number): Promise<AiContextView | null> {
  const cb = await getCallback(db, callbackId);
  if (!cb) return null;
  const lead = await getLead(db, cb.leadId);
  if (!lead) return null;
  return {
    callback: {
      id: cb.id,
      campaign: cb.campaignId,
      campaignName: (await getCampaign(db, cb.campaignId))?.name ?? null,
      type: cb.type,
      owner: cb.ownerAgentId,
      state: cb.state,
      dueAt: new Date(cb.dueAt).toISOString(),
      attempts: cb.attempts,
      maxAttempts: cb.maxAttempts,
    },
    lead: {
      id: lead.id,
      firstName: lead.firstName,
      lastName: lead.lastName,
      phone: lead.phoneE164,
      phones: (await numbersOfLead(db, lead)).map((p) => ({ position: p.position, number: p.e164, label: p.label })),
    },
    notes: cb.notes,
    context: cb.context,
  };
}
