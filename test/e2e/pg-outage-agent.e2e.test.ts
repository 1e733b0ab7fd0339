// An agent answers while PostgreSQL is down (README "What happens when things fail"), on the real
// lab: one daemon on a real cluster, one agent-first callback. PostgreSQL is stopped (pg_ctl -m
// immediate) right after the claim, while a test-only failpoint holds the agent's originate back
// (CALLBACKD_FAILPOINT_BEFORE_ORIGINATE_MS), so the agent's phone rings and answers during the outage.
// The customer's attempt cannot be counted (the count is what keeps max_attempts honest across
// daemons), so the customer must not be dialed; the agent must not wait on the line for the outage to
// end: within COUNT_BOUND_MS (plus the apology) Asterisk hangs the agent up. Once the database is
// back the attempt ends DB_UNREACHABLE (not charged to the customer), the callback is requeued and
// placed: the customer is dialed exactly once, and answers. Judged by the agent's and the carrier's
// own SIPp logs and the database.
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { answersAndHangups } from './carrier-log.js';
import { COUNT_BOUND_MS } from '../../src/dialer/session-flow.js';
import { attemptsOf, getCallback } from '../../src/store/callbacks.js';
import { all } from '../../src/store/engine.js';
import { cli, sleep, waitFor } from '../lab/lab.js';
import { describeOnPgCenter } from '../lab/e2e-fixture.js';

const HOLD_ORIGINATE_MS = 2500; // the failpoint: the claim is committed, the agent not yet rung
const OUTAGE_MS = 14_000; // longer than the count bound and the apology together
const APOLOGY_MAX_MS = 8000; // "sorry" + "please try call later" take ~3 s; session-flow caps it at 8 s

describeOnPgCenter('an agent answers while PostgreSQL is down', 'PostgreSQL outage (agent on the line)', { prefix: 'oag', agents: 1, numberPrefix: '+1555320', carrierRingMs: 1000, durableCommits: true }, (t) => {
  it('the customer is not dialed uncounted, the agent is told and released within the bound, the attempt settles after the outage and the customer is dialed once', async () => {
    const { db, dir, agents, number, trunk, phones, url } = t.center;
    const daemon = t.center.daemon('a', { scheduler: { leaseMs: 60_000, agentRetryDelayMs: 1000 } }, { CALLBACKD_FAILPOINT_BEFORE_ORIGINATE_MS: String(HOLD_ORIGINATE_MS) });
    await daemon.ready();
    const r = cli(['callback', 'add', '--db', url, '--json', '--lead', `lead-${agents[0]}`, '--due', 'now', '--owner', agents[0]!, '--type', 'USERONLY']);
    expect(r.code, r.stderr).toBe(0);
    const id = JSON.parse(r.stdout).id as number;

    await waitFor('the claim', async () => (await attemptsOf(db, id)).length === 1, 15_000, 20);
    const stoppedAt = Date.now();
    t.pg.halt('immediate');
    const agentCalls = () => answersAndHangups(phones.messageFile);
    // The agent's phone rings and answers (300 ms) during the outage; Asterisk hangs it up.
    const released = await waitFor('the agent to be hung up by Asterisk', () => {
      const c = agentCalls()[0];
      return c?.hungUpAt != null && c;
    }, HOLD_ORIGINATE_MS + COUNT_BOUND_MS + APOLOGY_MAX_MS + 5000, 100);
    const onLineMs = released.hungUpAt! - released.answeredAt;
    expect(released.answeredAt, 'the agent answered during the outage').toBeGreaterThan(stoppedAt);
    expect(released.hungUpBy).toBe('asterisk');
    expect(trunk.invites(), 'the customer was not dialed during the outage').toHaveLength(0);
    await sleep(Math.max(0, stoppedAt + OUTAGE_MS - Date.now()));
    expect(trunk.invites(), 'nor later in the outage').toHaveLength(0);
    t.pg.resume();
    const resumedAt = Date.now();

    const done = await waitFor('the callback to complete and its call to end', async () => {
      const cb = (await getCallback(db, id))!;
      const attempts = await attemptsOf(db, id);
      return cb.state === 'COMPLETED' && attempts.every((a) => a.outcome !== null && (a.outcome !== 'ANSWERED' || a.endedAt !== null)) && { cb, attempts };
    }, 90_000, 250);
    // The carrier's last BYE (and its answer) in its log before it is read.
    await waitFor("the carrier's log to show every call ended", () => answersAndHangups(trunk.messageFile).every((c) => c.hungUpAt !== null) && answersAndHangups(trunk.messageFile).length > 0, 10_000, 100);
    const invites = trunk.invites().filter((m) => m.firstLine.includes(`sip:${number(0)}@`));
    const [first, second] = done.attempts;
    console.log(`agent answered ${released.answeredAt - stoppedAt} ms into the outage and was hung up ${onLineMs} ms later (bound ${COUNT_BOUND_MS} ms + apology); ` +
      `PostgreSQL down ${resumedAt - stoppedAt} ms; attempts: ${done.attempts.map((a) => `${a.outcome} (${a.detail ?? ''})`).join(' → ')}; counted ${done.cb.attempts}; carrier INVITEs ${invites.length} (${dir})`);

    // The agent was not left on the line for the outage: the bound, then the apology.
    expect(onLineMs).toBeGreaterThanOrEqual(COUNT_BOUND_MS);
    expect(onLineMs).toBeLessThan(COUNT_BOUND_MS + APOLOGY_MAX_MS);
    expect(daemon.log).toMatch(/"played":true[^\n]*agent told the customer will not be dialed now/);
    // The first attempt settled after the outage, not charged to the customer; the second reached them.
    expect(first).toMatchObject({ outcome: 'DB_UNREACHABLE', customerAttempt: null, customerDialedAt: null });
    expect(first!.detail).toMatch(/^database unreachable: customer not dialed/);
    expect(first!.endedAt!).toBeGreaterThanOrEqual(resumedAt - 1000);
    expect(second).toMatchObject({ outcome: 'ANSWERED', customerAttempt: 1 });
    expect(done.attempts).toHaveLength(2);
    // Never a double dial: one carrier INVITE, one counted attempt.
    expect(done.cb.attempts).toBe(1);
    expect(invites).toHaveLength(1);
    expect(await all(db, sql`SELECT id FROM callbacks WHERE state = 'DIALING'`)).toEqual([]);
    expect(daemon.exitCode).toBeNull();
  }, 240_000);
});
