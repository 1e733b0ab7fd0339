import type { AriEvent } from '../asterisk/ari-events.js';
import { endingWhileAway, parseLegRecord, type LegRecord } from '../domain/leg-record.js';
import * as store from '../store/callbacks.js';
import { Leg } from './leg.js';
import { SessionFlow } from './session-flow.js';
import type { Phase, SeenLeg, SessionDeps, SessionPlan } from './session-plan.js';

// A call session (session-flow.ts: the call as this process places it) and what happens when this
// process was away from it: adopting a call that survived a restart or a peer's death (recovery),
// settling legs that ended while ARI was disconnected, handing the call back at shutdown.

export type { Phase, SeenLeg, SessionDeps, SessionPlan };

export class CallSession extends SessionFlow {
  private reconcileTries = 0;
  private held: Promise<void> | null = null;

  /**
   * Recovery opens the session before it points a leg at this daemon (claimLeg): a customer who
   * answers in between enters our application at once, and that StasisStart must reach a session
   * that knows the call. Its events wait here until adopt() has taken in what recovery found,
   * then run in the order they came. Returns the release.
   */
  holdEvents(): () => void {
    let release!: () => void;
    this.held = new Promise<void>((r) => (release = r));
    return () => {
      this.held = null;
      release();
    };
  }

  override async onEvent(e: AriEvent): Promise<void> {
    if (this.held) await this.held;
    return await super.onEvent(e);
  }

  /**
   * Attach to a call that survived our restart (see scheduler/recovery.ts). A leg answered while
   * we were away is held by the hold dialplan and enters our app again by itself (StasisStart);
   * `customerRecord` is what that dialplan recorded about a customer leg that had to be held.
   */
  async adopt(seen: { agent: SeenLeg | null; customer: SeenLeg | null; customerRecord: LegRecord | null }): Promise<void> {
    this.startTimers();
    const now = this.d.now();
    const mark = (leg: Leg, s: SeenLeg | null, answeredAt: number | null) =>
      leg.to(s === null ? 'gone' : s.state !== 'Up' ? 'dialing' : s.inApp ? 'up' : 'held', answeredAt ?? now);
    const answeredAt = seen.customerRecord?.answeredAt ?? null;
    // Customer-first: the agent is rung only once the customer answered, so no agent leg is normal.
    if (seen.agent !== null || this.agentFirst || seen.customer?.state === 'Up') mark(this.agent, seen.agent, null);
    if (this.plan.attempt.customerDialedAt !== null || seen.customer !== null) mark(this.customer, seen.customer, answeredAt);
    if (seen.customer === null) {
      // Gone or never dialed: the end is what the hold dialplan recorded, or unknown. Written
      // before the agent is hung up, so that hangup's event finds the attempt settled.
      const reason = this.customer.dialed ? 'restart found the customer leg gone; how it ended is unknown' : 'restart found no customer call to continue';
      this.recorder.end(endingWhileAway(seen.customerRecord, reason));
      await this.hangupBoth();
      this.agent.to('gone');
      await this.destroyBridgeIfDone();
      return;
    }
    if (this.customer.answered) {
      // Its StasisStart may have come before we were listening: stamp the answer (as recorded, if held).
      if (this.plan.attempt.customerAnsweredAt === null) {
        this.writes.push('answer time', () => store.stampAttempt(this.d.db, this.plan.attempt.id, this.plan.token, { customerAnsweredAt: answeredAt ?? now }));
      }
      this.phase = 'secondRinging';
      // Legs already back in our app may still have the hold dialplan's music on.
      for (const leg of [this.agent, this.customer]) if (leg.state === 'up') await this.d.ari.stopMoh(leg.channelId).catch(() => undefined);
      if (this.agent.state === 'up' && this.customer.state === 'up') return this.connect(this.customerChannel);
      if (this.customer.state === 'up') await this.park(this.customerChannel);
      if (this.agent.gone || this.agent.state === 'idle') {
        // The customer answered and waits: ring the agent (again).
        this.log.warn('restart found the customer answered and no agent on the line; ringing the agent');
        this.agent = new Leg(this.agentChannel);
        await this.dialAgent();
      } else this.log.info({ agent: this.agent.state, customer: this.customer.state }, 'adopted an answered call; bridging when both legs are in the app');
      return;
    }
    if (this.agent.gone || (this.agentFirst && !this.agent.answered)) {
      this.recorder.end({ kind: 'interrupted', reason: 'restart found the agent leg gone' });
      await this.hangupBoth();
      await this.finishInterrupted('restart found the agent leg gone'); // (already written: legs and bridge only)
      return;
    }
    this.phase = this.agentFirst ? 'secondRinging' : 'firstRinging';
    this.log.info({ phase: this.phase }, 'adopted a call in progress after restart');
  }

  /** Handed back at shutdown: the lease left expired, and this process writes nothing more for it. */
  async abandon(): Promise<void> {
    this.recorder.close();
    await this.lease.handBack();
    if (this.stuckTimer) clearTimeout(this.stuckTimer);
  }

  /** After an ARI reconnect: a leg that vanished while we could not hear it is settled here. */
  async reconcile(): Promise<void> {
    if (this.phase === 'done') return;
    const [agent, customer] = await Promise.all([
      this.d.ari.getChannel(this.agentChannel).catch(() => undefined),
      this.d.ari.getChannel(this.customerChannel).catch(() => undefined),
    ]);
    if (agent === undefined || customer === undefined) {
      // Could not ask (measured: right after an Asterisk restart ARI answers 503 for a moment).
      // Ask again shortly; giving up here left the attempt DIALING with nobody to settle it.
      if ((this.phase as Phase) !== 'done' && this.reconcileTries++ < 60) {
        this.log.warn({ try: this.reconcileTries }, 'could not ask Asterisk about this call yet; asking again in 1 s');
        setTimeout(() => void this.reconcile().catch((err) => this.log.warn({ err: (err as Error).message }, 'reconcile failed')), 1000).unref?.();
      }
      return;
    }
    this.reconcileTries = 0;
    if (agent) await this.d.ari.subscribeChannel(agent.id).catch(() => undefined);
    if (customer) await this.d.ari.subscribeChannel(customer.id).catch(() => undefined);
    if (!agent && !this.agent.gone) await this.onDestroyed(true, null, null);
    if (!customer && this.customer.dialed && !this.customer.gone) {
      if (this.phase === 'bridged') await this.onDestroyed(false, null, null);
      else {
        this.customer.to('gone');
        await this.hangup(this.agentChannel);
        const record = parseLegRecord(await this.d.ari.takeLegRecord(this.customerChannel).catch(() => null));
        this.recorder.end(endingWhileAway(record, 'the customer leg ended while ARI was disconnected; outcome unknown'));
        this.agent.to('gone');
        await this.destroyBridgeIfDone();
      }
    }
  }
}
