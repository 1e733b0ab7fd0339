import { randomUUID } from 'node:crypto';
import type { AriClient } from '../asterisk/ari.js';
import type { AriChannel } from '../asterisk/ari-events.js';
import { parseLegRecord } from '../domain/leg-record.js';
import type { CallSession, SessionPlan } from '../dialer/session.js';
import type { Logger } from '../log.js';
import type { Conn } from '../store/conn.js';
import * as store from '../store/callbacks.js';
import { getCampaign, getLead } from '../store/directory.js';
import { numbersOfLead } from '../store/lead-phones.js';
import { sessionPlanFor } from './context.js';
import { closeAnsweredCall } from '../dialer/close-answered.js';
import { writeAttemptEnd } from '../dialer/recorder.js';

export interface RecoveryDeps {
  db: Conn;
  ari: AriClient;
  log: Logger;
  owner: string;
  leaseMs: number;
  now: () => number;
  skip: (callbackId: number) => boolean;
  makeSession: (plan: SessionPlan) => CallSession;
  /** Several servers: only this server's attempts (store.recoverable). */
  serverId?: string | null;
  /** Only rows whose lease expired (a peer daemon died, or ours lapsed): the takeover sweep, never our own live claims. */
  expiredOnly?: boolean;
}

/**
 * Every DIALING row we may own is settled by asking Asterisk about its pre-generated channel ids:
 * a channel that still exists is adopted (followed to its end, bridged if answered); if none
 * exists the attempt is marked INTERRUPTED and the callback requeued. Nothing is dialed here, so a
 * restart can never place a second call for the same attempt.
 */
export async function recover(d: RecoveryDeps): Promise<number> {
  const rows = await store.recoverable(d.db, d.expiredOnly ? null : d.owner, d.now(), d.serverId ?? null);
  let n = 0;
  for (const { cb, attempt } of rows) {
    if (d.skip(cb.id)) continue;
    const token = randomUUID();
    const leaseUntil = d.now() + d.leaseMs;
    if (!await store.takeOverLease(d.db, cb.id, cb.leaseToken, d.owner, token, leaseUntil)) continue;
    const log = d.log.child({ callbackId: cb.id, attempt: attempt?.seq });
    const campaign = await getCampaign(d.db, cb.campaignId);
    const lead = await getLead(d.db, cb.leadId);
    if (!attempt || !campaign || !lead) {
      log.warn('DIALING callback without its attempt row; requeued');
      await writeAttemptEnd(d.db, log, { callbackId: cb.id, token, attemptId: attempt?.id ?? -1 }, { kind: 'interrupted', reason: 'recovered without attempt data' }, { now: d.now(), agentRetryDelayMs: 0 });
      continue;
    }
    // Subscribe first, then look: a channel that ends between the two still reaches us.
    await d.ari.subscribeChannel(attempt.agentChannelId).catch(() => undefined);
    await d.ari.subscribeChannel(attempt.customerChannelId).catch(() => undefined);
    const [agent, customer] = await Promise.all([d.ari.getChannel(attempt.agentChannelId), d.ari.getChannel(attempt.customerChannelId)]);
    // The dialed number's own zone (alt-dial), for the window check before an adopted customer leg.
    const numberZone = (await numbersOfLead(d.db, lead)).find((p) => p.position === attempt.phonePosition)?.timeZone ?? undefined;
    // The session exists before any leg is pointed at us; their events wait for adopt() (holdEvents).
    const session = d.makeSession({ ...sessionPlanFor(cb, { ...attempt, leaseToken: token }, token, campaign, lead, numberZone), leaseUntil });
    const release = session.holdEvents();
    try {
      // A leg still ringing or on hold enters Stasis by the application it was placed with: after a peer
      // daemon's death that is the peer's, so it is pointed at ours (the same one after our own restart).
      for (const ch of [agent, customer]) if (ch && ch.dialplan?.app_name !== 'Stasis') await d.ari.claimLeg(ch.id).catch(() => undefined);
      const seen = (ch: AriChannel | null) => (ch ? { state: ch.state, inApp: ch.dialplan?.app_name === 'Stasis' } : null);
      // What the hold dialplan recorded about legs answered while we were away; taking it deletes it.
      // (A held leg may already be back in our app by now: ARI connected before recovery ran.)
      const take = (id: string) => d.ari.takeLegRecord(id).catch(() => null);
      const [, customerRecord] = await Promise.all([take(attempt.agentChannelId), take(attempt.customerChannelId)]);
      log.info({ agentChannel: agent?.state ?? 'gone', customerChannel: customer?.state ?? 'gone', customerRecord }, 'recovering a call that was in progress');
      await session.adopt({ agent: seen(agent), customer: seen(customer), customerRecord: parseLegRecord(customerRecord) });
    } finally {
      release();
    }
    n++;
  }
  return n;
}

/**
 * Answered calls whose end was never recorded (the daemon stopped while they were bridged, or
 * during teardown): a leg that is gone means the call is over, so the other leg is hung up and
 * the end recorded. Calls with both legs up are left to run; their end reaches the scheduler as an
 * event (Scheduler.hangupOrphan). Skips attempts a live session owns.
 */
export async function settleAnsweredCalls(d: Pick<RecoveryDeps, 'db' | 'ari' | 'log' | 'now' | 'serverId'> & { owned: (channelId: string) => boolean }): Promise<number> {
  let n = 0;
  for (const a of await store.answeredNotEnded(d.db, d.now() - 24 * 3_600_000, d.serverId ?? null)) {
    if (d.owned(a.agentChannelId)) continue;
    const [agent, customer] = await Promise.all([d.ari.getChannel(a.agentChannelId), d.ari.getChannel(a.customerChannelId)]);
    if (agent && customer) {
      await d.ari.subscribeChannel(agent.id).catch(() => undefined);
      await d.ari.subscribeChannel(customer.id).catch(() => undefined);
      continue;
    }
    await closeAnsweredCall(d, { attemptId: a.id, bridgeId: a.bridgeId, customerAnsweredAt: a.customerAnsweredAt }, [agent?.id, customer?.id].filter((c): c is string => !!c));
    d.log.info({ callbackId: a.callbackId, attempt: a.seq }, 'a call answered before the restart is over; its end is recorded');
    n++;
  }
  return n;
}
