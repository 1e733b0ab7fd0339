import type { Conn } from '../store/conn.js';
import { dbBusy } from '../metrics.js';
import { isBusy } from '../store/busy.js';
import * as store from '../store/callbacks.js';

// Keeps a DIALING callback's lease alive while its call is placed: renewed every third of the
// lease, so a daemon that dies lets another take over within one lease time.

export class LeaseKeeper {
  private timer: NodeJS.Timeout | null = null;
  private renewing = false;

  constructor(
    private readonly db: Conn,
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
    this.timer = setInterval(() => void this.renew(), Math.max(1000, Math.floor(this.leaseMs / 3)));
  }

  private async renew(): Promise<void> {
    if (!this.wanted()) return this.stop();
    if (this.renewing) return; // the last renewal has not answered yet: never two at once
    let held: boolean;
    this.renewing = true;
    try {
      held = await store.renewLease(this.db, this.callbackId, this.token, this.now() + this.leaseMs);
    } catch (err) {
      // Another process holds the write lock: this renewal is skipped; the lease has two more
      // renewals' worth of time left, and the next one tries again.
      if (!isBusy(err)) throw err;
      dbBusy.inc({ where: 'dialer' });
      return;
    } finally {
      this.renewing = false;
    }
    if (!held) {
      this.stop();
      this.onLost();
    }
  }

  /** Leaves the row with an already-expired lease: the next start adopts it at once. */
  async handBack(): Promise<void> {
    this.stop();
    try {
      await store.renewLease(this.db, this.callbackId, this.token, this.now());
    } catch (err) {
      if (!isBusy(err)) throw err; // locked: the lease then runs out by itself within leaseMs
      dbBusy.inc({ where: 'dialer' });
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
