#!/usr/bin/env node
// Imports flow one way: protocol ← server; protocol ← client ← react ← web (STYLE.md).
// Shared infrastructure in the server (platform/, realtime/) knows nothing about features,
// except the gateway, which is where socket frames meet feature handlers.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const allowed = {
  protocol: [],
  server: ['protocol'],
  cli: ['server', 'protocol'],
  client: ['protocol'],
  react: ['client', 'protocol'],
  web: ['react', 'client', 'protocol'],
};
const roots = {
  'packages/protocol': 'protocol',
  'packages/server': 'server',
  'packages/cli': 'cli',
  'packages/client': 'client',
  'packages/react': 'react',
  'apps/web': 'web',
};

const problems = [];
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
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('imports: ok');
