#!/usr/bin/env node
// Imports flow one way: protocol ← server; protocol ← client ← react ← web (STYLE.md).
// Shared infrastructure in the server (platform/, realtime/) knows nothing about features,
// except the gateway, which is where socket frames meet feature handlers.
// And no module imports itself round a loop: relative imports (type-only ones included, as a
// type cycle is a design cycle too) form no cycle inside any package.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const allowed = {
  protocol: [],
  server: ['protocol'],
  cli: ['server', 'protocol'],
  client: ['protocol'],
  node: ['protocol'],
  react: ['client', 'protocol'],
  web: ['react', 'client', 'protocol'],
};
const roots = {
  'packages/protocol': 'protocol',
  'packages/server': 'server',
  'packages/cli': 'cli',
  'packages/client': 'client',
  'packages/node': 'node',
  'packages/react': 'react',
  'apps/web': 'web',
};

const problems = [];
/** file → the files it imports relatively (for the cycle check). */
const graph = new Map();
function walk(dir, fn) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    if (e === 'node_modules' || e === 'dist') continue;
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) walk(p, fn);
    else if (/\.(ts|tsx|mts)$/.test(e)) fn(p);
  }
}
for (const [root, name] of Object.entries(roots)) {
  walk(path.join(root, 'src'), (file) => {
    const text = readFileSync(file, 'utf8');
    const deps = [];
    for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'/gms)) {
      const base = path.join(path.dirname(file), m[1]).replace(/\.js$/, '');
      const hit = [`${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')].find((f) => existsSync(f));
      if (hit) deps.push(hit);
    }
    graph.set(file, deps);
    for (const m of text.matchAll(/from\s+'(@parley\/[a-z-]+)/g)) {
      const dep = m[1].slice('@parley/'.length);
      if (!allowed[name].includes(dep)) problems.push(`${file}: ${name} must not import @parley/${dep}`);
    }
    if (name === 'server') {
      const rel = path.relative('packages/server/src', file);
      const infra = rel.startsWith('platform/') || (rel.startsWith('realtime/') && !rel.endsWith('gateway.ts'));
      if (infra && /from\s+'(\.\.\/)+features\//.test(text))
        problems.push(`${file}: infrastructure must not import features`);
    }
  });
}
// Tarjan's strongly connected components: each component of more than one file is a cycle.
{
  let next = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) !== index.get(v)) return;
    const component = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v))
      problems.push(`import cycle: ${component.sort().join(' ⇄ ')}`);
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('imports: ok');
