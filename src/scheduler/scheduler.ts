import type { AriClient } from '../asterisk/ari.js';
import { playbackChannel, type AriEvent } from '../asterisk/ari-events.js';
import type { Presence } from '../asterisk/presence.js';
import { CallSession, type SessionDeps } from '../dialer/session.js';
import type { TrunkLimiter } from '../dialer/trunk-limits.js';
import { closeAnsweredCall } from '../dialer/close-answered.js';
import { WriteQueue } from '../dialer/write-queue.js';
import { onRecordingEvent } from '../dialer/recording.js';
import type { Logger } from '../log.js';
import type { Engine } from '../store/conn.js';
import * as store from '../store/callbacks.js';
import { recover, settleAnsweredCalls } from './recovery.js';
import { dialReady, type DialPassDeps } from './dial-pass.js';
import { serverFilterOf } from '../store/servers.js';
import { dbBusy } from '../metrics.js';
import { isBusy } from '../store/busy.js';
import { isUnreachable, rootMessage } from '../store/unreachable.js';
import { watchEngine } from '../store/engine-watch.js';

// The worker loop. It sleeps until the next instant something is due, wakes early when nudged
// (an insert, a presence change, a call ending, another process or daemon writing the database:
// the engine's watch, store/engine-watch.ts), and polls only as a backstop. States: idle → ticking
// → idle, and stopping → stopped.

/** Answered calls nobody watches are looked for on every this-many takeover sweeps (2 min with the default lease). */
const SETTLE_EVERY_SWEEPS = 4;

/** A tick refused by another process's write lock is tried again this soon (store/busy.ts). */
const BUSY_RETRY_MS = 250;

export interface SchedulerOptions {
  /** The scheduler's and dialer's connection; the engine's watch wakes it on other connections' commits. */
  db: Engine;
  ari: AriClient;
  presence: Presence;
  limiter: TrunkLimiter;
  log: Logger;
  owner: string;
  leaseMs: number;
  backstopPollMs: number;
  externalWriteCheckMs: number;
  agentRetryDelayMs: number;
  batch?: number;
  /** The Asterisk server this daemon places calls on (config `server`; README "Running several servers"). */
  serverId?: string;
  /** AI voice agents: the signed context URL for a callback rung now (README "AI voice agents"); absent = no headers. */
  aiContextUrl?: (callbackId: number, ringSec: number, now: number) => string;
  /** Test-only fault injection (CALLBACKD_FAILPOINT_BEFORE_ORIGINATE_MS): a pause between the claim
   *  and the originate, so the crash test can kill the daemon exactly there. */
  failpointBeforeOriginateMs?: number;
  /** Looking for a channel whose originate got no answer: tries × delay (default 5 × 400 ms). */
  confirm?: { tries: number; delayMs: number };
  now?: () => number;
  random?: () => number;
}

export class Scheduler {
  private readonly sessions = new Map<number, CallSession>();
  private readonly byChannel = new Map<string, CallSession>();
  private timer: NodeJS.Timeout | null = null;
  private stopWatch: (() => void) | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping = false;
  private sweeps = 0;
  private ticking = false;
  private again = false;
  private stopping = false;
  private recovered = false;
  /** When the database stopped answering (store/unreachable.ts), while it does not. */
  private unreachableSince: number | null = null;
  private readonly now: () => number;
  private readonly random: () => number;
  private drainWaiters: (() => void)[] = [];
  /** Writes for calls no session owns (a restart's leftovers), retried while the database is locked. */
  private readonly writes: WriteQueue;
  /** What a dial pass (./dial-pass.ts) sees of this scheduler. */
  private readonly pass: DialPassDeps;

  constructor(private readonly o: SchedulerOptions) {
    this.writes = new WriteQueue(o.log);
    this.pass = {
      o,
      inSession: (id) => this.sessions.has(id),
      agentCalls: () => this.agentCalls(),
      stopping: () => this.stopping,
      newSession: (plan) => this.newSession(plan),
    };
    this.now = o.now ?? Date.now;
    this.random = o.random ?? Math.random;
    o.ari.on('event', (e) => void this.onAriEvent(e).catch((err) => this.o.log.error({ err: (err as Error).message, event: e.type }, 'error handling an ARI event')));
    o.ari.on('connected', () => void this.onAriConnected());
    o.presence.on('change', () => this.nudge());
  }

