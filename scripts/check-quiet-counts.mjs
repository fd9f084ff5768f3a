#!/usr/bin/env node
// A test that counts database statements (`queryCount()`) must start its server with the
// harness's QUIET config (packages/server/test/harness.ts): the server's background work — the
// search index's merge every second, notification jobs, usage samples — otherwise lands inside a
// count now and then, more often the more loaded the machine (query-cost.pg.test.ts counted 6
// statements instead of 4 under load: a merge and a cache refresh in its window).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
  cwd: root,
  encoding: 'utf8',
})
  .split('\n')
  .filter((f) => /\.test\.[cm]?[jt]sx?$/.test(f));
const bad = [];
for (const f of files) {
  const text = readFileSync(path.join(root, f), 'utf8');
  if (/\bqueryCount\(\)/.test(text) && !/\bQUIET\b/.test(text)) bad.push(f);
}
if (bad.length) {
  console.error(
    `quiet counts: these tests count statements but do not start their server with QUIET (test/harness.ts):\n  ${bad.join('\n  ')}`,
  );
  process.exit(1);
}
console.log(`quiet counts: ok (${files.length} test files)`);
