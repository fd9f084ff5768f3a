#!/usr/bin/env node
// The parley command. It runs the built JavaScript in dist/ (`npm ci` builds it; a published
// package ships it): plain Node, no compiler on the way to a ready server. In the repository,
// when a source file of the CLI or a package it runs is newer than its build (an edit not
// rebuilt yet), or when Node runs with `--conditions=@parley/source`, it runs the TypeScript
// sources through tsx instead, so what runs is always what is written.
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtIsCurrent } from './built.mjs';

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

const wantsSource = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes(SOURCE));
let main;
const dirs = wantsSource ? null : packageDirs();
if (dirs && builtIsCurrent(dirs)) {
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
