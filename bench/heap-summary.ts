// Summarises a V8 heap snapshot (node --heapsnapshot-signal / v8.writeHeapSnapshot): total self
// size, and the top constructors / node types by self size with their counts.
//   node dist/bench/heap-summary.js FILE.heapsnapshot [TOP]
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

const file = process.argv[2];
if (!file) throw new Error('usage: heap-summary FILE.heapsnapshot [TOP]');
const top = Number(process.argv[3] ?? 15);
const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
const f = s.snapshot.meta.node_fields;
const [iType, iName, iSize, width] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size'), f.length];
const types = s.snapshot.meta.node_types[0];
const by = new Map<string, { n: number; bytes: number }>();
let total = 0;
for (let i = 0; i < s.nodes.length; i += width) {
  const type = types[s.nodes[i + iType]!]!;
  // Objects and closures are grouped by constructor name; strings, code, arrays by their type.
  const key = type === 'object' || type === 'closure' ? `${type} ${s.strings[s.nodes[i + iName]!]}` : type;
  const size = s.nodes[i + iSize]!;
  total += size;
  const e = by.get(key) ?? { n: 0, bytes: 0 };
  e.n++;
  e.bytes += size;
  by.set(key, e);
}
console.log(`${file}: ${(total / 1048576).toFixed(1)} MiB in ${s.nodes.length / width} objects`);
for (const [k, v] of [...by].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top)) {
  console.log(`  ${(v.bytes / 1048576).toFixed(2).padStart(7)} MiB ${String(v.n).padStart(8)}  ${k.slice(0, 80)}`);
}
