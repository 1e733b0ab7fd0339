// The globals CBDAPP_<channel id> by which a daemon taking over a call points its legs at its own ARI
// application (dialplan/callbackd-hold.conf reads it when the leg enters the dialplan). Asterisk keeps
// a global until it is deleted or Asterisk restarts: a leg hung up while ringing never enters the
// dialplan, and the dialplan's own `Set(GLOBAL(…)=)` leaves an empty entry behind (both seen on the
// lab: `dialplan show globals`). So the daemon that set one deletes it (ARI, no value = unset) once
// the leg is gone: on its ChannelDestroyed, or, for a leg that ended before the claim landed or while
// the event socket was down, when a look finds the channel gone. If that daemon dies first, the
// sweep of stale-claims.ts deletes the global once the channel is gone.
import type { Logger } from '../log.js';

export interface LegClaimsPort {
  /** POST /asterisk/variable: `value` undefined deletes the global. */
  setGlobal(variable: string, value: string | undefined): Promise<void>;
  channelExists(channelId: string): Promise<boolean>;
  log: Logger;
}

export const CLAIM_PREFIX = 'CBDAPP_';
export const claimVariable = (channelId: string) => `${CLAIM_PREFIX}${channelId}`;

export class LegClaims {
  /** Legs we pointed at our application, each with its claim request (a delete must land after it). */
  private readonly claimed = new Map<string, Promise<unknown>>();

  constructor(private readonly port: LegClaimsPort, private readonly app: string) {}

  get pending(): number {
    return this.claimed.size;
  }

  async claim(channelId: string): Promise<void> {
    const set = this.port.setGlobal(claimVariable(channelId), this.app);
    this.claimed.set(channelId, set.catch(() => undefined));
    await set;
    // Its ChannelDestroyed may have come before we were waiting for it.
    if (!(await this.port.channelExists(channelId).catch(() => true))) this.ended(channelId);
  }

  /** A leg ended (ChannelDestroyed): its global, if we set one, is deleted. */
  ended(channelId: string): void {
    const claim = this.claimed.get(channelId);
    if (!claim) return;
    this.claimed.delete(channelId);
    void claim
      .then(() => this.port.setGlobal(claimVariable(channelId), undefined))
      .catch((err: Error) => this.port.log.warn({ channelId, err: err.message }, `could not delete the global ${claimVariable(channelId)}; it stays in Asterisk until it restarts`));
  }

  /** After the event socket was down: legs that ended meanwhile sent no event we saw. */
  async recheck(): Promise<void> {
    for (const id of [...this.claimed.keys()]) if (!(await this.port.channelExists(id).catch(() => true))) this.ended(id);
  }
}
