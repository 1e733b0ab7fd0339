import { Option, type Command } from 'commander';
import { bookCallback } from '../app/book.js';
import { viewById, type CallbackViewT } from '../app/callback-view.js';
import { cancelCallback, editCallback, purgeFinished, reassignAll } from '../app/edit.js';
import type { CallbackType } from '../domain/create-rules.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import { callApi, remoteFromEnv, viaApiOr } from './remote.js';
import { at, dbOptions, examples, positiveInt, printJson, withDb, type DbOptions } from './shared.js';

// Booking and changing callbacks: through the daemon's API with a token, else the database.

function callbackType(v: string): CallbackType {
  const t = v.toUpperCase();
  if (t !== 'USERONLY' && t !== 'ANYONE') throw new CallbackdError(ErrorCodes.INPUT_INVALID, `--type must be USERONLY or ANYONE, not "${v}"`);
  return t;
}

/** --as everywhere; --as-agent is the old name on `add`, still accepted. */
const asAlias = () => new Option('--as-agent <agent>').hideHelp();

type Booked = { callback: CallbackViewT; notices: string[]; replaced: number | null };
type AddOptions = DbOptions & { lead: string; number?: string; due: string; zone?: string; type?: string; owner?: string; as?: string; asAgent?: string; maxAttempts?: number; forceDial?: boolean; notes?: string; json?: boolean };

function addCommand(cb: Command): void {
  examples(
    dbOptions(
      cb
        .command('add')
        .description('set a callback for a lead (the campaign\'s callback rules apply; see README "Callback rules")')
        .requiredOption('--lead <id>', '(required) lead id (from the import file)')
        .requiredOption('--due <time>', '(required) when: +10m, +2h, +1d, "now", 2026-11-26T14:00 (read in --zone), or ISO with offset')
        .option('--zone <zone>', 'where a wall-clock --due is read: lead (default), campaign, agent, or an IANA zone')
        .option('--number <n>', "the lead's number to call first: a position (1, 2…) or the number itself (default: its first)")
        .option('--type <type>', "USERONLY (only the owner may take it) or ANYONE (default: the campaign's my_callback_default with an owner, else ANYONE)")
        .option('--owner <agent>', 'agent id who owns the callback')
        .option('--as <agent>', "book as this agent: the agent's own options and limits apply, and they own it unless --owner says otherwise")
        .addOption(asAlias())
        .option('--max-attempts <n>', "customer attempts before giving up (default: the campaign's)", positiveInt)
        .option('--force-dial', 'ignore calling hours for this callback (logged when it dials)')
        .option('--notes <text>', 'free text shown with the callback')
        .option('--json', 'print the created callback as JSON'),
    ),
    ['callbackd callback add --lead L-0001 --due +2h --owner 1001 -c /etc/callbackd/callbackd.yaml', 'callbackd callback add --lead L-0001 --due 2026-11-26T14:00 --zone lead --type ANYONE --notes "asked about pricing"', 'callbackd callback add --lead L-0001 --due +1h --number 2'],
  ).action(async (o: AddOptions) => {
    const type = o.type === undefined ? undefined : callbackType(o.type);
    const agent = o.as ?? o.asAgent ?? null;
    const { value: r } = await viaApiOr<Booked>(
      remoteFromEnv(),
      (api) => callApi<Booked>(api, 'POST', '/callbacks', { lead: o.lead, number: o.number, due: o.due, zone: o.zone, type, owner: o.owner, maxAttempts: o.maxAttempts, notes: o.notes, forceDial: o.forceDial }),
      async () =>
        await withDb(o, async (db) => {
          const input = { leadId: o.lead, number: o.number ?? null, due: o.due, zone: o.zone, type, ownerAgentId: o.owner ?? null, bookedByAgentId: agent, maxAttempts: o.maxAttempts, forceDial: o.forceDial ?? false, notes: o.notes ?? null, actor: agent ?? 'cli' };
          const b = await bookCallback(db, input, Date.now());
          return { callback: await viewById(db, b.callback.id, Date.now()), notices: b.notices, replaced: b.replaced };
        }),
    );
    const out = r.callback;
    if (o.json) return printJson({ ...out, notices: r.notices, replaced: r.replaced });
    const calls = out.nextNumber ? `, calls ${out.nextNumber.number} (number ${out.nextNumber.position})` : '';
    console.log(`callback ${out.id} set: ${out.type}${out.owner ? ` for agent ${out.owner}` : ''}, due ${at(out.dueAt, out.dueZone)} (${out.dueZone})${calls}`);
    for (const n of r.notices) console.log(`  note: ${n}`);
  });
}

type Mutating = DbOptions & { as: string; json?: boolean };
const mutate = (cb: Command, name: string, description: string) =>
  dbOptions(cb.command(name).description(description).option('--as <user>', 'who is doing it, for the audit log (through the API the token says who)', 'cli').option('--json', 'print JSON'));

