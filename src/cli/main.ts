import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { CallbackdError, ErrorCodes, type ErrorCode } from '../errors.js';
import type { Conn } from '../store/conn.js';
import { agentCommands } from './agents.js';
import { callbackReadCommands } from './callback-read.js';
import { callbackWriteCommands } from './callback-write.js';
import { daemonCommands } from './daemon.js';
import { databaseCommands } from './database.js';
import { dbCommands } from './db.js';
import { importLeadsCommand } from './import-leads.js';
import { examples, withDb } from './shared.js';
import { statusCommand } from './status.js';
import { tokenCommands } from './tokens.js';
import { reportCommands } from './reports.js';
import { userCommands } from './users.js';

// The command line: one file per command group, put together here. Exit codes: 0 ok, 2 a usage,
// input or configuration error (the message names the flag or setting), 1 a runtime failure.

/** callbackd's version, from the package.json above this file (src/cli or dist/src/cli). */
export function version(): string {
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'callbackd' && pkg.version) return pkg.version;
    } catch {
      /* keep walking up */
    }
    if (dir.pathname === '/') return 'unknown';
  }
}

const DB_HELP = 'SQLite database file (default: database.path from --config, $CALLBACKD_DB, or ./callbackd.db)';

export function buildCli(): Command {
  const program = new Command('callbackd')
    .description('Keeps call-center callbacks: places them through Asterisk at the due moment and records what happened.')
    .version(version(), '-V, --version', 'print the version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  examples(program, [
    'callbackd migrate --db callbackd.db',
    'callbackd import examples/callcenter.yaml --db callbackd.db',
    'callbackd start -c callbackd.yaml',
    'callbackd callback add --lead L-0001 --due +2h --owner 1001 --db callbackd.db',
    'callbackd callback list --db callbackd.db',
  ]);
  daemonCommands(program);
  statusCommand(program);
  databaseCommands(program);
  importLeadsCommand(program);
  dbCommands(program);
  agentCommands(program);
  tokenCommands(program);
  userCommands(program, DB_HELP, withDb);
  reportCommands(program, DB_HELP, withDb);
  const cb = examples(program.command('callback').description('add, list, show, edit, cancel, reassign and purge callbacks'), [
    'callbackd callback add --lead L-0001 --due +2h --db callbackd.db',
    'callbackd callback list --state LIVE --db callbackd.db',
  ]);
  callbackWriteCommands(cb);
  callbackReadCommands(cb);
  return program;
}

/** A user's mistake (2) or a failure at run time (1)? */
export function exitCodeOf(code: ErrorCode): 1 | 2 {
  const input: string[] = [ErrorCodes.NOT_FOUND, ErrorCodes.CONFLICT, ErrorCodes.CONFIG_NOT_FOUND, ErrorCodes.DB_UNAVAILABLE, ErrorCodes.USAGE];
  return input.includes(code) || code.endsWith('_INVALID') || code.startsWith('RULE_') ? 2 : 1;
}

/** Runs the CLI and returns the exit code (the bin sets it; tests call this in-process). */
export async function main(argv: string[]): Promise<number> {
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    // A command that ends with a non-zero code without an error (start, status) sets process.exitCode.
    await buildCli().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    // Help and usage errors: commander has printed them already.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof CallbackdError) {
      console.error(`callbackd: ${err.message}`);
      return exitCodeOf(err.code);
    }
    console.error(`callbackd: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  } finally {
    process.exitCode = before;
  }
}
