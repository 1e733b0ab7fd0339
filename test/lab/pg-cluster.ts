// Several daemons on one lab Asterisk and one PostgreSQL database (issue 16), shared by the e2e suites
// that need that picture (test/e2e/pg-takeover.e2e.test.ts, test/e2e/trunk-shared.e2e.test.ts): the
// suite's preconditions, a batch of agent phones registered from one SIPp, and a daemon on the database.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonProc, REPO, Sipp, tryLab, waitFor } from './lab.js';
import { startPostgres, type PgLab } from './postgres.js';

export const inCi = process.env.CI === 'true';

/**
 * The lab and a PostgreSQL cluster, started at import time (before describe): `missing` says why the
 * suite cannot run. Outside CI it is skipped loudly; with CI=true the caller's beforeAll must throw.
 */
export function pgLabSuite(name: string): { missing: string | null; pg: PgLab | null } {
  const lab = tryLab();
  const pgStart = lab.ok ? startPostgres() : null;
  const missing = !lab.ok ? lab.reason : pgStart && !pgStart.ok ? pgStart.reason : null;
  if (missing && !inCi) console.warn(`\n*** ${name} suite SKIPPED: ${missing}\n*** (with CI=true this is a failure)\n`);
  return { missing, pg: pgStart?.ok ? pgStart.lab : null };
}

/**
 * Agent endpoints sharing one auth, for the lab's pjsip.conf to include (pjsip_bench.conf from
 * CALLBACKD_LAB_EXTRA_DIR, as bench/lab-bench.ts). Call before provisionLab().
 */
export function agentEndpointsConf(dir: string, agents: readonly string[], auth: string): void {
  const extra = join(dir, 'extra');
  mkdirSync(extra);
  writeFileSync(join(extra, 'pjsip_bench.conf'), [`[${auth}-auth]\ntype=auth\nauth_type=userpass\nusername=${auth}\npassword=lab-${auth}\n`, ...agents.map((a) => `[${a}](agent-defaults)\nauth=${auth}-auth\naors=${a}\n[${a}](agent-aor)\n`)].join('\n'));
  process.env.CALLBACKD_LAB_EXTRA_DIR = extra;
}

/** Those agents' phones, registered from one SIPp that answers every call they get; resolves once all registered. */
export async function agentPhones(dir: string, agents: readonly string[], auth: string): Promise<Sipp> {
  writeFileSync(join(dir, 'agents.csv'), 'SEQUENTIAL\n' + agents.join('\n') + '\n');
  const n = agents.length;
  const phones = new Sipp(`${auth}-agents`, [
    '127.0.0.1:5060', '-sf', join(REPO, 'test/lab/sipp/agents-register-many.xml'), '-oocsf', join(REPO, 'test/lab/sipp/agent-answer.xml'),
    '-inf', join(dir, 'agents.csv'), '-i', '127.0.0.1', '-p', '5190', '-mp', '19000', '-m', String(n), '-r', '50', '-l', String(n + 10), '-au', auth, '-ap', `lab-${auth}`,
  ], dir).start();
  await waitFor(`${n} phones to register`, () => phones.messages().filter((m) => m.direction === 'received' && m.firstLine.startsWith('SIP/2.0 200')).length >= n, 30000);
  return phones;
}

/**
 * A daemon on the PostgreSQL database `url`, started, in its own directory and ARI application (Asterisk
 * gives an application to one WebSocket at a time). `extra` is merged into its config (top-level keys).
 */
export function pgDaemon(dir: string, name: string, url: string, extra: Record<string, unknown> = {}, env?: Record<string, string>): DaemonProc {
  const own = join(dir, name);
  mkdirSync(own);
  const base = { instanceId: name, database: { path: undefined, url }, ari: { app: `callbackd-${name}` }, log: { level: 'info' } };
  return new DaemonProc({ db: '', dir: own, extra: { ...base, ...extra }, env }).start();
}
