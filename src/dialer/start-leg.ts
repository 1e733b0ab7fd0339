import type { AriClient, OriginateParams } from '../asterisk/ari.js';
import { isCode, ErrorCodes } from '../errors.js';
import type { Logger } from '../log.js';

/**
 * Starts one leg. An originate whose answer was lost (timeout, dropped connection) may still have
 * made the channel, and treating it as "not rung" would let the next attempt ring the same person
 * again. So we ask Asterisk for the channel by its id first; if it never appears we hang that id up
 * anyway (a no-op unless it shows up late) and report the leg as not started. `settled` stops the
 * search when the leg's end has already reached the session.
 */
export async function startLeg(
  d: { ari: AriClient; confirm: { tries: number; delayMs: number } },
  log: Logger,
  settled: () => boolean,
  p: OriginateParams,
): Promise<{ ok: true } | { ok: false; reason: string; leaseLapsing?: true }> {
  try {
    await d.ari.originate(p);
    return { ok: true };
  } catch (err) {
    const reason = (err as Error).message;
    if (isCode(err, ErrorCodes.LEASE_LOST)) return { ok: false, reason, leaseLapsing: true }; // never sent (OriginateParams.stillOurs)
    if (!isCode(err, ErrorCodes.ARI_TIMEOUT) && !isCode(err, ErrorCodes.ARI_UNREACHABLE)) return { ok: false, reason };
    log.warn({ channel: p.channelId, err: reason }, 'originate got no answer; asking Asterisk whether the channel exists');
    for (let i = 0; i < d.confirm.tries; i++) {
      if (settled()) return { ok: true };
      const ch = await d.ari.getChannel(p.channelId).catch(() => undefined);
      if (ch) {
        log.info({ channel: p.channelId }, 'the channel exists after all; carrying on with it');
        return { ok: true };
      }
      await new Promise((r) => setTimeout(r, d.confirm.delayMs));
    }
    await d.ari.hangup(p.channelId).catch((e: Error) => log.warn({ channel: p.channelId, err: e.message }, 'hangup failed'));
    return { ok: false, reason: `${reason}; channel ${p.channelId} never appeared` };
  }
}