  busyAgents(): Set<string> {
    return new Set(this.agentCalls().keys());
  }

  /** Callbacks in progress per agent (an AI agent may have several). */
  agentCalls(): Map<string, number> {
    const calls = new Map<string, number>();
    for (const s of this.sessions.values()) if (s.agentId !== null) calls.set(s.agentId, (calls.get(s.agentId) ?? 0) + 1);
    return calls;
  }

  start(): void {
    this.stopping = false;
    // Watch before the first tick: a commit landing between that tick and a later first look
    // would otherwise be taken as the baseline and wait for the backstop poll (measured: the
    // benchmark's inserts right after start were dialed 27 s late). SQLite: PRAGMA data_version
    // polled every externalWriteCheckMs (another connection committed: the CLI, the API's
    // connection); PostgreSQL: LISTEN, woken by other daemons' commits and on every reconnect.
    this.stopWatch?.();
    this.stopWatch = watchEngine(
      this.o.db,
      (what) => {
        this.o.log.debug({ what }, 'another connection wrote the database; waking');
        this.nudge();
      },
      { everyMs: this.o.externalWriteCheckMs },
    );
    // Takeover (issue 16): another daemon on this server died, or lost the database, with calls in
    // progress; their leases lapse within leaseMs and this daemon adopts them as a restart would.
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = setInterval(() => void this.adoptExpired(), Math.max(1000, Math.floor(this.o.leaseMs / 2)));
    this.sweepTimer.unref?.();
    this.nudge();
  }

  /**
   * Adopts DIALING callbacks whose lease expired (recovery: ask Asterisk by channel id, follow the
   * call or mark it INTERRUPTED; takeOverLease lets one daemon win). Then, if any was taken, and
   * every SETTLE_EVERY_SWEEPS sweeps anyway, the answered calls nobody watches are settled or
   * subscribed to, as after a restart: a peer that died with only bridged calls leaves no DIALING row
   * to adopt, and their open attempts would hold the agents and trunk channels cluster-wide
   * (claimForDial counts them) until the 6 h horizon.
   */
  private async adoptExpired(): Promise<void> {
    if (this.stopping || this.sweeping || !this.recovered || !this.o.ari.connected) return;
    this.sweeping = true;
    this.sweeps++;
    try {
      const serverId = await this.serverFilter();
      const d = { db: this.o.db, ari: this.o.ari, log: this.o.log, now: this.now, serverId };
      const n = await recover({ ...d, owner: this.o.owner, leaseMs: this.o.leaseMs, expiredOnly: true, skip: (id) => this.sessions.has(id), makeSession: (plan) => this.newSession(plan) });
      if (n > 0) this.o.log.info({ adopted: n }, 'took over calls whose lease expired (a peer daemon stopped?)');
      if (n > 0 || this.sweeps % SETTLE_EVERY_SWEEPS === 0) {
        const settled = await settleAnsweredCalls({ ...d, owned: (ch) => this.byChannel.has(ch) });
        if (n > 0 || settled > 0) this.nudge();
      }
    } catch (err) {
      if (isBusy(err)) dbBusy.inc({ where: 'scheduler' });
      this.o.log.warn({ err: (err as Error).message }, 'takeover sweep failed; trying again on the next one');
    } finally {
      this.sweeping = false;
    }
  }

  /** Something changed: run the loop as soon as the event loop is free. */
  nudge(): void {
    if (this.stopping) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.arm(0);
  }

