import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { bookCallback } from '../../src/app/book.js';
import { FIXTURE } from './fixture.js';
import { describeInChromium, openConsole, signIn, type Console } from './harness.js';

// A callback's page in Debian's Chromium shows the lead's numbers, which one is dialed next (and
// why others are skipped), and each call attempt's number position in the call log.

await describeInChromium('several numbers per lead in the console (Chromium)', (chromium) => {
  let c: Console;
  let page: Page;
  let close: () => Promise<void>;
  beforeEach(async () => {
    const file = {
      ...FIXTURE,
      campaigns: FIXTURE.campaigns.map((k) => (k.id === 'C1' ? { ...k, alt_dial: 'on' } : k)),
      leads: [
        ...FIXTURE.leads,
        { id: 'm1', list: 'L1', first_name: 'Mia', phones: [{ number: '+12125550201', label: 'home', dnc: true }, { number: '+12125550202', label: 'work' }, { number: '+12125550203' }] },
      ],
    };
    ({ c, page, close } = await openConsole(chromium, file));
  });
  afterEach(() => close());

  it("lists the numbers, marks the DNC'd one and the one dialed next; the call log names the number", async () => {
    const id = (await bookCallback(c.db, { leadId: 'm1', due: '+2h', type: 'ANYONE', actor: 'test' }, Date.now())).callback.id;
    c.db.$client
      .prepare(
        `INSERT INTO call_attempts (callback_id, seq, dial_order, caller_id, customer_number, trunk_id, agent_channel_id, customer_channel_id, bridge_id, lease_token, started_at, ended_at, outcome, phone_position)
         VALUES (?, 1, 'AGENT_FIRST', '+15550100001', '+12125550202', 'carrier', 'a', 'c', 'b', 'tok', ?, ?, 'BUSY', 2)`,
      )
      .run(id, Date.now() - 60_000, Date.now() - 50_000);
    await signIn(page, c.url, 'mgr');
    await page.goto(`${c.url}/console/callbacks/${id}`);
    const numbers = page.getByRole('list', { name: 'Numbers' });
    await numbers.waitFor();
    expect(await numbers.locator('li').allTextContents()).toEqual([
      '+12125550201 home (America/New_York) · DNC',
      '+12125550202 work (America/New_York)',
      '+12125550203 mobile (America/New_York) · dialed next',
    ]);
    // BUSY on number 2 → number 3 first: nothing before it was passed over, so no "skipped" line.
    expect(await page.locator('dl.facts').textContent()).not.toContain('do-not-call');
    const log = page.getByRole('table', { name: 'Call log' });
    expect(await log.locator('tbody tr').first().locator('td').nth(3).textContent()).toBe('+15550100001 → +12125550202 (number 2)');
  });
});
