import type { Command } from 'commander';
import { phoneUnusable } from '../domain/eligibility.js';
import { allPhones } from '../store/directory.js';
import { lastPresenceWrite, readPresence } from '../store/presence.js';
import { dbOptions, examples, printJson, printTable, withDb, type DbOptions } from './shared.js';

// Phones as the running daemon sees them in AMI (it writes what it sees to the database).

export function agentCommands(program: Command): void {
  examples(
    dbOptions(
      program
        .command('agents')
        .description("each agent's phones as the running daemons see them in AMI: server, registered, contact, in use, last change, and whether callbackd may ring them")
        .option('--json', 'print JSON'),
    ),
    ['callbackd agents -c /etc/callbackd/callbackd.yaml', 'callbackd agents --db callbackd.db --json'],
  ).action(async (o: DbOptions & { json?: boolean }) => {
    const now = Date.now();
    const { rows, last } = await withDb(o, async (db) => {
      const seen = new Map((await readPresence(db)).map((p) => [p.endpoint, p]));
      const rows = (await allPhones(db)).map((ph) => {
        const p = seen.get(ph.endpoint);
        const no = phoneUnusable(ph, p);
        const short = { blocked: no?.reason, unregistered: 'not registered', unreachable: 'unreachable (qualify)', inUse: 'in use' };
        return {
          agent: ph.agentId, endpoint: ph.endpoint, server: ph.serverId, status: ph.status, activeAccount: ph.activeAccount,
          registered: p?.registered ?? false, reachable: p?.reachable ?? false, contact: p?.contactUri ?? null,
          inUse: p?.inUse ?? false, deviceState: p?.deviceState ?? null, lastChange: p ? new Date(p.changedAt).toISOString() : null,
          ringable: no === null, why: no ? short[no.kind]! : '',
        };
      });
      return { rows, last: await lastPresenceWrite(db) };
    });
    const age = last === null ? null : Math.round((now - last) / 1000);
    if (o.json) return printJson({ presenceWrittenAt: last === null ? null : new Date(last).toISOString(), phones: rows });
    if (age === null) console.log('no presence from the daemon yet (is callbackd running and connected to AMI?)');
    else if (age > 90) console.log(`presence is ${age} s old: is callbackd running and connected to AMI?`);
    if (rows.length === 0) return console.log('no phones (import some)');
    printTable([
      ['AGENT', 'PHONE', 'SERVER', 'STATUS', 'REGISTERED', 'CONTACT', 'IN USE', 'LAST CHANGE', 'RINGABLE'],
      ...rows.map((r) => [
        r.agent, r.endpoint, r.server, `${r.status}${r.activeAccount ? '' : ' (inactive)'}`, r.registered ? (r.reachable ? 'yes' : 'unreachable') : 'no', r.contact ?? '-',
        r.inUse ? 'yes' : 'no', r.lastChange ?? '-', r.ringable ? 'yes' : `no: ${r.why}`,
      ]),
    ]);
  });
}