function editCommands(cb: Command): void {
  type EditOptions = Mutating & { version?: number; due?: string; zone?: string; type?: string; owner?: string; campaign?: string; notes?: string };
  examples(
    mutate(cb, 'edit', 'reschedule, convert, reassign, move or re-note one callback (same rules as booking; only while ACTIVE or LIVE)')
      .argument('<id>', 'the callback id', positiveInt)
      .option('--version <n>', 'the version you saw (callback show); a changed callback is refused', positiveInt)
      .option('--due <time>', 'new due time, as for add')
      .option('--zone <zone>', 'where a wall-clock --due is read: lead, campaign, agent or an IANA zone')
      .option('--type <type>', 'USERONLY or ANYONE')
      .option('--owner <agent>', 'new owner agent')
      .option('--campaign <id>', 'move to another campaign')
      .option('--notes <text>', 'replace the notes'),
    ['callbackd callback edit 42 --due +1d --version 3', 'callbackd callback edit 42 --owner 1002 --as mgr', 'callbackd callback edit 42 --type ANYONE --notes "any agent may take it"'],
  ).action(async (id: number, o: EditOptions) => {
    const type = o.type === undefined ? undefined : callbackType(o.type);
    const { value: row } = await viaApiOr<CallbackViewT>(
      remoteFromEnv(),
      async (api) => {
        const version = o.version ?? (await callApi<{ callback: CallbackViewT }>(api, 'GET', `/callbacks/${id}`)).callback.version;
        return callApi<CallbackViewT>(api, 'PATCH', `/callbacks/${id}`, { version, due: o.due, zone: o.zone, type, owner: o.owner, campaign: o.campaign, notes: o.notes });
      },
      async () =>
        await withDb(o, async (db) => {
          await editCallback(db, id, { version: o.version, due: o.due, zone: o.zone, type, ownerAgentId: o.owner, campaignId: o.campaign, notes: o.notes }, o.as, Date.now());
          return await viewById(db, id, Date.now());
        }),
    );
    if (o.json) return printJson(row);
    console.log(`callback ${row.id} changed: ${row.state} ${row.type}${row.owner ? ` for ${row.owner}` : ''}, due ${at(row.dueAt, row.dueZone)} (version ${row.version})`);
  });

  examples(
    mutate(cb, 'cancel', 'cancel a callback (only before it dials)').argument('<id>', 'the callback id', positiveInt).option('--version <n>', 'the version you saw', positiveInt).option('--reason <text>', 'why, for the record'),
    ['callbackd callback cancel 42 --reason "customer called in" --as mgr'],
  ).action(async (id: number, o: Mutating & { version?: number; reason?: string }) => {
    const { value: row } = await viaApiOr<CallbackViewT>(
      remoteFromEnv(),
      (api) => callApi<CallbackViewT>(api, 'POST', `/callbacks/${id}/cancel`, { version: o.version, reason: o.reason }),
      async () =>
        await withDb(o, async (db) => {
          await cancelCallback(db, id, o.version, o.as, o.reason ?? null, Date.now());
          return await viewById(db, id, Date.now());
        }),
    );
    if (o.json) return printJson(row);
    console.log(`callback ${row.id} cancelled`);
  });
}

function bulkCommands(cb: Command): void {
  examples(
    mutate(cb, 'reassign', "move all of one agent's open USERONLY callbacks to another agent, or make them ANYONE")
      .requiredOption('--from <agent>', '(required) the agent whose callbacks move')
      .option('--to <agent>', 'the new owner (or --anyone)')
      .option('--anyone', 'convert them to ANYONE instead'),
    ['callbackd callback reassign --from 1001 --to 1002', 'callbackd callback reassign --from 1001 --anyone --as mgr'],
  ).action(async (o: Mutating & { from: string; to?: string; anyone?: boolean }) => {
    if (!o.to === !o.anyone) throw new CallbackdError(ErrorCodes.INPUT_INVALID, 'give exactly one of --to <agent> or --anyone');
    const r = await withDb(o, async (db) => await reassignAll(db, o.from, o.anyone ? 'ANYONE' : { owner: o.to! }, null, o.as, Date.now()));
    if (o.json) return printJson(r);
    console.log(`${r.changed.length} callback(s) ${o.anyone ? 'converted to ANYONE' : `reassigned to ${o.to}`}`);
    for (const f of r.refused) console.log(`  ${f.id} not changed: ${f.message}`);
  });

  examples(mutate(cb, 'purge', 'archive finished callbacks (and their call log) not touched for N days').requiredOption('--older-than <days>', '(required) days', positiveInt), [
    'callbackd callback purge --older-than 90 -c /etc/callbackd/callbackd.yaml',
  ]).action(async (o: Mutating & { olderThan: number }) => {
    const n = await withDb(o, async (db) => await purgeFinished(db, o.olderThan, null, o.as, Date.now()));
    if (o.json) return console.log(JSON.stringify({ archived: n }));
    console.log(`${n} callback(s) archived`);
  });
}

export function callbackWriteCommands(cb: Command): void {
  addCommand(cb);
  editCommands(cb);
  bulkCommands(cb);
}
