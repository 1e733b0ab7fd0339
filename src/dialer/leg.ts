// One leg of a call (the agent's or the customer's), as a small state machine:
//   idle → dialing → up → gone,  idle → gone (never dialed),  dialing → gone (not answered)
//   dialing → held → up: answered while callbackd was away, kept by the hold dialplan until it
//   could enter our app again (dialplan/callbackd-hold.conf)
// 'up' means answered and in our Stasis app (it can be bridged). A transition not in the table is
// ignored, so a late or repeated event cannot move a leg back.

export type LegState = 'idle' | 'dialing' | 'held' | 'up' | 'gone';

const NEXT: Record<LegState, readonly LegState[]> = {
  idle: ['dialing', 'held', 'up', 'gone'], // 'held', 'up': adopted after a restart, already answered
  dialing: ['held', 'up', 'gone'],
  held: ['up', 'gone'],
  up: ['gone'],
  gone: [],
};

export class Leg {
  private s: LegState = 'idle';
  /** When this leg answered (ms), if it did. */
  upAt: number | null = null;

  constructor(
    readonly channelId: string,
    /** Called exactly once, when the leg becomes gone. */
    private readonly onGone: () => void = () => undefined,
  ) {}

  get state(): LegState {
    return this.s;
  }
  get gone(): boolean {
    return this.s === 'gone';
  }
  /** Answered (held or in our app), not gone. */
  get answered(): boolean {
    return this.s === 'held' || this.s === 'up';
  }
  /** The leg was started (it may have ended since). */
  get dialed(): boolean {
    return this.s !== 'idle';
  }

  /** Moves the leg on; false (and no change) when the move is not allowed from where it is. */
  to(next: LegState, at?: number): boolean {
    if (!NEXT[this.s].includes(next)) return false;
    this.s = next;
    if (next === 'up' || next === 'held') this.upAt ??= at ?? null;
    if (next === 'gone') this.onGone();
    return true;
  }
}
