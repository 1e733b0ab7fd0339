import type { Command } from 'commander';
import type { Readiness } from '../app/readiness.js';
import { messageOf } from '../errors.js';
import { examples, printJson, readConfigLoosely } from './shared.js';

// `callbackd status`: the running daemon's /readyz, for a person.

type Ready = Partial<Readiness> & { ready: boolean; ari: boolean; ami: boolean; presence: boolean; server?: string; database?: { engine: 'sqlite' | 'pg'; where: string; reachable?: boolean; error?: string } };

/** The API's address: --api, $CALLBACKD_API, api.host/api.port in -c's file, else the default. */
function apiUrl(o: { api?: string; config?: string }): string {
  if (o.api) return o.api;
  if (process.env.CALLBACKD_API) return process.env.CALLBACKD_API;
  if (o.config) {
    const raw = readConfigLoosely(o.config) as { api?: { host?: unknown; port?: unknown } } | null;
    const host = typeof raw?.api?.host === 'string' && raw.api.host !== '0.0.0.0' ? raw.api.host : '127.0.0.1';
    return `http://${host.includes(':') ? `[${host}]` : host}:${typeof raw?.api?.port === 'number' ? raw.api.port : 8580}`;
  }
  return 'http://127.0.0.1:8580';
}

export function statusCommand(program: Command): void {
  examples(
    program
      .command('status')
      .description("the running daemon's readiness (GET /readyz): its server and database, Asterisk links, phones registered and usable, callbacks due now and late; exit 0 when ready, 1 when not or unreachable")
      .option('--api <url>', 'the API address (default: $CALLBACKD_API, api.host/api.port from --config, or http://127.0.0.1:8580)')
      .option('-c, --config <file>', 'read api.host and api.port from this config file')
      .option('--json', 'print the /readyz answer as JSON'),
    ['callbackd status -c /etc/callbackd/callbackd.yaml', 'callbackd status --api http://127.0.0.1:8580 --json'],
  ).action(async (o: { api?: string; config?: string; json?: boolean }) => {
    const url = apiUrl(o).replace(/\/+$/, '');
    let r: Ready;
    try {
      r = (await (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) })).json()) as Ready;
    } catch (err) {
      console.error(`callbackd: the daemon at ${url} is not reachable: ${messageOf((err as { cause?: unknown }).cause ?? err)}`);
      process.exitCode = 1;
      return;
    }
    process.exitCode = r.ready ? 0 : 1;
    if (o.json) return printJson(r);
    const link = (ok: boolean, what: string) => `${what} ${ok ? 'connected' : 'DOWN'}`;
    console.log(`callbackd at ${url}: ${r.ready ? 'ready' : 'NOT READY'}`);
    if (r.server !== undefined) console.log(`  server ${r.server}, database ${r.database ? `${r.database.engine} ${r.database.where}` : '?'}`);
    console.log(`  ${link(r.ari, 'ARI')}, ${link(r.ami, 'AMI')}, presence ${r.presence ? 'loaded' : 'not loaded yet'}`);
    if (r.database?.reachable === false) console.log(`  database UNREACHABLE: ${r.database.error ?? '?'}`);
    if (r.phones) console.log(`  phones: ${r.phones.registered} registered, ${r.phones.usable} usable now, of ${r.phones.total}`);
    if (r.callbacks) console.log(`  callbacks: ${r.callbacks.dueNow} due now, ${r.callbacks.late} late (over ${r.callbacks.lateAfterSeconds} s past due)`);
  });
}
