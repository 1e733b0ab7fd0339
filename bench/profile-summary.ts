// Summarises a .cpuprofile (bench/with-profile.ts): self time by function and by source file, and the
// share of samples under chosen functions (inclusive), e.g. "dialReady,claimForDial,loadDialContext".
//   node dist/bench/profile-summary.js FILE.cpuprofile [TOP] [FUNCTIONS]
import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[] }

const [file, topArg, fnArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary FILE.cpuprofile [TOP] [FUNCTIONS]');
const top = Number(topArg ?? 25);
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const hits = new Map<number, number>();
p.samples.forEach((id, i) => hits.set(id, (hits.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
const total = [...hits.values()].reduce((a, b) => a + b, 0);
const short = (url: string) => url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/').replace(/^node:/, 'node:');
const label = (n: Node) => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
const selfFn = new Map<string, number>();
const selfFile = new Map<string, number>();
for (const [id, us] of hits) {
  const n = byId.get(id)!;
  add(selfFn, label(n), us);
  const f = short(n.callFrame.url) || n.callFrame.functionName;
  add(selfFile, f.startsWith('node_modules/') ? f.split('/').slice(0, f.split('/')[1]!.startsWith('@') ? 3 : 2).join('/') : f, us);
}
const pc = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled`);
console.log('self time by function:');
for (const [k, v] of [...selfFn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pc(v)}  ${k}`);
console.log('self time by file / package:');
for (const [k, v] of [...selfFile].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pc(v)}  ${k}`);
if (fnArg) {
  // Inclusive: a sample counts for a function when the function is anywhere on its stack (once).
  console.log('inclusive:');
  for (const fn of fnArg.split(',')) {
    let us = 0;
    for (const [id, t] of hits) {
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        if (byId.get(cur)!.callFrame.functionName === fn) {
          us += t;
          break;
        }
      }
    }
    console.log(`  ${pc(us)}  ${fn}`);
  }
}
