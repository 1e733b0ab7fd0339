import { applyImport, parseImport } from '../src/import.js';
import type { Db } from '../src/store/db.js';

// Fills a database with `n` leads and callbacks fast: one transaction, prepared statements, no
// per-row checks (the rows are known good). 95 % history over the past year, 5 % promises due over
// the next 30 days — or, with `allFuture`, all due 30+ days ahead (they never fire during a bench).
export function generateCallbacks(db: Db, n: number, o: { campaigns: string[]; agents: string[]; now: number; allFuture?: boolean; prefix?: string }): void {
  const c = db.$client;
  const insLead = c.prepare('INSERT INTO leads (id, list_id, phone_e164, updated_at) VALUES (?, ?, ?, ?)');
  const insCb = c.prepare(
    'INSERT INTO callbacks (lead_id, campaign_id, type, owner_agent_id, due_at, due_zone, state, attempts, max_attempts, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 3, ?, ?)',
  );
  const FINISHED = ['COMPLETED', 'NO_ANSWER', 'BUSY', 'FAILED', 'CANCELLED'];
  const prefix = o.prefix ?? 'lead';
  c.transaction(() => {
    for (let i = 0; i < n; i++) {
      const campaign = o.campaigns[i % o.campaigns.length]!;
      const lead = `${prefix}${i}`;
      insLead.run(lead, `L-${campaign}`, `+1555${String(1_000_000 + i).slice(-7)}`, o.now);
      const future = o.allFuture || i % 20 === 0;
      const due = o.allFuture ? o.now + 30 * 86_400_000 + i * 1000 : future ? o.now + 60_000 + (i % (30 * 86_400)) * 1000 : o.now - (i % (365 * 86_400)) * 1000;
      const useronly = i % 3 === 0;
      insCb.run(lead, campaign, useronly ? 'USERONLY' : 'ANYONE', useronly ? o.agents[i % o.agents.length]! : null, due, 'America/New_York', future ? 'ACTIVE' : FINISHED[i % 5], future ? 0 : 1, o.now, o.now);
    }
  })();
}

export const BENCH_CAMPAIGNS = ['C1', 'C2', 'C3', 'C4'];
export const BENCH_AGENTS = Array.from({ length: 200 }, (_, i) => `a${i}`);

/** The benches' call center (4 campaigns, 200 agents, an admin user `root`) with `n` callbacks; ms spent generating. */
export async function benchCenter(db: Db, n: number, now: number): Promise<number> {
  await applyImport(
    db,
    parseImport(
      JSON.stringify({
        trunks: [{ id: 'carrier' }],
        numbers: [{ number: '+15550100001', trunk: 'carrier' }],
        campaigns: BENCH_CAMPAIGNS.map((id) => ({ id, name: id, time_zone: 'America/New_York', outbound_number: '+15550100001' })),
        lists: BENCH_CAMPAIGNS.map((c) => ({ id: `L-${c}`, campaign: c })),
        agents: BENCH_AGENTS.map((id, i) => ({ id, name: `A${i}`, campaigns: [BENCH_CAMPAIGNS[i % 4]!] })),
        users: [{ id: 'root', role: 'admin' }],
      }),
      'bench',
    ),
    now,
  );
  const t0 = performance.now();
  generateCallbacks(db, n, { campaigns: BENCH_CAMPAIGNS, agents: BENCH_AGENTS, now });
  return performance.now() - t0;
}
