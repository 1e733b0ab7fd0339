// Summarises a V8 heap snapshot (node --heapsnapshot-signal / v8.writeHeapSnapshot): total self
// size, and the top constructors / node types by self size with their counts.
//   node dist/bench/heap-summary.js FILE.heapsnapshot [TOP]
import { heapKinds } from './heap-kinds.js';

const file = process.argv[2];
if (!file) throw new Error('usage: heap-summary FILE.heapsnapshot [TOP]');
const top = Number(process.argv[3] ?? 15);
const { total, count, by } = heapKinds(file);
console.log(`${file}: ${(total / 1048576).toFixed(1)} MiB in ${count} objects`);
for (const [k, v] of [...by].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top)) {
  console.log(`  ${(v.bytes / 1048576).toFixed(2).padStart(7)} MiB ${String(v.n).padStart(8)}  ${k.slice(0, 80)}`);
}
