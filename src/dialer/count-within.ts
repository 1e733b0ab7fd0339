import type { Logger } from '../log.js';
import { waitReason, whenNotBusy, type WriteQueue } from './write-queue.js';

// The customer's attempt count before the customer is dialed (session-flow.ts dialCustomer), within
// a bound: the count is what keeps max_attempts honest across daemons, so the customer is never
// dialed without it, and someone may be on the line waiting for it (agent-first: the agent, hearing
// ringing). A database that is unreachable or held by another process for longer is `timedOut`,
// with why. No try starts after the bound, so a count never lands for a customer who was not
// dialed, except a try already sent whose answer was lost: an attempt charged and not dialed,
// never the reverse.

export type Counted = { n: number } | { err: Error } | { timedOut: 'busy' | 'unreachable' };

export async function countWithin(o: { log: Logger; writes: WriteQueue; boundMs: number; count: () => Promise<number> }): Promise<Counted> {
  let gaveUp = false;
  let waitingOn: 'busy' | 'unreachable' = 'unreachable'; // the count's own last refusal (else the queue's)
  const attempt = (async () => {
    await o.writes.idle(); // after the call's earlier stamps (an answer time waits in the queue while the database is away)
    if (gaveUp) throw new Error('gave up');
    return whenNotBusy(o.log, 'customer attempt count', () => {
      if (gaveUp) throw new Error('gave up');
      return o.count().catch((err: unknown) => {
        waitingOn = waitReason(err) ?? waitingOn;
        throw err;
      });
    }, o.boundMs);
  })();
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), o.boundMs)));
  try {
    const r = await Promise.race([attempt.then((n) => ({ n }), (err: Error) => ({ err })), bound]);
    if (r === 'timeout' || ('err' in r && waitReason(r.err))) {
      gaveUp = true;
      attempt.catch(() => undefined); // it settles later: as "gave up", or the answer of a try already sent
      return { timedOut: r === 'timeout' ? (o.writes.waitingOn ?? waitingOn) : waitReason(r.err)! };
    }
    return r;
  } finally {
    clearTimeout(timer);
  }
}
