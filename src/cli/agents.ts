import type { Command } from 'commander';
import { phoneViews } from '../app/phone-view.js';
import { dbOptions, examples, printJson, printTable, withDb, type DbOptions } from './shared.js';

// Phones as the running daemons see them in AMI (each writes what it sees to the database): the
// same view as GET /phones.

export function agentCommands(program: Command): void {
  examples(
    dbOptions(
      program
        .command('agents')
        .description("each agent's phones as the running daemons see them in AMI: server, registered, contact, in use (an AI agent: its calls of max_calls), last change, and whether callbackd may ring them")
        .option('--json', 'print JSON'),
    ),
    ['callbackd agents -c /etc/callbackd/callbackd.yaml', 'callbackd agents --db callbackd.db --json'],
  ).action(async (o: DbOptions & { json?: boolean }) => {
    const now = Date.now();
    const view = await withDb(o, (db) => phoneViews(db));
    if (o.json) return printJson(view);
    const rows = view.phones;
    const age = view.presenceWrittenAt === null ? null : Math.round((now - Date.parse(view.presenceWrittenAt)) / 1000);
    if (age === null) console.log('no presence from the daemon yet (is callbackd running and connected to AMI?)');
    else if (age > 90) console.log(`presence is ${age} s old: is callbackd running and connected to AMI?`);
    if (rows.length === 0) return console.log('no phones (import some)');
    printTable([
      ['AGENT', 'PHONE', 'SERVER', 'STATUS', 'REGISTERED', 'CONTACT', 'IN USE', 'LAST CHANGE', 'RINGABLE'],
      ...rows.map((r) => [
        r.agent, r.endpoint, r.server, `${r.status}${r.activeAccount ? '' : ' (inactive)'}`, r.registered ? (r.reachable ? 'yes' : 'unreachable') : 'no', r.contact ?? '-',
        r.inUseText, r.lastChange ?? '-', r.ringable ? 'yes' : `no: ${r.why}`,
      ]),
    ]);
  });
}
