// AI voice agents (issue 17 item 5) on the real lab: an "AI endpoint" (a SIPp registered as the
// PJSIP endpoint agent1004, its messages logged with -trace_msg) is the owner of callbacks. It must
// receive the INVITE with X-Callbackd-Callback-Id and X-Callbackd-Context-Url, the URL must give
// the callback's context (200, lead and notes) while a tampered one is refused (403), and with
// max_calls: 2 two callbacks due together both ring it at once (with max_calls: 1, one after the other).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { attemptsOf } from '../../src/store/callbacks.js';
import { describeOnLab } from '../lab/e2e-fixture.js';
import { agentPhone, carrier, waitFor, type SipMessage } from '../lab/lab.js';
import { freePort } from '../lab/smtp-sink.js';

const AI_IMPORT = [
  'agents:',
  '  - { id: bot, name: Voice Bot, kind: ai, max_calls: 2, campaigns: [ANSWER, SLOW] }',
  'phones:',
  '  - { endpoint: agent1004, agent: bot, status: ACTIVE }',
].join('\n');

/** Where in the bot's SIPp log the calls to it began: its received INVITEs that open a dialog (no To tag). */
const callStarts = (msgs: SipMessage[]) =>
  msgs.flatMap((m, i) => (m.direction === 'received' && m.firstLine.startsWith('INVITE ') && !/;tag=/.test(m.header('To') ?? '') ? [i] : []));

describeOnLab('AI voice agent: SIP headers and the signed context URL', { name: 'ai-agent suite', prefix: 'ai', extraImport: AI_IMPORT }, (t) => {
  const startWithSecret = async () => {
    const secretFile = join(t.dir, 'ai-secret');
    writeFileSync(secretFile, 'lab-ai-context-secret-0123456789abcdef\n', { mode: 0o600 });
    const port = await freePort(); // the context URL in the INVITE must name where the API listens
    await t.startDaemon({ api: { port }, ai: { contextSecretFile: secretFile, contextBaseUrl: `http://127.0.0.1:${port}` } });
    return port;
  };

  it('the AI endpoint gets the headers; the URL gives the context, a tampered one is refused', async () => {
    t.peers.push(carrier('answer', t.dir));
    const bot = await agentPhone(1004, t.dir);
    t.peers.push(bot);
    await startWithSecret();
    const id = t.add(['--lead', 'answer', '--due', 'now', '--owner', 'bot', '--notes', 'asked about the premium plan']);
    await t.untilState(id, ['COMPLETED'], 30000);

    const invite = await waitFor('the INVITE to the AI endpoint', () => bot.invites()[0]);
    expect(invite.header('X-Callbackd-Callback-Id')).toBe(String(id));
    const url = invite.header('X-Callbackd-Context-Url')!;
    expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/ai/context/${id}\\?exp=\\d+&sig=[0-9a-f]{64}$`));
    // The secret never reaches the log, and neither does the signature.
    expect(t.daemon.log).not.toContain('lab-ai-context-secret');
    expect(t.daemon.log).not.toContain(new URL(url).searchParams.get('sig')!);

    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { callback: { id: number; owner: string }; lead: { id: string; firstName: string; phone: string }; notes: string };
    expect(body.callback).toMatchObject({ id, owner: 'bot', campaign: 'ANSWER' });
    expect(body.lead).toMatchObject({ id: 'answer', firstName: 'Ann', lastName: 'Swer', phone: '+15551230001' });
    expect(body.notes).toBe('asked about the premium plan');

    const u = new URL(url);
    const sig = u.searchParams.get('sig')!;
    const flipped = new URL(url);
    flipped.searchParams.set('sig', (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1));
    const later = new URL(url);
    later.searchParams.set('exp', String(Number(u.searchParams.get('exp')) + 3600)); // a longer life, same signature
    const other = new URL(url.replace(`/ai/context/${id}?`, `/ai/context/${id + 1}?`)); // another callback, same signature
    for (const bad of [flipped, later, other]) {
      const r = await fetch(bad);
      expect(r.status, bad.toString()).toBe(403);
      expect(await r.json()).toEqual({ code: 'FORBIDDEN' });
    }
  }, 60_000);

  it('max_calls 2: two callbacks due together both ring the same AI endpoint at once', async () => {
    // The slow carrier answers after 6 s: the first call is still up when the second is placed.
    t.peers.push(carrier('slow', t.dir), carrier('answer', t.dir));
    const bot = await agentPhone(1004, t.dir);
    t.peers.push(bot);
    await startWithSecret();
    const a = t.add(['--lead', 'slow', '--due', 'now', '--owner', 'bot']);
    const b = t.add(['--lead', 'answer', '--due', 'now', '--owner', 'bot']);
    const invites = await waitFor('two INVITEs to the AI endpoint', () => bot.invites().length >= 2 && bot.invites(), 20000);
    expect(invites.map((m) => m.header('X-Callbackd-Callback-Id')).sort()).toEqual([String(a), String(b)].sort());
    // Both rang before either call ended: no BYE reached the bot before its second INVITE.
    const msgs = bot.messages();
    const initialInvites = callStarts(msgs);
    const secondInvite = initialInvites[1] ?? -1;
    const firstBye = msgs.findIndex((m) => m.direction === 'received' && m.firstLine.startsWith('BYE '));
    expect(secondInvite).toBeGreaterThan(-1);
    if (firstBye !== -1) expect(secondInvite).toBeLessThan(firstBye);
    await t.untilState(a, ['COMPLETED'], 30000);
    await t.untilState(b, ['COMPLETED'], 30000);
    expect((await attemptsOf(t.db, a)).map((x) => x.phoneEndpoint)).toEqual(['agent1004']);
    expect((await attemptsOf(t.db, b)).map((x) => x.phoneEndpoint)).toEqual(['agent1004']);
  }, 60_000);

  it('max_calls 1: the second callback rings the AI endpoint only after the first call ended', async () => {
    t.peers.push(carrier('slow', t.dir), carrier('answer', t.dir));
    t.importText('one.yaml', 'agents:\n  - { id: bot, name: Voice Bot, kind: ai, max_calls: 1, campaigns: [ANSWER, SLOW] }\n');
    const bot = await agentPhone(1004, t.dir);
    t.peers.push(bot);
    await startWithSecret();
    const a = t.add(['--lead', 'slow', '--due', 'now', '--owner', 'bot']);
    const b = t.add(['--lead', 'answer', '--due', 'now', '--owner', 'bot']);
    await t.untilState(a, ['COMPLETED'], 30000);
    await t.untilState(b, ['COMPLETED'], 30000);
    const msgs = bot.messages();
    const initialInvites = callStarts(msgs);
    const firstBye = msgs.findIndex((m) => m.direction === 'received' && m.firstLine.startsWith('BYE '));
    expect(initialInvites).toHaveLength(2);
    expect(firstBye).toBeGreaterThan(initialInvites[0]!);
    expect(initialInvites[1]).toBeGreaterThan(firstBye);
  }, 60_000);
});
