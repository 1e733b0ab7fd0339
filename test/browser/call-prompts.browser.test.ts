import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { bookCallback } from '../../src/app/book.js';
import { FIXTURE } from './fixture.js';
import { describeInChromium, openConsole, signIn, type Console } from './harness.js';

// A callback's call log in Debian's Chromium shows the agent's answer to the accept prompt and the
// customer's choice, in the words the API chose (src/domain/call-prompts.ts), from the stored columns.

await describeInChromium('whisper/accept and the customer choice in the call log (Chromium)', (chromium) => {
  let c: Console;
  let page: Page;
  let close: () => Promise<void>;
  beforeEach(async () => {
    ({ c, page, close } = await openConsole(chromium, FIXTURE));
  });
  afterEach(() => close());

  it("shows each attempt's agent answer and customer choice in words, and a dash where nobody was asked", async () => {
    const id = (await bookCallback(c.db, { leadId: FIXTURE.leads[0]!.id, due: '+2h', type: 'ANYONE', actor: 'test' }, Date.now())).callback.id;
    const t = Date.now() - 600_000;
    const insert = c.db.$client.prepare(
      `INSERT INTO call_attempts (callback_id, seq, dial_order, caller_id, customer_number, trunk_id, agent_channel_id, customer_channel_id, bridge_id, lease_token, started_at, ended_at, outcome, agent_response, customer_choice)
       VALUES (?, ?, 'AGENT_FIRST', '+15550100001', '+12125550101', 'carrier', ?, ?, ?, 'tok', ?, ?, ?, ?, ?)`,
    );
    // As the dialer writes them: a declined whisper, an accepted one whose customer snoozed, a timeout, a plain call.
    insert.run(id, 1, 'a1', 'c1', 'b1', t, t + 5_000, 'AGENT_REJECTED', 'REJECTED', null);
    insert.run(id, 2, 'a2', 'c2', 'b2', t + 60_000, t + 80_000, 'CUSTOMER_SNOOZED', 'ACCEPTED', 'SNOOZE');
    insert.run(id, 3, 'a3', 'c3', 'b3', t + 120_000, t + 130_000, 'AGENT_REJECTED', 'TIMEOUT', null);
    insert.run(id, 4, 'a4', 'c4', 'b4', t + 180_000, t + 200_000, 'ANSWERED', 'ACCEPTED', 'NONE');
    await signIn(page, c.url, 'mgr');
    await page.goto(`${c.url}/console/callbacks/${id}`);
    const log = page.getByRole('table', { name: 'Call log' });
    await log.locator('tbody tr').first().waitFor();
    const headers = await log.locator('thead th').allTextContents();
    const agentCol = headers.indexOf("Agent's answer");
    const customerCol = headers.indexOf("Customer's choice");
    expect(agentCol).toBeGreaterThan(0);
    expect(customerCol).toBe(agentCol + 1);
    const rows = await log.locator('tbody tr').evaluateAll((trs, cols: [number, number]) => trs.map((tr) => [tr.children[0]!.textContent, tr.children[cols[0]]!.textContent, tr.children[cols[1]]!.textContent]), [agentCol, customerCol] as [number, number]);
    expect(rows).toEqual([
      ['1', 'declined (pressed 2)', '—'],
      ['2', 'accepted (pressed 1)', 'call me later (pressed 2)'],
      ['3', 'pressed no key in time (declined)', '—'],
      ['4', 'accepted (pressed 1)', 'no key in time (put through)'],
    ]);
  });
});
