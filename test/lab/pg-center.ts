// A call center on PostgreSQL on the lab, for the suites that run daemons on a real cluster
// (test/e2e/pg-takeover.e2e.test.ts, test/e2e/pg-outage.e2e.test.ts), built from pg-cluster.ts's
// parts: a fresh database, N agent phones (one auth, registered from one SIPp that answers their
// calls), the carrier SIPp on trunk
// carrier-slow's port (test/lab/sipp/carrier-patient.xml: rings, answers, stays up to 20 s, hangs up),
// one campaign whose agents each own a lead, imported through the CLI; daemons bound to it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import type { Engine } from '../../src/store/conn.js';
import { openEngine } from '../../src/store/open-engine.js';
import { cli, type DaemonProc, provisionLab, REPO, Sipp, startAsterisk, stopAsterisk, tempDir } from './lab.js';
import { agentEndpointsConf, agentPhones, inCi, pgDaemon, pgLabSuite } from './pg-cluster.js';
import type { PgLab } from './postgres.js';

export interface PgCenterOptions {
  /** Names the temp dir, the agents (`${prefix}2001`…), their auth and the campaign. */
  prefix: string;
  agents: number;
  /** The customers' numbers: `${numberPrefix}0000`, `…0001`… */
  numberPrefix: string;
  /** How long the carrier lets a customer ring before answering (SIPp -d). */
  carrierRingMs: number;
  /**
   * Commits durable before they are acknowledged (synchronous_commit on for this database). The lab's
   * cluster runs with it off for speed: a commit acknowledged in the last ~200 ms before an immediate
   * stop is then lost, which a real cluster would never do. An outage test needs it on.
   */
  durableCommits?: boolean;
}

export interface PgCenter {
  url: string;
  dir: string;
  db: Engine;
  agents: string[];
  number(i: number): string;
  trunk: Sipp;
  /** The SIPp that registered the agents' phones and answers their calls (300 ms of ringing). */
  phones: Sipp;
  /** A daemon on this database, its own ARI application, config `extra` merged in, `env` added (kept for cleanup). */
  daemon(name: string, extra?: Record<string, unknown>, env?: Record<string, string>): DaemonProc;
  daemons: DaemonProc[];
  /** SIGTERMs the daemons (their logs kept in `dir`), stops the SIPps and Asterisk, closes the engine. */
  close(): Promise<void>;
}

export async function startPgCenter(pgLab: PgLab, o: PgCenterOptions): Promise<PgCenter> {
  const url = await pgLab.createDatabase();
  if (o.durableCommits) {
    const admin = new pg.Client({ connectionString: pgLab.url });
    await admin.connect();
    try {
      // A per-database setting outranks the server's command line for every session opened after it.
      await admin.query(`ALTER DATABASE ${new URL(url).pathname.slice(1)} SET synchronous_commit = on`);
    } finally {
      await admin.end();
    }
  }
  const dir = tempDir(o.prefix);
  const agents = Array.from({ length: o.agents }, (_, i) => `${o.prefix}${2001 + i}`);
  const number = (i: number) => `${o.numberPrefix}${String(i).padStart(4, '0')}`;
  agentEndpointsConf(dir, agents, o.prefix);
  provisionLab();
  startAsterisk();
  const trunk = new Sipp('carrier', ['-sf', join(REPO, 'test/lab/sipp/carrier-patient.xml'), '-d', String(o.carrierRingMs), '-i', '127.0.0.1', '-p', '5086', '-mp', '17060'], dir).start();
  const sipps: Sipp[] = [trunk];
  const daemons: DaemonProc[] = [];
  let db: Engine | undefined;
  let phones: Sipp | undefined;
  const close = async () => {
    for (const [i, d] of daemons.entries()) {
      await d.kill('SIGTERM');
      writeFileSync(join(dir, `daemon-${i}.log`), d.log); // kept with the SIPp logs in the test's directory
    }
    sipps.forEach((p) => p.stop());
    await db?.close();
    stopAsterisk();
    delete process.env.CALLBACKD_LAB_EXTRA_DIR;
  };
  try {
    phones = await agentPhones(dir, agents, o.prefix);
    sipps.push(phones);
    const campaign = o.prefix.toUpperCase();
    const center = {
      trunks: [{ id: 'carrier-slow' }],
      numbers: [{ number: '+15550100006', trunk: 'carrier-slow' }],
      campaigns: [{ id: campaign, name: campaign, time_zone: 'UTC', outbound_number: '+15550100006', dial_order: 'agent_first', max_attempts: 5, retry_delays: { congestion: 1, no_answer: 1, busy: 1 } }],
      lists: [{ id: `${campaign}L`, campaign }],
      agents: agents.map((a) => ({ id: a, name: a, campaigns: [campaign] })),
      phones: agents.map((a) => ({ endpoint: a, agent: a })),
      leads: agents.map((a, i) => ({ id: `lead-${a}`, list: `${campaign}L`, phone: number(i) })),
    };
    writeFileSync(join(dir, 'center.json'), JSON.stringify(center));
    const imp = cli(['import', join(dir, 'center.json'), '--db', url]); // the CLI on PostgreSQL (migrates first)
    if (imp.code !== 0) throw new Error(`import failed: ${imp.stderr}`);
    db = await openEngine({ url }, { migrate: false }, {});
  } catch (err) {
    await close();
    throw err;
  }
  return {
    url, dir, db, agents, number, trunk, phones: phones!, daemons, close,
    daemon(name, extra = {}, env) {
      const d = pgDaemon(dir, name, url, { instanceId: `${o.prefix}-${name}`, ...extra }, env);
      daemons.push(d);
      return d;
    },
  };
}

/**
 * A suite on a PostgreSQL call center (the lab and a cluster; with CI=true a part that cannot start
 * fails the suite, never skips it): the center is started before the tests and closed after, with the
 * cluster. `t.center` and `t.pg` are the started ones (read them inside tests).
 */
export function describeOnPgCenter(title: string, suite: string, o: PgCenterOptions, body: (t: { readonly center: PgCenter; readonly pg: PgLab }) => void): void {
  const { missing, pg: pgLab } = pgLabSuite(suite);
  describe.skipIf(missing !== null && !inCi)(title, () => {
    let center: PgCenter | undefined;
    beforeAll(async () => {
      if (missing || !pgLab) throw new Error(`the ${suite} suite cannot start: ${missing}`);
      center = await startPgCenter(pgLab, o);
    }, 180_000);
    afterAll(async () => {
      await center?.close();
      pgLab?.stop();
    });
    body({
      get center() {
        return center!;
      },
      get pg() {
        return pgLab!;
      },
    });
  });
}
