// Bounds the REST calls to Asterisk in flight at once, with two lanes.
//
// Why a bound: measured on Asterisk 22.10, 100 POST /channels at once left 64 unanswered for 10 s
// and 75 channels half-made, while 20 at once all answered within 80 ms.
//
// Why two lanes: under a burst (bench/burst.ts, 500 customer-first callbacks due at one instant)
// one FIFO queue made a customer who had just answered wait behind hundreds of new originates:
// 2.7 s from "customer answered" to "ringing agent", and the lab's carrier (which hangs up 3 s
// after answering) left before the agent came in 1,115 of 1,322 answered calls. Work for a call
// that is already up (bridge, ring, hangup, the agent's leg) now goes first; starting a new call
// ('new') waits until no urgent request is queued, or until it has waited NEW_MAX_WAIT_MS.
//
// Why the bound: once claims were batched (session 6) the same burst had all 500 claimed by +0.7 s,
// but the last 25 originates waited behind the answered calls' work until +6.2 s (urgent is never
// empty while hundreds of calls are being answered). Letting the lanes simply take turns brought the
// last INVITE to +2.9 s but made answered customers wait 3.3 s for an agent (p50; 1.8 s before).
// A new call that has waited this long goes next: only the late ones jump the queue, so the answered
// calls give up a few slots, not half of them.

export type Lane = 'urgent' | 'new';

/** The longest a new call's first leg waits behind calls in progress (see above). */
export const NEW_MAX_WAIT_MS = 250;

export class RestLimiter {
  private inFlight = 0;
  private readonly queues: Record<Lane, { go: () => void; at: number }[]> = { urgent: [], new: [] };
  /** The most requests ever queued at once (for benches and logs). */
  peakQueued = 0;

  constructor(
    readonly max: number,
    private readonly now: () => number = Date.now,
    private readonly newMaxWaitMs: number = NEW_MAX_WAIT_MS,
  ) {}

  get queued(): number {
    return this.queues.urgent.length + this.queues.new.length;
  }

  async run<T>(lane: Lane, f: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.max) {
      await new Promise<void>((go) => {
        this.queues[lane].push({ go, at: this.now() });
        this.peakQueued = Math.max(this.peakQueued, this.queued);
      });
    } else this.inFlight++;
    try {
      return await f();
    } finally {
      // The slot passes straight to the next waiter, so a newcomer cannot take it between the
      // release and the waiter's turn.
      const next = this.next();
      if (next) next.go();
      else this.inFlight--;
    }
  }

  /** Urgent first, unless the oldest new call has waited newMaxWaitMs. */
  private next(): { go: () => void } | undefined {
    const oldNew = this.queues.new[0];
    if (oldNew && this.now() - oldNew.at >= this.newMaxWaitMs) return this.queues.new.shift();
    return this.queues.urgent.shift() ?? this.queues.new.shift();
  }
}
