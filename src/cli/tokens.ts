import type { Command } from 'commander';
import { createToken, listTokens, revokeToken } from '../app/auth.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import { dbOptions, examples, printJson, printTable, withDb, type DbOptions } from './shared.js';

// API bearer tokens: printed once, stored only as a hash.

export function tokenCommands(program: Command): void {
  const tok = examples(program.command('token').description('API bearer tokens: create (shown once), list, revoke'), [
    'callbackd token create --user mgr --name crm -c /etc/callbackd/callbackd.yaml',
    'callbackd token list --db callbackd.db',
  ]);
  examples(
    dbOptions(
      tok
        .command('create')
        .description('create a token for a user (users come from the import file); it is printed once and stored only as a hash')
        .requiredOption('--user <id>', '(required) the user the token acts as')
        .option('--name <text>', 'a label, e.g. the tool that uses it'),
    ),
    ['callbackd token create --user mgr --name crm --db callbackd.db > mgr.token'],
  ).action(async (o: DbOptions & { user: string; name?: string }) => {
    const t = await withDb(o, async (db) => await createToken(db, o.user, o.name ?? null, Date.now()));
    console.log(t.token);
    console.error(`token ${t.id} for user ${o.user}; keep it now: it cannot be shown again`);
  });
  examples(dbOptions(tok.command('list').description('tokens (never their values): id, user, name, created, last used, revoked').option('--json', 'print JSON')), [
    'callbackd token list --db callbackd.db',
  ]).action(async (o: DbOptions & { json?: boolean }) => {
    const rows = await withDb(o, async (db) => await listTokens(db));
    if (o.json) return printJson(rows);
    const t = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());
    printTable([['ID', 'USER', 'NAME', 'CREATED', 'LAST USED', 'REVOKED'], ...rows.map((r) => [String(r.id), r.user, r.name ?? '-', t(r.createdAt), t(r.lastUsedAt), t(r.revokedAt)])]);
  });
  examples(dbOptions(tok.command('revoke <id>').description('revoke a token at once')), ['callbackd token revoke 3 --db callbackd.db']).action(async (id: string, o: DbOptions) => {
    if (!await withDb(o, async (db) => await revokeToken(db, Number(id), Date.now()))) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no active token ${id}`);
    console.log(`token ${id} revoked`);
  });
}
