import type { Db } from '../store/db.js';
import * as store from '../store/callbacks.js';

// Keeps a DIALING callback's lease alive while its call is placed: renewed every third of the
// lease, so a daemon that dies lets another take over within one lease time.

export class LeaseKeeper {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Db,
    private readonly callbackId: number,
    private readonly token: string,
    private readonly leaseMs: number,
    private readonly now: () => number,
    /** False once the attempt's end is written (the lease was released with it): renewing stops. */
    private readonly wanted: () => boolean,
    /** Called once if a renewal finds the lease gone (another worker took the callback). */
    private readonly onLost: () => void,
  ) {}

  start(): void {
    this.stop();
    this.timer = setInterval(() => this.renew(), Math.max(1000, Math.floor(this.leaseMs / 3)));
  }

  private renew(): void {
    if (!this.wanted()) return this.stop();
    if (!store.renewLease(this.db, this.callbackId, this.token, this.now() + this.leaseMs)) {
      this.stop();
      this.onLost();
    }
  }

  /** Leaves the row with an already-expired lease: the next start adopts it at once. */
  handBack(): void {
    this.stop();
    store.renewLease(this.db, this.callbackId, this.token, this.now());
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
