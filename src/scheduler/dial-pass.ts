import { randomUUID } from 'node:crypto';
import type { CallSession, SessionPlan } from '../dialer/session.js';
import { admit, type Admission } from '../domain/admit.js';
import { inviteHeaderVariables } from '../domain/ai-context.js';
import { trunkOnServer } from '../domain/server-placement.js';
import { claimsRefused, triggerLateness } from '../metrics.js';
import type { ClusterLoad, LimitRefused } from '../store/call-attempts.js';
import * as store from '../store/callbacks.js';
import { allTrunks, getCampaign, getNumber } from '../store/directory.js';
import type { CallbackRow, TrunkRow } from '../store/schema.js';
import { trunksOfNumber } from '../store/servers.js';
import { readAdmitFacts, sessionPlanFor, type LoadedCallback } from './context.js';
import { PassReads } from './pass-reads.js';
import type { SchedulerOptions } from './scheduler.js';

// One pass of the scheduler over the ready LIVE callbacks: read each one's facts, decide (domain/admit,
// pure), write that one decision, and for a dial claim it (the claim enforces the cluster-wide limits,
// store/call-attempts.ts) and start its call. What a pass learns (a full trunk, a busy agent, the
// earliest instant to look again) lives only as long as the pass.

/** How old the pass's cached directory and lead rows may be when a callback is decided (see DialPass.read). */
export const MAX_READS_AGE_MS = 1000;

export interface DialPassDeps {
  o: SchedulerOptions;
  /** A session of this daemon already places this callback. */
  inSession(callbackId: number): boolean;
  /** Callbacks in progress per agent on this daemon. */
  agentCalls(): Map<string, number>;
  stopping(): boolean;
  newSession(plan: SessionPlan): CallSession;
}

/**
 * Every ready LIVE callback, once. Returns the earliest instant a rate limit or an owner's clock frees
 * something up. Two reads per pass, not per callback, give the whole cluster's load: every daemon's
 * open attempts per trunk and per agent, and each trunk's last start (store.clusterLoad).
 */
export async function dialReady(d: DialPassDeps, now: number, server: string | null): Promise<number | null> {
  const ready = await store.liveReady(d.o.db, now, d.o.batch ?? 500, server);
  if (ready.length === 0) return null;
  const trunks = new Map((await allTrunks(d.o.db)).map((t) => [t.id, t]));
  const load = await store.clusterLoad(d.o.db, now);
  d.o.limiter.observe(load);
  return await new DialPass(d, now, server, trunks, busyAgents(d.agentCalls(), load)).run(ready);
}

/**
 * Agents busy now: this daemon's sessions, and every daemon's open attempts (an agent rung or talking
 * through another daemon is busy here too). This daemon's own committed attempts are in both: the larger wins.
 */
export function busyAgents(local: ReadonlyMap<string, number>, load: Pick<ClusterLoad, 'agents'>): Map<string, number> {
  const busy = new Map(local);
  for (const [agent, n] of load.agents) busy.set(agent, Math.max(n, busy.get(agent) ?? 0));
  return busy;
}

class DialPass {
  private wakeAt: number | null = null;
  /**
   * A trunk found full in this pass stays full for the rest of it: callbacks of campaigns on it are
   * skipped before their context is loaded. Measured with bench/burst.ts (500 due at once, 50 channels):
   * re-loading every waiting callback on every nudge kept the loop busy.
   */
  private readonly full = new Map<string, string>(); // trunk → why it is full
  private readonly trunkOfCampaign = new Map<string, string | null>();
  /** Directory rows once per pass, the callbacks' rows a few dozen at a time (pass-reads.ts). */
  private reads: PassReads | undefined;
  private readsAt = 0;
  private ready: CallbackRow[] = [];

  constructor(
    private readonly d: DialPassDeps,
    private readonly now: number,
    private readonly server: string | null,
    private readonly trunks: Map<string, TrunkRow>,
    private readonly busy: Map<string, number>,
  ) {}

  async run(ready: CallbackRow[]): Promise<number | null> {
    this.ready = ready;
    for (const row of ready) {
      if (this.d.stopping()) break;
      if (this.d.inSession(row.id)) continue;
      await this.one(row);
    }
    return this.wakeAt;
  }

  private wake(at: number | null): void {
    if (at !== null) this.wakeAt = this.wakeAt === null ? at : Math.min(this.wakeAt, at);
  }

