import type { AriClient } from '../asterisk/ari.js';
import { playbackChannel, type AriEvent } from '../asterisk/ari-events.js';
import type { AttemptEnding } from '../domain/attempt-end.js';
import {
  agentMedia,
  CHOICE_TIMEOUT_SEC,
  choiceEnding,
  choiceMedia,
  decidePrompt,
  rejectionEnding,
  type PromptDecision,
  type PromptInput,
  type PromptOptions,
  type PromptStage,
} from '../domain/call-prompts.js';
import type { Logger } from '../log.js';
import { markPromptAnswer } from '../store/call-prompts.js';
import type { Conn } from '../store/conn.js';
import type { SessionPlan } from './session-plan.js';

// The whisper and accept (agent-first: before the customer is dialed) and the customer's choice
// (either order: before the bridge), on top of a call session (session.ts calls the three hooks:
// agentAnswered, customerAnswered, onEvent). What a key means is decided in domain/call-prompts.ts;
// this module plays, listens, times out, and writes the answer and the ending.

/** The longest a prompt's media may take before its keys are timed anyway (PlaybackFinished lost). */
const MAX_MEDIA_SEC = 30;

/** What the prompts need of their call session. */
export interface PromptHost {
  plan: SessionPlan;
  log: Logger;
  db: Conn;
  ari: AriClient;
  now: () => number;
  /** Through the session's write queue (write-queue.ts): in order, retried while the database is locked. */
  write: (what: string, w: () => void) => void;
  /** The session's recorder: the attempt's one ending. */
  endAttempt: (e: AttemptEnding) => void;
  /** The attempt is written: hang up what is left and end the session once the legs are gone. */
  finish: () => Promise<void>;
}

/**
 * One prompt on one channel: plays its media item by item (a key stops it at the next item; see
 * domain agentMedia for why not one playback), then listens for a key until a decision.
 */
class PromptRun {
  private timer: NodeJS.Timeout | null = null;
  private guard: NodeJS.Timeout | null = null;
  private decided = false;
  private queue: string[] = [];
  private current: string | null = null; // the playback in progress
  private seq = 0;
  private onPlayed: (() => void) | null = null;

  constructor(
    private readonly h: PromptHost,
    readonly channelId: string,
    readonly stage: PromptStage,
    private readonly timeoutSec: number,
    private readonly onDecision: (d: PromptDecision) => void,
  ) {}

  async start(media: readonly string[]): Promise<void> {
    this.guard = setTimeout(() => this.input({ kind: 'timeout' }), (MAX_MEDIA_SEC + this.timeoutSec) * 1000);
    this.guard.unref?.();
    this.queue = [...media];
    await this.playNext();
  }

  /** The next item, or (all played, or a key was heard) the end of the media. */
  private async playNext(): Promise<void> {
    const item = this.decided ? undefined : this.queue.shift();
    if (item === undefined) {
      this.current = null;
      this.onPlayed?.();
      this.listen();
      return;
    }
    const id = `${this.channelId}-${this.stage}-${this.seq++}`;
    this.current = id;
    try {
      await this.h.ari.play(this.channelId, id, [item]);
    } catch (err) {
      // Nothing more to hear (the channel may be gone): the keys are still taken, the silence times out.
      this.h.log.warn({ err: (err as Error).message, stage: this.stage, item }, 'prompt could not be played');
      this.queue = [];
      if (this.current === id) await this.playNext();
    }
  }

  /** The timer for a key starts once the media has played (a key during it counts too). */
  private listen(): void {
    if (this.decided || this.timer) return;
    this.timer = setTimeout(() => this.input({ kind: 'timeout' }), this.timeoutSec * 1000);
    this.timer.unref?.();
  }

  onEvent(e: AriEvent): void {
    if (e.type === 'ChannelDtmfReceived' && e.channel?.id === this.channelId) this.input({ kind: 'digit', digit: String(e.digit ?? '') });
    else if (e.type === 'PlaybackFinished' && this.current !== null && (e.playback as { id?: string } | undefined)?.id === this.current) void this.playNext();
    else if (e.type === 'ChannelDestroyed' && e.channel?.id === this.channelId) this.input({ kind: 'hangup' });
  }

  /**
   * Stops the item still playing and waits for its end: Asterisk holds a channel's bridge join
   * until its playback is over (measured on the lab: addChannel got no answer within 3 s while the
   * whisper played on).
   */
  async quiet(): Promise<void> {
    const playing = this.current;
    if (playing === null) return;
    await this.h.ari.stopPlayback(playing).catch(() => undefined);
    await new Promise<void>((resolve) => {
      if (this.current === null) return resolve();
      this.onPlayed = resolve;
      setTimeout(resolve, 3000).unref?.();
    });
  }

  /** Synchronous, so a hangup's decision is written before the session handles the same event. */
  input(i: PromptInput): void {
    if (this.decided) return;
    const d = decidePrompt(this.stage, i, this.h.plan.prompts ?? { acceptTimeoutSec: this.timeoutSec, snoozeMinutes: 15 });
    if (d.kind === 'ignore') return;
    this.decided = true;
    for (const t of [this.timer, this.guard]) if (t) clearTimeout(t);
    this.h.log.info({ stage: this.stage, heard: i.kind === 'digit' ? i.digit : i.kind, decision: d.kind }, 'prompt answered');
    this.onDecision(d);
  }
}