  private arm(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), Math.max(0, delayMs));
  }

  /** This daemon's server once the directory names any (or it is bound to one), else null: one Asterisk, no filter, no extra reads. */
  private async serverFilter(): Promise<string | null> {
    return await serverFilterOf(this.o.db, this.o.serverId);
  }

  private async onAriConnected(): Promise<void> {
    if (!this.recovered) {
      this.recovered = true;
      await this.runRecovery();
    } else {
      // Reconnected: our subscriptions are gone and events were missed. Ask Asterisk.
      for (const s of this.sessions.values()) {
        try {
          await s.reconcile();
        } catch (err) {
          s.log.warn({ err: (err as Error).message }, 'reconcile after reconnect failed');
        }
      }
      await this.runRecovery();
    }
    this.nudge();
  }

  /** Recovery refused by a locked database: run it again (dialing waits for it meanwhile). */
  private async retryRecovery(): Promise<void> {
    if (this.stopping || this.recovered || !this.o.ari.connected) return;
    this.recovered = true;
    await this.runRecovery();
    this.nudge();
  }

  private async runRecovery(): Promise<void> {
    try {
      const serverId = await this.serverFilter();
      await settleAnsweredCalls({ db: this.o.db, ari: this.o.ari, log: this.o.log, now: this.now, owned: (ch) => this.byChannel.has(ch), serverId });
      await recover({
        serverId,
        db: this.o.db,
        ari: this.o.ari,
        log: this.o.log,
        owner: this.o.owner,
        leaseMs: this.o.leaseMs,
        now: this.now,
        skip: (id) => this.sessions.has(id),
        makeSession: (plan) => this.newSession(plan),
      });
    } catch (err) {
      this.recovered = false;
      if (isBusy(err)) {
        dbBusy.inc({ where: 'scheduler' });
        this.o.log.warn({ err: (err as Error).message, cause: 'another process holds the database write lock' }, 'recovery failed; retrying');
        setTimeout(() => void this.retryRecovery(), BUSY_RETRY_MS).unref?.();
        return;
      }
      this.o.log.error({ err: (err as Error).message }, 'recovery failed; will retry on the next ARI connect');
    }
  }

  private async onAriEvent(e: AriEvent): Promise<void> {
    if (e.type === 'RecordingFailed' || e.type === 'RecordingFinished') return this.writes.push('recording note', () => onRecordingEvent(this.o.db, this.o.log, e));
    const id = e.channel?.id ?? playbackChannel(e); // a whisper's or choice prompt's end (dialer/call-prompts.ts)
    if (!id) return;
    const s = this.byChannel.get(id);
    if (!s) {
      await this.hangupOrphan(id, e);
      return;
    }
    try {
      await s.onEvent(e);
    } catch (err) {
      s.log.error({ err: (err as Error).message, event: e.type }, 'error handling an ARI event');
    }
  }

  /**
   * Events for channels of ours that no session owns. A channel starting to ring or answering for
   * an attempt already settled (an originate that answered after we gave up on it) is hung up:
   * nobody would bridge it. A bridged call that outlived its session (a daemon killed mid-call) is
   * torn down when one side hangs up, and its end recorded, as the session would have done.
   * Channels of open attempts are left to recovery.
   */
  private async hangupOrphan(id: string, e: AriEvent): Promise<void> {
    if (!this.recovered || !id.startsWith('cbd-')) return;
    const a = await store.attemptOfChannel(this.o.db, id);
    if (!a || a.outcome === null) return;
    if (a.outcome === 'ANSWERED') {
      if (e.type !== 'ChannelDestroyed' && e.type !== 'StasisEnd') return;
      const other = id === a.agentChannelId ? a.customerChannelId : a.agentChannelId;
      this.o.log.info({ callbackId: a.callbackId, channelId: id }, 'a call bridged before a restart ended; hanging up the other leg');
      await closeAnsweredCall({ db: this.o.db, ari: this.o.ari, now: this.now }, { attemptId: a.id, bridgeId: a.bridgeId, customerAnsweredAt: a.customerAnsweredAt }, [other], this.writes);
      return;
    }
    if (e.type !== 'StasisStart' && e.type !== 'ChannelStateChange') return;
    this.o.log.warn({ channelId: id, event: e.type, outcome: a.outcome }, 'hanging up a late channel of an attempt already settled');
    await this.o.ari.hangup(id).catch((err) => this.o.log.warn({ channelId: id, err: (err as Error).message }, 'hangup of a late channel failed'));
  }

  private newSession(plan: ConstructorParameters<typeof CallSession>[0]): CallSession {
    const deps: SessionDeps = {
      db: this.o.db,
      ari: this.o.ari,
      log: this.o.log,
      now: this.now,
      random: this.random,
      leaseMs: this.o.leaseMs,
      agentRetryDelayMs: this.o.agentRetryDelayMs,
      confirm: this.o.confirm ?? { tries: 5, delayMs: 400 },
      onCustomerLegEnd: (s) => this.o.limiter.release(s.trunkId),
      onEnd: (s) => {
        this.sessions.delete(s.plan.callback.id);
        this.byChannel.delete(s.agentChannel);
        this.byChannel.delete(s.customerChannel);
        if (this.sessions.size === 0) this.drainWaiters.splice(0).forEach((w) => w());
        this.nudge();
      },
    };
    const s = new CallSession(plan, deps);
    this.sessions.set(plan.callback.id, s);
    this.byChannel.set(s.agentChannel, s);
    this.byChannel.set(s.customerChannel, s);
    this.o.limiter.acquire(s.trunkId, this.now());
    return s;
  }

  private async tick(): Promise<void> {
    if (this.stopping || this.ticking) return;
    this.ticking = true;
    this.timer = null;
    let wakeAt: number | null = null;
    try {
      const now = this.now();
      await store.promoteDue(this.o.db, now);
      if (this.o.ari.connected && this.recovered && this.o.presence.ready) {
        wakeAt = await dialReady(this.pass, now, await this.serverFilter());
      }
      const next = await store.nextWakeAt(this.o.db, now);
      if (next !== null) wakeAt = wakeAt === null ? next : Math.min(wakeAt, next);
      if (this.unreachableSince !== null) {
        this.o.log.info({ outageMs: this.now() - this.unreachableSince }, 'database reachable again: claiming');
        this.unreachableSince = null;
      }
    } catch (err) {
      if (isBusy(err)) {
        // Another process holds the write lock: our short busy_timeout gave up instead of freezing
        // the loop; nothing of this pass was half-written (each write is its own transaction).
        dbBusy.inc({ where: 'scheduler' });
        this.o.log.warn({ err: (err as Error).message, cause: 'another process holds the database write lock' }, 'scheduler tick failed; retrying');
        wakeAt = this.now() + BUSY_RETRY_MS;
      } else if (isUnreachable(err)) {
        // PostgreSQL stopped or cut off: nothing is claimed until it answers; calls in progress go on
        // (their writes wait in their queues). Said once per outage, not once a second.
        if (this.unreachableSince === null) {
          this.unreachableSince = this.now();
          this.o.log.warn({ err: rootMessage(err) }, 'database unreachable: not claiming callbacks until it answers (calls in progress go on); trying every second');
        }
        wakeAt = this.now() + 1000;
      } else {
        // SQLITE_FULL, a corrupt page...: say why and try again later.
        this.o.log.error({ err: (err as Error).message }, 'scheduler tick failed; retrying');
        wakeAt = this.now() + 1000;
      }
    } finally {
      this.ticking = false;
    }
    if (this.stopping) return;
    if (this.again) {
      this.again = false;
      this.arm(0);
      return;
    }
    const now = this.now();
    const delay = wakeAt === null ? this.o.backstopPollMs : Math.min(this.o.backstopPollMs, wakeAt - now);
    // Once per pass: the object is built only when someone reads debug lines.
    if (this.o.log.isLevelEnabled('debug')) this.o.log.debug({ sleepMs: delay, ari: this.o.ari.connected, recovered: this.recovered, presence: this.o.presence.ready }, 'scheduler sleeping');
    this.arm(delay);
  }

  /** Stop taking work, let calls finish for up to graceMs, then hand the rest back. Idempotent. */
  async stop(graceMs: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.stopWatch?.();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.timer = null;
    this.stopWatch = null;
    this.sweepTimer = null;
    if (this.sessions.size > 0) {
      this.o.log.info({ inFlight: this.sessions.size, graceMs }, 'waiting for calls in progress to finish');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, graceMs);
        this.drainWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    for (const s of this.sessions.values()) {
      // Leave the row DIALING (the call may still be up in Asterisk) with an expired lease, so the
      // next start, here or elsewhere, adopts it by asking Asterisk about its channels.
      await s.abandon();
      s.log.warn('handed back: still in progress at shutdown');
    }
  }
}
