// Several daemons on one lab Asterisk and one PostgreSQL database (issue 16): the parts the e2e
// suites' PostgreSQL center (test/lab/pg-center.ts) and the lab benches (bench/bench-db.ts) share: a
// center's import file (agents with a phone and a lead each), a batch of agent phones registered from
// one SIPp, and a daemon on the database. No vitest here: the benches import it too.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonProc, REPO, Sipp, waitFor } from './lab.js';

export interface AgentCenter {
  /** The campaign's id; its first list is `${campaign}L` and holds the leads. */
  campaign: string;
  name?: string;
  /** Each agent gets a phone (endpoint = its id) and one lead `lead-${agent}` on number(i). */
  agents: readonly string[];
  number: (i: number) => string;
  trunk: { id: string; max_channels?: number; calls_per_second?: number };
  /** The campaign's caller id, routed to the trunk. */
  outbound: string;
  dialOrder?: 'agent_first' | 'customer_first';
  /** More campaign settings (max_attempts, retry_delays…). */
  campaignExtra?: Record<string, unknown>;
  /** More (empty) lists of the campaign. */
  moreLists?: readonly string[];
}

/** The import file (`callbackd import`) of such a center. */
export function agentCenterImport(c: AgentCenter): Record<string, unknown> {
  return {
    trunks: [c.trunk],
    numbers: [{ number: c.outbound, trunk: c.trunk.id }],
    campaigns: [{ id: c.campaign, name: c.name ?? c.campaign, time_zone: 'UTC', outbound_number: c.outbound, dial_order: c.dialOrder ?? 'agent_first', ...c.campaignExtra }],
    lists: [`${c.campaign}L`, ...(c.moreLists ?? [])].map((id) => ({ id, campaign: c.campaign })),
    agents: c.agents.map((a) => ({ id: a, name: a, campaigns: [c.campaign] })),
    phones: c.agents.map((a) => ({ endpoint: a, agent: a })),
    leads: c.agents.map((a, i) => ({ id: `lead-${a}`, list: `${c.campaign}L`, phone: c.number(i) })),
  };
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
