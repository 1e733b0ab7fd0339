// The crash storm of issue 15, shared by the CI-sized e2e test (test/e2e/crash-storm.e2e.test.ts)
// and the opt-in soak (bench/crash-soak.ts): callbacks come due on a lab with one registered agent
// phone per callback while callbackd is SIGKILLed and restarted. The judge is the carrier SIPp's own
// log: no customer answered and then hung up by Asterisk (dead air), one INVITE per counted attempt,
// every answer in call_attempts, nothing lost or left DIALING. Throws on the first broken promise.
import { benchLab } from './lab-bench.js';
import { openDb } from '../src/store/db.js';
import { attemptsOf, getCallback, insertCallback } from '../src/store/callbacks.js';
import { DaemonProc, sleep, waitFor } from '../test/lab/lab.js';
import { answersAndHangups } from '../test/e2e/carrier-log.js';

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`crash storm: ${what}`);
}

export interface StormOptions {
  /** One lead, and one registered agent phone, per callback. */
  callbacks: number;
  /** Callbacks come due over this many ms. */
  spreadMs: number;
  /** Kill every killMinMs..killMaxMs while callbacks are still due; restart within downMaxMs. */
  killMinMs: number;
  killMaxMs: number;
  downMaxMs: number;
}

export interface StormResult {
  kills: number;
  callbacks: number;
  carrierCalls: number;
  answeredWhileDown: number;
  deadAir: number;
  outcomes: Record<string, number>;
}

/** Runs one storm on a fresh lab and checks every promise; returns the figures. */
export async function crashStorm(o: StormOptions): Promise<StormResult> {
  const ids: number[] = [];
  const bench = await benchLab({
    name: 'storm',
    n: o.callbacks,
    beforeDaemon: async (path) => {
      const db = openDb(path);
      // Quick retries, so a retried callback completes within the storm.
      db.$client.prepare('UPDATE campaigns SET retry_busy_sec = 1, retry_no_answer_sec = 1, retry_congestion_sec = 1').run();
      const now = Date.now();
      for (let i = 0; i < o.callbacks; i++) {
        const due = now + 3000 + Math.floor((i * o.spreadMs) / o.callbacks);
        ids.push(await insertCallback(db, { leadId: `lead-bench${2001 + i}`, campaignId: 'B', type: 'ANYONE', ownerAgentId: null, dueAt: due, dueZone: 'UTC', maxAttempts: 5, notes: null }, now));
      }
      db.$client.close();
    },
  });
  let daemon: DaemonProc = bench.daemon;
  const db = openDb(bench.db);
  const down: { from: number; to: number }[] = [];
  let kills = 0;
  try {
    const stormEnds = Date.now() + o.spreadMs + 3000;
    while (Date.now() < stormEnds) {
      await sleep(o.killMinMs + Math.random() * (o.killMaxMs - o.killMinMs));
      const from = Date.now();
      await daemon.kill('SIGKILL');
      kills++;
      await sleep(Math.random() * o.downMaxMs);
      daemon = new DaemonProc({ db: bench.db, dir: bench.dir, extra: { log: { level: 'info' } } }).start();
      down.push({ from, to: Date.now() });
      await daemon.ready();
    }
    const settled = async () =>
      (await Promise.all(ids.map((id) => getCallback(db, id)))).every((cb) => cb!.state === 'COMPLETED') &&
      db.$client.prepare("SELECT count(*) n FROM call_attempts WHERE outcome IS NULL OR (outcome = 'ANSWERED' AND ended_at IS NULL)").get() as { n: number };
    await waitFor('every callback completed and every call ended', async () => {
      const s = await settled();
      return s && s.n === 0;
    }, 60_000, 250);

    const calls = answersAndHangups(bench.trunk.messageFile);
    const invites = bench.trunk.invites();
    const outcomes: Record<string, number> = {};
    for (const id of ids) {
      check((await getCallback(db, id))!.state === 'COMPLETED', `callback ${id} is ${(await getCallback(db, id))!.state}, not COMPLETED`);
      (await attemptsOf(db, id)).forEach((a) => (outcomes[a.outcome!] = (outcomes[a.outcome!] ?? 0) + 1));
    }
    // Per number (one callback per lead): INVITEs = counted attempts, answers = recorded answers.
    const byNumber = new Map<string, { counted: number; answered: number }>();
    for (const id of ids) {
      const rows = await attemptsOf(db, id);
      const e = byNumber.get(rows[0]!.customerNumber) ?? { counted: 0, answered: 0 };
      e.counted += (await getCallback(db, id))!.attempts;
      e.answered += rows.filter((a) => a.customerAnsweredAt !== null).length;
      byNumber.set(rows[0]!.customerNumber, e);
    }
    for (const [number, e] of byNumber) {
      const toNumber = invites.filter((m) => m.firstLine.includes(`sip:${number}@`)).length;
      check(toNumber === e.counted, `${toNumber} INVITEs to ${number}, ${e.counted} attempts counted`);
      const answers = calls.filter((c) => c.number === number).length;
      check(answers === e.answered, `${number} answered ${answers} time(s) at the carrier, ${e.answered} in call_attempts`);
    }
    const deadAir = calls.filter((c) => c.hungUpBy === 'asterisk');
    check(deadAir.length === 0, `customers answered and then hung up by Asterisk: ${JSON.stringify(deadAir)}`);
    check((db.$client.prepare("SELECT count(*) n FROM callbacks WHERE state = 'DIALING'").get() as { n: number }).n === 0, 'callbacks left DIALING');
    const answeredWhileDown = calls.filter((c) => down.some((d) => c.answeredAt >= d.from && c.answeredAt <= d.to + 800)).length;
    return { kills, callbacks: ids.length, carrierCalls: invites.length, answeredWhileDown, deadAir: deadAir.length, outcomes };
  } finally {
    db.$client.close();
    await daemon.kill('SIGTERM');
    await bench.close();
  }
}

