// Per-trunk limits on concurrent customer legs and on new legs per second. In memory: one daemon
// dials a database, so it alone knows what it has in flight.
export interface TrunkLimit {
  maxChannels: number; // 0 = unlimited
  callsPerSecond: number; // 0 = unlimited
}

export type Admission = { ok: true } | { ok: false; retryAt: number | null; reason: string };

export class TrunkLimiter {
  private inUse = new Map<string, number>();
  private lastStart = new Map<string, number>();

  /** Whether a new leg may start on `trunk` at `now`; retryAt is when the rate allows it again. */
  check(trunk: string, limit: TrunkLimit, now: number): Admission {
    const used = this.inUse.get(trunk) ?? 0;
    if (limit.maxChannels > 0 && used >= limit.maxChannels) {
      return { ok: false, retryAt: null, reason: `trunk ${trunk} is at its limit of ${limit.maxChannels} channels` };
    }
    if (limit.callsPerSecond > 0) {
      const gap = 1000 / limit.callsPerSecond;
      const last = this.lastStart.get(trunk);
      if (last !== undefined && now - last < gap) {
        return { ok: false, retryAt: last + gap, reason: `trunk ${trunk} is at ${limit.callsPerSecond} calls per second` };
      }
    }
    return { ok: true };
  }

  acquire(trunk: string, now: number): void {
    const n = (this.inUse.get(trunk) ?? 0) + 1;
    this.inUse.set(trunk, n);
    this.lastStart.set(trunk, now);
  }

  /** Legs in progress per trunk, for metrics. */
  snapshot(): Map<string, number> {
    return new Map(this.inUse);
  }

  release(trunk: string): void {
    this.inUse.set(trunk, Math.max(0, (this.inUse.get(trunk) ?? 0) - 1));
  }
}
