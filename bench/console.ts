// bench: the console with 1,000,000 callbacks stored. Times, in Debian's Chromium, the callbacks list
// (manager) and the agent screen from navigation to the first meaningful paint (the first data row /
// the agent's counts on screen), and the p50/p99 of the API calls behind each screen over real HTTP
// with the session cookie. Not a test: it never fails on speed.
//   npm run build && node dist/bench/console.js [N] [DB]   (DB: reuse a database an earlier run generated)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { buildApi } from '../src/api/server.js';
import { setPassword } from '../src/app/people.js';
import { EventHub } from '../src/events/hub.js';
import { applyImport, parseImport } from '../src/import.js';
import { openDb } from '../src/store/db.js';
import { launch, PASSWORD, signIn } from '../test/browser/harness.js';
import { tempDir } from '../test/lab/lab.js';
import { generateCallbacks } from './generate.js';

const N = Number(process.argv[2] ?? 1_000_000);
const RUNS = 10;
const SAMPLES = 200;
const CAMPAIGNS = ['C1', 'C2', 'C3', 'C4'];
const AGENTS = Array.from({ length: 200 }, (_, i) => `a${i}`);
const NOW = Date.now();
const reuse = process.argv[3] && existsSync(process.argv[3]) ? process.argv[3] : null;
const dbFile = reuse ?? join(tempDir('console-bench'), 'bench.db');
const db = openDb(dbFile);
if (!reuse) {
  await applyImport(
    db,
    parseImport(
      JSON.stringify({
        trunks: [{ id: 'carrier' }],
        numbers: [{ number: '+15550100001', trunk: 'carrier' }],
        campaigns: CAMPAIGNS.map((id) => ({ id, name: id, time_zone: 'America/New_York', outbound_number: '+15550100001' })),
        lists: CAMPAIGNS.map((c) => ({ id: `L-${c}`, campaign: c })),
        agents: AGENTS.map((id, i) => ({ id, name: id, campaigns: [CAMPAIGNS[i % 4]!] })),
        phones: AGENTS.map((id) => ({ endpoint: `p-${id}`, agent: id })),
        users: [{ id: 'mgr', role: 'manager', campaigns: CAMPAIGNS, lead_modify: true }, { id: 'a0', role: 'agent' }],
      }),
      'bench',
    ),
    NOW,
  );
  const g0 = performance.now();
  generateCallbacks(db, N, { campaigns: CAMPAIGNS, agents: AGENTS, now: NOW });
  db.$client.pragma('wal_checkpoint(TRUNCATE)');
  console.log(`console bench: ${N.toLocaleString('en-US')} callbacks generated in ${((performance.now() - g0) / 1000).toFixed(1)} s (${dbFile})`);
  for (const u of ['mgr', 'a0']) await setPassword(db, u, PASSWORD, NOW);
}
const stored = (db.$client.prepare('SELECT count(*) n FROM callbacks').get() as { n: number }).n;
console.log(`console bench: ${stored.toLocaleString('en-US')} callbacks stored`);

const log = pino({ level: 'silent' });
const hub = await EventHub.open({ db, log, pollMs: 500 });
hub.start();
const api = await buildApi({ db, log, now: Date.now, nudge: () => {}, ready: () => ({ ari: true, ami: true, presence: true }), bodyLimit: 1 << 20, events: { hub, heartbeatMs: 15_000 } });
await api.listen({ host: '127.0.0.1', port: 0 });
const url = `http://127.0.0.1:${(api.server.address() as { port: number }).port}`;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const line = (name: string, xs: number[]) => console.log(`  ${name.padEnd(52)} p50 ${pct(xs, 50).toFixed(1).padStart(7)} ms   p99 ${pct(xs, 99).toFixed(1).padStart(7)} ms   max ${Math.max(...xs).toFixed(1).padStart(7)} ms`);

async function cookieOf(user: string): Promise<string> {
  const r = await fetch(`${url}/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, password: PASSWORD }) });
  return r.headers.get('set-cookie')!.split(';')[0]!;
}
async function apiP99(name: string, cookie: string, path: (i: number) => string): Promise<void> {
  const ms: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t = performance.now();
    const r = await fetch(`${url}${path(i)}`, { headers: { cookie } });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`${path(i)}: ${r.status}`);
    ms.push(performance.now() - t);
  }
  line(`API ${name}`, ms);
}

async function paint(user: string, path: string, ready: string): Promise<void> {
  const b = await launch();
  try {
    const page = await b.context.newPage();
    await signIn(page, url, user);
    const ms: number[] = [];
    const fcp: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      await page.goto(`${url}${path}`);
      await page.locator(ready).first().waitFor({ timeout: 120_000 });
      ms.push(performance.now() - t);
      fcp.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN));
    }
    line(`${path}: navigation → first meaningful paint (${RUNS} loads)`, ms);
    line(`${path}: first contentful paint (browser's own)`, fcp);
  } finally {
    await b.close();
  }
}

const mgr = await cookieOf('mgr');
const agent = await cookieOf('a0');
console.log('callbacks list (manager):');
await paint('mgr', '/console/callbacks', 'table[aria-label="Callbacks"] tbody tr[data-id]');
const firstPage = (await (await fetch(`${url}/callbacks?limit=50`, { headers: { cookie: mgr } })).json()) as { items: { id: number }[] };
const ids = firstPage.items.map((i) => i.id).join(',');
await apiP99('GET /callbacks?limit=50 (first page by due)', mgr, () => '/callbacks?limit=50');
await apiP99('GET /callbacks?state=ACTIVE&campaign=C2&limit=50', mgr, () => '/callbacks?state=ACTIVE&campaign=C2&limit=50');
await apiP99('GET /callbacks/facts (50 rows)', mgr, () => `/callbacks/facts?ids=${ids}`);
await apiP99('GET /callbacks/search?phone=(555) national', mgr, (i) => `/callbacks/search?phone=${encodeURIComponent(`(555) ${String(100 + (i % 800)).padStart(3, '0')}-${String(1000 + i).slice(-4)}`)}`);
console.log('agent screen (a0):');
await paint('a0', '/console/agent', '[data-testid="alert-line"]');
await apiP99('GET /me/callbacks', agent, () => '/me/callbacks');
await apiP99('GET /me/ringing', agent, () => '/me/ringing');
hub.stop();
await api.close();
db.$client.close();
