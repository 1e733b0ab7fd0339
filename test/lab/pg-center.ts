// A call center on PostgreSQL on the lab, for the suites that run daemons on a real cluster
// (pg-takeover, pg-outage, pg-outage-agent, trunk-shared; test/lab/e2e-fixture.ts describeOnPgCenter
// runs a suite on one), built from pg-cluster.ts's parts: a fresh database, N agent phones (one auth,
// registered from one SIPp that answers their calls), a carrier SIPp, one campaign whose agents each
// own a lead, imported through the CLI; daemons bound to it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Engine } from '../../src/store/conn.js';
import { openEngine } from '../../src/store/open-engine.js';
import { carrier, cli, type DaemonProc, provisionLab, REPO, Sipp, startAsterisk, stopAsterisk, tempDir } from './lab.js';
import { agentCenterImport, agentEndpointsConf, agentPhones, pgDaemon } from './pg-cluster.js';
import type { PgLab } from './postgres.js';

export interface PgCenterOptions {
  /** Names the temp dir, the agents (`${prefix}2001`…), their auth and the campaign. */
  prefix: string;
  agents: number;
  /** The customers' numbers: `${numberPrefix}0000`, `…0001`… */
  numberPrefix: string;
  /**
   * The carrier: 'patient' (default; trunk carrier-slow's port, test/lab/sipp/carrier-patient.xml: rings
   * carrierRingMs, answers, stays up to 20 s, hangs up) or 'answer' (trunk carrier: rings 0.5 s, answers,
   * talks 3 s, hangs up).
   */
  carrier?: 'patient' | 'answer';
  /** How long the patient carrier lets a customer ring before answering (SIPp -d). */
  carrierRingMs?: number;
  /** The trunk's limits (across every daemon). */
  trunkLimits?: { max_channels?: number; calls_per_second?: number };
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
  const patient = (o.carrier ?? 'patient') === 'patient';
  const trunk = patient ? new Sipp('carrier', ['-sf', join(REPO, 'test/lab/sipp/carrier-patient.xml'), '-d', String(o.carrierRingMs ?? 6000), '-i', '127.0.0.1', '-p', '5086', '-mp', '17060'], dir).start() : carrier('answer', dir);
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
    const center = agentCenterImport({
      campaign: o.prefix.toUpperCase(), agents, number,
      trunk: { id: patient ? 'carrier-slow' : 'carrier', ...o.trunkLimits },
      outbound: patient ? '+15550100006' : '+15550100007',
      campaignExtra: { max_attempts: 5, retry_delays: { congestion: 1, no_answer: 1, busy: 1 } },
    });
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
