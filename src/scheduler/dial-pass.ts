import { randomUUID } from 'node:crypto';
import type { CallSession, SessionPlan } from '../dialer/session.js';
import { admit, type Admission } from '../domain/admit.js';
import { inviteHeaderVariables } from '../domain/ai-context.js';
import { trunkOnServer } from '../domain/server-placement.js';
import { claimsRefused, triggerLateness } from '../metrics.js';
import type { ClaimInput, ClusterLoad, LimitRefused } from '../store/claim.js';
import * as store from '../store/callbacks.js';
import { allTrunks, getCampaign, getNumber } from '../store/directory.js';
import type { CallAttemptRow, CallbackRow, TrunkRow } from '../store/schema.js';
import { trunksOfNumber } from '../store/servers.js';
import { customerWindow, readAdmitFacts, sessionPlanFor, type LoadedCallback } from './context.js';
import { openThrough } from '../domain/windows.js';
import { PassReads } from './pass-reads.js';
import type { SchedulerOptions } from './scheduler.js';

// One pass of the scheduler over the ready LIVE callbacks: read each one's facts, decide (domain/admit,
// pure), write that one decision, and for a dial claim it with its batch (the claim enforces the
// cluster-wide limits, store/claim.ts) and start its call. What a pass learns (a full trunk, a busy agent, the
// earliest instant to look again) lives only as long as the pass.

/** How old the pass's cached directory and lead rows may be when a callback is decided (see DialPass.read). */
export const MAX_READS_AGE_MS = 1000;

/**
 * Claims per transaction: the first batch small, so the burst's first call leaves at once, then doubling.
 * Measured (bench:vs-callfiles -- 500 0, README "Performance"): with one transaction per claim, 500
 * claims took until +3.3 to +6.4 s; in batches, until +0.7 to +0.9 s.
 */
const FIRST_CLAIM_BATCH = 4;
const MAX_CLAIM_BATCH = 32;

/** A customer-first claim counts the customer attempt only when the window stays open this long (see claimInput). */
const COUNT_AT_CLAIM_MARGIN_MS = 60_000;

/** A decided dial waiting for its batch's claim. */
interface Pending {
  cb: CallbackRow;
  loaded: LoadedCallback;
  d: Extract<Admission, { kind: 'dial' }>;
  token: string;
  /** Set when the claim met a cluster-wide limit. */
  limit: LimitRefused | null;
}

export interface DialPassDeps {
  o: SchedulerOptions;
  /** A session of this daemon already places this callback. */
  inSession(callbackId: number): boolean;
  /** Callbacks in progress per agent on this daemon. */
  agentCalls(): Map<string, number>;
  stopping(): boolean;
  newSession(plan: SessionPlan): CallSession;
  /** A batch is being claimed; `done` settles once its calls have started (stop() waits for it). */
  claiming(done: Promise<void>): void;
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
  /** Decided dials not claimed yet (decisions wait while a batch is claimed, so these are all of them). */
  private pending: Pending[] = [];

  constructor(
    private readonly d: DialPassDeps,
    private readonly now: number,
    private readonly server: string | null,
    private readonly trunks: Map<string, TrunkRow>,
    private readonly busy: Map<string, number>,
  ) {}

  async run(ready: CallbackRow[]): Promise<number | null> {
    this.ready = ready;
    let batch = FIRST_CLAIM_BATCH;
    for (const row of ready) {
      if (this.d.stopping()) break;
      if (this.d.inSession(row.id)) continue;
      const dial = await this.decide(row);
      if (dial) this.pending.push(dial);
      if (this.pending.length >= batch) {
        await this.claimPending();
        batch = Math.min(batch * 2, MAX_CLAIM_BATCH);
      }
    }
    if (!this.d.stopping()) await this.claimPending();
    else this.pending = [];
    return this.wakeAt;
  }

  private wake(at: number | null): void {
    if (at !== null) this.wakeAt = this.wakeAt === null ? at : Math.min(this.wakeAt, at);
  }

