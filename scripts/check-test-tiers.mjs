#!/usr/bin/env node
// Every test file is in exactly one test tier (vitest.config.ts: unit, server, slow), on PGlite,
// and every `*.pg.test.ts` again in the same tier's PostgreSQL project: a new file that no
// tier's globs name would otherwise never run, in CI or anywhere. Asks Vitest itself, with the
// real config, which project would run each file, so the globs are read as Vitest reads them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createVitest } from 'vitest/node';
import { BOTH_BACKENDS, checksOneBackend } from './test-split.mjs';

const root = path.resolve(import.meta.dirname, '..');
// The PostgreSQL projects exist only with DATABASE_URL; nothing connects to it here.
process.env.DATABASE_URL ||= 'postgres://tier-check.invalid/none';

// Tracked and new files, not what .gitignore leaves out (node_modules, dist/, …).
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
  cwd: root,
  encoding: 'utf8',
})
  .split('\n')
  .filter((f) => /\.test\.[cm]?[jt]sx?$/.test(f))
  .sort();

const vitest = await createVitest('test', {
  root,
  watch: false,
  run: true,
  config: path.join(root, 'vitest.config.ts'),
});
const problems = [];
try {
  const projects = vitest.projects;
  const names = projects.map((p) => p.name);
  for (const want of ['unit', 'server:pglite', 'slow:pglite', 'server:postgres', 'slow:postgres']) {
    if (!names.includes(want)) problems.push(`vitest.config.ts has no project ${want}`);
  }
  const tierOf = (name) => name.split(':')[0];
  for (const file of files) {
    const abs = path.join(root, file);
    const matching = projects.filter((p) => p.matchesTestGlob(abs)).map((p) => p.name);
    const onPglite = matching.filter((n) => !n.endsWith(':postgres'));
    const onPostgres = matching.filter((n) => n.endsWith(':postgres'));
    if (onPglite.length !== 1) {
      problems.push(`${file}: in ${onPglite.length === 0 ? 'no tier' : onPglite.join(' and ')}; it must be in one`);
      continue;
    }
    const isPg = file.endsWith('.pg.test.ts');
    if (isPg && (onPostgres.length !== 1 || tierOf(onPostgres[0]) !== tierOf(onPglite[0]))) {
      problems.push(`${file}: in ${onPglite[0]} but on PostgreSQL in ${onPostgres.join(' and ') || 'none'}`);
    }
    if (!isPg && onPostgres.length > 0) {
      problems.push(`${file}: not a *.pg.test.ts, yet in ${onPostgres.join(' and ')}`);
    }
    // Under CI's split (vitest.config.ts) a file of the server tier or the fuzz suite runs on
    // one backend a commit: one with a test or a check for one backend only would miss it in
    // half the commits' CI, unless it runs on both.
    const split = isPg && (tierOf(onPglite[0]) === 'server' || file.startsWith('packages/server/test/fuzz/'));
    if (split && !BOTH_BACKENDS.includes(file) && checksOneBackend(readFileSync(abs, 'utf8'))) {
      problems.push(
        `${file}: has a test or a check for one backend only; add it to BOTH_BACKENDS (scripts/test-split.mjs), or CI's split leaves it out on half the commits`,
      );
    }
  }
} finally {
  await vitest.close();
}

// Jest's files (React Native's tests: `*.spec.ts(x)` in packages/react-native/__tests__) are run
// by one Vitest file of the slow tier, which spawns Jest there; a spec file anywhere else would
// run nowhere.
const JEST_DIR = 'packages/react-native/__tests__/';
const JEST_RUNNER = 'packages/react-native/test/jest.test.ts';
const specs = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
  cwd: root,
  encoding: 'utf8',
})
  .split('\n')
  .filter((f) => /\.spec\.[cm]?[jt]sx?$/.test(f));
for (const f of specs)
  if (!f.startsWith(JEST_DIR))
    problems.push(`${f}: a spec file outside ${JEST_DIR} is run by nothing (Jest runs only there)`);
if (specs.length && !files.includes(JEST_RUNNER))
  problems.push(`${JEST_RUNNER} is missing: nothing would run the Jest files in ${JEST_DIR}`);

if (problems.length) {
  console.error(`Test tiers (vitest.config.ts):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(
  `test tiers: ${files.length} test files, each in one tier; ${specs.length} Jest files, run by ${JEST_RUNNER}`,
);
