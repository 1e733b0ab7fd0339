// Compares two V8 heap snapshots of one process (before and after some work): what grew, by constructor
// (objects, closures) or node type (strings, code, arrays), in bytes and count. bench/heap-summary.ts
// summarises one snapshot; this says what the work left behind.
//   node dist/bench/heap-diff.js BEFORE.heapsnapshot AFTER.heapsnapshot [TOP]
import { heapKinds } from './heap-kinds.js';

const [beforeFile, afterFile, topArg] = process.argv.slice(2);
if (!beforeFile || !afterFile) throw new Error('usage: heap-diff BEFORE.heapsnapshot AFTER.heapsnapshot [TOP]');
const top = Number(topArg ?? 20);
const a = heapKinds(beforeFile);
const b = heapKinds(afterFile);
const mib = (x: number) => (x / 1048576).toFixed(2);
console.log(`live heap ${mib(a.total)} → ${mib(b.total)} MiB (${b.total >= a.total ? '+' : ''}${mib(b.total - a.total)})`);
const keys = new Set([...a.by.keys(), ...b.by.keys()]);
const rows = [...keys].map((k) => {
  const x = a.by.get(k) ?? { n: 0, bytes: 0 };
  const y = b.by.get(k) ?? { n: 0, bytes: 0 };
  return { k, d: y.bytes - x.bytes, dn: y.n - x.n, after: y.bytes };
});
console.log('grew most (MiB, count):');
for (const r of rows.sort((p, q) => q.d - p.d).slice(0, top)) console.log(`  ${mib(r.d).padStart(7)} ${String(r.dn).padStart(8)}  ${r.k.slice(0, 80)} (now ${mib(r.after)})`);
console.log('shrank most:');
for (const r of rows.sort((p, q) => p.d - q.d).slice(0, 5)) console.log(`  ${mib(r.d).padStart(7)} ${String(r.dn).padStart(8)}  ${r.k.slice(0, 80)}`);
