#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { DateTime } from 'luxon';
import { loadConfig } from './config.js';
import { startDaemon } from './daemon.js';
import { parseDue } from './domain/due.js';
import { CallbackdError, ErrorCodes } from './errors.js';
import { importFile } from './import.js';
import { createLogger } from './log.js';
import * as store from './store/callbacks.js';
import { openDb, type Db } from './store/db.js';
import { campaignOfLead, getAgent, getCampaign, getLead } from './store/directory.js';
import { CALLBACK_STATES, type CallbackRow } from './store/schema.js';

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

function callbackJson(cb: CallbackRow) {
  return {
    id: cb.id,
    state: cb.state,
    type: cb.type,
    owner: cb.ownerAgentId,
    lead: cb.leadId,
    campaign: cb.campaignId,
    dueAt: new Date(cb.dueAt).toISOString(),
    dueLocal: DateTime.fromMillis(cb.dueAt, { zone: cb.dueZone }).toISO(),
    dueZone: cb.dueZone,
    attempts: cb.attempts,
    maxAttempts: cb.maxAttempts,
    nextAttemptAt: cb.nextAttemptAt === null ? null : new Date(cb.nextAttemptAt).toISOString(),
    lastOutcome: cb.lastOutcome,
    lastCause: cb.lastCause,
    lastSipCode: cb.lastSipCode,
    waitReason: cb.waitReason,
    failReason: cb.failReason,
    notes: cb.notes,
  };
}

function why(cb: CallbackRow): string {
  if (cb.state === 'FAILED' || cb.state === 'BUSY' || cb.state === 'NO_ANSWER') return cb.failReason ?? cb.lastOutcome ?? '';
  if (cb.state === 'LIVE') return cb.waitReason ?? 'due; about to dial';
  if (cb.state === 'COMPLETED') return 'answered and bridged';
  return cb.lastOutcome ? `last: ${cb.lastOutcome}` : '';
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
      const d = startDaemon(config, log);
      process.exitCode = await d.done;
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

  const cb = program.command('callback').description('add, list and show callbacks');
  cb.command('add')
    .description('set a callback for a lead')
    .requiredOption('--lead <id>', 'lead id (from the import file)')
    .requiredOption('--due <time>', 'when: +10m, +2h, +1d, "now", 2026-11-26T14:00 (read in --zone), or ISO with offset')
    .option('--zone <iana>', "zone for a wall-clock --due (default: the lead's zone, else the campaign's)")
    .option('--type <type>', 'USERONLY (only --owner may take it) or ANYONE (default: USERONLY with --owner, else ANYONE)')
    .option('--owner <agent>', 'agent id who owns the callback')
    .option('--max-attempts <n>', "customer attempts before giving up (default: the campaign's)", positiveInt)
    .option('--notes <text>', 'free text shown with the callback')
    .option('--json', 'print the created callback as JSON')
    .option('--db <file>', DB_HELP)
    .option('-c, --config <file>', 'read database.path from this config file')
    .action((o) => {
      const out = withDb(o, (db) => {
        const lead = getLead(db, o.lead);
        if (!lead) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no lead "${o.lead}" (import it first)`);
        const campaignId = campaignOfLead(db, lead.id)!;
        const campaign = getCampaign(db, campaignId)!;
        const type = (o.type ?? (o.owner ? 'USERONLY' : 'ANYONE')).toUpperCase();
        if (type !== 'USERONLY' && type !== 'ANYONE') throw new CallbackdError(ErrorCodes.INPUT_INVALID, `--type must be USERONLY or ANYONE, not "${o.type}"`);
        if (type === 'USERONLY' && !o.owner) throw new CallbackdError(ErrorCodes.INPUT_INVALID, 'a USERONLY callback needs --owner <agent>');
        if (o.owner && !getAgent(db, o.owner)) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no agent "${o.owner}"`);
        const zone = o.zone ?? lead.timeZone ?? campaign.timeZone;
        const due = parseDue(o.due, zone, Date.now());
        if (!due.ok) throw new CallbackdError(ErrorCodes.INPUT_INVALID, `--due: ${due.error}`);
        const id = store.insertCallback(
          db,
          {
            leadId: lead.id,
            campaignId,
            type,
            ownerAgentId: o.owner ?? null,
            dueAt: due.dueAt,
            dueZone: due.zone,
            maxAttempts: o.maxAttempts ?? campaign.maxAttempts,
            notes: o.notes ?? null,
          },
          Date.now(),
        );
        return store.getCallback(db, id)!;
      });
      if (o.json) console.log(JSON.stringify(callbackJson(out), null, 2));
      else console.log(`callback ${out.id} set: ${out.type}${out.ownerAgentId ? ` for agent ${out.ownerAgentId}` : ''}, due ${fmt(out.dueAt, out.dueZone)} (${out.dueZone})`);
    });

  cb.command('list')
    .description('list callbacks with state, due time, attempts and why a LIVE one waits')
    .option('--state <state>', `only this state: ${CALLBACK_STATES.join(', ')}`)
    .option('--json', 'print JSON')
    .option('--db <file>', DB_HELP)
    .option('-c, --config <file>', 'read database.path from this config file')
    .action((o) => {
      const state = o.state?.toUpperCase();
      if (state && !(CALLBACK_STATES as readonly string[]).includes(state)) {
        throw new CallbackdError(ErrorCodes.INPUT_INVALID, `--state must be one of ${CALLBACK_STATES.join(', ')}`);
      }
      const rows = withDb(o, (db) => store.listCallbacks(db, { state }));
      if (o.json) return console.log(JSON.stringify(rows.map(callbackJson), null, 2));
      if (rows.length === 0) return console.log('no callbacks');
      printTable([
        ['ID', 'STATE', 'TYPE', 'OWNER', 'LEAD', 'DUE (lead time)', 'TRIES', 'WHY'],
        ...rows.map((r) => [String(r.id), r.state, r.type, r.ownerAgentId ?? '-', r.leadId, fmt(r.dueAt, r.dueZone), `${r.attempts}/${r.maxAttempts}`, why(r)]),
      ]);
    });

  cb.command('show <id>')
    .description('one callback with its call log (every attempt)')
    .option('--json', 'print JSON')
    .option('--db <file>', DB_HELP)
    .option('-c, --config <file>', 'read database.path from this config file')
    .action((id: string, o) => {
      const n = Number(id);
      const { row, attempts } = withDb(o, (db) => ({ row: store.getCallback(db, n), attempts: store.attemptsOf(db, n) }));
      if (!row) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no callback ${id}`);
      if (o.json) return console.log(JSON.stringify({ ...callbackJson(row), callAttempts: attempts }, null, 2));
      console.log(`callback ${row.id}: ${row.state} ${row.type} lead ${row.leadId} due ${fmt(row.dueAt, row.dueZone)}; tries ${row.attempts}/${row.maxAttempts}; ${why(row)}`);
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
      process.exitCode = err.code === ErrorCodes.NOT_FOUND || err.code.endsWith('_INVALID') ? 2 : 1;
      return;
    }
    console.error(`callbackd: unexpected error: ${(err as Error).stack ?? err}`);
    process.exitCode = 1;
  }
}

await main(process.argv);
