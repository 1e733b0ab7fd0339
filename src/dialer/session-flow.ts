import { classifyUnanswered, describeCause, type CustomerOutcome } from '../domain/outcome.js';
import type { AttemptEnding, EndPolicy } from '../domain/attempt-end.js';
import type { AriEvent } from '../asterisk/ari-events.js';
import { windowWait } from '../domain/windows.js';
import type { Logger } from '../log.js';
import * as store from '../store/callbacks.js';
import { CallBridge } from './bridge.js';
import { closeAnsweredCall } from './close-answered.js';
import { LeaseKeeper } from './lease.js';
import { startRecording } from './recording.js';
import { Leg } from './leg.js';
import { AttemptRecorder } from './recorder.js';
import { WriteQueue } from './write-queue.js';
import { AGENT_APOLOGY, playToEnd } from './apology.js';
import { countWithin } from './count-within.js';
import { CallPrompts } from './call-prompts.js';
import { startLeg } from './start-leg.js';

// One attempt of one callback as this process places it, driven by ARI events. The phase:
//   agent-first:    firstRinging (agent) → secondRinging (customer dialed) → bridged → done
//   customer-first: firstRinging (customer) → secondRinging (agent dialed) → bridged → done
// Each leg keeps its own state (leg.ts); the attempt's end is written once, by the recorder
// (recorder.ts), which moves the callback out of DIALING (lease checked); lease.ts keeps the lease.
// session.ts adds what happens when this process was away: adopting a call after a restart,
// settling one after an ARI reconnect, handing calls back at shutdown.

import type { Phase, SessionDeps, SessionPlan } from './session-plan.js';

/**
 * How long the customer's attempt count may take before the customer is not dialed (dialCustomer):
 * someone is waiting on the line. Longer than a short write lock held by another process (the CLI).
 */
export const COUNT_BOUND_MS = 5000;
/** The most the agent's apology may take before the leg is hung up anyway. */
const APOLOGY_CAP_MS = 8000;

export abstract class SessionFlow {
  phase: Phase = 'starting';
  protected agent: Leg; // replaced by a fresh leg when an agent is rung again after a restart
  protected readonly customer: Leg;
  protected readonly lease: LeaseKeeper;
  protected readonly recorder: AttemptRecorder;
  /** This call's stamps and end, in order; retried while another process holds the write lock. */
  readonly writes: WriteQueue;
  private readonly bridge: CallBridge;
  private readonly prompts: CallPrompts; // whisper, accept, customer choice (call-prompts.ts)
  protected stuckTimer: NodeJS.Timeout | null = null;
  readonly log: Logger;
  readonly agentFirst: boolean;

  constructor(readonly plan: SessionPlan, protected readonly d: SessionDeps) {
    const a = plan.attempt;
    this.agentFirst = a.dialOrder === 'AGENT_FIRST';
    this.log = d.log.child({ callbackId: a.callbackId, attempt: a.seq, channelId: this.agentFirst ? a.agentChannelId : a.customerChannelId });
    this.agent = new Leg(a.agentChannelId);
    // The trunk slot taken at claim is given back exactly once: when the customer leg is gone.
    this.customer = new Leg(a.customerChannelId, () => d.onCustomerLegEnd(this));
    this.lease = new LeaseKeeper(d.db, a.callbackId, plan.token, d.leaseMs, d.now, () => !this.recorder.done, () => {
      this.log.error('lease lost while dialing; another worker owns this callback now');
      this.recorder.close();
    }, this.log, plan.leaseUntil);
    this.writes = new WriteQueue(this.log);
    this.recorder = new AttemptRecorder(d.db, this.log, { callbackId: a.callbackId, token: plan.token, attemptId: a.id }, (e) => this.endPolicy(e), this.writes);
    this.bridge = new CallBridge(a.bridgeId, { ari: d.ari, log: this.log });
    this.prompts = new CallPrompts({
      plan, log: this.log, db: d.db, ari: d.ari, now: d.now,
      write: (what, w) => this.writes.push(what, w),
      endAttempt: (e) => this.recorder.end(e),
      finish: async () => {
        await this.hangupBoth();
        if (!this.agent.dialed) this.agent.to('gone'); // customer-first: no agent leg will end
        await this.destroyBridgeIfDone();
      },
    });
  }

