import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { bookCallback } from '../../src/app/book.js';
import { cancelCallback } from '../../src/app/edit.js';
import { claimForDial, getCallback, promoteDue } from '../../src/store/callbacks.js';
import { FIXTURE } from './fixture.js';
import { describeInChromium, openConsole, shot, signIn, type Console } from './harness.js';

// The console in Debian's Chromium: sign-in, CSRF, what an agent may see, the manager's list,
// search, edit dialog, bulk, the agent's live screen and screen pop. Screenshots go to docs/.

await describeInChromium('the console in Chromium', (chromium) => {
  let c: Console;
  let page: Page;
  let close: () => Promise<void>;
  beforeEach(async () => {
    ({ c, page, close } = await openConsole(chromium, FIXTURE, { csp: 'the console runs' }));
  });
  afterEach(() => close());

  const book = async (lead: string, owner: string | null, due = '+2h', notes: string | null = null) =>
    (await bookCallback(c.db, { leadId: lead, due, type: owner ? 'USERONLY' : 'ANYONE', ownerAgentId: owner, notes, actor: 'test' }, Date.now())).callback.id;
  const fetchIn = (url: string, init: { method?: string; body?: unknown; csrf?: boolean } = {}) =>
    page.evaluate(async ({ url, init }) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (init.csrf) headers['x-csrf-token'] = ((await (await fetch('/session')).json()) as { csrf: string }).csrf;
      const r = await fetch(url, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    }, { url, init });

  it('signs in, refuses a wrong password, signs out', async () => {
    await signIn(page, c.url, 'mgr', 'not the password');
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('wrong user or password');
    await shot(page, 'sign-in');
    await signIn(page, c.url, 'mgr');
    await page.getByRole('heading', { name: /Callbacks — All callbacks/ }).waitFor();
    expect(await page.locator('.who').textContent()).toBe('mgr (manager)');
    expect(page.url()).toBe(`${c.url}/console/callbacks`);
    const cookies = await chromium.browser.context.cookies(c.url);
    expect(cookies.find((k) => k.name === 'cbd_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect((await fetchIn('/session')).status).toBe(401);
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor(); // the session is gone for good
  });

  it('refuses a change made with the cookie but without the CSRF token', async () => {
    await signIn(page, c.url, 'mgr');
    await page.getByRole('heading', { name: /Callbacks/ }).waitFor();
    const without = await fetchIn('/callbacks', { method: 'POST', body: { lead: 'n1', due: '+1h' } });
    expect(without.status).toBe(403);
    expect(String(without.body.message)).toMatch(/CSRF/);
    expect((c.db.$client.prepare('SELECT count(*) n FROM callbacks').get() as { n: number }).n).toBe(0);
    const withToken = await fetchIn('/callbacks', { method: 'POST', body: { lead: 'n1', due: '+1h' }, csrf: true });
    expect(withToken.status).toBe(201);
  });

  it("an agent does not see another agent's USERONLY callback: not in the list, 404 on its URL", async () => {
    const mine = await book('n1', 'a1', '+1h', 'mine');
    const theirs = await book('n2', 'a2', '+1h', 'theirs');
    await signIn(page, c.url, 'a1');
    await page.getByRole('heading', { name: 'My callbacks' }).waitFor();
    expect(page.url()).toBe(`${c.url}/console/agent`);
    await page.getByText(/Open my list/).click();
    const ids = await page.locator('table[aria-label="My callbacks"] tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-id'))));
    expect(ids).toEqual([mine]);
    expect((await fetchIn('/callbacks')).body.items).toEqual([expect.objectContaining({ id: mine })]);
    expect((await fetchIn(`/callbacks/${theirs}`)).status).toBe(404);
    await page.goto(`${c.url}/console/callbacks/${theirs}`);
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(new RegExp(`No callback ${theirs}`));
  });

  it('quick search by national format finds the E.164 lead', async () => {
    const id = await book('n1', 'a1');
    await book('n2', 'a2');
    await signIn(page, c.url, 'mgr');
    await page.locator('table[aria-label="Callbacks"] tbody tr[data-id]').first().waitFor();
    await shot(page, 'callbacks-list');
    await page.getByLabel('Phone (E.164 or national)').fill('(212) 555-0101');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByText('Callbacks of +12125550101').waitFor();
    const rows = page.locator('table[aria-label="Callbacks"] tbody tr[data-id]');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-id')).toBe(String(id));
    expect(await rows.first().textContent()).toContain('(212) 555-0101');
  });

  it('the edit dialog reschedules in the Lead zone and refuses a DST-gap time with the alternatives', async () => {
    const id = await book('n1', 'a1', '+3h', 'call about renewal');
    await signIn(page, c.url, 'mgr');
    await page.goto(`${c.url}/console/callbacks/${id}`);
    await page.getByRole('button', { name: 'Edit…' }).click();
    const dialog = page.getByRole('dialog', { name: `Edit callback #${id}` });
    await dialog.getByLabel('Override existing details').check();
    expect(await dialog.getByRole('radio', { name: /Lead/ }).isChecked()).toBe(true);
    await dialog.getByLabel('Date').fill('2027-03-14');
    await dialog.getByLabel('Time').fill('02:30');
    await dialog.getByRole('button', { name: 'Save' }).click();
    const alert = dialog.getByRole('alert');
    await expect.poll(() => alert.textContent()).toBe(
      '2027-03-14T02:30 does not exist in America/New_York (clocks jump forward then); pick another time, e.g. 2027-03-14T01:30:00-05:00 or 2027-03-14T03:30:00-04:00',
    );
    await shot(page, 'edit-dialog');
    expect((await getCallback(c.db, id))!.version).toBe(1);
    await dialog.getByLabel('Date').fill('2027-01-15');
    await dialog.getByLabel('Time').fill('10:15');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByText("lead's clock 2027-01-15T10:15:00 America/New_York").waitFor();
    expect((await getCallback(c.db, id))!.dueAt).toBe(Date.parse('2027-01-15T15:15:00Z'));
    await shot(page, 'callback-detail');
  });

  it('a bulk reassign shows per-item results', async () => {
    const a = await book('n1', 'a1');
    const b = await book('n4', 'a1');
    const gone = await book('n5', 'a1');
    await cancelCallback(c.db, gone, undefined, 'test', 'test', Date.now());
    await signIn(page, c.url, 'mgr');
    await page.goto(`${c.url}/console/callbacks?agent=a1`);
    await page.locator(`tr[data-id="${gone}"]`).waitFor();
    for (const id of [a, b, gone]) await page.getByLabel(`Select callback ${id}`).check();
    await page.getByLabel('Reassign to agent').fill('a2');
    await page.getByRole('button', { name: 'Reassign' }).click();
    const results = page.getByRole('list', { name: 'Bulk results' });
    await results.waitFor();
    const lines = await results.locator('li').allTextContents();
    expect(lines).toEqual([`#${a}: reassigned to a2`, `#${b}: reassigned to a2`, expect.stringMatching(new RegExp(`^#${gone}: refused — CONFLICT: callback ${gone} is CANCELLED`))]);
    expect((await getCallback(c.db, a))!.ownerAgentId).toBe('a2');
    expect((await getCallback(c.db, gone))!.ownerAgentId).toBe('a1');
    await shot(page, 'bulk');
  });

  it('the agent screen shows a callback turning LIVE without a reload, the alert blinks (and DEFER stops it once seen)', async () => {
    const id = await book('n1', 'a1', '+1s', 'ring me');
    await signIn(page, c.url, 'a1');
    await page.getByRole('heading', { name: 'My callbacks' }).waitFor();
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    const line = page.getByTestId('alert-line');
    await expect.poll(() => line.textContent()).toMatch(/LIVE 0 · ACTIVE 1/);
    await page.getByText('Updates: event stream.').waitFor(); // GET /events, not the polling fallback
    await new Promise((r) => setTimeout(r, 1100));
    expect(await promoteDue(c.db, Date.now())).toBe(1); // what the scheduler does at the due instant
    await expect.poll(() => line.textContent(), { timeout: 10_000 }).toMatch(/LIVE 1 · ACTIVE 0/);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42); // no reload
    expect(await page.getByTestId('alert-style').textContent()).toBe("Alert style: BLINK_RED_DEFER (the campaign's)"); // C1's callback_alert
    expect(await line.getAttribute('class')).toContain('blink');
    expect(await line.evaluate((el) => getComputedStyle(el).animationName)).toBe('cbd-blink');
    await page.getByText(/Open my list/).click();
    await expect.poll(() => line.getAttribute('class')).not.toContain('blink'); // BLINK_RED_DEFER: seen
    expect(await page.locator(`tr[data-id="${id}"]`).textContent()).toContain('LIVE');
    await shot(page, 'agent');
    await book('n4', 'a1', '+1h');
    await expect.poll(() => line.getAttribute('class'), { timeout: 10_000 }).toContain('blink'); // the count changed
  });

  it("the alert line takes the campaign's callback_alert: a LIVE callback of a red-only campaign is red and does not blink", async () => {
    await book('n3', 'a2', '+1s'); // n3 is on C2's list; C2 has callback_alert: red
    await new Promise((r) => setTimeout(r, 1100));
    expect(await promoteDue(c.db, Date.now())).toBe(1);
    await signIn(page, c.url, 'a2');
    await page.getByRole('heading', { name: 'My callbacks' }).waitFor();
    const line = page.getByTestId('alert-line');
    await expect.poll(() => line.textContent()).toMatch(/LIVE 1 · ACTIVE 0/);
    expect(await page.getByTestId('alert-style').textContent()).toBe("Alert style: RED (the campaign's)");
    expect((await line.getAttribute('class'))!.split(' ')).toEqual(['alert-line', 'red']);
    expect(await line.evaluate((el) => getComputedStyle(el).animationName)).toBe('none');
    expect(await page.getByRole('combobox', { name: /alert style/i }).count()).toBe(0); // no per-browser choice any more
  });

  it("pops the callback when callbackd rings the agent's phone", async () => {
    const earlier = await book('n1', 'a2', '+1s', 'first try');
    await cancelCallback(c.db, earlier, undefined, 'test', 'test', Date.now());
    const id = await book('n1', 'a1', '+1s', 'wants the gold plan');
    c.db.$client.prepare('UPDATE callbacks SET context = ? WHERE id = ?').run('AI: customer asked for a call after 5pm about the gold plan', id);
    await signIn(page, c.url, 'a1');
    await page.getByRole('heading', { name: 'My callbacks' }).waitFor();
    await new Promise((r) => setTimeout(r, 1100));
    await promoteDue(c.db, Date.now());
    const now = Date.now();
    const attempt = await claimForDial(c.db, { callbackId: id, owner: 'test', token: 't1', leaseMs: 60_000, now, dialOrder: 'AGENT_FIRST', agentId: 'a1', phoneEndpoint: 'p1', callerId: '+15550100001', customerNumber: '+12125550101', trunkId: 'carrier', ids: (s) => ({ agentChannelId: `a-${s}`, customerChannelId: `c-${s}`, bridgeId: `b-${s}` }) });
    expect(attempt).not.toBeNull();
    const pop = page.getByRole('dialog', { name: `Incoming callback ${id}` });
    await pop.waitFor({ timeout: 10_000 });
    expect(await pop.textContent()).toContain('Ringing: Ann Lee — (212) 555-0101');
    expect(await pop.textContent()).toContain('wants the gold plan');
    expect(await pop.textContent()).toContain(`#${earlier} CANCELLED`);
    await expect.poll(() => pop.locator('pre.transcript').textContent()).toContain('gold plan');
    expect(await pop.getByLabel('My callback').isChecked()).toBe(true); // the campaign's default: useronly
    // Booking after the call, in the lead's zone: the API's refusals are shown in words.
    const form = pop.getByRole('form', { name: 'Book a callback' });
    await form.getByLabel('Date').fill('2027-03-14');
    await form.getByLabel('Time').fill('02:30');
    await form.getByRole('button', { name: 'Book' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toMatch(/^2027-03-14T02:30 does not exist in America\/New_York .* e\.g\. 2027-03-14T01:30:00-05:00 or 2027-03-14T03:30:00-04:00$/);
    await form.getByLabel('Time').fill('11:00');
    await form.getByRole('button', { name: 'Book' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).not.toMatch(/does not exist/);
    const said = await form.getByRole('alert').textContent();
    expect(said).toBe(`callback ${id} for this lead is being dialed right now; set the new one after that call ends`); // one open callback per lead
    await shot(page, 'screen-pop');
  });

  it('dashboard and admin screens render for their roles', async () => {
    await book('n1', 'a1');
    await signIn(page, c.url, 'root');
    await page.goto(`${c.url}/console/dashboard`);
    await page.getByRole('table', { name: 'Phones' }).waitFor();
    expect(await page.getByRole('table', { name: 'Phones' }).textContent()).toContain('phone p1 is not registered');
    expect(await page.getByRole('table', { name: 'Trunks' }).textContent()).toContain('0 / 10');
    expect(await page.locator('canvas').count()).toBe(2);
    await shot(page, 'dashboard');
    await page.goto(`${c.url}/console/admin/phones`);
    await page.getByRole('table', { name: 'phones' }).waitFor();
    await page.getByLabel('Status of p2').selectOption('SUSPENDED');
    await page.getByText('phone p2 saved').waitFor();
    await shot(page, 'admin');
    await page.goto(`${c.url}/console/admin/campaigns`);
    await page.getByLabel('id', { exact: true }).fill('C3');
    await page.getByLabel('Advanced: edit as JSON').check();
    await page.getByLabel(/Entry/).fill('{"name": "Bad", "time_zone": "Mars/Olympus"}');
    await page.getByRole('button', { name: 'Save campaign' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/time_zone/);
  });
});
