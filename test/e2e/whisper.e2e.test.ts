// Whisper, accept and the customer's choice (issue 17 items 2 and 3), on the real lab: the agents'
// and the customer's SIPp press keys as SIP INFO (dtmf_mode=info on those test endpoints only,
// test/lab/asterisk/pjsip_local.conf); callbackd hears them as ARI ChannelDtmfReceived.
import { expect, it } from 'vitest';
import { join } from 'node:path';
import { auditOf } from '../../src/store/audit.js';
import { attemptsOf } from '../../src/store/callbacks.js';
import { describeOnLab } from '../lab/e2e-fixture.js';
import { carrier, REPO, Sipp, waitFor } from '../lab/lab.js';

const SIPP = join(REPO, 'test/lab/sipp');

/** Agent <id>'s softphone: registers, answers every call and presses `digit` 1.5 s after answering. */
async function pressingAgent(id: 1021 | 1022, digit: string, dir: string): Promise<Sipp> {
  const s = new Sipp(
    `agent${id}`,
    [
      '127.0.0.1:5060', '-sf', join(SIPP, 'agent-register.xml'), '-oocsf', join(SIPP, 'agent-press.xml'), '-key', 'digit', digit,
      '-i', '127.0.0.1', '-p', String(5090 + (id - 1000)), '-mp', String(18000 + (id - 1000) * 10),
      '-m', '1', '-s', `agent${id}`, '-au', `agent${id}`, '-ap', `lab-agent${id}`,
    ],
    dir,
  ).start();
  await waitFor(`agent${id} to register`, () => s.messages().some((m) => m.direction === 'received' && m.firstLine.startsWith('SIP/2.0 200')), 10000);
  return s;
}

/** The customer on trunk carrier-press: answers after 0.5 s and presses `digit` 1.5 s later. */
function choosingCustomer(digit: string, dir: string): Sipp {
  return new Sipp('carrier-press', ['-sf', join(SIPP, 'carrier-press.xml'), '-key', 'digit', digit, '-d', '500', '-i', '127.0.0.1', '-p', '5087', '-mp', '17070'], dir).start();
}

/** Keys a SIPp sent as SIP INFO. */
const keysSent = (s: Sipp) => s.messages().filter((m) => m.direction === 'sent' && m.firstLine.startsWith('INFO ')).map((m) => /Signal=(\S+)/.exec(m.text)?.[1]);

// Imported after test/e2e/callcenter.yaml (its trunks carrier and carrier-slow, number +15550100001).
const WHISPER_CENTER = [
  'trunks:',
  '  - { id: carrier-press }',
  'numbers:',
  '  - { number: "+15550100021", trunk: carrier-press }',
  '  - { number: "+15550100026", trunk: carrier-slow }',
  'campaigns:',
  // Whisper the name, press 1 to accept; the customer (trunk carrier) answers and talks 3 s.
  '  - { id: WHISPER, name: Whisper, time_zone: America/New_York, outbound_number: "+15550100001", whisper: name, agent_accept: on, accept_timeout_seconds: 5 }',
  // The customer chooses; snooze is 1 minute.
  '  - { id: CHOICE, name: Choice, time_zone: America/New_York, outbound_number: "+15550100021", customer_choice: on, snooze_minutes: 1 }',
  // Customer-first with the choice; the customer (trunk carrier-slow, patient) presses nothing.
  '  - { id: CFCHOICE, name: Customer first choice, time_zone: America/New_York, outbound_number: "+15550100026", dial_order: customer_first, customer_choice: on }',
  'lists:',
  '  - { id: L-WHISPER, campaign: WHISPER }',
  '  - { id: L-CHOICE, campaign: CHOICE }',
  '  - { id: L-CFCHOICE, campaign: CFCHOICE }',
  'agents:',
  '  - { id: "1021", name: Rita Rejects, campaigns: [WHISPER, CHOICE] }',
  '  - { id: "1022", name: Alex Accepts, campaigns: [WHISPER, CHOICE, CFCHOICE] }',
  'phones:',
  '  - { endpoint: agent1021, agent: "1021", status: ACTIVE }',
  '  - { endpoint: agent1022, agent: "1022", status: ACTIVE }',
  'leads:',
  '  - { id: wes, list: L-WHISPER, first_name: Wes, last_name: Per, phone: "+15551230021" }',
  '  - { id: cho, list: L-CHOICE, first_name: Cho, phone: "+15551230022" }',
  '  - { id: sil, list: L-CFCHOICE, first_name: Silent, phone: "+15551230026" }',
].join('\n');

