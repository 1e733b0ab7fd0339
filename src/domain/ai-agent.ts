// AI voice agents (README "AI voice agents"): an agent of kind 'ai' is a voice bot's SIP endpoint.
// It takes several callbacks at once, so "busy" is a count against its limit, and the endpoint's
// device state (in use as soon as it has one call) says nothing about whether it can take another.
// Everything else still applies: a blocked phone (Active Account off, Status not ACTIVE/ADMIN) is
// never rung, and an unregistered or unreachable endpoint is not rung either.

export interface AiLimit {
  maxCalls: number;
}

/** May an AI agent with `calls` callbacks in progress take one more? */
export function aiAgentFree(calls: number, limit: AiLimit): boolean {
  return calls < limit.maxCalls;
}

/** Why an AI agent cannot take another callback now, or null when it can. */
export function aiAgentBusyReason(agentId: string, calls: number, limit: AiLimit): string | null {
  return aiAgentFree(calls, limit) ? null : `AI agent ${agentId} is on ${calls} callbacks (max_calls ${limit.maxCalls})`;
}

export interface AiLoad extends AiLimit {
  /** Callbacks in progress on this AI agent (every daemon's). */
  calls: number;
}

/** What the "in use" column says: a person's phone in use or not; an AI agent's calls against its limit. */
export function inUseText(inUse: boolean, ai: AiLoad | null): string {
  if (ai) return `AI, ${ai.calls} of ${ai.maxCalls} call${ai.maxCalls === 1 ? '' : 's'}`;
  return inUse ? 'yes' : 'no';
}
