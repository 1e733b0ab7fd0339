// Customer-first, the carrier says busy before any agent is rung: on the real lab, the attempt
// ends BUSY and the session closes at once, so its (only) agent is rung for the next callback
// within seconds, not after the stuck timer (ring times + 30 s). See test/integration/scheduler/customer-first-end.test.ts.
import { expect, it } from 'vitest';
import { attemptsOf, getCallback } from '../../src/store/callbacks.js';
import { agentPhone, carrier, type Sipp, waitFor } from '../lab/lab.js';
import { describeOnLab } from '../lab/e2e-fixture.js';

const invitesTo = (s: Sipp) => s.messages().filter((m) => m.direction === 'received' && m.firstLine.startsWith('INVITE ')).length;

// Beside test/e2e/callcenter.yaml: one agent on a customer-first and an agent-first campaign.
const CENTER = [
  'trunks:',
  '  - { id: carrier }',
  '  - { id: carrier-busy }',
  'numbers:',
  '  - { number: "+15550100001", trunk: carrier }',
  '  - { number: "+15550100002", trunk: carrier-busy }',
  'campaigns:',
  '  - { id: CF, name: Customer first, time_zone: America/New_York, outbound_number: "+15550100002", dial_order: customer_first }',
  '  - { id: AF, name: Agent first, time_zone: America/New_York, outbound_number: "+15550100001" }',
  'lists:',
  '  - { id: L-CF, campaign: CF }',
  '  - { id: L-AF, campaign: AF }',
  'agents:',
  '  - { id: "1021", name: Only Agent, campaigns: [CF, AF] }',
  'phones:',
  '  - { endpoint: agent1021, agent: "1021", status: ACTIVE }',
  'leads:',
  '  - { id: busy, list: L-CF, first_name: Busy, phone: "+15551230031" }',
  '  - { id: next, list: L-AF, first_name: Next, phone: "+15551230032" }',
].join('\n');

describeOnLab('customer-first: the customer leg ends before an agent is rung', { name: 'customer-first-end suite', prefix: 'cf-end', extraImport: CENTER }, (t) => {
  it('the carrier answers 486: BUSY at once, and the only agent is rung for the next callback within seconds', async () => {
    const trunk = carrier('busy', t.dir);
    const agent = await agentPhone(1021, t.dir);
    t.peers.push(trunk, agent);
    await t.startDaemon();
    const id = t.add(['--lead', 'busy', '--due', 'now', '--type', 'ANYONE']);
    await waitFor('the BUSY attempt', async () => (await attemptsOf(t.db, id))[0]?.outcome, 20000);
    const endedAt = Date.now();
    expect((await attemptsOf(t.db, id))[0]!.outcome).toBe('BUSY');
    expect((await getCallback(t.db, id))!.state).not.toBe('DIALING');
    expect(invitesTo(agent)).toBe(0); // customer-first: no agent was rung for it
    const next = t.add(['--lead', 'next', '--due', 'now', '--owner', '1021']);
    await waitFor('the agent to be rung for the next callback', () => invitesTo(agent) > 0, 10000);
    expect(Date.now() - endedAt).toBeLessThan(10000);
    expect(await attemptsOf(t.db, next)).toHaveLength(1);
  }, 60_000);
});
