#!/usr/bin/env node
// Imports flow one way: protocol ← server; protocol ← client ← react ← web, client ← react-native (STYLE.md);
// protocol ← node ← conformance ← cli.
// Inside the server, shared infrastructure (platform/, realtime/) knows nothing about features,
// not even a type. Each feature folder has one public entry point, its index.ts: from outside
// the folder (another feature, app.ts, services.ts, main.ts, index.ts) only that is imported
// (tests are exempt from this rule only), and a feature imports only features below it in
// FEATURE_ORDER (docs/architecture.md, "The order of features").
// And no module imports itself round a loop: relative imports (type-only ones included, as a
// type cycle is a design cycle too) form no cycle inside any package. An entry point is seen
// through: an import of a name from features/x/index.ts counts as an import of the file that
// defines the name.
//
// Every form of import counts, read by a real TypeScript/JSX parser (@babel/parser), not by
// patterns over the text: `import … from`, a bare `import '…'` (run for its side effects),
// `import type`, `export … from`, `export * from`, `import('…')`, `import x = require('…')`,
// `require('…')` and `import('…').T` in a type. A dynamic import or require whose specifier is
// not a plain string cannot be checked, so it is a problem itself. (es-module-lexer cannot read
// JSX, TypeScript 7 has no compiler API, and dependency-cruiser needs Node 22 and that API to
// see type-only imports; its rules could not see through entry points by name either.)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from '@babel/parser';

const allowed = {
  protocol: [],
  server: ['protocol'],
  cli: ['server', 'protocol', 'conformance'],
  client: ['protocol'],
  node: ['protocol'],
  conformance: ['node', 'protocol'],
  react: ['client', 'protocol'],
  'react-native': ['client', 'protocol'],
  web: ['react', 'client', 'protocol'],
};
const roots = {
  'packages/protocol': 'protocol',
  'packages/server': 'server',
  'packages/cli': 'cli',
  'packages/client': 'client',
  'packages/node': 'node',
  'packages/conformance': 'conformance',
  'packages/react': 'react',
  'packages/react-native': 'react-native',
  'apps/web': 'web',
};

/**
 * The server's features, bottom first. A feature may import (through its entry point) only the
 * features of lower lines; those on one line are peers and import none of each other.
 * docs/architecture.md draws the same order.
 */
export const FEATURE_ORDER = [
  ['audit', 'jobs', 'invitations', 'backups'],
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
  ['presence', 'sidebar', 'tasks'],
  ['calls'],
  ['spaces'],
  ['events', 'notes', 'groups', 'imports', 'analytics', 'apps', 'commands', 'flags', 'assistant'],
  ['admin'],
];

/**
 * Upward imports that are still there, each `'from>to'`: the cycles left to break. None is left
 * (issue #38); a new upward import fails rather than joining this list. A pair listed here that no
 * longer imports upward fails too, so the list only shrinks.
 */
export const KNOWN_UPWARD = [];

/**
 * Modules a first `parley start` loads before anything heavy, each with the packages it may load:
 * the data folder's open (the database's thread starts copying the template and booting PGlite
 * from it while the server loads; docs/benchmarks.md, "First start"). What they load at once —
 * imports that are neither type-only nor dynamic, followed through every file they reach — may
 * name only node's built-ins and those packages.
 */
export const LIGHT_ENTRIES = {
  // The migrators are a few lines each over drizzle-orm/migrator (migrate.ts holds the folder).
  'packages/server/src/platform/db/data-folder.ts': [
    'drizzle-orm/migrator',
    'drizzle-orm/node-postgres/migrator',
    'drizzle-orm/pglite/migrator',
  ],
};

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

/**
 * Every module a file names, as `{ spec, names, line, eager }`: `names` are the names taken from
 * it (`null`: all of them — `*`, a default, a namespace, a bare or dynamic import), or, for a
 * specifier that is not a plain string, `spec: null`; `eager` when loading the file loads it
 * (not a type-only import, not `import()` or a type's `import('…')`).
 */