  /** Settles, from what Asterisk says now, legs whose end never reached us (session.ts). */
  abstract reconcile(): Promise<void>;

  get agentChannel(): string {
    return this.plan.attempt.agentChannelId;
  }
  get customerChannel(): string {
    return this.plan.attempt.customerChannelId;
  }
  get agentId(): string | null {
    return this.plan.attempt.agentId;
  }
  get trunkId(): string {
    return this.plan.attempt.trunkId;
  }

  private async endPolicy(e: AttemptEnding): Promise<EndPolicy> {
    const p: EndPolicy = { now: this.d.now(), agentRetryDelayMs: this.d.agentRetryDelayMs };
    if (e.kind !== 'customer') return p;
    // Counts the attempt that just ended, as stored by countCustomerAttempt.
    const attempts = (await store.getCallback(this.d.db, this.plan.callback.id))?.attempts ?? this.plan.callback.attempts + 1;
    return { ...p, customer: { attempts, retry: this.plan.retry, reschedule: this.plan.reschedule, random: this.d.random } };
  }

  protected startTimers(): void {
    this.lease.start();
    // Nothing but a lost event can keep an unanswered attempt alive this long; clean up then.
    const limitMs = (this.plan.agentRingSec + this.plan.customerRingSec + 30 + this.prompts.extraSec) * 1000;
    this.stuckTimer = setTimeout(() => {
      if (this.phase !== 'bridged' && this.phase !== 'done') {
        this.log.error({ phase: this.phase }, 'attempt got no final event in time; hanging up both legs');
        // Then settle it from what Asterisk says: legs that are gone end the attempt, even if
        // their ChannelDestroyed never reached us.
        void this.hangupBoth().then(() => setTimeout(() => void this.reconcile().catch(() => undefined), 3000).unref?.());
      }
    }, limitMs);
    this.stuckTimer.unref?.();
  }

  async start(): Promise<void> {
    this.startTimers();
    if (this.agentFirst) await this.dialAgent();
    else await this.dialCustomer();
  }

  protected async dialAgent(): Promise<void> {
    const a = this.plan.attempt;
    this.phase = this.agentFirst && !this.customer.answered ? 'firstRinging' : 'secondRinging';
    this.agent.to('dialing');
    const r = await startLeg(this.d, this.log, () => this.phase === 'done' || this.agent.gone, {
      channelId: a.agentChannelId,
      endpoint: `PJSIP/${a.phoneEndpoint}`,
      callerId: this.plan.agentCallerId,
      timeoutSec: this.plan.agentRingSec,
      appArgs: `agent,${a.callbackId}`,
      variables: { ...this.plan.agentHeaders, CALLBACKD_ID: String(a.callbackId) },
      // The first leg of a new call waits its turn; an agent for an answered customer does not.
      lane: this.phase === 'firstRinging' ? 'new' : 'urgent',
      stillOurs: () => this.lease.fresh(),
    });
    if (!r.ok && r.leaseLapsing) return await this.leaseLapsing(r.reason);
    if (r.ok) {
      this.log.info({ phone: a.phoneEndpoint }, 'ringing agent');
      return;
    }
    this.agent.to('gone');
    this.log.warn({ err: r.reason }, 'agent phone could not be rung');
    if (this.agentFirst && !this.customer.answered) {
      this.recorder.end({ kind: 'requeue', outcome: 'AGENT_UNAVAILABLE', reason: `agent phone ${a.phoneEndpoint} could not be rung: ${r.reason}`, cause: null });
      this.end();
    } else {
      await this.hangup(this.customerChannel);
    }
  }

