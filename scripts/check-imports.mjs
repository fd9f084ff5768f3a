#!/usr/bin/env node
// Imports flow one way: protocol ← server; protocol ← client ← react ← web (STYLE.md).
// Inside the server, shared infrastructure (platform/, realtime/) knows nothing about features,
// not even a type. Each feature folder has one public entry point, its index.ts: from outside
// the folder (another feature, app.ts, services.ts, main.ts, index.ts) only that is imported
// (tests are exempt from this rule only), and a feature imports only features below it in
// FEATURE_ORDER (docs/architecture.md, "The order of features").
// And no module imports itself round a loop: relative imports (type-only ones included, as a
// type cycle is a design cycle too) form no cycle inside any package. An entry point is seen
// through: an import of a name from features/x/index.ts counts as an import of the file that
// defines the name.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

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

/**
 * The server's features, bottom first. A feature may import (through its entry point) only the
 * features of lower lines; those on one line are peers and import none of each other.
 * docs/architecture.md draws the same order.
 */
export const FEATURE_ORDER = [
  ['audit', 'jobs', 'invitations'],
  ['users'],
  ['permissions', 'people'],
  ['channels'],
  ['moderation'],
  ['files', 'typing'],
  ['accounts', 'links', 'emoji'],
  ['images', 'webhooks', 'bookmarks'],
  ['messages'],
  ['polls', 'reads', 'inbox', 'search'],
  ['reactions', 'notifications', 'reminders'],
  ['presence', 'sidebar'],
  ['calls'],
  ['spaces'],
  ['events', 'notes', 'groups', 'imports', 'analytics', 'apps', 'commands'],
  ['admin'],
];

/**
 * Upward imports that are still there, each `'from>to'`: the cycles left to break. None is left
 * (issue #38); a new upward import fails rather than joining this list. A pair listed here that no
 * longer imports upward fails too, so the list only shrinks.
 */
export const KNOWN_UPWARD = [];

const SERVER_SRC = 'packages/server/src';
const FEATURES = `${SERVER_SRC}/features`;
const isTest = (file) => /\.test\.tsx?$/.test(file);

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

/** The names an import or export clause takes (`null`: all of them — `*`, a default, a namespace). */
function namesOf(clause) {
  const c = clause.trim().replace(/^type\s+/, '');
  const braces = c.match(/^\{([^}]*)\}$/s);
  if (!braces) return null;
  return braces[1]
    .split(',')
    .map((s) =>
      s
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)[0]
        .trim(),
    )
    .filter(Boolean);
}

/**
 * Checks the tree under `cwd` (the repository's root). Returns the problems found, each naming
 * the file and the rule; none on a clean tree.
 * @param {string} cwd
 * @param {{ order?: string[][], knownUpward?: string[] }} [options]
 */