  private async one(row: CallbackRow): Promise<void> {
    const { db, log } = this.d.o;
    let cb = row;
    let { facts, loaded } = await this.read(cb);
    let d = admit(facts);
    if (d.kind === 'convert') {
      if (!await store.convertToAnyone(db, cb.id, 'scheduler', d.reason, this.now)) return;
      log.info({ callbackId: cb.id, owner: cb.ownerAgentId }, `USERONLY callback moved to ANYONE: ${d.reason}`);
      cb = (await store.getCallback(db, cb.id))!;
      ({ facts, loaded } = await this.read(cb));
      d = admit(facts);
      if (d.kind === 'convert') return; // cannot happen: an ANYONE callback has no owner
    }
    if (d.kind === 'wait' && d.fullTrunk !== null) this.full.set(d.fullTrunk, d.reason);
    if (d.kind !== 'dial') {
      await this.write(cb, d);
      if (d.kind === 'wait') this.wake(d.wakeAt);
      return;
    }
    const claimed = await this.dial(cb, loaded!, d);
    if (claimed === true) this.busy.set(d.agentId, (this.busy.get(d.agentId) ?? 0) + 1);
    else if (claimed !== false) await this.limited(cb, d, claimed, loaded!.ctx.agents.find((a) => a.agentId === d.agentId)?.ai?.maxCalls ?? 1);
  }

  /**
   * The claim found a cluster-wide limit the pre-check could not see (another daemon took the channel
   * or the agent since this pass's read). A trunk refusal counts the trunk full for the rest of the
   * pass; the callback keeps its wait reason; the loop wakes at the retry instant, if the rate gave one
   * (a call ending anywhere wakes every daemon: its end is an event).
   */
  private async limited(cb: CallbackRow, d: Extract<Admission, { kind: 'dial' }>, r: LimitRefused, agentMaxCalls: number): Promise<void> {
    // The agent is at its limit somewhere: full for the rest of the pass (a person at 1, an AI agent at max_calls).
    if (r.why === 'agent-busy') this.busy.set(d.agentId, Math.max(this.busy.get(d.agentId) ?? 0, agentMaxCalls));
    else this.full.set(d.trunkId, r.reason);
    await store.setWaitReason(this.d.o.db, cb.id, r.reason, this.now, this.server);
    this.wake(r.retryAt);
  }

  private async trunkOf(campaignId: string): Promise<string | null> {
    const db = this.d.o.db;
    if (!this.trunkOfCampaign.has(campaignId)) {
      const c = await getCampaign(db, campaignId);
      const n = c?.outboundNumber ? await getNumber(db, c.outboundNumber) : undefined;
      // Several servers: the number's trunk on this one (domain/server-placement).
      const here = n && this.server !== null ? trunkOnServer(n.e164, await trunksOfNumber(db, n.e164), this.server) : null;
      this.trunkOfCampaign.set(campaignId, here === null ? (n?.trunkId ?? null) : 'trunkId' in here ? here.trunkId : null);
    }
    return this.trunkOfCampaign.get(campaignId)!;
  }

  private async read(cb: CallbackRow) {
    // The pass's cached rows are at most MAX_READS_AGE_MS old when a decision uses them: a pass over a
    // burst lasts seconds (25 s measured on 2 busy cores), and a do-not-call entry, a narrowed window
    // or an agent taken off the campaign meanwhile must count within about a second, as when every
    // callback read its own rows. Re-reading once a second costs a few statements per second.
    const at = (this.d.o.now ?? Date.now)();
    if (!this.reads || at - this.readsAt > MAX_READS_AGE_MS) {
      this.reads = new PassReads(this.d.o.db, this.ready);
      this.readsAt = at;
    }
    const t = await this.trunkOf(cb.campaignId);
    const limiterSays = (trunkId: string) => {
      const row = this.trunks.get(trunkId);
      return this.d.o.limiter.check(trunkId, { maxChannels: row?.maxChannels ?? 0, callsPerSecond: row?.callsPerSecond ?? 0 }, this.now);
    };
    return await readAdmitFacts(this.d.o.db, cb, this.now, (ep) => this.d.o.presence.of(ep), this.busy, t === null ? null : (this.full.get(t) ?? null), limiterSays, this.server, this.reads);
  }

