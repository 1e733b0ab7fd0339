import { trunkVerdict, type LimitVerdict, type TrunkLimit } from '../domain/channel-limits.js';

// Per-trunk limits on concurrent legs and on new legs per second: the scheduler's cheap pre-check
// before a claim. The claim itself enforces them for the whole cluster (store/call-attempts.ts); this
// keeps a pass from loading and claiming callbacks that would only be refused. It knows this daemon's
// legs exactly (acquire/release) and, from each pass's read of the database (observe), the legs of
// every other daemon on the same database and each trunk's last start anywhere.

export class TrunkLimiter {
  private inUse = new Map<string, number>();
  private lastStart = new Map<string, number>();
  /** Other daemons' open legs per trunk, as of the last observe(). */
  private others = new Map<string, number>();

  /**
   * Whether a new leg may start on `trunk` at `now`; retryAt is when the rate allows it again.
   * `pending`: legs the caller has decided on but not claimed yet (a batch of claims), counted as started now.
   */
  check(trunk: string, limit: TrunkLimit, now: number, pending = 0): LimitVerdict {
    const used = (this.others.get(trunk) ?? 0) + (this.inUse.get(trunk) ?? 0) + pending;
    return trunkVerdict(trunk, limit, used, pending > 0 ? now : (this.lastStart.get(trunk) ?? null), now);
  }

  /**
   * The whole cluster's load, read once per pass: open attempts per trunk (this daemon's committed
   * ones included, hence the subtraction) and each trunk's last start by any daemon.
   */
  observe(load: { trunks: ReadonlyMap<string, number>; lastStarts: ReadonlyMap<string, number> }): void {
    this.others = new Map();
    for (const [trunk, n] of load.trunks) this.others.set(trunk, Math.max(0, n - (this.inUse.get(trunk) ?? 0)));
    for (const [trunk, at] of load.lastStarts) if (at > (this.lastStart.get(trunk) ?? -Infinity)) this.lastStart.set(trunk, at);
  }

  acquire(trunk: string, now: number): void {
    const n = (this.inUse.get(trunk) ?? 0) + 1;
    this.inUse.set(trunk, n);
    this.lastStart.set(trunk, now);
  }

  /** Legs in progress per trunk on this daemon, for metrics. */
  snapshot(): Map<string, number> {
    return new Map(this.inUse);
  }

  release(trunk: string): void {
    this.inUse.set(trunk, Math.max(0, (this.inUse.get(trunk) ?? 0) - 1));
  }
}