  private async dialCustomer(): Promise<void> {
    const a = this.plan.attempt;
    this.phase = this.agentFirst ? 'secondRinging' : 'firstRinging';
    const w = this.plan.window;
    const wait = w ? windowWait(this.d.now(), w.zone, w.calendar) : null;
    if (wait) {
      // Agent-first: the window can close while the agent's phone rings. The customer is not
      // called outside calling hours, and is not charged an attempt.
      this.log.warn('calling window closed before the customer leg; not dialing the customer');
      this.recorder.end({ kind: 'requeue', outcome: 'WINDOW_CLOSED', reason: `calling window closed before the customer could be dialed; ${wait.reason}`, cause: null, notBefore: wait.until ?? undefined });
      await this.hangupBoth();
      this.agent.to('gone');
      await this.destroyBridgeIfDone();
      return;
    }
    // Customer-first: counted by the claim a moment ago (store claimBatch), when the window was open then.
    const counted = a.customerAttempt !== null ? { n: a.customerAttempt } : await countWithin({
      log: this.log, writes: this.writes, boundMs: COUNT_BOUND_MS,
      count: () => store.countCustomerAttempt(this.d.db, a.callbackId, this.plan.token, a.id, this.d.now()),
    });
    if ('timedOut' in counted) return await this.notCounted(counted.timedOut);
    if ('err' in counted) {
      // Lease lost (or a failure that is not a wait): the customer is not dialed uncounted. The row
      // stays DIALING; its lease lapses and recovery settles it (INTERRUPTED).
      this.log.error({ err: counted.err.message }, 'not dialing the customer: the attempt could not be counted');
      this.recorder.close();
      await this.hangupBoth();
      return;
    }
    const n = counted.n;
    this.customer.to('dialing');
    const r = await startLeg(this.d, this.log, () => this.phase === 'done' || this.customer.gone, {
      channelId: a.customerChannelId,
      endpoint: `PJSIP/${a.customerNumber}@${a.trunkId}`,
      callerId: `"${a.callerId}" <${a.callerId}>`,
      timeoutSec: this.plan.customerRingSec,
      appArgs: `customer,${a.callbackId}`,
      variables: { CALLBACKD_ID: String(a.callbackId) },
      lane: this.phase === 'firstRinging' ? 'new' : 'urgent',
      stillOurs: () => this.lease.fresh(),
    });
    if (!r.ok && r.leaseLapsing) return await this.leaseLapsing(r.reason);
    if (r.ok) {
      this.log.info({ trunk: a.trunkId, attempt: n }, 'dialing customer');
      return;
    }
    this.customer.to('gone');
    this.log.warn({ err: r.reason }, 'customer leg could not be started');
    this.endCustomer('CONGESTION', null, null, `trunk ${a.trunkId} refused the call: ${r.reason}`);
    await this.hangup(this.agentChannel);
    await this.destroyBridgeIfDone();
  }

  /**
   * The database did not count the attempt in time: the customer is not dialed. The agent on the line
   * hears an apology and is released, and the attempt ends (not charged to the customer) with a
   * reason an admin can act on; that end waits in the call's write queue and is written, and the
   * callback requeued, once the database answers.
   */
  private async notCounted(why: 'busy' | 'unreachable'): Promise<void> {
    const what = why === 'busy' ? 'database busy (another process holds its write lock)' : 'database unreachable';
    this.log.error({ boundMs: COUNT_BOUND_MS }, `${what}: the customer's attempt could not be counted; not dialing the customer, releasing the agent`);
    this.recorder.end({ kind: 'requeue', outcome: why === 'busy' ? 'DB_BUSY' : 'DB_UNREACHABLE', reason: `${what}: customer not dialed (the attempt could not be counted within ${COUNT_BOUND_MS / 1000} s); the agent was told and released`, cause: null });
    if (this.agent.answered && !this.agent.gone) {
      await this.d.ari.ring(this.agentChannel, false).catch(() => undefined);
      const played = await playToEnd(this.d.ari, this.log, this.agentChannel, AGENT_APOLOGY, APOLOGY_CAP_MS);
      this.log.info({ played }, 'agent told the customer will not be dialed now');
    }
    await this.hangupBoth();
    if (!this.agent.dialed) this.agent.to('gone'); // customer-first: no agent leg will end
    await this.destroyBridgeIfDone();
  }

  /**
   * A leg was not sent: the lease was about to lapse (renewals late: the database slow or away). A peer
   * may adopt the call any moment and, finding no channel, place it again, so nothing more is sent or
   * written here; the row stays DIALING until its lease lapses and recovery, here or on a peer, settles it.
   */
  private async leaseLapsing(reason: string): Promise<void> {
    this.log.error({ err: reason }, 'not ringing the next leg: the lease is about to lapse; recovery settles this attempt');
    this.recorder.close();
    await this.hangupBoth();
  }