export function readImports(file, text) {
  const ast = parse(text, {
    sourceType: 'module',
    plugins: /\.tsx$/.test(file) ? ['typescript', 'jsx'] : ['typescript'],
    createImportExpressions: true,
  });
  const out = [];
  const literal = (node) =>
    node?.type === 'StringLiteral'
      ? node.value
      : node?.type === 'TemplateLiteral' && node.expressions.length === 0
        ? node.quasis[0].value.cooked
        : null;
  const add = (node, spec, names, eager = true) => out.push({ spec, names, line: node.loc?.start.line ?? 0, eager });
  // Only `import type` / `export type` load nothing: under verbatimModuleSyntax (tsconfig.json)
  // `import { type A } from '…'` is emitted as `import {} from '…'`, which loads the module.
  const nameOf = (n) => (n.type === 'StringLiteral' ? n.value : n.name);
  for (const s of ast.program.body) {
    if (s.type === 'ImportDeclaration') {
      const named = s.specifiers.filter((x) => x.type === 'ImportSpecifier');
      add(
        s,
        s.source.value,
        named.length && named.length === s.specifiers.length ? named.map((x) => nameOf(x.imported)) : null,
        s.importKind !== 'type',
      );
    } else if (s.type === 'ExportNamedDeclaration' && s.source) {
      const named = s.specifiers.filter((x) => x.type === 'ExportSpecifier');
      // The names as the re-exporting module offers them: what an importer of it asks for.
      add(
        s,
        s.source.value,
        named.length && named.length === s.specifiers.length ? named.map((x) => nameOf(x.exported)) : null,
        s.exportKind !== 'type',
      );
    } else if (s.type === 'ExportAllDeclaration') add(s, s.source.value, null, s.exportKind !== 'type');
    else if (s.type === 'TSImportEqualsDeclaration' && s.moduleReference.type === 'TSExternalModuleReference')
      add(s, s.moduleReference.expression.value, null, s.importKind !== 'type');
  }
  // Imports inside code and types: import(), require(), import('…').T. Only subtrees whose
  // text holds `import`, `require` or a `\u` escape (an identifier may be spelled with one)
  // can hold one: the others are not walked, which keeps the walk to a small part of the tree.
  const marks = [...text.matchAll(/import|require|\\u/g)].map((m) => m.index);
  const holdsMark = (node) => {
    let lo = 0;
    let hi = marks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (marks[mid] < node.start) lo = mid + 1;
      else hi = mid;
    }
    return lo < marks.length && marks[lo] < node.end;
  };
  const stack = [ast.program];
  while (stack.length) {
    const node = stack.pop();
    if (!holdsMark(node)) continue;
    if (node.type === 'ImportExpression') add(node, literal(node.source), null, false);
    else if (
      node.type === 'CallExpression' &&
      (node.callee.type === 'Import' || (node.callee.type === 'Identifier' && node.callee.name === 'require'))
    )
      add(node, literal(node.arguments[0]), null, node.callee.type !== 'Import');
    else if (node.type === 'TSImportType') add(node, literal(node.argument?.literal ?? node.argument), null, false);
    for (const key in node) {
      if (key === 'loc' || key === 'extra' || key.endsWith('Comments')) continue;
      const v = node[key];
      if (Array.isArray(v)) {
        for (const c of v) if (c && typeof c.type === 'string') stack.push(c);
      } else if (v && typeof v.type === 'string') stack.push(v);
    }
  }
  return out;
}

/**
 * Checks the tree under `cwd` (the repository's root). Returns the problems found, each naming
 * the file and the rule; none on a clean tree.
 * @param {string} cwd
 * @param {{ order?: string[][], knownUpward?: string[], lightEntries?: Record<string, string[]> }} [options]
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
  /** file → the relative imports it makes: { spec target file, names (null: all), eager }. */
  const imports = new Map();
  /** file → the packages it loads at once: { spec, line }. */
  const eagerPackages = new Map();
  const usedUpward = new Set();

  // A workspace package with sources that this check does not know would be checked by no rule.
  const manifest = path.join(cwd, 'package.json');
  const workspaces = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')).workspaces ?? []) : [];
  for (const w of workspaces)
    if (!(w in roots) && existsSync(path.join(cwd, w, 'src')))
      problems.push(
        `${w}: a workspace package with src/ that scripts/check-imports.mjs does not check: add it to roots and allowed`,
      );

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
      const packages = [];
      let found;
      try {
        found = readImports(file, text);
      } catch (err) {
        problems.push(`${rel(file)}: cannot be parsed: ${err.message}`);
        found = [];
      }
      for (const { spec, names, line, eager } of found) {
        if (spec === null) {
          problems.push(
            `${rel(file)}:${line}: imports a module named by an expression, which cannot be checked: name it with a plain string`,
          );
          continue;
        }
        if (spec.startsWith('./') || spec.startsWith('../')) {
          const base = path.join(path.dirname(file), spec).replace(/\.js$/, '');
          const hit = [`${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')].find((f) => existsSync(f));
          if (hit) deps.push({ to: hit, names, eager });
          continue;
        }
        if (eager) packages.push({ spec, line });
        const pkg = spec.match(/^@parley\/([a-z-]+)/);
        if (pkg && !allowed[name].includes(pkg[1]))
          problems.push(`${rel(file)}: ${name} must not import @parley/${pkg[1]}`);
      }
      imports.set(file, deps);
      eagerPackages.set(file, packages);
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

  for (const [entry, allowedPackages] of Object.entries(options.lightEntries ?? LIGHT_ENTRIES)) {
    const start = path.join(cwd, entry);
    if (!imports.has(start)) {
      problems.push(`LIGHT_ENTRIES (scripts/check-imports.mjs) lists ${entry}, which is not a source file: remove it`);
      continue;
    }
    /** Each file loaded at once from the entry, with the file that loads it (for the message). */
    const via = new Map([[start, null]]);
    const queue = [start];
    while (queue.length) {
      const file = queue.shift();
      for (const { spec, line } of eagerPackages.get(file) ?? []) {
        if (spec.startsWith('node:') || allowedPackages.includes(spec)) continue;
        const chain = [];
        for (let f = file; f !== null; f = via.get(f)) chain.unshift(rel(f));
        problems.push(
          `${rel(file)}:${line}: loads ${spec} at once, and ${entry} must load only node's built-ins and ${allowedPackages.join(', ') || 'nothing else'} (LIGHT_ENTRIES; through ${chain.join(' → ')}): import it type-only, or with import() where it is needed`,
        );
      }
      for (const { to, eager } of imports.get(file) ?? [])
        if (eager && !via.has(to)) {
          via.set(to, file);
          queue.push(to);
        }
    }
  }

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
