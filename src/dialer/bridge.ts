import type { AriClient } from '../asterisk/ari.js';
import { AriHttpError } from '../asterisk/ari-rest.js';
import type { Logger } from '../log.js';

// The call's ARI bridge, as far as we know it. Why its own file: under a burst a REST call to
// Asterisk can fail or time out on our side (its HTTP server stalls when it is busy), and the
// old code then either went on without a bridge (createBridge errors were swallowed, so the
// second leg met "404 Bridge not found") or hung up an answered customer. Here a bridge that is
// missing is made again and the legs are added again, with backoff, while both legs are up.

/** Waits between tries to put the legs together: about 7 s in all, the customer hearing ringing. */
export const JOIN_BACKOFF_MS = [100, 300, 600, 1000, 2000, 3000] as const;

const bridgeMissing = (err: unknown) => err instanceof AriHttpError && err.status === 404;

export class CallBridge {
  /** True once Asterisk confirmed the bridge exists (a create or an add that worked). */
  private made = false;
  /** Channels we put in the bridge (a leg added twice would leave and re-enter it). */
  private readonly members = new Set<string>();

  constructor(
    readonly id: string,
    private readonly d: { ari: AriClient; log: Logger; sleep?: (ms: number) => Promise<void> },
  ) {}

  /** Makes the bridge unless known to exist. A failed create is not fatal: add() says the truth. */
  private async ensure(): Promise<void> {
    if (this.made) return;
    try {
      await this.d.ari.createBridge(this.id);
      this.made = true;
    } catch (err) {
      // It may exist after all (a create whose answer we lost, or one made before a restart).
      this.d.log.warn({ err: (err as Error).message, bridge: this.id }, 'creating the bridge failed; checking by adding the leg');
    }
  }

  /** `mayBeIn`: the leg may be in the bridge already (adopted after a restart); only "no bridge" counts then. */
  private async add(channelId: string, mayBeIn = false): Promise<void> {
    if (this.members.has(channelId)) return;
    try {
      await this.d.ari.addToBridge(this.id, channelId);
    } catch (err) {
      if (bridgeMissing(err)) {
        this.made = false;
        this.members.clear();
      } else if (mayBeIn) return;
      throw err;
    }
    this.made = true;
    this.members.add(channelId);
  }

  /** One leg waits in the bridge (hearing ringing, see the caller). One try; join() retries. */
  async park(channelId: string): Promise<void> {
    await this.ensure();
    await this.add(channelId);
  }

  /**
   * Puts every leg in the bridge, retrying our own transient failures (timeouts, a lost create,
   * a bridge gone missing) while `stillUp()` says both legs are there. False when they could not
   * be joined: a leg left (nothing to do) or every try failed (the caller hangs up).
   */
  async join(legs: { id: string; mayBeIn?: boolean }[], stillUp: () => boolean): Promise<{ ok: true } | { ok: false; legLeft: boolean; err?: string }> {
    const sleep = this.d.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    for (let i = 0; ; i++) {
      if (!stillUp()) return { ok: false, legLeft: true };
      try {
        await this.ensure();
        for (const leg of legs) await this.add(leg.id, leg.mayBeIn);
        return { ok: true };
      } catch (err) {
        const msg = (err as Error).message;
        if (!stillUp()) return { ok: false, legLeft: true };
        if (i >= JOIN_BACKOFF_MS.length) return { ok: false, legLeft: false, err: msg };
        this.d.log.warn({ err: msg, try: i + 1 }, 'could not bridge the two legs yet; trying again');
        await sleep(JOIN_BACKOFF_MS[i]!);
      }
    }
  }

  /** Forgets what we knew (the bridge is destroyed). */
  gone(): void {
    this.made = false;
    this.members.clear();
  }
}