  /** Routes an ARI event about one of our channels. */
  async onEvent(e: AriEvent): Promise<void> {
    this.prompts.onEvent(e); // first: a leg gone mid-prompt is written as the prompt's answer
    const id = e.channel?.id;
    if (!id) return;
    const isAgent = id === this.agentChannel;
    const now = this.d.now();
    const a = this.plan.attempt;
    switch (e.type) {
      case 'ChannelStateChange':
        if (e.channel?.state === 'Ringing') {
          this.writes.push('ringing time', () => store.stampAttempt(this.d.db, a.id, this.plan.token, isAgent ? { agentRingingAt: now } : { customerRingingAt: now }));
        }
        return;
      case 'StasisStart': {
        const leg = isAgent ? this.agent : this.customer;
        const heldBefore = leg.answered;
        // A held leg entering again was answered earlier (stamped when adopted); its hold music stops.
        if (!heldBefore) this.writes.push('answer time', () => store.stampAttempt(this.d.db, a.id, this.plan.token, isAgent ? { agentAnsweredAt: now } : { customerAnsweredAt: now }));
        else await this.d.ari.stopMoh(id).catch(() => undefined);
        leg.to('up', now);
        if (this.phase === 'firstRinging') await this.firstAnswered();
        else if (this.phase === 'secondRinging') {
          // Agent-first: the customer chooses before the bridge (customer-first: in firstAnswered).
          if (!isAgent && this.agentFirst && !heldBefore && !(await this.prompts.customerAnswered())) return;
          const other = isAgent ? this.customer : this.agent;
          if (other.state === 'up') await this.connect(id);
          else await this.park(id); // the other leg rings, or is held and enters next
        }
        return;
      }
      case 'ChannelDestroyed':
        await this.onDestroyed(isAgent, e.cause ?? null, typeof e.tech_cause === 'number' ? e.tech_cause : null);
        return;
    }
  }

  private async firstAnswered(): Promise<void> {
    const first = this.agentFirst ? this.agentChannel : this.customerChannel;
    this.log.info(this.agentFirst ? 'agent answered' : 'customer answered');
    if (!(await (this.agentFirst ? this.prompts.agentAnswered() : this.prompts.customerAnswered()))) return;
    if (this.recorder.done) return; // a leg went away meanwhile
    // The other party is dialed at once, while the first one is parked: under a burst these REST
    // calls each wait for a slot, and doing them one after the other kept a customer waiting.
    // A park that fails is not a reason to hang up an answered leg: connect() makes the bridge.
    await Promise.all([this.park(first), this.agentFirst ? this.dialCustomer() : this.dialAgent()]);
  }

