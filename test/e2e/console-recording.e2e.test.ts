// The console plays a real lab call's recording: a campaign with record: agent_and_customer, one
// answered call (SIPp carrier talks 3 s); the manager's call log shows a player whose <audio>
// loads the WAV Asterisk wrote (through the API and ARI, with the session cookie) and lasts as
// long as the talk; an agent who may not see the callback gets no player and a 404 from the route.
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { launch, PASSWORD, shot, signIn, type Browser } from '../browser/harness.js';
import { describeOnLab } from '../lab/e2e-fixture.js';
import { agentPhone, carrier, CLI, waitFor } from '../lab/lab.js';

// The ANSWER campaign records; a manager of ANSWER, and agent 1005 of ANSWER who may not see
// agent 1001's USERONLY callback.
const RECORDING_CENTER = [
  'campaigns:',
  '  - { id: ANSWER, name: Answers, time_zone: America/New_York, outbound_number: "+15550100001", record: agent_and_customer }',
  'agents:',
  '  - { id: "1005", name: Eve, campaigns: [ANSWER] }',
  'phones:',
  '  - { endpoint: agent1005, agent: "1005", status: ACTIVE }',
  'users:',
  '  - { id: mgr, role: manager, campaigns: [ANSWER] }',
  '  - { id: "1005", role: agent }',
].join('\n');

describeOnLab('the console plays a recorded lab call', { name: 'console recording e2e', prefix: 'console-rec-e2e', extraImport: RECORDING_CENTER }, (t) => {
  const browsers: Browser[] = [];
  afterAll(async () => {
    for (const b of browsers) await b.close();
  });

  it('the manager plays the recording of an answered call in the call log; a hidden callback has no player and a 404', async () => {
    for (const u of ['mgr', '1005']) {
      const r = spawnSync(process.execPath, [CLI, 'user', 'passwd', u, '--db', t.dbPath], { input: `${PASSWORD}\n`, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
    const trunk = carrier('answer', t.dir); // answers after 0.5 s, hangs up after 3 s of talk
    const phone = await agentPhone(1001, t.dir);
    t.peers.push(trunk, phone);
    await t.startDaemon();
    const url = `http://127.0.0.1:${await t.apiPort()}`;
    const id = t.add(['--lead', 'answer', '--due', 'now', '--owner', '1001']);
    const a = await t.untilCallEnded(id);
    expect(a.outcome).toBe('ANSWERED');
    expect(a.recordingName).not.toBeNull();
    const talkSeconds = a.durationMs! / 1000;

    const b = await launch();
    browsers.push(b);
    const page = await b.context.newPage();
    await signIn(page, url, 'mgr');
    await page.goto(`${url}/console/callbacks/${id}`);
    const player = page.getByRole('table', { name: 'Call log' }).getByLabel('Recording of attempt 1');
    await player.waitFor();
    // Asterisk finishes the file when the bridge is gone; a player opened before that retries on reload.
    const state = () => player.evaluate((el: HTMLAudioElement) => ({ loaded: el.readyState >= 1, error: el.error?.code ?? null, duration: el.duration }));
    await waitFor('the recording to load in the player', async () => {
      const s = await state();
      if (s.error !== null) await page.reload();
      return s.loaded && s.error === null;
    }, 20_000, 500);
    const { duration } = await state();
    console.info(`console played ${duration.toFixed(2)} s of recording for ${talkSeconds.toFixed(2)} s of talk`);
    expect(Math.abs(duration - talkSeconds)).toBeLessThan(0.7);
    // It plays: a click on the player's play button, and its clock runs.
    const box = (await player.boundingBox())!;
    await page.mouse.click(box.x + 20, box.y + box.height / 2);
    await waitFor('the recording to play', async () => (await player.evaluate((el: HTMLAudioElement) => el.currentTime)) > 0.5, 10_000, 200);
    await shot(page, 'recording-lab');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, url, '1005');
    await page.goto(`${url}/console/callbacks/${id}`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    expect(await page.locator('audio').count()).toBe(0);
    expect(await page.evaluate(async (u) => (await fetch(u)).status, `/callbacks/${id}/attempts/1/recording`)).toBe(404);
  }, 120_000);
});
