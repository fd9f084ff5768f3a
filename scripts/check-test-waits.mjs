#!/usr/bin/env node
// Three classes of flaky test this catches before they land (issue 38):
//
// - A fixed port. Two test files run at once (two workers), and CI's machine runs other
//   services: a server, fake provider or receiver in a test listens on port 0 and is told its
//   port, never on a number of ours (`listen(4000)`, `listen({ port: 4000 })`, `--port 4000`).
// - A sleep used as a wait. `await sleep(300)` "for the event to arrive" passes on a quiet
//   machine and fails under load; a test waits for the condition itself (`until`, `waitFor`,
//   a reply that comes after the thing in the same ordered stream). A sleep is right in three
//   cases, and each must say so: a poll inside a loop that checks the condition, a window in
//   which something must NOT happen ("had it been sent, it would have arrived by now"), and a
//   time the test is about (a token's expiry, a grace period, milliseconds apart). So every
//   sleep in a test file is inside a loop, or has a comment on its line or just above it.
// - A background tab. A second `context.newPage()` in one Chromium context is a tab behind the
//   first (headless Chromium keeps tabs as a window does), and a hidden page renders no frames:
//   each Playwright action on the page behind waits ~2 s for its "stable" check, longer under
//   load, against a test's timeout. A second page of a context opens as a window of its own
//   (`openWindow` in apps/web/test/browser.ts); a tab on purpose says so on its line.
//
// A test file is any `*.test.*` file the repository holds (tracked or new).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The machine's own services, which tests reach at their standard ports. */
const SERVICE_PORTS = new Set([5432, 6379, 4222, 3306, 5672, 1883]);
const FIXED_PORT = [
  /\.listen\(\s*(\d+)/g,
  /\blisten\(\s*\{[^}]*\bport:\s*(\d+)/g,
  /['"]--port['"],\s*['"](\d+)['"]/g,
  /\bPORT:\s*['"](\d+)['"]/g,
];
const SLEEP = /setTimeout\(\s*\w+\s*,\s*[\w.*+\- ()]+\)\s*\)|\bsleep\(|\bwaitForTimeout\(|\bdelay\(\s*\d/;
const LOOP = /^\s*(while|for|do)\b|\bwhile\s*\(/;
/** Lines that define a sleep helper rather than use one. */
const DEFINITION = /^\s*(export\s+)?(const|function|let)\s+\w+\s*=?\s*(\(|async|\w+\s*=>)/;

/** `X.newPage()`: X is a context (a browser's `newPage()` makes a context of its own). */
const NEW_PAGE = /([\w.()]+)\.newPage\(\)/g;
const TEST_START = /^\s*(it|test)(\.\w+)?\(/;

/** What is wrong in the test file `f` whose text is `text`: one line per problem, `file:line: why`. */
export function problemsIn(f, text) {
  const problems = [];
  const lines = text.split('\n');
  let opened = new Set();
  lines.forEach((line, i) => {
    if (TEST_START.test(line)) opened = new Set();
    for (const m of line.replace(/\/\/.*$/, '').matchAll(NEW_PAGE)) {
      const context = m[1];
      if (context === 'browser' || line.includes('//')) continue;
      if (opened.has(context) || context.endsWith('.context()'))
        problems.push(
          `${f}:${i + 1}: a second page of one context is a background tab, whose actions wait for frames it never draws: open it with openWindow(context), or say on its line why a tab`,
        );
      opened.add(context);
    }
  });
  lines.forEach((line, i) => {
    const code = line.replace(/\/\/.*$/, '');
    for (const re of FIXED_PORT) {
      for (const m of code.matchAll(re)) {
        const port = Number(m[1]);
        // `PORT: '1'` and friends in tests of refused ports are not listening anywhere.
        if (port !== 0 && port > 1024 && port <= 65535 && !SERVICE_PORTS.has(port))
          problems.push(`${f}:${i + 1}: a fixed port (${port}): listen on 0 and use the port you are given`);
      }
    }
    if (!SLEEP.test(code) || DEFINITION.test(code)) return;
    if (line.includes('//') || /^\s*\/\/|^\s*\*/.test(lines[i - 1] ?? '')) return;
    // Inside a loop that polls: a loop header within the few lines above.
    for (let j = i; j >= Math.max(0, i - 8); j--) if (LOOP.test(lines[j] ?? '')) return;
    problems.push(
      `${f}:${i + 1}: a sleep with no reason: wait for the condition instead, or say on its line (or the line above) why a fixed time is right here`,
    );
  });
  return problems;
}

if (process.argv[1] === import.meta.filename) {
  const root = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, '..'));
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\n')
    // This checker's own test plants each problem on purpose.
    .filter((f) => /\.test\.[cm]?[jt]sx?$/.test(f) && f !== 'scripts/check-test-waits.test.mjs');
  const problems = files.flatMap((f) => problemsIn(f, readFileSync(path.join(root, f), 'utf8')));
  if (problems.length) {
    console.error(`test waits:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(
    `test waits: ok (${files.length} test files: no fixed ports, every sleep polls or says why, no background tab by accident)`,
  );
}
