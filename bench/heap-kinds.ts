// A V8 heap snapshot's self size by kind: objects and closures by constructor name, the rest (strings,
// code, arrays...) by node type. Shared by bench/heap-summary.ts and bench/heap-diff.ts.
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface HeapKinds {
  /** Bytes of every node. */
  total: number;
  /** Node count. */
  count: number;
  by: Map<string, { n: number; bytes: number }>;
}

export function heapKinds(file: string): HeapKinds {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const f = s.snapshot.meta.node_fields;
  const [iType, iName, iSize, width] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size'), f.length];
  const types = s.snapshot.meta.node_types[0];
  const by = new Map<string, { n: number; bytes: number }>();
  let total = 0;
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType]!]!;
    const key = type === 'object' || type === 'closure' ? `${type} ${s.strings[s.nodes[i + iName]!]}` : type;
    const size = s.nodes[i + iSize]!;
    total += size;
    const e = by.get(key) ?? { n: 0, bytes: 0 };
    e.n++;
    e.bytes += size;
    by.set(key, e);
  }
  return { total, count: s.nodes.length / width, by };
}
