// bench: callbackd's SQLite at scale. Generates N callbacks (default 1,000,000) over N leads in one
// transaction, then times what the daemon and the API do with them: the scheduler's due query
// and claim, a listing (first page, filtered, deep cursor page) and a phone search, through the
// real HTTP API (fastify inject). Prints p50/p99 per operation, the file size and this process's
// peak RSS, and writes bench/out/scale.csv. Not a test: it never fails on speed.
//   npm run bench:scale [-- N]
import { mkdirSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { buildApi } from '../src/api/server.js';
import { createToken } from '../src/app/auth.js';
import * as store from '../src/store/callbacks.js';
import { openDb } from '../src/store/db.js';
import { REPO, tempDir } from '../test/lab/lab.js';
import { benchCenter } from './generate.js';

const N = Number(process.argv[2] ?? 1_000_000);
const dir = tempDir('scale');
const file = join(dir, 'scale.db');
const db = openDb(file);
const NOW = Date.now();

const genMs = await benchCenter(db, N, NOW);
const c = db.$client;
c.pragma('wal_checkpoint(TRUNCATE)');

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const rows: string[] = ['operation,samples,p50_ms,p99_ms'];
async function measure(name: string, samples: number, fn: (i: number) => unknown): Promise<void> {
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const s = performance.now();
    await fn(i);
    ms.push(performance.now() - s);
  }
  rows.push(`${name},${samples},${pct(ms, 50).toFixed(3)},${pct(ms, 99).toFixed(3)}`);
  console.log(`  ${name.padEnd(44)} p50 ${pct(ms, 50).toFixed(2).padStart(8)} ms   p99 ${pct(ms, 99).toFixed(2).padStart(8)} ms`);
}

console.log(`scale: ${N.toLocaleString('en-US')} callbacks (${(N / 20).toLocaleString('en-US')} future, the rest history), ${N.toLocaleString('en-US')} leads; generated in ${(genMs / 1000).toFixed(1)} s; file ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB`);

// The scheduler's questions on every wake-up.
await measure('scheduler: promoteDue + nextWakeAt + liveReady', 200, async () => {
  await store.promoteDue(db, NOW);
  await store.nextWakeAt(db, NOW);
  await store.liveReady(db, NOW, 500);
});
const live = c.prepare("SELECT id FROM callbacks WHERE state = 'ACTIVE' ORDER BY due_at LIMIT 200").all() as { id: number }[];
c.prepare(`UPDATE callbacks SET state = 'LIVE', next_attempt_at = ? WHERE id IN (${live.map((r) => r.id).join(',')})`).run(NOW);
await measure('scheduler: atomic claim (lease + attempt row)', live.length, async (i) =>
  await store.claimForDial(db, {
    // One agent per claim: a person takes one call at a time (the claim's agent check), so 200 claims for 'a1' would be 199 refusals.
    callbackId: live[i]!.id, owner: 'bench', token: `t${i}`, leaseMs: 60_000, now: NOW, dialOrder: 'AGENT_FIRST', agentId: `a${i}`, phoneEndpoint: `p${i}`,
    callerId: '+15550100001', customerNumber: '+15551230001', trunkId: 'carrier',
    ids: (seq) => ({ agentChannelId: `b-${i}-${seq}-a`, customerChannelId: `b-${i}-${seq}-c`, bridgeId: `b-${i}-${seq}-b` }),
  }),
);

const api = await buildApi({ db, log: pino({ level: 'silent' }), now: () => NOW, nudge: () => undefined, ready: () => ({ ari: true, ami: true, presence: true }), bodyLimit: 262_144 });
const token = (await createToken(db, 'root', 'bench', NOW)).token;
const get = async (url: string) => {
  const r = await api.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  if (r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode} ${r.body}`);
  return JSON.parse(r.body) as { nextCursor?: string };
};
await measure('API list: first page (50, by due)', 200, () => get('/callbacks?limit=50'));
await measure('API list: state=ACTIVE, campaign=C2', 200, () => get('/callbacks?state=ACTIVE&campaign=C2&limit=50'));
await measure('API list: one agent, newest first', 200, (i) => get(`/callbacks?agent=a${i % 200}&order=desc&limit=50`));
let cursor: string | undefined;
for (let k = 0; k < 200; k++) cursor = (await get(`/callbacks?limit=50${cursor ? `&cursor=${cursor}` : ''}`)).nextCursor ?? cursor; // 10,000 rows in (or the last page of a small run)
await measure('API list: page 201 via cursor', 200, () => get(`/callbacks?limit=50${cursor ? `&cursor=${cursor}` : ''}`));
await measure('API search: phone, national format', 200, (i) => get(`/callbacks/search?phone=555-${String(1_000_000 + ((i * 4999) % N)).slice(-7, -4)}-${String(1_000_000 + ((i * 4999) % N)).slice(-4)}`));
await api.close();

const rssKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
console.log(`  bench process peak RSS ${(rssKb / 1024).toFixed(0)} MiB (includes generating the rows); node ${process.version}`);
mkdirSync(join(REPO, 'bench/out'), { recursive: true });
writeFileSync(join(REPO, 'bench/out/scale.csv'), rows.join('\n') + '\n');
db.$client.close();
