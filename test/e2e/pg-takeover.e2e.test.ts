// Takeover on PostgreSQL (issue 16 item 4), on the real lab: two daemons bound to the same Asterisk
// server share one PostgreSQL database (a real cluster, test/lab/postgres.ts). Callbacks come due;
// both claim (FOR UPDATE SKIP LOCKED); while customers ring, one daemon is killed with SIGKILL. The
// other adopts its calls once their leases lapse, as recovery does after a restart: it asks Asterisk
// by channel id and follows the call, or marks the attempt INTERRUPTED and retries it. The carrier's
// own SIPp log is the judge: every customer INVITE is a counted attempt, no answered customer is cut
// off by Asterisk, every callback ends COMPLETED, no row is left DIALING.
// The database is set up and read through the CLI and the store on PostgreSQL (no SQLite anywhere).
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { answersAndHangups, concurrentCalls } from './carrier-log.js';
import { attemptsOf, getCallback } from '../../src/store/callbacks.js';
import { all as all_ } from '../../src/store/engine.js';
import { asteriskGlobals, cli, waitFor } from '../lab/lab.js';
import { describeOnPgCenter } from '../lab/e2e-fixture.js';

const N = 4; // callbacks, each owned by its own agent (USERONLY): no agent is wanted by both daemons
const LEASE_MS = 6000; // the lab's shortest sensible lease: takeover within ~9 s of the kill

describeOnPgCenter('two daemons on one Asterisk server and one PostgreSQL database', 'PostgreSQL takeover', { prefix: 'tko', agents: N, numberPrefix: '+1555300', carrierRingMs: 6000 }, (t) => {
  // On trunk carrier-slow's port: the customers ring 6 s, answer, and stay on the line up to 20 s
  // (on hold while no daemon has them, or talking), then hang up.
  it('SIGKILL one daemon while its customers ring: the other adopts its calls; one INVITE per counted attempt, no dead air, nothing left DIALING', async () => {
    const { url, db, dir, agents, number, trunk } = t.center;
    const a = t.center.daemon('a', { scheduler: { leaseMs: LEASE_MS } });
    const b = t.center.daemon('b', { scheduler: { leaseMs: LEASE_MS } });
    await Promise.all([a.ready(), b.ready()]);
    expect(a.log).toMatch(/"db":"pg 127\.0\.0\.1:\d+\/t_[0-9a-f]+"/);
    expect(a.log).not.toContain(new URL(url).password);

    const ids = agents.map((agent, i) => {
      const r = cli(['callback', 'add', '--db', url, '--json', '--lead', `lead-${agent}`, '--due', 'now', '--owner', agent, '--type', 'USERONLY']);
      expect(r.code, r.stderr).toBe(0);
      return { id: JSON.parse(r.stdout).id as number, number: number(i) };
    });
    const all = async () => Promise.all(ids.map(async (c) => ({ ...c, cb: (await getCallback(db, c.id))!, attempts: await attemptsOf(db, c.id) })));
    const ringing = (x: Awaited<ReturnType<typeof all>>[number]) => {
      const last = x.attempts.at(-1);
      return x.cb.state === 'DIALING' && last?.customerRingingAt != null && last.customerAnsweredAt === null;
    };
    // Both daemons claim; the one with the most customers ringing is killed while they ring.
    const before = await waitFor('every customer to ring', async () => {
      const rows = await all();
      return rows.every(ringing) && rows;
    }, 30000, 50);
    const owners = new Map<string, number>();
    for (const r of before) owners.set(r.cb.leaseOwner!, (owners.get(r.cb.leaseOwner!) ?? 0) + 1);
    const victimName = (owners.get('tko-a') ?? 0) >= (owners.get('tko-b') ?? 0) ? 'a' : 'b';
    const [victim, survivor] = victimName === 'a' ? [a, b] : [b, a];
    const victimCalls = before.filter((r) => r.cb.leaseOwner === `tko-${victimName}`).map((r) => r.id);
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    console.log(`claims: ${JSON.stringify(Object.fromEntries(owners))}; killed tko-${victimName} with ${victimCalls.length} customer(s) ringing`);

    const done = await waitFor('every callback to complete and every call to end', async () => {
      const rows = await all();
      return rows.every((r) => r.cb.state === 'COMPLETED' && r.attempts.every((t) => t.outcome !== null && (t.outcome !== 'ANSWERED' || t.endedAt !== null))) && rows;
    }, 90000, 250);
    // The database says every call ended; the carrier's log has its last BYE a moment later.
    await waitFor("every call ended in the carrier's log", () => concurrentCalls(trunk.messageFile).open === 0, 5000, 20);
    const invites = trunk.invites();
    const calls = answersAndHangups(trunk.messageFile);
    const report = done.map((r) => ({
      id: r.id, victim: victimCalls.includes(r.id), outcomes: r.attempts.map((t) => t.outcome).join(' → '), counted: r.cb.attempts,
      invites: invites.filter((m) => m.firstLine.includes(`sip:${r.number}@`)).length,
    }));
    console.log(`takeover: everything settled ${Date.now() - killedAt} ms after the kill (${dir})\n` + report.map((r) => `  callback ${r.id}${r.victim ? ' (victim\'s)' : ''}: ${r.outcomes}; customer INVITEs ${r.invites}, attempts counted ${r.counted}`).join('\n'));

    expect(victimCalls.length).toBeGreaterThan(0);
    for (const r of report) expect(r.invites, `callback ${r.id}: INVITEs = counted attempts`).toBe(r.counted);
    expect(calls.filter((c) => c.hungUpBy === 'asterisk'), 'customers answered and then cut off by Asterisk').toEqual([]);
    expect(survivor.log).toMatch(/took over calls whose lease expired/);
    expect(survivor.log).toMatch(/recovering a call that was in progress/);
    // The victim's calls were adopted, not redialed: the customer answered while no daemon had the
    // call, was held by the hold dialplan, entered the survivor's application and was bridged.
    for (const id of victimCalls) expect(report.find((r) => r.id === id), `callback ${id}`).toMatchObject({ outcomes: 'ANSWERED', counted: 1, invites: 1 });
    expect(await all_(db, sql`SELECT id FROM callbacks WHERE state = 'DIALING'`)).toEqual([]);
    // The survivor pointed the legs at its application through CBDAPP_<channel id> globals; none outlives its leg.
    const left = await waitFor('no CBDAPP_ global left', () => asteriskGlobals('CBDAPP_').length === 0, 5000).catch(() => false);
    if (!left) expect(asteriskGlobals('CBDAPP_'), 'CBDAPP_ globals left in Asterisk').toEqual([]);
    expect(survivor.exitCode).toBeNull(); // still running
  }, 240_000);
});