  /** The one store write for a decision that dials nothing. */
  private async write(cb: CallbackRow, d: Exclude<Admission, { kind: 'dial' | 'convert' }>): Promise<void> {
    const { db, log } = this.d.o;
    switch (d.kind) {
      case 'fail':
        await store.failLive(db, cb.id, d.outcome, d.reason, this.now);
        log.warn({ callbackId: cb.id, outcome: d.outcome }, d.reason);
        return;
      case 'defer':
        await store.deferLive(db, cb.id, d.until, d.reason, this.now);
        return;
      case 'wait':
        // Several servers: the reason names this server, and another server's is left alone (store).
        if (d.ownerClock) await store.waitForOwner(db, cb.id, d.reason, this.now, this.server);
        else await store.setWaitReason(db, cb.id, d.reason, this.now, this.server); // a no-op unless the reason changed
        return;
    }
  }

  /**
   * Claims the callback (the one write) and starts its call. True when claimed; false if someone moved
   * it meanwhile; the refusal when a cluster-wide limit stopped it.
   */
  private async dial(cb: CallbackRow, loaded: LoadedCallback, d: Extract<Admission, { kind: 'dial' }>): Promise<boolean | LimitRefused> {
    const { o } = this.d;
    // The claim's own instant, not the pass's: a pass over a burst lasts seconds (measured: 500 due at
    // once on 2 busy cores, 25 s), and a lease stamped from the pass's start could already have lapsed
    // when the claim commits; a peer's takeover sweep then adopted the call before its originate left
    // and dialed it again (bench:vs-callfiles -- 500 0 pg 2: one number called twice per run).
    const now = (o.now ?? Date.now)();
    if (d.outsideHours) o.log.warn({ callbackId: cb.id }, 'force-dial: calling outside the calling hours, as the callback was booked');
    const token = randomUUID();
    const tag = token.slice(0, 8);
    let limit = null as LimitRefused | null; // set by `limited` below
    const attempt = await store.claimForDial(o.db, {
      callbackId: cb.id,
      owner: o.owner,
      token,
      leaseMs: o.leaseMs,
      now,
      dialOrder: loaded.campaign.dialOrder,
      agentId: d.agentId,
      phoneEndpoint: d.endpoint,
      callerId: d.callerId,
      customerNumber: loaded.ctx.customerNumber,
      phonePosition: loaded.number?.position ?? null,
      trunkId: d.trunkId,
      ids: (seq) => ({
        agentChannelId: `cbd-${cb.id}-${seq}-${tag}-agent`,
        customerChannelId: `cbd-${cb.id}-${seq}-${tag}-cust`,
        bridgeId: `cbd-${cb.id}-${seq}-${tag}-bridge`,
      }),
      // 'taken': another daemon is claiming it right now (PostgreSQL); 'moved': no longer LIVE.
      refused: (why) => {
        claimsRefused.inc({ reason: why });
        o.log.debug({ callbackId: cb.id, why }, 'claim refused; skipping');
      },
      limited: (r) => {
        claimsRefused.inc({ reason: r.why });
        o.log.info({ callbackId: cb.id, why: r.why, retryAt: r.retryAt }, `claim refused: ${r.reason}`);
        limit = r;
      },
    });
    if (!attempt) return limit ?? false;
    const plan = sessionPlanFor(cb, attempt, token, loaded.campaign, loaded.lead, loaded.number?.zone);
    // An AI voice agent is told which callback this is and where its context is (SIP headers).
    const ai = loaded.ctx.agents.find((a) => a.agentId === d.agentId)?.ai;
    if (ai && o.aiContextUrl) plan.agentHeaders = inviteHeaderVariables(cb.id, o.aiContextUrl(cb.id, loaded.campaign.agentRingSec, now));
    plan.leaseUntil = now + o.leaseMs;
    const session = this.d.newSession(plan);
    const lateMs = now - (cb.nextAttemptAt ?? cb.dueAt);
    triggerLateness.observe(Math.max(0, lateMs) / 1000);
    session.log.info({ agent: d.agentId, phone: d.endpoint, lateMs }, 'claimed; dialing');
    const pause = o.failpointBeforeOriginateMs ?? 0;
    void (pause > 0 ? new Promise((r) => setTimeout(r, pause)) : Promise.resolve())
      .then(() => session.start())
      .catch((err) => session.log.error({ err: (err as Error).message }, 'attempt failed to start'));
    // Let that originate leave now: claiming a burst of 100 first, then sending, made the first
    // INVITE of the burst 410 ms late (measured with bench/trigger-latency.ts 100 0).
    await new Promise((r) => setImmediate(r));
    return true;
  }
}
