// bench: CSV export of 1,000,000 callbacks through the real HTTP API (GET /export/callbacks.csv on
// a loopback socket), reading the stream as a client would. Prints rows, bytes, time and this
// process's RSS before and at its peak during the export (the server's process; the client is a
// child process). Not a test: it never fails on speed.
//   npm run build && node dist/bench/export.js [N]
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import pino from 'pino';
import { buildApi } from '../src/api/server.js';
import { createToken } from '../src/app/auth.js';
import { openDb } from '../src/store/db.js';
import { tempDir } from '../test/lab/lab.js';
import { benchCenter } from './generate.js';

const N = Number(process.argv[2] ?? 1_000_000);
const db = openDb(join(tempDir('export'), 'export.db'));
const NOW = Date.now();
const genMs = await benchCenter(db, N, NOW);
console.log(`generated ${N.toLocaleString('en-US')} callbacks in ${(genMs / 1000).toFixed(1)} s`);

const api = await buildApi({ db, log: pino({ level: 'silent' }), now: Date.now, nudge: () => {}, bodyLimit: 65536, ready: () => ({ ari: true, ami: true, presence: true }), consoleDir: null });
await api.listen({ host: '127.0.0.1', port: 0 });
const token = (await createToken(db, 'root', 'bench', NOW)).token;
const url = `http://127.0.0.1:${(api.server.address() as { port: number }).port}/export/callbacks.csv`;

global.gc?.();
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
const before = process.memoryUsage().rss;
let peak = before;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);

// The client runs in its own process, as a real one would (in this process its reads would wait
// behind the server's work on the same event loop).
const CLIENT = `
const t = performance.now(); let first = 0, bytes = 0, lines = 0;
const res = await fetch(process.argv[1], { headers: { authorization: 'Bearer ' + process.argv[2], 'accept-encoding': 'identity' } });
if (res.status !== 200) { console.error('status ' + res.status); process.exit(1); }
for await (const c of res.body) { if (!bytes) first = performance.now() - t; bytes += c.byteLength; for (const b of c) if (b === 10) lines++; }
console.log(JSON.stringify({ bytes, lines, firstByteMs: first, ms: performance.now() - t }));`;
const t1 = performance.now();
const child = spawn(process.execPath, ['--input-type=module', '-e', CLIENT, url, token], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
const code = await new Promise<number>((r) => child.on('exit', (c) => r(c ?? 1)));
if (code !== 0) throw new Error('the export client failed');
const { bytes, lines, firstByteMs } = JSON.parse(out) as { bytes: number; lines: number; firstByteMs: number };
const secs = (performance.now() - t1) / 1000;
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss);
console.log(`exported ${(lines - 1).toLocaleString('en-US')} rows (${mb(bytes)} of CSV) in ${secs.toFixed(1)} s — ${Math.round((lines - 1) / secs).toLocaleString('en-US')} rows/s, first byte after ${firstByteMs.toFixed(0)} ms`);
console.log(`RSS before the export ${mb(before)}, peak during it ${mb(peak)} (+${mb(peak - before)}); the CSV itself is ${mb(bytes)}`);
await api.close();
db.$client.close();
