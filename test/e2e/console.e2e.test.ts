// The console against the real lab: a manager reschedules a callback a few seconds ahead in the
// edit dialog; callbackd rings the agent's SIPp phone, the call completes, and the agent's screen
// (another browser, signed in as the agent) pops the callback while the call is up.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptsOf, getCallback } from '../../src/store/callbacks.js';
import { openDb } from '../../src/store/db.js';
import { inCi, launch, PASSWORD, signIn, type Browser } from '../browser/harness.js';
import { agentPhone, carrier, cli, CLI, DaemonProc, REPO, stopAsterisk, tempDir, tryLab, waitFor, type Sipp } from '../lab/lab.js';

const lab = tryLab();
if (!lab.ok && !inCi) console.warn(`\n*** console e2e SKIPPED: ${lab.reason}\n*** (with CI=true this is a failure)\n`);

describe.skipIf(!lab.ok && !inCi)('the console on the real lab', () => {
  const peers: Sipp[] = [];
  const browsers: Browser[] = [];
  let daemon: DaemonProc | null = null;
  beforeAll(() => {
    if (!lab.ok) throw new Error(`the lab could not start: ${lab.reason}`);
  });
  afterAll(async () => {
    for (const b of browsers) await b.close();
    await daemon?.kill('SIGTERM');
    peers.forEach((p) => p.stop());
    if (lab.ok) stopAsterisk();
  });

  it('a manager reschedules in the console; the agent phone rings, the call completes, the agent screen pops it', async () => {
    const dir = tempDir('console-e2e');
    const dbPath = join(dir, 'callbackd.db');
    expect(cli(['import', join(REPO, 'test/e2e/callcenter.yaml'), '--db', dbPath]).code).toBe(0);
    writeFileSync(join(dir, 'people.yaml'), 'users:\n  - { id: mgr, role: manager, campaigns: [ANSWER], lead_modify: true }\n  - { id: "1001", role: agent }\n');
    expect(cli(['import', join(dir, 'people.yaml'), '--db', dbPath]).code).toBe(0);
    for (const u of ['mgr', '1001']) {
      const r = spawnSync(process.execPath, [CLI, 'user', 'passwd', u, '--db', dbPath], { input: `${PASSWORD}\n`, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
    const trunk = carrier('answer', dir);
    const phone = await agentPhone(1001, dir);
    peers.push(trunk, phone);
    daemon = new DaemonProc({ db: dbPath, dir }).start();
    await daemon.ready();
    const port = await waitFor('the API to listen', () => Number(/"port":(\d+),"msg":"HTTP API listening"/.exec(daemon!.log)?.[1] ?? 0) || false);
    const url = `http://127.0.0.1:${port}`;
    const add = cli(['callback', 'add', '--db', dbPath, '--json', '--lead', 'answer', '--due', '+2h', '--owner', '1001', '--notes', 'console e2e']);
    expect(add.code, add.stderr).toBe(0);
    const id = JSON.parse(add.stdout).id as number;
    const db = openDb(dbPath, { readonly: true });

    const [agentB, mgrB] = [await launch(), await launch()];
    browsers.push(agentB, mgrB);
    const agent = await agentB.context.newPage();
    await signIn(agent, url, '1001');
    await agent.getByRole('heading', { name: 'My callbacks' }).waitFor();
    await agent.getByText('Updates: event stream.').waitFor();

    const mgr = await mgrB.context.newPage();
    await signIn(mgr, url, 'mgr');
    await mgr.goto(`${url}/console/callbacks/${id}`);
    await mgr.getByRole('button', { name: 'Edit…' }).click();
    const dialog = mgr.getByRole('dialog', { name: `Edit callback #${id}` });
    await dialog.getByLabel('Override existing details').check();
    // "Lead" is the default zone: the lead's own (America/Chicago for this lead).
    expect(await dialog.getByRole('radio', { name: /Lead America\/Chicago/ }).isChecked()).toBe(true);
    const due = DateTime.now().setZone('America/Chicago').plus({ seconds: 8 }).startOf('second');
    await dialog.getByLabel('Date').fill(due.toFormat('yyyy-LL-dd'));
    await dialog.getByLabel('Time').fill(due.toFormat('HH:mm:ss'));
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await getCallback(db, id))!.dueAt).toBe(due.toMillis());

    // The pop appears while the attempt is open (ringing or talking), before the call has ended.
    const pop = agent.getByRole('dialog', { name: `Incoming callback ${id}` });
    await pop.waitFor({ timeout: 20_000 });
    const openWhenPopped = (await attemptsOf(db, id)).some((a) => a.endedAt === null);
    expect(await pop.textContent()).toContain('console e2e');
    expect(openWhenPopped).toBe(true);
    expect(phone.invites()).toHaveLength(1);

    await waitFor('the callback to complete', async () => (await getCallback(db, id))!.state === 'COMPLETED', 30_000);
    const [a] = await waitFor('the end to be recorded', async () => (await attemptsOf(db, id)).filter((x) => x.endedAt !== null).length === 1 && await attemptsOf(db, id), 10_000);
    expect(a!.outcome).toBe('ANSWERED');
    expect(a!.startedAt).toBeGreaterThanOrEqual(due.toMillis());
    await pop.waitFor({ state: 'detached', timeout: 10_000 }); // the pop goes once the call is over
    // The manager sees the call log in words.
    await mgr.reload();
    const log = mgr.getByRole('table', { name: 'Call log' });
    await log.getByRole('cell', { name: 'ANSWERED', exact: true }).waitFor();
    // (the last three columns are "—": this campaign does not record, and asks neither the agent
    // to accept nor the customer to choose)
    expect(await log.locator('tbody tr').first().textContent()).toMatch(/agent1001.*\+15551230001.*carrier.*ANSWERED.*\d+(\.\d)? s———$/);
    db.$client.close();
  });
});