describeOnLab('whisper and accept for agents, a choice for customers', { name: 'whisper suite', prefix: 'whisper', extraImport: WHISPER_CENTER }, (t) => {
  const { peers } = t;
  const add = (args: string[]) => t.add(args);
  const start = () => t.startDaemon();

  it('ANYONE: the first agent hears the whisper and presses 2 — no INVITE on the trunk, not a customer attempt; the next agent presses 1 and the customer is dialed', async () => {
    const trunk = carrier('answer', t.dir);
    const rita = await pressingAgent(1021, '2', t.dir); // registered first: longest idle, rung first
    const alex = await pressingAgent(1022, '1', t.dir);
    peers.push(trunk, rita, alex);
    await start();
    const id = add(['--lead', 'wes', '--due', 'now', '--type', 'ANYONE']);

    const first = await waitFor('the first agent to decline', async () => ((await attemptsOf(t.db, id))[0]?.outcome ? (await attemptsOf(t.db, id))[0] : null), 20000);
    expect(trunk.invites()).toHaveLength(0); // the customer was not called for Rita's attempt
    expect(first).toMatchObject({ agentId: '1021', outcome: 'AGENT_REJECTED', agentResponse: 'REJECTED', customerDialedAt: null, customerAttempt: null, customerChoice: null });
    expect(first.detail).toBe('agent 1021 declined: the agent pressed 2 (reject); offered to the next eligible agent');
    expect((await t.cb(id)).attempts).toBe(0);
    expect(keysSent(rita)).toEqual(['2']);

    const done = await t.untilState(id, ['COMPLETED'], 30000);
    const attempts = await attemptsOf(t.db, id);
    expect(attempts).toHaveLength(2); // Rita was not rung again
    expect(attempts[1]).toMatchObject({ agentId: '1022', outcome: 'ANSWERED', agentResponse: 'ACCEPTED', customerAttempt: 1 });
    expect(attempts[1]!.customerDialedAt).toBeGreaterThan(attempts[1]!.agentAnsweredAt!); // dialed after the accept
    expect(done.attempts).toBe(1); // only Alex's call counts against the customer
    expect(trunk.invites()).toHaveLength(1);
    expect(keysSent(alex)).toEqual(['1']);
    // The decline is in the audit, by the agent, with the reason.
    expect((await auditOf(t.db, id)).filter((a) => a.action === 'agent-decline')).toMatchObject([{ actor: '1021', reason: 'the agent pressed 2 (reject)' }]);
    expect(t.daemon.log).toMatch(/"stage":"accept","heard":"2","decision":"reject"/);
  }, 60_000);

  it('the customer presses 2: both legs hang up, the callback comes back 1 minute later (ACTIVE, due +1 min), the choice is in the call log', async () => {
    const customer = choosingCustomer('2', t.dir);
    const alex = await pressingAgent(1022, '1', t.dir); // no accept on CHOICE: its key means nothing
    peers.push(customer, alex);
    await start();
    const id = add(['--lead', 'cho', '--due', 'now', '--owner', '1022']);
    await waitFor('the customer to choose', async () => (await attemptsOf(t.db, id))[0]?.outcome, 30000);
    const cb = await t.cb(id);
    expect(cb.state).toBe('ACTIVE');
    const [a] = await attemptsOf(t.db, id);
    expect(a).toMatchObject({ outcome: 'CUSTOMER_SNOOZED', customerChoice: 'SNOOZE', agentResponse: null, customerAttempt: 1 });
    expect(a!.customerAnsweredAt).not.toBeNull();
    expect(cb.dueAt - a!.endedAt!).toBe(60_000);
    expect(cb.attempts).toBe(0); // a fresh promise
    expect(keysSent(customer)).toEqual(['2']);
    // Both legs are hung up by callbackd: the customer and the agent each got a BYE.
    await waitFor('both BYEs', () => [customer, alex].every((s) => s.messages().some((m) => m.direction === 'received' && m.firstLine.startsWith('BYE '))), 10000);
    expect((await auditOf(t.db, id)).map((r) => r.action)).toEqual(expect.arrayContaining(['customer-choice', 'snooze']));
  }, 60_000);

  it('the customer presses 3: the callback is CANCELLED as the customer chose', async () => {
    const customer = choosingCustomer('3', t.dir);
    const alex = await pressingAgent(1022, '1', t.dir);
    peers.push(customer, alex);
    await start();
    const id = add(['--lead', 'cho', '--due', 'now', '--owner', '1022']);
    await waitFor('the customer to choose', async () => (await attemptsOf(t.db, id))[0]?.outcome, 30000);
    const cb = await t.cb(id);
    expect(cb.state).toBe('CANCELLED');
    expect(cb.failReason).toBe('cancelled by the customer (pressed 3 at the choice prompt)');
    expect((await attemptsOf(t.db, id))[0]).toMatchObject({ outcome: 'CUSTOMER_CANCELLED', customerChoice: 'CANCEL' });
  }, 60_000);

  it('customer-first, the customer presses nothing: never left in silence — after the timeout the agent is rung and the call bridged (choice NONE)', async () => {
    const customer = new Sipp('carrier-patient', ['-sf', join(SIPP, 'carrier-patient.xml'), '-d', '500', '-i', '127.0.0.1', '-p', '5086', '-mp', '17060'], t.dir).start();
    const alex = await pressingAgent(1022, '1', t.dir);
    peers.push(customer, alex);
    await start();
    const id = add(['--lead', 'sil', '--due', 'now', '--owner', '1022']);
    await t.untilState(id, ['COMPLETED'], 40000);
    const [a] = await attemptsOf(t.db, id);
    expect(a).toMatchObject({ outcome: 'ANSWERED', customerChoice: 'NONE', agentResponse: null, customerAttempt: 1 });
    // The agent was rung only once the choice prompt had played and its 8 s had passed.
    expect(a!.agentAnsweredAt! - a!.customerAnsweredAt!).toBeGreaterThan(8000);
    expect(t.daemon.log).toMatch(/"stage":"choice","heard":"timeout","decision":"talk"/);
  }, 60_000);
});
