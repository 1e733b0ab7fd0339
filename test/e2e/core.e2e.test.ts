// The core promise, proven on the real lab: Asterisk 22 in a chroot, SIPp as carriers and agents,
// callbackd as a child process. Skipped (loudly) only outside CI when the lab cannot start.
import { expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { attemptsOf } from '../../src/store/callbacks.js';
import { describeOnLab } from '../lab/e2e-fixture.js';
import { agentDials, agentPhone, callIn, carrier, cli, sleep, startAsterisk, stopAsterisk, waitFor, type Sipp } from '../lab/lab.js';

// The FastAGI server on, as the lab dialplan (dialplan/callbackd.conf) expects it on :4573.
const WITH_AGI = { agi: { enabled: true, headerTimeoutMs: 1500 } };
const SUITE = {
  name: 'end-to-end suite',
  prefix: 'e2e',
  daemon: WITH_AGI,
  // SIGTERM: stop claiming, finish or hand back, exit 0 (README "How a callback is kept").
  exitCode: (test: string) => (test.startsWith('wrong credentials') ? 2 : 0),
};

describeOnLab('callbackd on the real Asterisk lab', SUITE, (t) => {
  const { peers } = t;
  const add = (args: string[]) => t.add(args, { quiet: true });
  const cb = async (id: number) => await t.cb(id);
  const untilState = (id: number, states: string[], ms?: number) => t.untilState(id, states, ms);

  it('USERONLY callback: agent rung, customer dialed with the outbound number, bridged, COMPLETED', async () => {
    const trunk = carrier('answer', t.dir);
    const agent = await agentPhone(1001, t.dir);
    peers.push(trunk, agent);
    await t.daemon.ready();
    const due = Date.now() + 1500;
    const id = add(['--lead', 'answer', '--due', new Date(due).toISOString(), '--owner', '1001']);
    const done = await untilState(id, ['COMPLETED']);
    expect(done.attempts).toBe(1);

    const inv = trunk.invites();
    expect(inv).toHaveLength(1);
    expect(inv[0]!.firstLine).toContain('sip:+15551230001@');
    expect(inv[0]!.header('From')).toContain('sip:+15550100001@');
    expect(inv[0]!.header('P-Asserted-Identity')).toContain('sip:+15550100001@');
    const agentInv = agent.invites();
    expect(agentInv).toHaveLength(1);
    expect(agentInv[0]!.header('From')).toContain('CB Ann Swer');

    // The carrier hangs up after ~3 s of talk; the agent leg is torn down and the end recorded.
    const [a] = await waitFor('the call end to be recorded', async () => (await attemptsOf(t.db, id)).filter((x) => x.endedAt !== null).length === 1 && await attemptsOf(t.db, id), 10000);
    expect(a!.outcome).toBe('ANSWERED');
    expect(a!.startedAt).toBeGreaterThanOrEqual(due);
    expect(a!.agentRingingAt).toBeGreaterThanOrEqual(a!.startedAt);
    expect(a!.agentAnsweredAt).toBeGreaterThanOrEqual(a!.agentRingingAt!);
    expect(a!.customerRingingAt).toBeGreaterThanOrEqual(a!.agentAnsweredAt!);
    expect(a!.customerAnsweredAt).toBeGreaterThanOrEqual(a!.customerRingingAt!);
    expect(a!.durationMs).toBeGreaterThan(2000);
    await waitFor('agent phone to get the BYE', () => agent.messages().some((m) => m.direction === 'received' && m.firstLine.startsWith('BYE')), 5000);
  });

  it('carrier busy: retried, then final BUSY after max attempts (2)', async () => {
    const trunk = carrier('busy', t.dir);
    peers.push(trunk, await agentPhone(1001, t.dir));
    await t.daemon.ready();
    const id = add(['--lead', 'busy', '--due', '+1s', '--owner', '1001']);
    const done = await untilState(id, ['BUSY'], 30000);
    expect(done.attempts).toBe(2);
    expect(done.lastCause).toBe(17);
    expect(done.lastSipCode).toBe(486);
    expect(trunk.invites()).toHaveLength(2);
    expect((await attemptsOf(t.db, id)).map((a) => a.outcome)).toEqual(['BUSY', 'BUSY']);
  });

  it('no answer: NO_ANSWER after the ring timeout', async () => {
    const trunk = carrier('noanswer', t.dir);
    peers.push(trunk, await agentPhone(1001, t.dir));
    await t.daemon.ready();
    const id = add(['--lead', 'noanswer', '--due', '+1s', '--owner', '1001']);
    const done = await untilState(id, ['NO_ANSWER', 'FAILED'], 30000);
    expect(done.state).toBe('NO_ANSWER');
    expect(done.attempts).toBe(1);
    expect(trunk.invites()).toHaveLength(1);
    expect(trunk.messages().some((m) => m.direction === 'received' && m.firstLine.startsWith('CANCEL'))).toBe(true);
  });

  it('carrier 403: FAILED, not retried', async () => {
    const trunk = carrier('403', t.dir);
    peers.push(trunk, await agentPhone(1001, t.dir));
    await t.daemon.ready();
    const id = add(['--lead', 'reject', '--due', '+1s', '--owner', '1001']);
    const done = await untilState(id, ['FAILED']);
    expect(done.lastCause).toBe(21);
    expect(done.lastSipCode).toBe(403);
    expect(done.failReason).toMatch(/not retried/);
    await sleep(3000); // the campaign's retry delay is 1 s: a retry would have happened by now
    expect(trunk.invites()).toHaveLength(1);
    expect((await cb(id)).attempts).toBe(1);
  });

  it('carrier 503: congestion is retried with backoff', async () => {
    const trunk = carrier('503', t.dir);
    peers.push(trunk, await agentPhone(1001, t.dir));
    await t.daemon.ready();
    const id = add(['--lead', 'congest', '--due', '+1s', '--owner', '1001']);
    const done = await untilState(id, ['FAILED'], 30000);
    expect(done.attempts).toBe(2);
    expect(done.lastCause).toBe(34);
    expect(trunk.invites()).toHaveLength(2);
    expect((await attemptsOf(t.db, id)).map((a) => a.outcome)).toEqual(['CONGESTION', 'CONGESTION']);
  });

  it('owner unregistered: stays LIVE with the reason, dialed once the phone registers', async () => {
    const trunk = carrier('answer', t.dir);
    peers.push(trunk);
    await t.daemon.ready();
    const id = add(['--lead', 'answer', '--due', '+1s', '--owner', '1004']);
    await waitFor('wait reason', async () => (await cb(id)).state === 'LIVE' && /agent1004 is not registered/.test((await cb(id)).waitReason ?? ''));
    const listed = cli(['callback', 'list', '--db', t.dbPath, '--state', 'LIVE']);
    expect(listed.stdout).toMatch(/waiting for owner 1004: phone agent1004 is not registered/);
    await sleep(1500);
    expect(trunk.invites()).toHaveLength(0);
    expect((await cb(id)).attempts).toBe(0);

    const phone = await agentPhone(1004, t.dir); // status ADMIN: allowed to ring
    peers.push(phone);
    await untilState(id, ['COMPLETED']);
    expect(phone.invites()).toHaveLength(1);
    expect(trunk.invites()).toHaveLength(1);
  });

  it('phone SUSPENDED or Active Account off: never rung, even while registered', async () => {
    const trunk = carrier('answer', t.dir);
    const suspended = await agentPhone(1002, t.dir);
    const inactive = await agentPhone(1003, t.dir);
    peers.push(trunk, suspended, inactive);
    await t.daemon.ready();
    const a = add(['--lead', 'answer', '--due', '+1s', '--owner', '1002']);
    const b = add(['--lead', 'answer2', '--due', '+1s', '--owner', '1003']);
    await waitFor('both to wait with reasons', async () => /status SUSPENDED/.test((await cb(a)).waitReason ?? '') && /Active Account off/.test((await cb(b)).waitReason ?? ''));
    await sleep(2000);
    expect((await cb(a)).state).toBe('LIVE');
    expect((await cb(b)).state).toBe('LIVE');
    expect(suspended.invites()).toHaveLength(0);
    expect(inactive.invites()).toHaveLength(0);
    expect(trunk.invites()).toHaveLength(0);

    // `callbackd agents` (another process) shows what the daemon sees in AMI, and why a phone is not rung.
    type AgentsJson = { phones: { endpoint: string; registered: boolean; contact: string | null; ringable: boolean; why: string }[] };
    const phones = await waitFor('presence written for both phones', () => {
      const j = JSON.parse(cli(['agents', '--db', t.dbPath, '--json']).stdout) as AgentsJson;
      const seen = j.phones.filter((p) => p.registered);
      return seen.length === 2 && j.phones;
    });
    expect(phones.find((p) => p.endpoint === 'agent1002')).toMatchObject({ registered: true, ringable: false, why: 'phone agent1002 has status SUSPENDED', contact: expect.stringContaining('sip:agent1002@127.0.0.1:5092') });
    expect(phones.find((p) => p.endpoint === 'agent1003')).toMatchObject({ registered: true, ringable: false, why: 'phone agent1003 has Active Account off' });
    expect(phones.find((p) => p.endpoint === 'agent1001')).toMatchObject({ registered: false, ringable: false, why: 'not registered' });
  });

  it('outbound number disabled: FAILED with the reason, no INVITE on the trunk; a DNC\'d ANYONE callback never dialed', async () => {
    const trunk = carrier('answer', t.dir);
    const agent = await agentPhone(1001, t.dir);
    peers.push(trunk, agent);
    await t.daemon.ready();
    const id = add(['--lead', 'disabled', '--due', '+1s', '--owner', '1001']);
    const dnc = add(['--lead', 'dnc', '--due', '+1s', '--type', 'ANYONE']); // agent 1001 registered and idle
    const failed = await untilState(id, ['FAILED']);
    expect(failed.failReason).toMatch(/no outbound-enabled number: \+15550100009 has outbound disabled/);
    const d = await untilState(dnc, ['FAILED']);
    expect(d.lastOutcome).toBe('DNC');
    await sleep(1000);
    expect(trunk.invites()).toHaveLength(0);
    expect(agent.invites()).toHaveLength(0);
  });

  // --- Callback rules (issue 3) --------------------------------------------------------------
  /** Imports a few more entries into this test's database (campaign RULES, its list and leads). */
  const importRules = (campaign: Record<string, unknown>, agents: string[]) => {
    const f = join(t.dir, 'rules.json');
    writeFileSync(f, JSON.stringify({
      campaigns: [{ id: 'RULES', name: 'Rules', time_zone: 'America/New_York', outbound_number: '+15550100001', ...campaign }],
      lists: [{ id: 'L-RULES', campaign: 'RULES' }],
      agents: agents.map((id) => ({ id, name: `Agent ${id}`, campaigns: ['RULES'] })),
      leads: [{ id: 'kolkata', list: 'L-RULES', first_name: 'Kay', phone: '+15551230021', time_zone: 'Asia/Kolkata' }],
    }));
    const r = cli(['import', f, '--db', t.dbPath]);
    expect(r.code, r.stderr).toBe(0);
  };

  it("calling window: a callback due outside the lead's window waits, and is dialed when the window opens", async () => {
    const trunk = carrier('answer', t.dir);
    const agent = await agentPhone(1001, t.dir);
    peers.push(trunk, agent);
    // A window that opens 8 s from now on the lead's wall clock (Asia/Kolkata, UTC+05:30).
    const openAt = Math.ceil((Date.now() + 8000) / 1000) * 1000;
    const local = DateTime.fromMillis(openAt, { zone: 'Asia/Kolkata' });
    const day = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'][local.weekday - 1]!;
    importRules({ calling_windows: { [day]: `${local.toFormat('HH:mm:ss')}-24:00` }, calltime_check: 'off' }, ['1001']);
    await t.daemon.ready();
    const id = add(['--lead', 'kolkata', '--due', 'now', '--owner', '1001']);
    await waitFor('the window wait', async () => (await cb(id)).state === 'LIVE' && /outside calling hours in Asia\/Kolkata/.test((await cb(id)).waitReason ?? ''));
    expect((await cb(id)).nextAttemptAt).toBe(openAt);
    const listed = cli(['callback', 'list', '--db', t.dbPath, '--json']);
    const row = (JSON.parse(listed.stdout) as { id: number; earliestDialableAt: string }[]).find((r) => r.id === id)!;
    expect(Date.parse(row.earliestDialableAt)).toBe(openAt);
    await sleep(Math.max(0, openAt - Date.now() - 1000));
    expect(agent.invites()).toHaveLength(0); // a second before the window opens: nothing yet
    await untilState(id, ['COMPLETED']);
    const [a] = await attemptsOf(t.db, id);
    expect(a!.startedAt).toBeGreaterThanOrEqual(openAt);
    expect(agent.invites()).toHaveLength(1);
    expect(trunk.invites()).toHaveLength(1);
  });

  it('useronly move: an owner who stays unregistered loses the callback to a registered agent after the minutes', async () => {
    const trunk = carrier('answer', t.dir);
    const other = await agentPhone(1004, t.dir); // registered (status ADMIN); the owner 1001 is not
    peers.push(trunk, other);
    importRules({ useronly_move_minutes: 3 }, ['1001', '1004']);
    await t.daemon.ready();
    const id = add(['--lead', 'kolkata', '--due', '+1s', '--owner', '1001', '--type', 'USERONLY']);
    await waitFor('the owner wait', async () => (await cb(id)).state === 'LIVE' && (await cb(id)).ownerWaitingSince !== null && /agent1001 is not registered/.test((await cb(id)).waitReason ?? ''));
    await sleep(1500);
    expect(other.invites()).toHaveLength(0); // still the owner's
    // Time travel instead of a 3-minute sleep: the owner has been waited for since 3 minutes ago.
    // The daemon sees another process's commit (SQLite data_version) and runs its loop at once.
    t.db.$client.prepare('UPDATE callbacks SET owner_waiting_since = ? WHERE id = ?').run(Date.now() - 3 * 60_000, id);
    const done = await untilState(id, ['COMPLETED']);
    expect(done.type).toBe('ANYONE');
    expect((await attemptsOf(t.db, id))[0]!.agentId).toBe('1004');
    expect(other.invites()).toHaveLength(1);
    const shown = cli(['callback', 'show', String(id), '--db', t.dbPath]);
    expect(shown.stdout).toMatch(/scheduler convert-to-anyone: owner 1001 could not be rung for 3 minute\(s\) \(useronly_move_minutes\)/);
  });

  // --- Dialplan hooks (issue 5) ----------------------------------------------------------------
  const byActor = (actor: string) => t.db.$client.prepare('SELECT id FROM callbacks WHERE created_by = ? ORDER BY id').all(actor) as { id: number }[];

  it('request-callback: a caller presses 1 (SIP INFO) and is called back on their own number', async () => {
    const trunk = carrier('answer', t.dir);
    const agent = await agentPhone(1001, t.dir);
    peers.push(trunk, agent);
    await t.daemon.ready();
    const caller = callIn('callback', t.dir); // lab-inbound: CALLBACKD_CAMPAIGN=ANSWER, Goto(callbackd-request-callback)
    peers.push(caller);
    expect(await caller.exited, 'the caller scenario (INVITE, INFO "1", BYE from Asterisk)').toBe(0);
    const [row] = await waitFor('the booking', () => byActor('agi').length === 1 && byActor('agi'));
    const booked = await cb(row!.id);
    expect(booked).toMatchObject({ type: 'ANYONE', campaignId: 'ANSWER', notes: 'requested by phone' });
    expect(t.db.$client.prepare('SELECT phone_e164 FROM leads WHERE id = ?').get(booked.leadId)).toEqual({ phone_e164: '+15551230099' });
    await untilState(row!.id, ['COMPLETED']);
    const inv = trunk.invites();
    expect(inv).toHaveLength(1);
    expect(inv[0]!.firstLine).toContain('sip:+15551230099@');
    expect(agent.invites()).toHaveLength(1);
  });

  it('agent-callback: *55 right after a call books a USERONLY callback for the lead just spoken to; refused without one', async () => {
    const trunk = carrier('answer', t.dir);
    const agent = await agentPhone(1001, t.dir);
    peers.push(trunk, agent);
    await t.daemon.ready();
    const first = add(['--lead', 'answer', '--due', '+1s', '--owner', '1001']);
    await untilState(first, ['COMPLETED']);
    await waitFor('the call to end', async () => (await attemptsOf(t.db, first))[0]!.endedAt !== null);

    const before = Date.now();
    const dial = agentDials(1001, '*5530', t.dir);
    peers.push(dial);
    expect(await dial.exited, 'the feature-code call').toBe(0);
    const [row] = await waitFor('the booking', () => byActor('1001').length === 1 && byActor('1001'));
    const booked = await cb(row!.id);
    expect(booked).toMatchObject({ type: 'USERONLY', ownerAgentId: '1001', leadId: 'answer', state: 'ACTIVE' });
    expect(booked.dueAt).toBeGreaterThanOrEqual(before + 30 * 60_000 - 1000);
    expect(booked.dueAt).toBeLessThanOrEqual(Date.now() + 30 * 60_000);

    // Agent 1004 has spoken to nobody: refused, with the reason in the log.
    const other = await agentPhone(1004, t.dir);
    const dial2 = agentDials(1004, '*5510', t.dir);
    peers.push(other, dial2);
    expect(await dial2.exited).toBe(0);
    await waitFor('the refusal in the log', () => /agent-callback refused: agent 1004 has not spoken to a lead yet/.test(t.daemon.log));
    expect(byActor('1004')).toEqual([]);
  });

  it('AGI port: garbage, a truncated header, a slow drip and an endless line are closed; a call in progress completes', async () => {
    const trunk = carrier('answer', t.dir);
    const agent = await agentPhone(1001, t.dir);
    peers.push(trunk, agent);
    await t.daemon.ready();
    const id = add(['--lead', 'answer', '--due', '+1s', '--owner', '1001']);
    await waitFor('the call to be in progress', async () => (await cb(id)).state === 'DIALING');
    const opened = Date.now();
    const closedAfter = (write: (s: Socket) => void) =>
      new Promise<number>((resolve) => {
        const s = connect(4573, '127.0.0.1', () => write(s));
        s.on('error', () => undefined);
        s.on('close', () => resolve(Date.now() - opened));
      });
    let drip: NodeJS.Timeout | undefined;
    const closed = await Promise.all([
      closedAfter((s) => s.write(Buffer.from([0x16, 0x03, 0x01, 0xff, 0x00, 0x0a, 0x47, 0x45, 0x54, 0x0a]))), // TLS-ish bytes, then a line
      closedAfter((s) => s.write('agi_network: yes\nagi_channel: PJSIP/x\n')), // never ends the header
      closedAfter((s) => {
        const text = 'agi_network: yes\nagi_network_script: callback-info\n\n';
        let i = 0;
        drip = setInterval(() => (i < text.length ? s.write(text[i++]!) : undefined), 200); // one byte per 200 ms
      }),
      closedAfter((s) => s.write('agi_' + 'x'.repeat(100_000))), // no newline, ever
    ]);
    clearInterval(drip);
    // Garbage and the endless line are refused on sight; the other two at the 1.5 s header deadline
    // (agi.headerTimeoutMs in this suite), the drip although it keeps sending.
    expect(closed[0]).toBeLessThan(1000);
    expect(closed[3]).toBeLessThan(1000);
    for (const ms of [closed[1]!, closed[2]!]) {
      expect(ms).toBeGreaterThanOrEqual(1400);
      expect(ms).toBeLessThan(4000);
    }
    await untilState(id, ['COMPLETED']);
    expect(trunk.invites()).toHaveLength(1);
    expect(t.daemon.exitCode).toBeNull();
  });

  // --- HTTP API (issue 4) -----------------------------------------------------------------------
  it('API: a manager reassigns a USERONLY callback from an unregistered agent to a registered one, and the call reaches that phone', async () => {
    const trunk = carrier('answer', t.dir);
    const phone1004 = await agentPhone(1004, t.dir); // registered; owner 1001 is not
    peers.push(trunk, phone1004);
    const users = join(t.dir, 'users.json');
    writeFileSync(users, JSON.stringify({ users: [{ id: 'boss', role: 'manager', campaigns: ['ANSWER'], lead_modify: true }] }));
    expect(cli(['import', users, '--db', t.dbPath]).code).toBe(0);
    const token = cli(['token', 'create', '--user', 'boss', '--db', t.dbPath]).stdout.trim();
    expect(token).toMatch(/^cbd_/);
    await t.daemon.ready();
    const port = await waitFor('the API to listen', () => Number(/"port":(\d+),"msg":"HTTP API listening"/.exec(t.daemon.log)?.[1] ?? 0) || false);
    const api = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return { status: r.status, body: (await r.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const booked = await api('POST', '/callbacks', { lead: 'answer', due: '+1s', owner: '1001', type: 'USERONLY', notes: 'wants Alice' });
    expect(booked.status).toBe(201);
    const id = booked.body.callback.id as number;
    await waitFor('the owner wait', async () => /agent1001 is not registered/.test((await cb(id)).waitReason ?? ''));
    const seen = await api('GET', `/callbacks/${id}`);
    expect(seen.body.callback).toMatchObject({ state: 'LIVE', owner: '1001', waitReason: expect.stringMatching(/agent1001 is not registered/) });
    const moved = await api('PATCH', `/callbacks/${id}`, { version: seen.body.callback.version, owner: '1004' });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    await untilState(id, ['COMPLETED']);
    expect((await attemptsOf(t.db, id))[0]!.agentId).toBe('1004');
    expect(phone1004.invites()).toHaveLength(1);
    expect(trunk.invites()).toHaveLength(1);
    const trail = (await api('GET', `/callbacks/${id}`)).body.audit.map((a: { actor: string; action: string }) => `${a.actor}:${a.action}`);
    expect(trail).toEqual(['boss:create', 'boss:edit']);
  });

  // --- Faults (issue 6) --------------------------------------------------------------------------
  const apiPort = () => t.apiPort();
  const invitesTo = (trunk: Sipp, number: string) => trunk.invites().filter((m) => m.firstLine.includes(`sip:${number}@`)).length;

  it('Asterisk restarts while the customer rings: ARI and AMI reconnect by themselves, the cut attempt is settled and retried to completion, a scheduled one is dialed once', async () => {
    const slow = carrier('slow', t.dir); // rings 6 s before it answers
    const trunk = carrier('answer', t.dir);
    let phone = await agentPhone(1001, t.dir);
    peers.push(slow, trunk, phone);
    await t.daemon.ready();
    const cut = add(['--lead', 'slow', '--due', '+1s', '--owner', '1001']);
    await waitFor('the customer to be ringing', async () => (await attemptsOf(t.db, cut))[0]?.customerRingingAt != null, 20000);
    const later = add(['--lead', 'answer2', '--due', '+15s', '--owner', '1001']);
    startAsterisk(); // stop + start: every call and registration is gone
    phone.stop();
    phone = await agentPhone(1001, t.dir); // a real softphone re-registers by itself; SIPp needs telling
    peers.push(phone);
    await waitFor('ARI and AMI to reconnect', () => /ARI connected again/.test(t.daemon.log) && /AMI connected again/.test(t.daemon.log), 20000);
    // Asterisk hangs the ringing leg up as it stops; the cause it reports varies (seen: 0 → UNKNOWN,
    // and NO_ANSWER), so the attempt ends unanswered and is retried after that outcome's delay. If
    // the event is lost with the socket instead, reconcile marks it INTERRUPTED and requeues it.
    const retry = await waitFor('the cut attempt to be settled', async () => (await cb(cut)).state === 'LIVE' && await cb(cut), 20000);
    const [first] = await attemptsOf(t.db, cut);
    expect(['UNKNOWN', 'NO_ANSWER', 'CONGESTION', 'INTERRUPTED']).toContain(first!.outcome);
    if (retry.nextAttemptAt! > Date.now() + 1000) {
      // Time travel instead of waiting two minutes: the daemon notices the commit at once.
      t.db.$client.prepare('UPDATE callbacks SET next_attempt_at = ? WHERE id = ?').run(Date.now(), cut);
    }
    await untilState(cut, ['COMPLETED'], 40000);
    await untilState(later, ['COMPLETED'], 40000);
    expect((await attemptsOf(t.db, cut)).map((a) => a.outcome)).toEqual([first!.outcome, 'ANSWERED']);
    expect(invitesTo(slow, '+15551230006')).toBe((await cb(cut)).attempts); // one INVITE per counted attempt, never two
    expect(invitesTo(trunk, '+15551230013')).toBe(1);
    expect(t.db.$client.prepare("SELECT count(*) n FROM callbacks WHERE state = 'DIALING'").get()).toEqual({ n: 0 });
    const port = await apiPort();
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    // The daemon's server is in callbackd_info, not on every series (metrics.ts registerGauges).
    expect(metrics).toMatch(/^callbackd_info\{server="default",instance_id="lab",database="sqlite"\} 1$/m);
    expect(metrics).toMatch(/callbackd_asterisk_reconnects_total\{link="ari"\} [1-9]/);
    expect(metrics).toMatch(/callbackd_asterisk_connected\{link="ari"\} 1/);
    expect(metrics).toContain(`callbackd_dial_outcomes_total{outcome="${first!.outcome}",cause="${first!.cause ?? ''}"} 1`);
  });

  it('Asterisk down when the daemon starts: it retries with a clear log line, is not ready, then works once Asterisk is up', async () => {
    await t.daemon.kill('SIGTERM');
    stopAsterisk();
    t.daemon = t.newDaemon(WITH_AGI).start();
    await waitFor('the retry log lines', () => /ARI not reachable; will retry/.test(t.daemon.log) && /AMI not reachable; will retry/.test(t.daemon.log), 15000);
    const port = await apiPort();
    const notReady = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ ready: false, ari: false, ami: false });
    const id = add(['--lead', 'answer', '--due', '+1s', '--owner', '1001']);
    await sleep(2000);
    expect((await cb(id)).state).toBe('LIVE'); // due, but nothing is claimed without Asterisk
    startAsterisk();
    const trunk = carrier('answer', t.dir);
    const phone = await agentPhone(1001, t.dir);
    peers.push(trunk, phone);
    await waitFor('readiness', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 20000);
    await untilState(id, ['COMPLETED'], 30000);
    expect(trunk.invites()).toHaveLength(1);
    expect(t.daemon.log).not.toMatch(/"level":(50|60)/); // no error or fatal lines: waiting for Asterisk is not an error
  });

  it('crash safety: SIGKILL at five points of the call flow, 20 runs with restarts; every callback kept, one INVITE per attempt, nothing left DIALING', async () => {
    const trunk = carrier('answer', t.dir);
    const phone = await agentPhone(1001, t.dir);
    peers.push(trunk, phone);
    const RUNS = 20;
    const leads = join(t.dir, 'crash.json');
    const number = (i: number) => `+1555888${String(i).padStart(4, '0')}`;
    writeFileSync(leads, JSON.stringify({ leads: Array.from({ length: RUNS }, (_, i) => ({ id: `crash${i}`, list: 'L-ANSWER', phone: number(i) })) }));
    const imp = cli(['import', leads, '--db', t.dbPath]);
    expect(imp.code, imp.stderr).toBe(0);
    // A pause between claim and originate (test-only failpoint) makes that point reachable.
    const env = { CALLBACKD_FAILPOINT_BEFORE_ORIGINATE_MS: '400' };
    const restart = async () => {
      t.daemon = t.newDaemon({ agi: { enabled: false } }, env).start();
      await t.daemon.ready();
    };
    await t.daemon.kill('SIGTERM');
    await restart();
    type Point = 'between claim and originate' | 'agent ringing' | 'customer ringing' | 'after answer' | 'teardown';
    const phase = async (id: number): Promise<Point | null> => {
      const c = await cb(id);
      const a = (await attemptsOf(t.db, id)).at(-1);
      if (c.state === 'DIALING' && a && a.agentRingingAt === null) return 'between claim and originate';
      if (c.state === 'DIALING' && a?.agentRingingAt != null && a.agentAnsweredAt === null) return 'agent ringing';
      if (c.state === 'DIALING' && a?.customerRingingAt != null && a.customerAnsweredAt === null) return 'customer ringing';
      if (c.state === 'COMPLETED' && a?.endedAt === null) return 'after answer';
      if (c.state === 'COMPLETED' && a?.endedAt !== null) return 'teardown';
      return null;
    };
    const points: Point[] = ['between claim and originate', 'agent ringing', 'customer ringing', 'after answer', 'teardown'];
    const report: { run: number; aimed: Point; killedAt: Point | null; outcomes: string; invites: number; counted: number }[] = [];
    for (let run = 0; run < RUNS; run++) {
      const aimed = points[run % points.length]!;
      const id = add(['--lead', `crash${run}`, '--due', 'now', '--owner', '1001']);
      await waitFor(`run ${run}: ${aimed}`, async () => await phase(id) === aimed, 20000, 5);
      await sleep(Math.floor(Math.random() * 100)); // somewhere inside that point, not at its edge
      const killedAt = await phase(id);
      await t.daemon.kill('SIGKILL');
      await restart();
      await untilState(id, ['COMPLETED'], 40000);
      await waitFor(`run ${run}: the call to end`, async () => (await attemptsOf(t.db, id)).every((a) => a.outcome !== null && (a.outcome !== 'ANSWERED' || a.endedAt !== null)), 20000);
      report.push({ run, aimed, killedAt, outcomes: (await attemptsOf(t.db, id)).map((a) => a.outcome).join(' → '), invites: invitesTo(trunk, number(run)), counted: (await cb(id)).attempts });
    }
    console.log('crash runs:\n' + report.map((r) => `  #${r.run} killed at ${r.killedAt ?? '(moved on)'}: ${r.outcomes}; customer INVITEs ${r.invites}, attempts counted ${r.counted}`).join('\n'));
    for (const r of report) expect(r.invites, `run ${r.run}`).toBe(r.counted); // never two INVITEs for one attempt
    expect(t.db.$client.prepare("SELECT count(*) n FROM callbacks WHERE state NOT IN ('COMPLETED')").get()).toEqual({ n: 0 });
    expect(t.db.$client.prepare('SELECT count(*) n FROM call_attempts WHERE outcome IS NULL').get()).toEqual({ n: 0 });
    expect(report.filter((r) => /INTERRUPTED/.test(r.outcomes)).length).toBeGreaterThan(0); // the log tells the story
    expect(new Set(report.map((r) => r.killedAt)).size).toBeGreaterThanOrEqual(4);
  }, 600_000);

  it('customer-first campaign: the customer is dialed and answers before the agent is rung', async () => {
    const trunk = carrier('answer', t.dir);
    const agent = await agentPhone(1001, t.dir);
    peers.push(trunk, agent);
    await t.daemon.ready();
    const id = add(['--lead', 'cfirst', '--due', '+1s', '--owner', '1001']);
    await untilState(id, ['COMPLETED']);
    const [a] = await attemptsOf(t.db, id);
    expect(a!.dialOrder).toBe('CUSTOMER_FIRST');
    expect(a!.customerAnsweredAt).not.toBeNull();
    expect(a!.agentRingingAt).toBeGreaterThanOrEqual(a!.customerAnsweredAt!);
    expect(a!.agentAnsweredAt).toBeGreaterThanOrEqual(a!.agentRingingAt!);
    expect(trunk.invites()).toHaveLength(1);
    expect(agent.invites()).toHaveLength(1);
  });

  it('agent does not answer: back to LIVE, no customer attempt counted, customer never dialed', async () => {
    const trunk = carrier('answer', t.dir);
    const agent = await agentPhone(1001, t.dir, { answers: false });
    peers.push(trunk, agent);
    await t.daemon.ready();
    const id = add(['--lead', 'agentna', '--due', '+1s', '--owner', '1001']);
    await waitFor('the agent attempt to end', async () => (await attemptsOf(t.db, id))[0]?.outcome, 20000);
    const [a] = await attemptsOf(t.db, id);
    expect(a!.outcome).toBe('AGENT_NO_ANSWER');
    expect(a!.customerAttempt).toBeNull();
    const row = await cb(id);
    expect(row.attempts).toBe(0);
    expect(['LIVE', 'DIALING']).toContain(row.state); // agentRetryDelayMs is 2 s in the lab: it may already ring again
    expect(agent.messages().some((m) => m.direction === 'received' && m.firstLine.startsWith('CANCEL'))).toBe(true);
    expect(trunk.invites()).toHaveLength(0);
  });

  it('wrong credentials at start: one clear error naming the settings, exit code 2', async () => {
    await t.daemon.ready();
    await t.daemon.kill('SIGTERM');
    const fatal = (log: string) =>
      log.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 60).map((l) => l.msg);
    const badAri = t.newDaemon({ ari: { password: 'wrong' } }).start();
    expect(await badAri.wait()).toBe(2);
    expect(badAri.log).not.toMatch(/will retry|got no answer/); // nothing misleading after the fatal line
    expect(fatal(badAri.log)).toHaveLength(1);
    expect(fatal(badAri.log)[0]).toMatch(/ARI at http:\/\/127\.0\.0\.1:8088 rejected user "callbackd" \(HTTP 401\): check ari\.username and ari\.password/);
    expect(badAri.log).not.toContain('wrong'); // the password itself is never logged
    const badAmi = t.newDaemon({ ami: { secret: 'wrong' } }).start();
    expect(await badAmi.wait()).toBe(2);
    expect(fatal(badAmi.log)).toHaveLength(1);
    expect(fatal(badAmi.log)[0]).toMatch(/AMI at 127\.0\.0\.1:5038 refused user "callbackd": Authentication failed/);
    t.daemon = badAmi; // afterEach expects this one's exit code (2)
  });

  it('SIGKILL while the customer rings, then restart: one final outcome, no second INVITE', async () => {
    const trunk = carrier('slow', t.dir); // rings 6 s, then answers
    peers.push(trunk, await agentPhone(1001, t.dir));
    await t.daemon.ready();
    const id = add(['--lead', 'slow', '--due', '+1s', '--owner', '1001']);
    await waitFor('the customer to ring', async () => (await attemptsOf(t.db, id))[0]?.customerRingingAt);
    expect((await cb(id)).state).toBe('DIALING');
    await t.daemon.kill('SIGKILL');

    t.daemon = t.newDaemon(WITH_AGI).start();
    const done = await untilState(id, ['COMPLETED'], 20000);
    expect(done.attempts).toBe(1);
    expect(trunk.invites()).toHaveLength(1);
    const rows = await attemptsOf(t.db, id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.outcome).toBe('ANSWERED');
    expect(t.daemon.log).toMatch(/recovering a call that was in progress/);
  });
});
