// `npm run demo`: the lab Asterisk with SIPp playing the carrier and two agent softphones, the
// sample call center imported, a callback due in 5 seconds, and what happened to it.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { openDb } from '../../src/store/db.js';
import { attemptsOf, getCallback } from '../../src/store/callbacks.js';
import { agentPhone, carrier, cli, CLI, DaemonProc, provisionLab, REPO, startAsterisk, stopAsterisk, tempDir, waitFor, type Sipp } from './lab.js';

const say = (s: string) => console.log(`\n== ${s}`);
const run = (args: string[]) => {
  const r = cli(args);
  process.stdout.write(r.stdout + r.stderr);
  if (r.code !== 0) throw new Error(`callbackd ${args.join(' ')} failed`);
  return r.stdout;
};

const peers: Sipp[] = [];
let daemon: DaemonProc | null = null;
try {
  say('provisioning the lab (Asterisk 22 in a Debian sid chroot, SIPp); cached after the first run');
  provisionLab();
  startAsterisk();
  const dir = tempDir('demo');
  const db = join(dir, 'callbackd.db');
  say(`starting SIPp: carrier on 127.0.0.1:5081, agent phones agent1001/agent1002 registering (logs in ${dir})`);
  const trunk = carrier('answer', dir);
  peers.push(trunk, await agentPhone(1001, dir), await agentPhone(1002, dir));
  say('importing examples/callcenter.yaml');
  run(['import', join(REPO, 'examples/callcenter.yaml'), '--db', db]);
  // A console user for the demo: imported like any user, its password set with `user passwd`.
  const password = randomBytes(9).toString('base64url');
  writeFileSync(join(dir, 'demo-user.yaml'), 'users:\n  - id: demo\n    role: admin\n');
  run(['import', join(dir, 'demo-user.yaml'), '--db', db]);
  const pw = spawnSync(process.execPath, [CLI, 'user', 'passwd', 'demo', '--db', db], { input: `${password}\n`, encoding: 'utf8' });
  if (pw.status !== 0) throw new Error(`callbackd user passwd failed: ${pw.stderr}`);
  say('starting callbackd');
  daemon = new DaemonProc({ db, dir, extra: { log: { level: 'info' } } }).start();
  await daemon.ready();
  say('booking a callback for Jane Customer (lead L-0001), due in 5 seconds, owned by agent 1001');
  const id = JSON.parse(run(['callback', 'add', '--db', db, '--lead', 'L-0001', '--due', '+5s', '--owner', '1001', '--notes', 'asked about pricing', '--json'])).id as number;
  run(['callback', 'list', '--db', db]);
  const store = openDb(db);
  await waitFor('the callback to be answered', async () => (await getCallback(store, id))?.state === 'COMPLETED', 30000);
  await waitFor('the call to end', async () => (await attemptsOf(store, id))[0]?.endedAt, 15000);
  say('placed, bridged and recorded:');
  run(['callback', 'show', String(id), '--db', db]);
  const inv = trunk.invites()[0]!;
  say('what the carrier received:');
  console.log(`  ${inv.firstLine}\n  From: ${inv.header('From')}\n  P-Asserted-Identity: ${inv.header('P-Asserted-Identity')}`);
  store.$client.close();
  const port = /"port":(\d+),"msg":"HTTP API listening"/.exec(daemon.log)?.[1];
  say(`the console: http://127.0.0.1:${port}/  — sign in as user "demo", password "${password}"`);
  console.log(`  (the callback is #${id}: http://127.0.0.1:${port}/console/callbacks/${id})`);
  say(`done. Database: ${db}; daemon log lines: ${daemon.log.split('\n').length}`);
  if (process.stdin.isTTY) {
    // Interactive: keep the daemon (and its console) up until Enter, so the URL above works.
    console.log('\nThe console stays up until you press Enter.');
    const rl = createInterface({ input: process.stdin });
    await new Promise<void>((resolve) => rl.once('line', () => resolve()));
    rl.close();
  }
} catch (err) {
  console.error(`demo failed: ${(err as Error).message}`);
  if (daemon) console.error(daemon.log.slice(-4000));
  process.exitCode = 1;
} finally {
  await daemon?.kill('SIGTERM');
  peers.forEach((p) => p.stop());
  stopAsterisk();
}
