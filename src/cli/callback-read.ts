import type { Command } from 'commander';
import { agentView } from '../app/agent-view.js';
import { viewById, viewMany, type CallbackViewT } from '../app/callback-view.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import { auditOf } from '../store/audit.js';
import { listCallbacks } from '../store/callback-list.js';
import { attemptsOf } from '../store/callbacks.js';
import { getAgent } from '../store/directory.js';
import { CALLBACK_STATES } from '../store/schema.js';
import { printCallbacks, printShown, type Shown } from './callback-print.js';
import { callApi, remoteFromEnv, viaApiOr } from './remote.js';
import { dbOptions, examples, positiveInt, printJson, withDb, type DbOptions } from './shared.js';

// Reading callbacks: the one listing and the one view, from the database or through the API.

type AgentCounts = { agent: string; live: number; active: number; counted: number };
type Listed = { rows: CallbackViewT[]; view: AgentCounts | null; nextCursor: string | null };
type ListOptions = DbOptions & { state?: string; agent?: string; json?: boolean; limit: number; cursor?: string };

async function listLocal(o: ListOptions, state: string | undefined): Promise<Listed> {
  return await withDb(o, async (db) => {
    const now = Date.now();
    if (o.agent) {
      if (!await getAgent(db, o.agent)) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no agent "${o.agent}"`);
      const v = await agentView(db, o.agent, now);
      const rows = v.callbacks.filter((r) => !state || r.state === state);
      return { rows: await viewMany(db, rows, now), view: { agent: v.agentId, live: v.live, active: v.active, counted: v.counted }, nextCursor: null };
    }
    const page = await listCallbacks(db, { scope: { kind: 'all' }, state: state ? [state] : undefined, limit: o.limit, cursor: o.cursor });
    return { rows: await viewMany(db, page.items, now), view: null, nextCursor: page.nextCursor };
  });
}

export function callbackReadCommands(cb: Command): void {
  examples(
    dbOptions(
      cb
        .command('list')
        .description('list callbacks: due time (the promise), earliest dialable time, attempts, and why they differ or wait')
        .option('--state <state>', `only this state: ${CALLBACK_STATES.join(', ')}`)
        .option('--agent <id>', 'what this agent sees: their USERONLY callbacks (hours block and display days applied) and their LIVE/ACTIVE counts')
        .option('--limit <n>', 'at most this many (1-500)', positiveInt, 500)
        .option('--cursor <c>', 'the next page, as printed after a full page')
        .option('--json', 'print JSON'),
    ),
    ['callbackd callback list --state LIVE -c /etc/callbackd/callbackd.yaml', 'callbackd callback list --agent 1001 --db callbackd.db', 'callbackd callback list --json --limit 100'],
  ).action(async (o: ListOptions) => {
    const state = o.state?.toUpperCase();
    if (state && !(CALLBACK_STATES as readonly string[]).includes(state)) throw new CallbackdError(ErrorCodes.INPUT_INVALID, `--state must be one of ${CALLBACK_STATES.join(', ')}`);
    if (o.limit > 500) throw new CallbackdError(ErrorCodes.INPUT_INVALID, '--limit must be 500 or less');
    const { value } = await viaApiOr<Listed>(
      remoteFromEnv(),
      async (api) => {
        const q = new URLSearchParams({ limit: String(o.limit), ...(state ? { state } : {}), ...(o.agent ? { agent: o.agent } : {}), ...(o.cursor ? { cursor: o.cursor } : {}) });
        const page = await callApi<{ items: CallbackViewT[]; nextCursor: string | null }>(api, 'GET', `/callbacks?${q}`);
        return { rows: page.items, view: null, nextCursor: page.nextCursor };
      },
      async () => await listLocal(o, state),
    );
    if (o.json) return printJson(value.view ? { ...value.view, callbacks: value.rows } : value.rows);
    if (value.view) console.log(`agent ${value.view.agent}: ${value.view.live} LIVE, ${value.view.active} ACTIVE (counter shows ${value.view.counted})`);
    printCallbacks(value.rows);
    if (value.nextCursor) console.error(`more: add --cursor ${value.nextCursor}`);
  });

  examples(dbOptions(cb.command('show').argument('<id>', 'the callback id', positiveInt).description('one callback with its call log (every attempt) and its audit trail').option('--json', 'print JSON')), [
    'callbackd callback show 42 -c /etc/callbackd/callbackd.yaml',
    'callbackd callback show 42 --json',
  ]).action(async (n: number, o: DbOptions & { json?: boolean }) => {
    const { value } = await viaApiOr<Shown>(
      remoteFromEnv(),
      (api) => callApi<Shown>(api, 'GET', `/callbacks/${n}`),
      async () => await withDb(o, async (db) => ({ callback: await viewById(db, n, Date.now()), callAttempts: await attemptsOf(db, n), audit: await auditOf(db, n) })),
    );
    if (o.json) return printJson({ ...value.callback, callAttempts: value.callAttempts, audit: value.audit });
    printShown(value);
  });
}