  /** Reads and decides one callback, and writes a decision that dials nothing; a dial is returned, to be claimed with its batch. */
  private async decide(row: CallbackRow): Promise<Pending | null> {
    const { db, log } = this.d.o;
    let cb = row;
    let { facts, loaded } = await this.read(cb);
    let d = admit(facts);
    if (d.kind === 'convert') {
      if (!await store.convertToAnyone(db, cb.id, 'scheduler', d.reason, this.now)) return null;
      log.info({ callbackId: cb.id, owner: cb.ownerAgentId }, `USERONLY callback moved to ANYONE: ${d.reason}`);
      cb = (await store.getCallback(db, cb.id))!;
      ({ facts, loaded } = await this.read(cb));
      d = admit(facts);
      if (d.kind === 'convert') return null; // cannot happen: an ANYONE callback has no owner
    }
    if (d.kind === 'wait' && d.fullTrunk !== null) this.full.set(d.fullTrunk, d.reason);
    if (d.kind !== 'dial') {
      await this.write(cb, d);
      if (d.kind === 'wait') this.wake(d.wakeAt);
      return null;
    }
    // Counted as taken until the batch is claimed: the next decisions of this pass see the agent
    // busy and the trunk's leg started (limiterSays), as they would after the claim.
    this.busy.set(d.agentId, (this.busy.get(d.agentId) ?? 0) + 1);
    return { cb, loaded: loaded!, d, token: randomUUID(), limit: null };
  }

  /**
   * Claims the decided dials in one transaction (store.claimBatch) and starts each claimed call.
   * The claim's own instant, not the pass's: a pass over a burst lasts seconds (measured: 500 due at
   * once on 2 busy cores, 25 s), and a lease stamped from the pass's start could already have lapsed
   * when the claim commits; a peer's takeover sweep then adopted the call before its originate left
   * and dialed it again (bench:vs-callfiles -- 500 0 pg 2: one number called twice per run).
   */
  private async claimPending(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const { o } = this.d;
    const now = (o.now ?? Date.now)();
    let started!: () => void;
    this.d.claiming(new Promise<void>((r) => (started = r)));
    const refused: Pending[] = [];
    try {
      const attempts = await store.claimBatch(o.db, batch.map((p) => this.claimInput(p, now)));
      // Every claimed call starts before anything else is written: a write that fails here (the database
      // gone just after the batch's commit) must not leave a committed claim without its session.
      for (const [k, p] of batch.entries()) {
        const attempt = attempts[k];
        if (attempt) this.start(p, attempt, now);
        else {
          this.busy.set(p.d.agentId, Math.max(0, (this.busy.get(p.d.agentId) ?? 1) - 1)); // not taken after all
          refused.push(p);
        }
      }
    } finally {
      started();
    }
    for (const p of refused) {
      if (!p.limit) continue;
      await this.limited(p.cb, p.d, p.limit, p.loaded.ctx.agents.find((a) => a.agentId === p.d.agentId)?.ai?.maxCalls ?? 1).catch((err: Error) =>
        o.log.warn({ callbackId: p.cb.id, err: err.message }, 'could not write why the claim was refused; the next pass decides it again'),
      );
    }
    // Let those originates leave now: claiming a burst of 100 first, then sending, made the first
    // INVITE of the burst 410 ms late (measured with bench/trigger-latency.ts 100 0).
    await new Promise((r) => setImmediate(r));
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
      return this.d.o.limiter.check(trunkId, { maxChannels: row?.maxChannels ?? 0, callsPerSecond: row?.callsPerSecond ?? 0 }, this.now, this.pending.filter((p) => p.d.trunkId === trunkId).length);
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

  private claimInput(p: Pending, now: number): ClaimInput {
    const { o } = this.d;
    const { cb, loaded, d, token } = p;
    const tag = token.slice(0, 8);
    const customerFirst = loaded.campaign.dialOrder === 'CUSTOMER_FIRST';
    const w = customerWindow(cb, loaded.campaign, loaded.lead, loaded.number?.zone);
    return {
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
      // Customer-first dials the customer at once: counted in the claim, when the window is open now and
      // still a minute on. Near its close the session counts as before, just before the customer leg, so
      // an attempt the window then stops (WINDOW_CLOSED, not charged) was never counted.
      countCustomer: customerFirst && (w === null || openThrough(now, COUNT_AT_CLAIM_MARGIN_MS, w.zone, w.calendar)),
      // 'taken': another daemon is claiming it right now (PostgreSQL); 'moved': no longer LIVE.
      refused: (why) => {
        claimsRefused.inc({ reason: why });
        o.log.debug({ callbackId: cb.id, why }, 'claim refused; skipping');
      },
      limited: (r) => {
        claimsRefused.inc({ reason: r.why });
        o.log.info({ callbackId: cb.id, why: r.why, retryAt: r.retryAt }, `claim refused: ${r.reason}`);
        p.limit = r;
      },
    };
  }

  /** A claimed callback's call: its session, started without waiting (its first leg queues for Asterisk). */
  private start(p: Pending, attempt: CallAttemptRow, now: number): void {
    const { o } = this.d;
    const { cb, loaded, d, token } = p;
    if (d.outsideHours) o.log.warn({ callbackId: cb.id }, 'force-dial: calling outside the calling hours, as the callback was booked');
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
  }
}
