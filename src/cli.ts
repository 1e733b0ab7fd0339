#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import YAML from 'yaml';
import { DateTime } from 'luxon';
import { bookCallback } from './app/book.js';
import { cancelCallback, editCallback, purgeFinished, reassignAll } from './app/edit.js';
import { createToken, listTokens, revokeToken } from './app/auth.js';
import { agentView } from './app/agent-view.js';
import { viewById, viewMany, type CallbackViewT } from './app/callback-view.js';
import { listCallbacks } from './store/callback-list.js';
import { loadConfig, looseSecretsWarning } from './config.js';
import { startDaemon } from './daemon.js';
import { CallbackdError, ErrorCodes } from './errors.js';
import { importFile } from './import.js';
import { createLogger } from './log.js';
import * as store from './store/callbacks.js';
import { backupDb, openDb, type Db } from './store/db.js';
import { allPhones, getAgent } from './store/directory.js';
import { lastPresenceWrite, readPresence } from './store/presence.js';
import { phoneUnusable } from './domain/eligibility.js';
import { CALLBACK_STATES, type CallAttemptRow } from './store/schema.js';
import { callApi, remoteFromEnv, viaApiOr } from './cli-remote.js';
import { userCommands } from './cli-user.js';
import { dbCommands } from './cli/db.js';

const DB_HELP = 'SQLite database file (default: database.path from --config, $CALLBACKD_DB, or ./callbackd.db)';

/** The database path without requiring the daemon's secrets: admin commands need only this. */
function dbPath(o: { db?: string; config?: string }): string {
  if (o.db) return o.db;
  if (process.env.CALLBACKD_DB) return process.env.CALLBACKD_DB;
  if (o.config) {
    let raw: { database?: { path?: unknown } } | null;
    try {
      raw = YAML.parse(readFileSync(o.config, 'utf8')) as typeof raw;
    } catch (err) {
      throw new CallbackdError(ErrorCodes.CONFIG_INVALID, `cannot read config file ${o.config}: ${(err as Error).message}`);
    }
    if (typeof raw?.database?.path === 'string') return raw.database.path;
  }
  return './callbackd.db';
}

function withDb<T>(o: { db?: string; config?: string }, f: (db: Db) => T): T {
  const db = openDb(dbPath(o));
  try {
    return f(db);
  } finally {
    db.$client.close();
  }
}

const fmt = (ms: number | null, zone: string) =>
  ms === null ? '-' : DateTime.fromMillis(ms, { zone }).toFormat("yyyy-LL-dd HH:mm:ss ZZZZ");

/** What the CLI prints about a callback: the API's view, from the database or from the API. */
type CallbackOut = CallbackViewT;

function why(c: CallbackOut): string {
  const d = c.earliestDialableWhy ?? '';
  if (c.state === 'FAILED' || c.state === 'BUSY' || c.state === 'NO_ANSWER') return c.failReason ?? c.lastOutcome ?? '';
  if (c.state === 'CANCELLED') return c.failReason ?? 'cancelled';
  if (c.state === 'COMPLETED') return 'answered and bridged';
  if (c.state === 'LIVE') return c.waitReason ?? (d || 'due; about to dial');
  return d || (c.lastOutcome ? `last: ${c.lastOutcome}` : '');
}

const at = (iso: string | null | undefined, zone: string) => (iso ? fmt(Date.parse(iso), zone) : '-');

function printCallbacks(rows: CallbackOut[]): void {
  if (rows.length === 0) return console.log('no callbacks');
  printTable([
    ['ID', 'STATE', 'TYPE', 'OWNER', 'LEAD', 'DUE (lead time)', 'EARLIEST DIALABLE', 'TRIES', 'WHY'],
    ...rows.map((r) => [String(r.id), r.state, r.type, r.owner ?? '-', r.lead, at(r.dueAt, r.dueZone), at(r.earliestDialableAt, r.dueZone), `${r.attempts}/${r.maxAttempts}`, why(r)]),
  ]);
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) console.log(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
}

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of 1 or more');
  return n;
};