  /** A leg in our app hears ringing in the call's bridge while the other one is still coming. */
  protected async park(channelId: string): Promise<void> {
    try {
      await this.bridge.park(channelId);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, channel: channelId }, 'could not park the leg in the bridge yet; bridging will try again');
    }
    await this.d.ari.ring(channelId, true).catch((err: Error) => this.log.warn({ err: err.message, channel: channelId }, 'could not play ringing to the leg'));
  }

  /** Both legs are in our app (`arrived` entered last): bridge them and keep the promise. */
  protected async connect(arrived: string): Promise<void> {
    const other = arrived === this.agentChannel ? this.customerChannel : this.agentChannel;
    await this.d.ari.ring(other, false).catch(() => undefined);
    // Retried while both legs are up: an answered customer is not hung up for our own transient
    // failure (bridge.ts). The one parked first may already be in the bridge (adopted calls).
    const r = await this.bridge.join([{ id: other, mayBeIn: true }, { id: arrived }], () => !this.agent.gone && !this.customer.gone && this.phase !== 'done');
    if (!r.ok) {
      if (r.legLeft) this.log.info('a leg left before the two could be bridged');
      else {
        this.log.error({ err: r.err }, 'could not bridge the two legs after retrying; hanging up');
        await this.hangupBoth();
      }
      return;
    }
    this.phase = 'bridged';
    this.customer.upAt ??= this.d.now();
    this.log.info('agent and customer bridged');
    this.recorder.end({ kind: 'answered' });
    if (this.plan.record) await startRecording({ db: this.d.db, ari: this.d.ari, log: this.log }, this.plan.attempt, this.plan.token, this.writes);
  }

  protected async onDestroyed(isAgent: boolean, cause: number | null, sipCode: number | null): Promise<void> {
    (isAgent ? this.agent : this.customer).to('gone');
    if (this.phase === 'bridged') {
      // One side hung up: the call is over for both.
      const other = isAgent ? this.customer : this.agent;
      const a = this.plan.attempt;
      await closeAnsweredCall(this.d, { attemptId: a.id, bridgeId: a.bridgeId, customerAnsweredAt: this.customer.upAt }, other.gone ? [] : [other.channelId], this.writes);
      this.log.info({ by: isAgent ? 'agent' : 'customer' }, 'call ended');
    } else if (isAgent) {
      await this.agentLeft(cause, sipCode);
    } else if (!this.recorder.done) {
      if (this.phase === 'secondRinging' && (!this.agentFirst || this.customer.upAt !== null)) {
        this.recorder.end({ kind: 'requeue', outcome: 'AGENT_NO_ANSWER', reason: 'the customer answered but no agent did; the customer was released', cause });
      } else if (this.agent.gone && this.phase !== 'firstRinging' && this.agentFirst) {
        this.endCustomer('NO_ANSWER', cause, sipCode, 'agent hung up while the customer was ringing');
      } else {
        this.endCustomer(classifyUnanswered(cause, sipCode), cause, sipCode, describeCause(cause, sipCode));
      }
      if (this.agent.dialed) await this.hangup(this.agentChannel);
      else this.agent.to('gone'); // customer-first, no agent rung yet: no agent leg will end, so the session closes now
    }
    await this.destroyBridgeIfDone();
  }

  /** The agent's leg ended before the call was bridged. */
  private async agentLeft(cause: number | null, sipCode: number | null): Promise<void> {
    const phone = this.plan.attempt.phoneEndpoint;
    if (this.agentFirst && this.phase === 'firstRinging') {
      this.recorder.end({ kind: 'requeue', outcome: 'AGENT_NO_ANSWER', reason: `agent phone ${phone} did not answer (${describeCause(cause, sipCode)})`, cause });
    } else if (!this.recorder.done) {
      // The agent went away while the customer leg was up or ringing.
      this.log.warn('agent left before the customer was connected; hanging up the customer');
      await this.hangup(this.customerChannel);
      if (!this.customer.dialed || this.customer.gone) {
        this.recorder.end({ kind: 'requeue', outcome: 'AGENT_NO_ANSWER', reason: `agent phone ${phone} did not answer`, cause });
      }
    }
  }

  private endCustomer(outcome: CustomerOutcome, cause: number | null, sipCode: number | null, detail: string): void {
    this.recorder.end({ kind: 'customer', outcome, cause, sipCode, detail });
  }

  async finishInterrupted(reason: string): Promise<void> {
    this.recorder.end({ kind: 'interrupted', reason });
    this.agent.to('gone');
    this.customer.to('gone');
    await this.destroyBridgeIfDone();
  }

  protected async hangup(channelId: string): Promise<void> {
    try {
      await this.d.ari.hangup(channelId);
    } catch (err) {
      this.log.warn({ channel: channelId, err: (err as Error).message }, 'hangup failed');
    }
  }

  async hangupBoth(): Promise<void> {
    await Promise.all([this.hangup(this.agentChannel), this.hangup(this.customerChannel)]);
  }

  protected async destroyBridgeIfDone(): Promise<void> {
    if (!(this.agent.gone && (this.customer.gone || !this.customer.dialed))) return;
    // Already gone when an answered call was closed (close-answered.ts): nothing to report then.
    this.bridge.gone();
    await this.d.ari.destroyBridge(this.plan.attempt.bridgeId).catch(() => undefined);
    this.end();
  }

  private end(): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.customer.to('gone'); // gives the trunk slot back if the customer leg never ended on its own
    this.lease.stop();
    if (this.stuckTimer) clearTimeout(this.stuckTimer);
    this.d.onEnd(this);
  }
}
