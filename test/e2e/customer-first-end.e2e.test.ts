// Customer-first, the carrier says busy before any agent is rung: on the real lab, the attempt
// ends BUSY and the session closes at once, so its (only) agent is rung for the next callback
// within seconds, not after the stuck timer (ring times + 30 s). See test/integration/customer-first-end.test.ts.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDb, type Db } from '../../src/store/db.js';
import { attemptsOf, getCallback } from '../../src/store/callbacks.js';
import { agentPhone, carrier, cli, DaemonProc, Sipp, startAsterisk, stopAsterisk, tempDir, tryLab, waitFor } from '../lab/lab.js';

const lab = tryLab();
const inCi = process.env.CI === 'true';
if (!lab.ok && !inCi) console.warn(`\n*** customer-first-end suite SKIPPED: ${lab.reason}\n*** (with CI=true this is a failure)\n`);

const invitesTo = (s: Sipp) => s.messages().filter((m) => m.direction === 'received' && m.firstLine.startsWith('INVITE ')).length;

describe.skipIf(!lab.ok && !inCi)('customer-first: the customer leg ends before an agent is rung', () => {
  let dir: string;
  let dbPath: string;
  let db: Db;
  let daemon: DaemonProc | undefined;
  const peers: Sipp[] = [];
  const add = (args: string[]) => {
    const r = cli(['callback', 'add', '--db', dbPath, '--json', ...args]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout).id as number;
  };

  beforeAll(() => {
    if (!lab.ok) throw new Error(`the lab could not start: ${lab.reason}`);
    startAsterisk();
  });
  afterAll(() => {
    if (lab.ok) stopAsterisk();
  });
  beforeEach(() => {
    dir = tempDir('cf-end');
    dbPath = join(dir, 'callbackd.db');
    const file = join(dir, 'cf-end.yaml');
    writeFileSync(
      file,
      [
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
      ].join('\n'),
    );
    const imp = cli(['import', file, '--db', dbPath]);
    expect(imp.code, imp.stderr).toBe(0);
    db = openDb(dbPath);
  });
  afterEach(async (ctx) => {
    await daemon?.kill('SIGTERM');
    peers.splice(0).forEach((p) => p.stop());
    db.$client.close();
    if (ctx.task.result?.state === 'fail') console.error(`--- daemon log ---\n${daemon?.log.slice(-10000)}`);
  });

  it('the carrier answers 486: BUSY at once, and the only agent is rung for the next callback within seconds', async () => {
    const trunk = carrier('busy', dir);
    const agent = await agentPhone(1021, dir);
    peers.push(trunk, agent);
    daemon = new DaemonProc({ db: dbPath, dir }).start();
    await daemon.ready();
    const id = add(['--lead', 'busy', '--due', 'now', '--type', 'ANYONE']);
    await waitFor('the BUSY attempt', () => attemptsOf(db, id)[0]?.outcome, 20000);
    const endedAt = Date.now();
    expect(attemptsOf(db, id)[0]!.outcome).toBe('BUSY');
    expect(getCallback(db, id)!.state).not.toBe('DIALING');
    expect(invitesTo(agent)).toBe(0); // customer-first: no agent was rung for it
    const next = add(['--lead', 'next', '--due', 'now', '--owner', '1021']);
    await waitFor('the agent to be rung for the next callback', () => invitesTo(agent) > 0, 10000);
    expect(Date.now() - endedAt).toBeLessThan(10000);
    expect(attemptsOf(db, next)).toHaveLength(1);
  }, 60_000);
});
