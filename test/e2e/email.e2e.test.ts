// Email when a callback goes LIVE, on the real lab: Asterisk 22 + SIPp, callbackd as a child
// process, Postfix's smtp-sink as the SMTP server. Skipped (loudly) only outside CI when the lab or
// smtp-sink cannot start.
import { DateTime } from 'luxon';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { getCallback } from '../../src/store/callbacks.js';
import { listEmails } from '../../src/store/emails.js';
import { describeOnLab } from '../lab/e2e-fixture.js';
import { carrier, sleep, waitFor } from '../lab/lab.js';
import { parseMessage, smtpSinkMissing, startSmtpSink, type SmtpSink } from '../lab/smtp-sink.js';

// On top of the lab's call center: a campaign with email_when_live, and Lou (whose phone is not
// registered in these tests) with an address and a zone far from the campaign's.
const EXTRA = `
campaigns:
  - { id: MAILED, name: Mailed, time_zone: America/New_York, outbound_number: "+15550100001", email_when_live: true }
lists:
  - { id: L-MAILED, campaign: MAILED }
agents:
  - { id: "1004", name: Late Lou, campaigns: [ANSWER, MAILED], time_zone: Asia/Tokyo, email: lou@lab.test }
leads:
  - { id: mailed, list: L-MAILED, first_name: Mae, last_name: Ling, phone: "+15551230099" }
`;

describeOnLab('callback email on the real lab', { name: 'email e2e', prefix: 'e2e-email', needs: smtpSinkMissing, extraImport: EXTRA }, (t) => {
  const { peers } = t;
  let sink: SmtpSink;
  const add = (args: string[]) => t.add(args);

  beforeEach(async () => {
    sink = await startSmtpSink();
    t.daemon = t.newDaemon({ smtp: { enabled: true, port: sink.port, from: 'callbackd <callbackd@lab.test>', consoleUrl: 'http://console.lab.test/', retryBaseMs: 200 } }).start();
  });
  afterEach(async () => {
    await sink.stop();
  });

  it('a USERONLY callback goes LIVE while its owner is unregistered: the owner gets exactly one email, with the due time in their zone', async () => {
    peers.push(carrier('answer', t.dir));
    await t.daemon.ready();
    const id = add(['--lead', 'mailed', '--due', '+1s', '--owner', '1004', '--type', 'USERONLY']);
    await waitFor('LIVE, waiting for its unregistered owner', async () => (await getCallback(t.db, id))!.state === 'LIVE' && /agent1004 is not registered/.test((await getCallback(t.db, id))!.waitReason ?? ''), 20000);
    await waitFor('the email to be sent', async () => (await listEmails(t.db, { callbackId: id, limit: 5 }))[0]?.state === 'SENT', 15000);
    await sleep(3000); // the scheduler keeps re-checking the owner meanwhile: still one email
    expect((await getCallback(t.db, id))!.state).toBe('LIVE');
    const msgs = sink.messages();
    expect(msgs).toHaveLength(1);
    const m = parseMessage(msgs[0]!);
    expect(m.header('X-Rcpt-Args')).toBe('<lou@lab.test>');
    expect(m.header('Subject')).toBe('Callback due: Mae Ling +15551230099');
    const due = DateTime.fromMillis((await getCallback(t.db, id))!.dueAt, { zone: 'Asia/Tokyo' });
    expect(m.body).toContain(`Promised for: ${due.toFormat('cccc d LLLL yyyy, HH:mm')} (Asia/Tokyo, UTC+09:00)`);
    expect(m.body).toContain(`Open it: http://console.lab.test/callbacks/${id}`);
    expect(await listEmails(t.db, { limit: 10 })).toHaveLength(1);
  });

  it('nothing is mailed for a campaign with the option off (while one with it on is mailed)', async () => {
    peers.push(carrier('answer', t.dir));
    await t.daemon.ready();
    const off = add(['--lead', 'answer', '--due', '+1s', '--owner', '1004', '--type', 'USERONLY']);
    const on = add(['--lead', 'mailed', '--due', '+1s', '--owner', '1004', '--type', 'USERONLY']);
    const waiting = async (id: number) => (await getCallback(t.db, id))!.state === 'LIVE' && /agent1004 is not registered/.test((await getCallback(t.db, id))!.waitReason ?? '');
    await waitFor('both LIVE, waiting for their unregistered owner', async () => await waiting(off) && await waiting(on), 20000);
    await waitFor('the email of the one with the option', async () => (await listEmails(t.db, { callbackId: on, limit: 5 }))[0]?.state === 'SENT', 15000);
    await sleep(2000);
    expect(await listEmails(t.db, { callbackId: off, limit: 5 })).toHaveLength(0);
    const msgs = sink.messages();
    expect(msgs).toHaveLength(1);
    expect(parseMessage(msgs[0]!).header('X-Callbackd-Callback')).toBe(String(on));
  });
});
