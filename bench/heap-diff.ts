/**
 * What grew between two V8 heap snapshots, by constructor: count and bytes (self size), largest
 * first, and per item when given how many there are (connections, say).
 *
 *   node --import tsx bench/heap-diff.ts before.heapsnapshot after.heapsnapshot [--per 1000] [--top 40]
 *
 * The idle scenario writes such a pair with BENCH_HEAP_DIR=<folder>. Self sizes only: what an
 * object holds through others shows under those others' names.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Count and bytes by "type name" (a constructor, a closure's name, "(string)", …). */
function tally(file: string): Map<string, { count: number; bytes: number }> {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + typeAt] as number] as string;
    const raw = s.strings[s.nodes[i + nameAt] as number] ?? '';
    // Strings and numbers are named by their content: one bucket for each kind.
    const name =
      type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number'
        ? `(${type})`
        : `${type} ${raw.slice(0, 60)}`;
    const t = out.get(name) ?? { count: 0, bytes: 0 };
    t.count++;
    t.bytes += s.nodes[i + sizeAt] as number;
    out.set(name, t);
  }
  return out;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { per: { type: 'string', default: '1' }, top: { type: 'string', default: '40' } },
});
const [beforeFile, afterFile] = positionals;
if (!beforeFile || !afterFile) {
  console.error('usage: heap-diff.ts before.heapsnapshot after.heapsnapshot [--per N] [--top N]');
  process.exit(2);
}
const per = Number(values.per);
const before = tally(beforeFile);
const after = tally(afterFile);
const rows = [...after].map(([name, a]) => {
  const b = before.get(name) ?? { count: 0, bytes: 0 };
  return { name, count: a.count - b.count, bytes: a.bytes - b.bytes };
});
rows.sort((x, y) => y.bytes - x.bytes);
const total = rows.reduce((n, r) => n + r.bytes, 0);
console.log(`grew ${(total / 1024).toFixed(1)} KB in all, ${(total / per).toFixed(0)} B per item (of ${per})`);
console.log('bytes/item  count/item  name');
for (const r of rows.slice(0, Number(values.top)))
  console.log(`${(r.bytes / per).toFixed(1).padStart(10)}  ${(r.count / per).toFixed(2).padStart(10)}  ${r.name}`);
