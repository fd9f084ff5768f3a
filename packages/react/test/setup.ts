/**
 * Vitest setup, run before every test file (vitest.config.ts `setupFiles`). Testing Library
 * unmounts what a test rendered through an `afterEach` it registers when first imported; the
 * files of a worker share their modules (`isolate: false`), so only the first DOM file of a
 * worker would get it, and the next would find the last one's components still on the page.
 */
import { afterEach, beforeEach } from 'vitest';

afterEach(async () => {
  if (typeof document === 'undefined') return;
  const { cleanup } = await import('@testing-library/react');
  cleanup();
});

/**
 * A failed test calls the failure reporters registered under this symbol: every Chromium that
 * apps/web/test/browser.ts launched prints what its pages showed, so a failure seen once in CI
 * can be read from the log instead of guessed at. (The symbol, not an import: this file runs
 * before every test file, and most never load Playwright.)
 */
beforeEach(({ onTestFailed, task }) => {
  onTestFailed(async () => {
    const reporters = (globalThis as Record<symbol, unknown>)[Symbol.for('parley.test.onFailed')] as
      | Set<(test: string) => Promise<void>>
      | undefined;
    for (const report of reporters ?? []) await report(task.fullTestName ?? task.name).catch(() => {});
  });
});

/**
 * With PARLEY_TEST_CPU_LOG set, each file's CPU time in its worker (not its child processes) is
 * appended to that file, one JSON line per file: where the suite's CPU goes (#38, CI time).
 */
const cpuLog = process.env.PARLEY_TEST_CPU_LOG;
if (cpuLog) {
  const { appendFileSync } = await import('node:fs');
  const { afterAll, beforeAll, expect } = await import('vitest');
  let start: NodeJS.CpuUsage;
  let wall = 0;
  beforeAll(() => {
    start = process.cpuUsage();
    wall = performance.now();
  });
  afterAll(() => {
    const used = process.cpuUsage(start);
    const file = expect.getState().testPath ?? '?';
    const line = {
      file,
      project: process.env.VITEST_POOL_ID ?? '',
      cpu_ms: Math.round((used.user + used.system) / 1000),
      wall_ms: Math.round(performance.now() - wall),
      db: process.env.PARLEY_TEST_DB,
    };
    appendFileSync(cpuLog, `${JSON.stringify(line)}\n`);
  });
}

/**
 * With PARLEY_TEST_CPU_PROF=<folder>, each file's V8 CPU profile in its worker is written there
 * (`<pid>-<n>.cpuprofile`, open it in Chrome's DevTools): where a file's CPU goes. Taken through
 * the inspector because a worker is ended without exiting, so `node --cpu-prof` writes nothing.
 */
const cpuProf = process.env.PARLEY_TEST_CPU_PROF;
if (cpuProf) {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const { Session } = await import('node:inspector/promises');
  const { afterAll, beforeAll, expect } = await import('vitest');
  const state = globalThis as { [k: symbol]: { session: InstanceType<typeof Session>; n: number } | undefined };
  const key = Symbol.for('parley.test.cpuProf');
  beforeAll(async () => {
    if (state[key]) return;
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 1000 });
    await session.post('Profiler.start');
    state[key] = { session, n: 0 };
  });
  afterAll(async () => {
    const prof = state[key];
    if (!prof) return;
    const { profile } = await prof.session.post('Profiler.stop');
    prof.n += 1;
    mkdirSync(cpuProf, { recursive: true });
    const file = (expect.getState().testPath ?? '?').split('/').slice(-2).join('_');
    writeFileSync(`${cpuProf}/${process.pid}-${prof.n}-${file}.cpuprofile`, JSON.stringify(profile));
    await prof.session.post('Profiler.start');
  });
}