export function checkImports(cwd, options = {}) {
  const order = options.order ?? FEATURE_ORDER;
  const knownUpward = new Set(options.knownUpward ?? KNOWN_UPWARD);
  const rank = new Map();
  order.forEach((line, i) => {
    for (const f of line) rank.set(f, i);
  });
  const problems = [];
  const rel = (file) => path.relative(cwd, file);
  /** file → the relative imports it makes: { spec target file, names (null: all) }. */
  const imports = new Map();
  const usedUpward = new Set();

  const featuresDir = path.join(cwd, FEATURES);
  const featureNames = existsSync(featuresDir)
    ? readdirSync(featuresDir).filter((e) => statSync(path.join(featuresDir, e)).isDirectory())
    : [];
  for (const f of featureNames) {
    if (!rank.has(f)) problems.push(`${FEATURES}/${f}: not in FEATURE_ORDER (scripts/check-imports.mjs): place it`);
    if (!existsSync(path.join(featuresDir, f, 'index.ts')))
      problems.push(`${FEATURES}/${f}: has no entry point (index.ts)`);
  }
  /** The feature a file is in (null: not in a feature). */
  const featureOf = (file) => {
    const r = path.relative(featuresDir, file).split(path.sep);
    return r.length > 1 && r[0] !== '..' ? r[0] : null;
  };
  const isEntry = (file) => {
    const f = featureOf(file);
    return f !== null && file === path.join(featuresDir, f, 'index.ts');
  };

  for (const [root, name] of Object.entries(roots)) {
    walk(path.join(cwd, root, 'src'), (file) => {
      const text = readFileSync(file, 'utf8');
      const deps = [];
      for (const m of text.matchAll(/^(?:import|export)\s([^;]*?)from\s+'(\.{1,2}\/[^']+)'/gms)) {
        const base = path.join(path.dirname(file), m[2]).replace(/\.js$/, '');
        const hit = [`${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')].find((f) => existsSync(f));
        if (hit) deps.push({ to: hit, names: namesOf(m[1]) });
      }
      imports.set(file, deps);
      for (const m of text.matchAll(/from\s+'(@parley\/[a-z-]+)/g)) {
        const dep = m[1].slice('@parley/'.length);
        if (!allowed[name].includes(dep)) problems.push(`${rel(file)}: ${name} must not import @parley/${dep}`);
      }
      if (name !== 'server') return;
      const at = path.relative(path.join(cwd, SERVER_SRC), file);
      const infra = at.startsWith(`platform${path.sep}`) || at.startsWith(`realtime${path.sep}`);
      const from = featureOf(file);
      for (const { to } of deps) {
        const target = featureOf(to);
        if (target === null || target === from) continue;
        const what = `features/${target}/${path.relative(path.join(featuresDir, target), to)}`;
        if (infra) {
          problems.push(
            `${rel(file)}: imports ${what}: infrastructure (platform/, realtime/) must not import features`,
          );
          continue;
        }
        if (!isEntry(to) && !isTest(file))
          problems.push(
            `${rel(file)}: imports ${what}: another feature is imported only through its entry point, features/${target}/index.ts`,
          );
        if (from !== null && rank.has(from) && rank.has(target) && rank.get(target) >= rank.get(from)) {
          const pair = `${from}>${target}`;
          if (knownUpward.has(pair)) usedUpward.add(pair);
          else
            problems.push(
              `${rel(file)}: imports features/${target}: ${from} may import only features below it in FEATURE_ORDER, and ${target} is ${rank.get(target) === rank.get(from) ? 'its peer' : 'above it'} (docs/architecture.md)`,
            );
        }
      }
    });
  }
  for (const pair of knownUpward)
    if (!usedUpward.has(pair))
      problems.push(
        `KNOWN_UPWARD (scripts/check-imports.mjs) lists ${pair}, which is no longer imported upward: remove it`,
      );

  // The graph for the cycle check, seeing through entry points: a name imported from an
  // index.ts is an edge to the file that index re-exports it from.
  const reexports = new Map();
  const entryMap = (index) => {
    let map = reexports.get(index);
    if (map) return map;
    map = new Map();
    for (const d of imports.get(index) ?? []) for (const n of d.names ?? ['*']) map.set(n, d.to);
    reexports.set(index, map);
    return map;
  };
  const graph = new Map();
  for (const [file, deps] of imports) {
    const out = new Set();
    for (const { to, names } of deps) {
      if (!isEntry(to) || isEntry(file)) {
        out.add(to);
        continue;
      }
      const map = entryMap(to);
      if (names === null) for (const t of map.values()) out.add(t);
      else for (const n of names) out.add(map.get(n) ?? to);
    }
    graph.set(file, [...out]);
  }
  // Tarjan's strongly connected components: each component of more than one file is a cycle.
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
      problems.push(`import cycle: ${component.map(rel).sort().join(' ⇄ ')}`);
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return problems;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const problems = checkImports(process.cwd());
  if (problems.length) {
    console.error(problems.join('\n'));
    process.exit(1);
  }
  console.log('imports: ok');
}
