import type { Conn } from '../store/conn.js';
import { dbBusy } from '../metrics.js';
import type { Logger } from '../log.js';
import { isBusy } from '../store/busy.js';
import * as store from '../store/callbacks.js';
import { isUnreachable } from '../store/unreachable.js';

// Keeps a DIALING callback's lease alive while its call is placed: renewed every third of the
// lease, so a daemon that dies lets another take over within one lease time. A renewal that cannot
// reach the database is skipped and the call goes on (issue 16 item 4): the lease has two more
// renewals' worth of time; if the outage outlasts it and a peer takes the call over, the next
// renewal finds the token gone (onLost) and every write of this call is refused by its token.

export class LeaseKeeper {
  private timer: NodeJS.Timeout | null = null;
  private renewing = false;
  /** The lease is surely ours until then: the last expiry written, counted from when it was sent. */
  private validUntil: number;

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
    private readonly log?: Logger,
    /** The expiry the claim (or the takeover) wrote; absent: leaseMs from now. */
    leaseUntil?: number,
  ) {
    this.validUntil = leaseUntil ?? now() + leaseMs;
  }

  /**
   * Whether a leg may still be sent to Asterisk under this lease (the fence before an originate).
   * A peer adopts the call once the lease lapsed and, finding no channel, dials it again; an originate
   * of ours that left after that would ring the same person twice. So the last stretch of the lease,
   * a quarter of it (at most 5 s, covering the request's way to Asterisk and some clock skew between
   * hosts), is not used for new legs.
   */
  fresh(): boolean {
    return this.now() < this.validUntil - Math.min(5000, this.leaseMs / 4);
  }

  /** Renewals in a row that could not reach the database (logged on the first and when it comes back). */
  private missed = 0;

  start(): void {
    this.stop();
    this.timer = setInterval(() => void this.renew(), Math.max(1000, Math.floor(this.leaseMs / 3)));
  }

  private async renew(): Promise<void> {
    if (!this.wanted()) return this.stop();
    if (this.renewing) return; // the last renewal has not answered yet: never two at once
    let held: boolean;
    this.renewing = true;
    const sentAt = this.now();
    try {
      held = await store.renewLease(this.db, this.callbackId, this.token, sentAt + this.leaseMs);
    } catch (err) {
      // Another process holds the write lock, or the database is down: this renewal is skipped;
      // the lease has two more renewals' worth of time left, and the next one tries again. This
      // runs on a timer: an error thrown from here would be an unhandled rejection (the process
      // ends), so anything else is logged too.
      if (isBusy(err)) dbBusy.inc({ where: 'dialer' });
      else if (++this.missed === 1 || !isUnreachable(err)) this.log?.warn({ err: (err as Error).message, unreachable: isUnreachable(err) }, 'lease not renewed; the call goes on, renewing again shortly');
      return;
    } finally {
      this.renewing = false;
    }
    if (this.missed > 0) this.log?.info({ missed: this.missed, held }, 'lease renewal reached the database again');
    this.missed = 0;
    if (held) this.validUntil = sentAt + this.leaseMs;
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
      // Locked or unreachable: the lease then runs out by itself within leaseMs.
      if (!isBusy(err) && !isUnreachable(err)) throw err;
      if (isBusy(err)) dbBusy.inc({ where: 'dialer' });
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