export function buildCli(): Command {
  const program = new Command('callbackd')
    .description('Keeps call-center callbacks: places them through Asterisk at the due moment and records what happened.')
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('start')
    .description('run the daemon: ARI + AMI adapters, scheduler, dialer (SIGTERM stops it cleanly)')
    .requiredOption('-c, --config <file>', 'config file (YAML/JSON; see README "Configuration")')
    .action(async (o: { config: string }) => {
      const config = loadConfig(o.config);
      const log = createLogger(config.log.level);
      const loose = looseSecretsWarning(o.config);
      if (loose) log.warn({ file: o.config }, loose);
      const d = startDaemon(config, log);
      process.exitCode = await d.done;
    });

  program
    .command('backup <file>')
    .description('write a consistent copy of the database while the daemon runs (SQLite online backup)')
    .option('--db <file>', DB_HELP)
    .option('-c, --config <file>', 'read database.path from this config file')
    .action(async (file: string, o) => {
      if (existsSync(file)) throw new CallbackdError(ErrorCodes.INPUT_INVALID, `${file} exists; give a new file name`);
      const db = openDb(dbPath(o), { migrate: false });
      try {
        const t0 = Date.now();
        await backupDb(db, file);
        const copy = openDb(file, { migrate: false, readonly: true });
        const check = copy.$client.pragma('integrity_check', { simple: true });
        copy.$client.close();
        if (check !== 'ok') throw new CallbackdError(ErrorCodes.DB_MIGRATION, `the copy failed its integrity check: ${check}`);
        console.log(`backed up ${dbPath(o)} to ${file} in ${Date.now() - t0} ms (integrity_check ok)`);
      } finally {
        db.$client.close();
      }
    });

  program
    .command('migrate')
    .description('create or upgrade the database schema (the daemon also does this at start)')
    .option('--db <file>', DB_HELP)
    .option('-c, --config <file>', 'read database.path from this config file')
    .action((o) => {
      const path = dbPath(o);
      withDb(o, () => undefined);
      console.log(`database ${path} is up to date`);
    });

  program
    .command('import <file>')
    .description('load trunks, numbers, campaigns, lists, agents, phones, leads and DNC entries from one YAML/JSON file (all or nothing; re-importing is safe)')
    .option('--db <file>', DB_HELP)
    .option('-c, --config <file>', 'read database.path from this config file')
    .action((file: string, o) => {
      const counts = withDb(o, (db) => importFile(db, file, Date.now()));
      console.log(`imported ${file}: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}`);
    });

  program
    .command('agents')
    .description("each agent's phones as the running daemon sees them in AMI: registered, contact, in use, last change, and whether callbackd may ring them")
    .option('--json', 'print JSON')
    .option('--db <file>', DB_HELP)
    .option('-c, --config <file>', 'read database.path from this config file')
    .action((o) => {
      const now = Date.now();
      const { rows, last } = withDb(o, (db) => {
        const seen = new Map(readPresence(db).map((p) => [p.endpoint, p]));
        const rows = allPhones(db).map((ph) => {
          const p = seen.get(ph.endpoint);
          const no = phoneUnusable(ph, p);
          const short = { blocked: no?.reason, unregistered: 'not registered', unreachable: 'unreachable (qualify)', inUse: 'in use' };
          return {
            agent: ph.agentId, endpoint: ph.endpoint, status: ph.status, activeAccount: ph.activeAccount,
            registered: p?.registered ?? false, reachable: p?.reachable ?? false, contact: p?.contactUri ?? null,
            inUse: p?.inUse ?? false, deviceState: p?.deviceState ?? null, lastChange: p ? new Date(p.changedAt).toISOString() : null,
            ringable: no === null, why: no ? short[no.kind]! : '',
          };
        });
        return { rows, last: lastPresenceWrite(db) };
      });
      const age = last === null ? null : Math.round((now - last) / 1000);
      if (o.json) return console.log(JSON.stringify({ presenceWrittenAt: last === null ? null : new Date(last).toISOString(), phones: rows }, null, 2));
      if (age === null) console.log('no presence from the daemon yet (is callbackd running and connected to AMI?)');
      else if (age > 90) console.log(`presence is ${age} s old: is callbackd running and connected to AMI?`);
      if (rows.length === 0) return console.log('no phones (import some)');
      printTable([
        ['AGENT', 'PHONE', 'STATUS', 'REGISTERED', 'CONTACT', 'IN USE', 'LAST CHANGE', 'RINGABLE'],
        ...rows.map((r) => [
          r.agent, r.endpoint, `${r.status}${r.activeAccount ? '' : ' (inactive)'}`, r.registered ? (r.reachable ? 'yes' : 'unreachable') : 'no', r.contact ?? '-',
          r.inUse ? 'yes' : 'no', r.lastChange ?? '-', r.ringable ? 'yes' : `no: ${r.why}`,
        ]),
      ]);
    });

  userCommands(program, DB_HELP, async (o, f) => {
    const db = openDb(dbPath(o));
    try {
      return await f(db);
    } finally {
      db.$client.close();
    }
  });
  dbCommands(program);

  const tok = program.command('token').description('API bearer tokens: create (shown once), list, revoke');
  tok
    .command('create')
    .description('create a token for a user (users come from the import file); it is printed once and stored only as a hash')
    .requiredOption('--user <id>', 'the user the token acts as')
    .option('--name <text>', 'a label, e.g. the tool that uses it')
    .option('--db <file>', DB_HELP)
    .option('-c, --config <file>', 'read database.path from this config file')
    .action((o) => {
      const t = withDb(o, (db) => createToken(db, o.user, o.name ?? null, Date.now()));
      console.log(t.token);
      console.error(`token ${t.id} for user ${o.user}; keep it now: it cannot be shown again`);
    });
  tok
    .command('list')
    .description('tokens (never their values): id, user, name, created, last used, revoked')
    .option('--json', 'print JSON')
    .option('--db <file>', DB_HELP)
    .option('-c, --config <file>', 'read database.path from this config file')
    .action((o) => {
      const rows = withDb(o, (db) => listTokens(db));
      if (o.json) return console.log(JSON.stringify(rows, null, 2));
      const t = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());
      printTable([['ID', 'USER', 'NAME', 'CREATED', 'LAST USED', 'REVOKED'], ...rows.map((r) => [String(r.id), r.user, r.name ?? '-', t(r.createdAt), t(r.lastUsedAt), t(r.revokedAt)])]);
    });
  tok
    .command('revoke <id>')
    .description('revoke a token at once')
    .option('--db <file>', DB_HELP)
    .option('-c, --config <file>', 'read database.path from this config file')
    .action((id: string, o) => {
      if (!withDb(o, (db) => revokeToken(db, Number(id), Date.now()))) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no active token ${id}`);
      console.log(`token ${id} revoked`);
    });

  const cb = program.command('callback').description('add, list, show, edit, cancel, reassign and purge callbacks');
  cb.command('add')
    .description('set a callback for a lead (the campaign\'s callback rules apply; see README "Callback rules")')
    .requiredOption('--lead <id>', 'lead id (from the import file)')
    .requiredOption('--due <time>', 'when: +10m, +2h, +1d, "now", 2026-11-26T14:00 (read in --zone), or ISO with offset')
    .option('--zone <zone>', 'where a wall-clock --due is read: lead (default), campaign, agent, or an IANA zone')
    .option('--type <type>', "USERONLY (only the owner may take it) or ANYONE (default: the campaign's my_callback_default with an owner, else ANYONE)")
    .option('--owner <agent>', 'agent id who owns the callback')
    .option('--as-agent <agent>', "book as this agent: the agent's own options and limits apply, and they own it unless --owner says otherwise")
    .option('--max-attempts <n>', "customer attempts before giving up (default: the campaign's)", positiveInt)
    .option('--force-dial', 'ignore calling hours for this callback (logged when it dials)')
    .option('--notes <text>', 'free text shown with the callback')
    .option('--json', 'print the created callback as JSON')
    .option('--db <file>', DB_HELP)
    .option('-c, --config <file>', 'read database.path from this config file')
    .action(async (o) => {
      const type = o.type?.toUpperCase();
      if (type !== undefined && type !== 'USERONLY' && type !== 'ANYONE') throw new CallbackdError(ErrorCodes.INPUT_INVALID, `--type must be USERONLY or ANYONE, not "${o.type}"`);
      const { value: r } = await viaApiOr(
        remoteFromEnv(),
        (api) =>
          callApi<{ callback: CallbackOut; notices: string[]; replaced: number | null }>(api, 'POST', '/callbacks', {
            lead: o.lead, due: o.due, zone: o.zone, type, owner: o.owner, maxAttempts: o.maxAttempts, notes: o.notes, forceDial: o.forceDial,
          }),
        () =>
          withDb(o, (db) => {
            const b = bookCallback(
              db,
              {
                leadId: o.lead, due: o.due, zone: o.zone, type, ownerAgentId: o.owner ?? null, bookedByAgentId: o.asAgent ?? null,
                maxAttempts: o.maxAttempts, forceDial: o.forceDial ?? false, notes: o.notes ?? null, actor: o.asAgent ?? 'cli',
              },
              Date.now(),
            );
            return { callback: viewById(db, b.callback.id, Date.now()), notices: b.notices, replaced: b.replaced };
          }),
      );
      const out = r.callback;
      if (o.json) return console.log(JSON.stringify({ ...out, notices: r.notices, replaced: r.replaced }, null, 2));
      console.log(`callback ${out.id} set: ${out.type}${out.owner ? ` for agent ${out.owner}` : ''}, due ${at(out.dueAt, out.dueZone)} (${out.dueZone})`);
      for (const n of r.notices) console.log(`  note: ${n}`);
    });

  const mutate = (name: string, description: string) =>
    cb.command(name).description(description).option('--as <user>', 'who is doing it, for the audit log (through the API the token says who)', 'cli').option('--json', 'print JSON').option('--db <file>', DB_HELP).option('-c, --config <file>', 'read database.path from this config file');

  mutate('edit <id>', 'reschedule, convert, reassign, move or re-note one callback (same rules as booking; only while ACTIVE or LIVE)')
    .option('--version <n>', 'the version you saw (callback show); a changed callback is refused', positiveInt)
    .option('--due <time>', 'new due time, as for add')
    .option('--zone <zone>', 'where a wall-clock --due is read: lead, campaign, agent or an IANA zone')
    .option('--type <type>', 'USERONLY or ANYONE')
    .option('--owner <agent>', 'new owner agent')
    .option('--campaign <id>', 'move to another campaign')
    .option('--notes <text>', 'replace the notes')
    .action(async (id: string, o) => {
      const type = o.type?.toUpperCase();
      if (type !== undefined && type !== 'USERONLY' && type !== 'ANYONE') throw new CallbackdError(ErrorCodes.INPUT_INVALID, `--type must be USERONLY or ANYONE, not "${o.type}"`);
      const body = { version: o.version, due: o.due, zone: o.zone, type, owner: o.owner, campaign: o.campaign, notes: o.notes };
      const { value: row } = await viaApiOr(
        remoteFromEnv(),
        async (api) => {
          const version = o.version ?? (await callApi<{ callback: CallbackOut }>(api, 'GET', `/callbacks/${Number(id)}`)).callback.version;
          return callApi<CallbackOut>(api, 'PATCH', `/callbacks/${Number(id)}`, { ...body, version });
        },
        () =>
          withDb(o, (db) => {
            editCallback(db, Number(id), { version: o.version, due: o.due, zone: o.zone, type, ownerAgentId: o.owner, campaignId: o.campaign, notes: o.notes }, o.as, Date.now());
            return viewById(db, Number(id), Date.now());
          }),
      );
      if (o.json) return console.log(JSON.stringify(row, null, 2));
      console.log(`callback ${row.id} changed: ${row.state} ${row.type}${row.owner ? ` for ${row.owner}` : ''}, due ${at(row.dueAt, row.dueZone)} (version ${row.version})`);
    });

  mutate('cancel <id>', 'cancel a callback (only before it dials)')
    .option('--version <n>', 'the version you saw', positiveInt)
    .option('--reason <text>', 'why, for the record')
    .action(async (id: string, o) => {
      const { value: row } = await viaApiOr(
        remoteFromEnv(),
        (api) => callApi<CallbackOut>(api, 'POST', `/callbacks/${Number(id)}/cancel`, { version: o.version, reason: o.reason }),
        () =>
          withDb(o, (db) => {
            cancelCallback(db, Number(id), o.version, o.as, o.reason ?? null, Date.now());
            return viewById(db, Number(id), Date.now());
          }),
      );
      if (o.json) return console.log(JSON.stringify(row, null, 2));
      console.log(`callback ${row.id} cancelled`);
    });

  mutate('reassign', "move all of one agent's open USERONLY callbacks to another agent, or make them ANYONE")
    .requiredOption('--from <agent>', 'the agent whose callbacks move')
    .option('--to <agent>', 'the new owner (omit with --anyone)')
    .option('--anyone', 'convert them to ANYONE instead')
    .action((o) => {
      if (!o.to === !o.anyone) throw new CallbackdError(ErrorCodes.INPUT_INVALID, 'give exactly one of --to <agent> or --anyone');
      const now = Date.now();
      const r = withDb(o, (db) => reassignAll(db, o.from, o.anyone ? 'ANYONE' : { owner: o.to }, null, o.as, now));
      if (o.json) return console.log(JSON.stringify(r, null, 2));
      console.log(`${r.changed.length} callback(s) ${o.anyone ? 'converted to ANYONE' : `reassigned to ${o.to}`}`);
      for (const f of r.refused) console.log(`  ${f.id} not changed: ${f.message}`);
    });

  mutate('purge', 'archive finished callbacks (and their call log) not touched for N days')
    .requiredOption('--older-than <days>', 'days', positiveInt)
    .action((o) => {
      const n = withDb(o, (db) => purgeFinished(db, o.olderThan, null, o.as, Date.now()));
      if (o.json) return console.log(JSON.stringify({ archived: n }));
      console.log(`${n} callback(s) archived`);
    });

  cb.command('list')
    .description('list callbacks: due time (the promise), earliest dialable time, attempts, and why they differ or wait')
    .option('--state <state>', `only this state: ${CALLBACK_STATES.join(', ')}`)
    .option('--agent <id>', "what this agent sees: their USERONLY callbacks (hours block and display days applied) and their LIVE/ACTIVE counts")
    .option('--json', 'print JSON')
    .option('--db <file>', DB_HELP)
    .option('-c, --config <file>', 'read database.path from this config file')
    .action(async (o) => {
      const state = o.state?.toUpperCase();
      if (state && !(CALLBACK_STATES as readonly string[]).includes(state)) {
        throw new CallbackdError(ErrorCodes.INPUT_INVALID, `--state must be one of ${CALLBACK_STATES.join(', ')}`);
      }
      const now = Date.now();
      type Listed = { rows: CallbackOut[]; view: { agent: string; live: number; active: number; counted: number } | null };
      const { value } = await viaApiOr<Listed>(
        remoteFromEnv(),
        async (api) => {
          const q = new URLSearchParams({ limit: '500', ...(state ? { state } : {}), ...(o.agent ? { agent: o.agent } : {}) });
          return { rows: (await callApi<{ items: CallbackOut[] }>(api, 'GET', `/callbacks?${q}`)).items, view: null };
        },
        () =>
          withDb(o, (db) => {
            if (o.agent && !getAgent(db, o.agent)) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no agent "${o.agent}"`);
            const v = o.agent ? agentView(db, o.agent, now) : null;
            const rows = v ? v.callbacks.filter((r) => !state || r.state === state) : listCallbacks(db, { scope: { kind: 'all' }, state: state ? [state] : undefined, limit: 500 }).items;
            return {
              rows: viewMany(db, rows, now),
              view: v ? { agent: v.agentId, live: v.live, active: v.active, counted: v.counted } : null,
            };
          }),
      );
      if (o.json) return console.log(JSON.stringify(value.view ? { ...value.view, callbacks: value.rows } : value.rows, null, 2));
      if (value.view) console.log(`agent ${value.view.agent}: ${value.view.live} LIVE, ${value.view.active} ACTIVE (counter shows ${value.view.counted})`);
      printCallbacks(value.rows);
    });

  cb.command('show <id>')
    .description('one callback with its call log (every attempt) and its audit trail')
    .option('--json', 'print JSON')
    .option('--db <file>', DB_HELP)
    .option('-c, --config <file>', 'read database.path from this config file')
    .action(async (id: string, o) => {
      const n = Number(id);
      type Shown = { callback: CallbackOut; callAttempts: CallAttemptRow[]; audit: { at: number; actor: string; action: string; reason: string | null }[] };
      const { value } = await viaApiOr<Shown>(
        remoteFromEnv(),
        (api) => callApi<Shown>(api, 'GET', `/callbacks/${n}`),
        () =>
          withDb(o, (db) => {
            return { callback: viewById(db, n, Date.now()), callAttempts: store.attemptsOf(db, n), audit: store.auditOf(db, n) };
          }),
      );
      const { callback: row, callAttempts: attempts, audit } = value;
      if (o.json) return console.log(JSON.stringify({ ...row, callAttempts: attempts, audit }, null, 2));
      const earliest = row.earliestDialableAt && row.earliestDialableAt !== row.dueAt ? `; earliest dialable ${at(row.earliestDialableAt, row.dueZone)}` : '';
      console.log(`callback ${row.id}: ${row.state} ${row.type} lead ${row.lead} due ${at(row.dueAt, row.dueZone)}${earliest}; tries ${row.attempts}/${row.maxAttempts}; ${why(row)}`);
      for (const a of audit) console.log(`  ${new Date(a.at).toISOString()} ${a.actor} ${a.action}${a.reason ? `: ${a.reason}` : ''}`);
      for (const a of attempts) {
        const t = (ms: number | null) => (ms === null ? '-' : `+${((ms - a.startedAt) / 1000).toFixed(2)}s`);
        console.log(
          `  #${a.seq} ${a.outcome ?? 'IN PROGRESS'}  agent ${a.agentId}@${a.phoneEndpoint}  ${a.callerId} -> ${a.customerNumber} via ${a.trunkId}` +
            `  agent rang ${t(a.agentRingingAt)} answered ${t(a.agentAnsweredAt)}; customer rang ${t(a.customerRingingAt)} answered ${t(a.customerAnsweredAt)} ended ${t(a.endedAt)}` +
            (a.cause !== null || a.sipCode !== null ? `  cause ${a.cause ?? '-'} sip ${a.sipCode ?? '-'}` : '') +
            (a.durationMs !== null ? `  talk ${(a.durationMs / 1000).toFixed(1)}s` : ''),
        );
      }
    });
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    if (err instanceof CallbackdError) {
      console.error(`callbackd: ${err.message}`);
      // 2: the input was wrong or refused by a rule (the message says which); 1: anything else.
      const input = err.code === ErrorCodes.NOT_FOUND || err.code === ErrorCodes.CONFLICT || err.code.endsWith('_INVALID') || err.code.startsWith('RULE_');
      process.exitCode = input ? 2 : 1;
      return;
    }
    console.error(`callbackd: unexpected error: ${(err as Error).stack ?? err}`);
    process.exitCode = 1;
  }
}

await main(process.argv);
