// What a burst did to the calls, read from the daemon's own log lines (JSON, one per line): when the
// last callback was claimed, and how long answered customers waited for their agent. The last INVITE
// alone rewards dialing everyone at once; this is the other side of that trade (rest-limiter.ts).
import { pct } from './lab-bench.js';

interface Line { msg?: string; time?: number; callbackId?: number; lateMs?: number }

/** `due`: the instant the burst was due. */
export function callTimeline(log: string, due: number): string {
  const firstOf = new Map<number, Map<string, number>>();
  let lastClaim = -Infinity;
  let released = 0;
  for (const text of log.split('\n')) {
    if (!text.startsWith('{')) continue;
    const l = JSON.parse(text) as Line;
    if (l.callbackId === undefined || l.msg === undefined || l.time === undefined) continue;
    const seen = firstOf.get(l.callbackId) ?? new Map<string, number>();
    if (!seen.has(l.msg)) seen.set(l.msg, l.time);
    firstOf.set(l.callbackId, seen);
    if (l.msg === 'claimed; dialing') lastClaim = Math.max(lastClaim, l.time);
    if (l.msg === 'the customer answered but no agent did; the customer was released') released++;
  }
  const waits = (from: string, to: string) =>
    [...firstOf.values()].filter((m) => m.has(from) && m.has(to)).map((m) => m.get(to)! - m.get(from)!).sort((a, b) => a - b);
  const q = (xs: number[]) => (xs.length === 0 ? '-' : `p50 ${pct(xs, 50)} ms, p99 ${pct(xs, 99)} ms (${xs.length})`);
  return [
    `  last claim +${((lastClaim - due) / 1000).toFixed(2)} s`,
    `customer answered → agent rung ${q(waits('customer answered', 'ringing agent'))}`,
    `→ bridged ${q(waits('customer answered', 'agent and customer bridged'))}`,
    `released before an agent came ${released}`,
  ].join('; ');
}
