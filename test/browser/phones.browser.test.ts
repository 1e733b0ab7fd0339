import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { bookCallback } from '../../src/app/book.js';
import { claimForDial, promoteDue } from '../../src/store/callbacks.js';
import { writePresence } from '../../src/store/presence.js';
import { describeInChromium, openConsole, shot, signIn, type Console } from './harness.js';

// The console's phone tables in Chromium (issue 16 item 5): the dashboard shows each phone's server,
// and an AI agent's calls against max_calls where a person's phone says whether it is in use; the
// admin phone list shows the server of each stored phone.

const FILE = {
  servers: [
    { id: 'east', ari_url: 'http://127.0.0.1:8088', ami_host: '127.0.0.1', ami_port: 5038 },
    { id: 'west', ari_url: 'http://127.0.0.1:8089', ami_host: '127.0.0.1', ami_port: 5039 },
  ],
  trunks: [{ id: 'carrier-east', server: 'east' }, { id: 'carrier-west', server: 'west' }],
  numbers: [{ number: '+15550100001', trunk: ['carrier-east', 'carrier-west'] }],
  campaigns: [{ id: 'C', name: 'C', time_zone: 'UTC', outbound_number: '+15550100001', calltime_check: 'off' }],
  lists: [{ id: 'L', campaign: 'C' }],
  agents: [
    { id: 'h1', name: 'Alice', campaigns: ['C'] },
    { id: 'bot', name: 'Voice bot', kind: 'ai', max_calls: 3, campaigns: ['C'] },
  ],
  phones: [
    { endpoint: 'alice-desk', agent: 'h1', server: 'east' },
    { endpoint: 'ai-bot', agent: 'bot', server: 'west' },
  ],
  leads: [{ id: 'n1', list: 'L', phone: '+12125550101' }],
  users: [{ id: 'root', role: 'admin' }],
};

await describeInChromium('the phone table in Chromium', (chromium) => {
  let c: Console;
  let page: Page;
  let close: () => Promise<void>;
  beforeEach(async () => {
    ({ c, page, close } = await openConsole(chromium, FILE, { csp: 'the dashboard runs' }));
  });
  afterEach(() => close());

  it("shows each phone's server, and a busy AI agent as 'AI, 1 of 3 calls', not in use", async () => {
    const now = Date.now();
    const at = (endpoint: string) => ({ endpoint, registered: true, reachable: true, contactUri: `sip:${endpoint}@127.0.0.1`, deviceState: 'INUSE', inUse: true, changedAt: now, writtenAt: now });
    await writePresence(c.db, [at('alice-desk')], 'east');
    await writePresence(c.db, [at('ai-bot')], 'west');
    const cb = (await bookCallback(c.db, { leadId: 'n1', due: new Date(now + 60_000).toISOString(), type: 'ANYONE', ownerAgentId: null, notes: null, actor: 'test' }, now)).callback;
    await promoteDue(c.db, now + 120_000);
    const attempt = await claimForDial(c.db, {
      callbackId: cb.id, owner: 'd-west', token: 't1', leaseMs: 60_000, now, dialOrder: 'AGENT_FIRST', agentId: 'bot', phoneEndpoint: 'ai-bot',
      callerId: '+15550100001', customerNumber: '+12125550101', trunkId: 'carrier-west', ids: (s) => ({ agentChannelId: `a-${s}`, customerChannelId: `c-${s}`, bridgeId: `b-${s}` }),
    });
    expect(attempt).not.toBeNull();
    await signIn(page, c.url, 'root');
    await page.goto(`${c.url}/console/dashboard`);
    const table = page.getByRole('table', { name: 'Phones' });
    await table.waitFor();
    const cells = async (name: string) => (await table.getByRole('row').filter({ hasText: name }).getByRole('cell').allTextContents()).map((t) => t.trim());
    expect((await table.getByRole('columnheader').allTextContents()).slice(0, 3)).toEqual(['Phone', 'Agent', 'Server']);
    const inUseColumn = (await table.getByRole('columnheader').allTextContents()).indexOf('In use');
    const alice = await cells('alice-desk');
    const bot = await cells('ai-bot');
    expect(alice.slice(0, 3)).toEqual(['alice-desk', 'h1', 'east']);
    expect(bot.slice(0, 3)).toEqual(['ai-bot', 'bot', 'west']);
    expect(alice[inUseColumn]).toBe('yes');
    expect(bot[inUseColumn]).toBe('AI, 1 of 3 calls');
    expect(alice.at(-1)).toBe('phone alice-desk is in use');
    expect(bot.at(-1)).toBe('ready');
    await shot(page, 'dashboard-phones');
    // The directory's phone list (admin) names the server too: the stored row's serverId.
    await page.goto(`${c.url}/console/admin/phones`);
    const admin = page.getByRole('table', { name: 'phones' });
    await admin.getByRole('row').filter({ hasText: 'ai-bot' }).waitFor();
    const headers = (await admin.getByRole('columnheader').allTextContents()).map((t) => t.trim());
    const serverColumn = headers.indexOf('serverId');
    expect(serverColumn, headers.join(' | ')).toBeGreaterThanOrEqual(0);
    const botRow = (await admin.getByRole('row').filter({ hasText: 'ai-bot' }).getByRole('cell').allTextContents()).map((t) => t.trim());
    expect(botRow[serverColumn]).toBe('west');
  });
});
