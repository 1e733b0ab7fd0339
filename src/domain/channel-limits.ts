import { aiAgentFree } from './ai-agent.js';

// The limits a new call must fit in, as one rule used twice: by the claim (store/call-attempts.ts,
// inside its transaction, with the whole cluster's counts: the authority) and by the scheduler's
// cheap in-memory pre-check (dialer/trunk-limits.ts, fed each pass with the same cluster counts).
// Pure: the counts come in, a verdict with words an admin can act on goes out.

export interface TrunkLimit {
  maxChannels: number; // 0 = unlimited
  callsPerSecond: number; // 0 = unlimited
}

export type LimitRefusal = 'trunk-channels' | 'trunk-rate' | 'agent-busy';

export type LimitVerdict = { ok: true } | { ok: false; why: LimitRefusal; reason: string; retryAt: number | null };

/**
 * An attempt still open (ended_at NULL) counts against its trunk and its agent only while it started
 * less than this long ago. Why a bound at all: a row whose end is never written would otherwise hold a
 * channel (or an agent) forever. Unanswered attempts cannot linger: their callback is DIALING under a
 * lease, and any daemon of the trunk's server recovers it when the lease lapses (scheduler/recovery.ts),
 * writing ended_at. An answered, bridged call is closed by closeAnsweredAttempt when a leg hangs up,
 * or by settleAnsweredCalls: at a daemon's start or ARI reconnect, and on every 4th takeover sweep of
 * a peer on its server (a daemon killed mid-call leaves no DIALING row to adopt). The bound is for
 * what none of those reaches (no daemon left on that server). Six hours is longer than any callback
 * conversation we expect, and short enough that such a leak frees itself within a shift. The cost: a real call past 6 h stops counting, and the carrier
 * refuses the one extra call (congestion, retried). Tested in test/integration/store/claim-limits.test.ts.
 */
export const OPEN_ATTEMPT_HORIZON_MS = 6 * 3_600_000;

/**
 * May a new leg start on `trunk` at `now`, with `inUse` of its channels taken (every daemon's) and the
 * last leg started at `lastStart` (every daemon's)? `retryAt` is when the rate allows the next one; a
 * full trunk has none (a call ending frees it, and its end wakes every daemon).
 */
export function trunkVerdict(trunk: string, limit: TrunkLimit, inUse: number, lastStart: number | null, now: number): LimitVerdict {
  if (limit.maxChannels > 0 && inUse >= limit.maxChannels) {
    return { ok: false, why: 'trunk-channels', retryAt: null, reason: `trunk ${trunk} is at its limit of ${limit.maxChannels} channel${limit.maxChannels === 1 ? '' : 's'} across all daemons` };
  }
  if (limit.callsPerSecond > 0 && lastStart !== null) {
    const gap = 1000 / limit.callsPerSecond;
    if (now - lastStart < gap) {
      return { ok: false, why: 'trunk-rate', retryAt: Math.ceil(lastStart + gap), reason: `trunk ${trunk} is at its limit of ${limit.callsPerSecond} calls per second across all daemons` };
    }
  }
  return { ok: true };
}

export interface AgentLoad {
  kind: 'human' | 'ai';
  /** AI agents only: how many callbacks at once (README "AI voice agents"). */
  maxCalls: number;
}

/**
 * May `agent` be rung for one more callback while on `open` open attempts (every daemon's)? A person
 * takes one at a time; an AI agent up to its max_calls. An agent the directory does not know is a person.
 */
export function agentVerdict(agent: string, load: AgentLoad | null, open: number): LimitVerdict {
  if (load?.kind === 'ai') {
    if (aiAgentFree(open, { maxCalls: load.maxCalls })) return { ok: true };
    return { ok: false, why: 'agent-busy', retryAt: null, reason: `AI agent ${agent} is on ${open} callbacks (max_calls ${load.maxCalls}) across all daemons` };
  }
  if (open === 0) return { ok: true };
  return { ok: false, why: 'agent-busy', retryAt: null, reason: `agent ${agent} is already on a callback (placed by another daemon or still being closed)` };
}