export class CallPrompts {
  private run: PromptRun | null = null;

  constructor(private readonly h: PromptHost) {}

  /** Seconds the prompts may add to an attempt (the session's stuck timer allows for them). */
  get extraSec(): number {
    const o = this.h.plan.prompts;
    if (!o) return 0;
    return (o.agentAccept || o.whisper !== 'off' ? MAX_MEDIA_SEC + o.acceptTimeoutSec : 0) + (o.customerChoice ? MAX_MEDIA_SEC + CHOICE_TIMEOUT_SEC : 0);
  }

  /** Keys, a playback's end, and a leg gone mid-prompt: seen before the session handles the event. */
  onEvent(e: AriEvent): void {
    const ch = e.channel?.id ?? playbackChannel(e);
    if (this.run && ch === this.run.channelId) this.run.onEvent(e);
  }

  private ask(channelId: string, stage: PromptStage, timeoutSec: number, media: readonly string[]): Promise<PromptDecision> {
    return new Promise((resolve) => {
      const run = new PromptRun(this.h, channelId, stage, timeoutSec, (d) => {
        this.settle(stage, d);
        const done = () => {
          if (this.run === run) this.run = null;
          resolve(d);
        };
        if (d.kind === 'hangup' || (d.kind === 'reject' && d.response === 'HANGUP')) done();
        else void run.quiet().then(done);
      });
      this.run = run;
      void run.start(media);
    });
  }

  /** Queues what the answer means at once: in the call's write order, before what the session writes for the same event. */
  private settle(stage: PromptStage, d: PromptDecision): void {
    const { plan, db, now } = this.h;
    const a = plan.attempt;
    const at = { attemptId: a.id, callbackId: a.callbackId, token: plan.token, agentId: a.agentId };
    const mark = (answer: Parameters<typeof markPromptAnswer>[2]) => {
      const t = now();
      this.h.write('prompt answer', () => markPromptAnswer(db, at, answer, t));
    };
    if (stage === 'accept') {
      if (d.kind === 'accept') mark({ agentResponse: 'ACCEPTED' });
      if (d.kind === 'reject') {
        mark({ agentResponse: d.response, reason: d.reason });
        this.h.endAttempt(rejectionEnding(plan.callback.type, a.agentId, d, now()));
      }
      return;
    }
    if (d.kind === 'talk') mark({ customerChoice: d.choice });
    if (d.kind === 'snooze' || d.kind === 'cancel') {
      mark({ customerChoice: d.kind === 'snooze' ? 'SNOOZE' : 'CANCEL', reason: d.kind === 'snooze' ? `call again in ${d.minutes} min` : 'cancel my callback' });
      this.h.endAttempt(choiceEnding(d));
    }
    if (d.kind === 'hangup') {
      mark({ customerChoice: 'HANGUP' });
      this.h.endAttempt({ kind: 'customer', outcome: 'HUNG_UP_WAITING', cause: null, sipCode: null, detail: 'the customer hung up at the choice prompt' });
    }
  }

  /** Agent-first, the agent answered: the whisper, then (accept on) their key. True = dial the customer. */
  async agentAnswered(): Promise<boolean> {
    const o = this.h.plan.prompts;
    if (!o || (o.whisper === 'off' && !o.agentAccept)) return true;
    // The number this attempt dials (alt-dial may pick another of the lead's numbers).
    const lead = this.h.plan.lead ?? { firstName: null, lastName: null };
    const media = agentMedia(o, { firstName: lead.firstName, lastName: lead.lastName, phoneE164: this.h.plan.attempt.customerNumber });
    const agent = this.h.plan.attempt.agentChannelId;
    if (!o.agentAccept) {
      // A whisper only: played to the end, then the customer is dialed.
      return this.playThrough(agent, media);
    }
    const d = await this.ask(agent, 'accept', o.acceptTimeoutSec, media);
    if (d.kind === 'accept') return true;
    if (d.kind === 'reject' && d.response !== 'HANGUP') await this.h.finish();
    return false;
  }

  /** The customer answered (either order): their choice. True = bridge (or ring the agent) now. */
  async customerAnswered(): Promise<boolean> {
    const o = this.h.plan.prompts;
    if (!o?.customerChoice) return true;
    const d = await this.ask(this.h.plan.attempt.customerChannelId, 'choice', CHOICE_TIMEOUT_SEC, choiceMedia(o.snoozeMinutes));
    if (d.kind === 'talk') return true;
    await this.h.finish(); // snooze, cancel, or the customer hung up: the agent's leg goes too
    return false;
  }

  /** A whisper without accept: played to its end (or a key); false when the agent hung up during it. */
  private playThrough(channelId: string, media: readonly string[]): Promise<boolean> {
    return new Promise((resolve) => {
      // No key is asked for: the timer after the media is 0 s, so its "timeout" only means "played".
      const run = new PromptRun(this.h, channelId, 'accept', 0, (d) => {
        const hungUp = d.kind === 'reject' && d.response === 'HANGUP';
        if (hungUp) this.settle('accept', d);
        void (hungUp ? Promise.resolve() : run.quiet()).then(() => {
          if (this.run === run) this.run = null;
          resolve(!hungUp);
        });
      });
      this.run = run;
      void run.start(media);
    });
  }
}
