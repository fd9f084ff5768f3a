#!/usr/bin/env node
// The parley command. It runs the built JavaScript in dist/ (`npm ci` builds it; a published
// package ships it): plain Node, no compiler on the way to a ready server. In the repository,
// when a source file of the CLI or a package it runs is newer than its build (an edit not
// rebuilt yet), or when Node runs with `--conditions=@parley/source`, it runs the TypeScript
// sources through tsx instead, so what runs is always what is written.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { register } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = '@parley/source';
const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The package folders the CLI runs: its own, the server's and the protocol's, and the
 * conformance kit's (with @parley/node) where they are installed: only `parley conformance`
 * loads them, so an install without them (a trimmed image) still runs its built JavaScript.
 */
function packageDirs() {
  const dirs = [path.join(here, '..')];
  const wanted = [
    ['@parley/server', true],
    ['@parley/protocol', true],
    ['@parley/conformance', false],
    ['@parley/node', false],
  ];
  for (const [name, needed] of wanted) {
    try {
      let dir = path.dirname(fileURLToPath(import.meta.resolve(name)));
      while (!existsSync(path.join(dir, 'package.json')) && dir !== path.dirname(dir)) dir = path.dirname(dir);
      dirs.push(dir);
    } catch {
      if (needed) return null; // not resolvable as built JavaScript: run the sources
    }
  }
  return dirs;
}

/** True when every package has a dist/ at least as new as each file of its src/. */
function builtIsCurrent() {
  const dirs = packageDirs();
  if (!dirs) return false;
  for (const dir of dirs) {
    const entry = ['dist/main.js', 'dist/index.js'].map((f) => path.join(dir, f)).find((f) => existsSync(f));
    if (!entry) return false;
    const built = statSync(entry).mtimeMs;
    const src = path.join(dir, 'src');
    if (!existsSync(src)) continue;
    // Files only: a folder's time is when it was made, which for an installed package is the
    // install (npm's tarballs hold no folders, and give every file one fixed time).
    for (const f of readdirSync(src, { recursive: true })) {
      const st = statSync(path.join(src, String(f)));
      if (st.isFile() && st.mtimeMs > built) return false;
    }
  }
  return true;
}

const wantsSource = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes(SOURCE));
let main;
if (!wantsSource && builtIsCurrent()) {
  ({ main } = await import('../dist/main.js'));
} else {
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  // Registered last, so it runs first: every import sees the condition that picks src/.
  register(
    `data:text/javascript,${encodeURIComponent(
      `export function resolve(s, c, next) { return next(s, { ...c, conditions: [...c.conditions, ${JSON.stringify(SOURCE)}] }); }`,
    )}`,
  );
  ({ main } = await import('../src/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
