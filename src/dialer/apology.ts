import { randomUUID } from 'node:crypto';
import type { AriClient } from '../asterisk/ari.js';
import type { AriEvent } from '../asterisk/ari-events.js';
import type { Logger } from '../log.js';

// A few words to a leg that is about to be hung up for our own failure (the agent, when the database
// could not count the customer's attempt: session-flow.ts dialCustomer), instead of a silent hangup.

/** What the agent hears: "Sorry… please try (the) call later." (Asterisk's core prompts). */
export const AGENT_APOLOGY = ['sound:sorry', 'sound:please-try-call-later'] as const;

/**
 * Plays `media` to the channel and resolves once it has played (PlaybackFinished), the channel is
 * gone, or `capMs` passed, whichever is first: a lost event never keeps the leg up. Never throws.
 * True when the playback was seen to finish.
 */
export async function playToEnd(ari: Pick<AriClient, 'play' | 'on' | 'off'>, log: Logger, channelId: string, media: readonly string[], capMs: number): Promise<boolean> {
  const id = `apology-${randomUUID()}`;
  let onEvent: ((e: AriEvent) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const ended = new Promise<boolean>((resolve) => {
    onEvent = (e) => {
      if (e.type === 'PlaybackFinished' && (e.playback as { id?: string } | undefined)?.id === id) resolve(true);
      else if ((e.type === 'ChannelDestroyed' || e.type === 'StasisEnd') && e.channel?.id === channelId) resolve(false);
    };
    timer = setTimeout(() => resolve(false), capMs);
  });
  ari.on('event', onEvent!);
  try {
    await ari.play(channelId, id, media);
    return await ended;
  } catch (err) {
    log.warn({ err: (err as Error).message, channel: channelId }, 'could not play the apology');
    return false;
  } finally {
    clearTimeout(timer);
    ari.off('event', onEvent!);
  }
}
