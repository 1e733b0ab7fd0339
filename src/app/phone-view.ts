import { z } from 'zod';
import { inUseText } from '../domain/ai-agent.js';
import { phoneShownUnusable, type Unusable } from '../domain/eligibility.js';
import type { Conn } from '../store/conn.js';
import { aiLimitsOf, allPhones } from '../store/directory.js';
import { openCallsByAgent } from '../store/phone-servers.js';
import { lastPresenceWrite, readPresence } from '../store/presence.js';

// Each phone as the daemons see it in AMI, on its server, and whether callbackd may ring it now:
// one view for `callbackd agents`, GET /phones, the dashboard and /readyz's usable count.

export const PhoneView = z.object({
  agent: z.string(),
  endpoint: z.string(),
  server: z.string().describe('the Asterisk server the phone registers on (README "Running several servers")'),
  status: z.string(),
  activeAccount: z.boolean(),
  registered: z.boolean(),
  reachable: z.boolean(),
  contact: z.string().nullable(),
  inUse: z.boolean().describe('the device state says in use (an AI endpoint does from its first call on)'),
  inUseText: z.string().describe('what the "in use" column shows: yes / no, or for an AI agent "AI, n of max_calls calls"'),
  ai: z.object({ calls: z.number(), maxCalls: z.number() }).nullable().describe("an AI voice agent's callbacks in progress (every daemon's) and its max_calls; null for a person"),
  deviceState: z.string().nullable(),
  lastChange: z.string().nullable(),
  ringable: z.boolean().describe('callbackd may ring it now'),
  why: z.string().describe("why it is not rung, short ('' when ringable)"),
  notRungBecause: z.string().nullable().describe('why it is not rung, in full (null when ringable)'),
});
export type PhoneView = z.infer<typeof PhoneView>;

const SHORT: Record<Unusable['kind'], (u: Unusable) => string> = {
  blocked: (u) => u.reason,
  unregistered: () => 'not registered',
  unreachable: () => 'unreachable (qualify)',
  inUse: () => 'in use',
  full: () => 'AI at max_calls',
};

export async function phoneViews(db: Conn): Promise<{ presenceWrittenAt: string | null; phones: PhoneView[] }> {
  const seen = new Map((await readPresence(db)).map((p) => [p.endpoint, p]));
  const phones = await allPhones(db);
  const ai = await aiLimitsOf(db, [...new Set(phones.map((p) => p.agentId))]);
  const calls = ai.size > 0 ? await openCallsByAgent(db) : new Map<string, number>();
  const last = await lastPresenceWrite(db);
  return {
    presenceWrittenAt: last === null ? null : new Date(last).toISOString(),
    phones: phones.map((ph) => {
      const p = seen.get(ph.endpoint);
      const limit = ai.get(ph.agentId);
      const load = limit ? { calls: calls.get(ph.agentId) ?? 0, maxCalls: limit.maxCalls } : null;
      const no = phoneShownUnusable(ph, p, ph.agentId, load);
      const inUse = p?.inUse ?? false;
      return {
        agent: ph.agentId, endpoint: ph.endpoint, server: ph.serverId, status: ph.status, activeAccount: ph.activeAccount,
        registered: p?.registered ?? false, reachable: p?.reachable ?? false, contact: p?.contactUri ?? null,
        inUse, inUseText: inUseText(inUse, load), ai: load, deviceState: p?.deviceState ?? null,
        lastChange: p ? new Date(p.changedAt).toISOString() : null,
        ringable: no === null, why: no ? SHORT[no.kind](no) : '', notRungBecause: no?.reason ?? null,
      };
    }),
  };
}
