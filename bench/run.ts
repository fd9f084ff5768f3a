/**
 * The benchmark suite of the scale-out issue: every scenario against Parley and, side by side
 * in the same run, the baselines in bench/baselines/ (raw `ws` broadcasting one pre-serialized
 * buffer — the ceiling — and a Socket.IO 4 room broadcast, with its Redis adapter when there
 * are several nodes).
 *
 *   npm run bench          short run, at most 5 minutes
 *   npm run bench:full     full run (10,000 idle connections, finer steps, longer windows)
 *   node --import tsx bench/run.ts [--full] [--only idle,fanout,chatmix,persist,storm]
 *                                  [--fanout-db pg|pglite] [--fanout-order connect-first|members-first]
 *                                  [--nodes 1|2]
 *
 * Servers and load generators each run in their own process; loopback only; every loop is
 * bounded by a count and a deadline; every process started here is killed at the end, even
 * on failure. Progress goes to stderr; the report (markdown) to stdout and to
 * bench/results/<date>.md with a chart in bench/results/<date>.svg.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { renderSvg } from './lib/chart.js';
import { BENCH_DIR, hookExit, killAll, onSignal } from './lib/proc.js';
import { type Ctx, load, progress, type ScenarioResult, table } from './lib/report.js';
import { pgVersion, runCleanups } from './lib/setup.js';
import { chatmix } from './scenarios/chatmix.js';
import { fanout } from './scenarios/fanout.js';
import { idle } from './scenarios/idle.js';
import { persist } from './scenarios/persist.js';
import { storm } from './scenarios/storm.js';

const { values } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    only: { type: 'string' },
    'fanout-db': { type: 'string', default: 'pg' },
    'fanout-order': { type: 'string' },
    nodes: { type: 'string' },
    out: { type: 'string', default: path.join(BENCH_DIR, 'results') },
  },
});
const full = values.full === true;
const ALL = ['idle', 'fanout', 'chatmix', 'persist', 'storm'];
const only = values.only ? values.only.split(',') : ALL;
for (const o of only) if (!ALL.includes(o)) throw new Error(`unknown scenario "${o}" (${ALL.join(', ')})`);

// Time budgets (ms). The short run must end within 5 minutes, start-up and report included.
const TOTAL = full ? 60 * 60_000 : 285_000;
const BUDGET: Record<string, number> = full
  ? { idle: 6 * 60_000, fanout: 20 * 60_000, chatmix: 12 * 60_000, persist: 10 * 60_000, storm: 10 * 60_000 }
  : { idle: 35_000, fanout: 70_000, chatmix: 100_000, persist: 30_000, storm: 70_000 };

const nodes = values.nodes ? Number(values.nodes) : full ? 2 : 1;
// Two-node rows (Parley ×2 with Redis, Socket.IO ×2 with its Redis adapter) nearly double
// the chat mix: the short run leaves them out unless asked (--nodes 2).
if (nodes > 1 && !full) BUDGET.chatmix = 170_000;

const start = performance.now();
const deadline = start + TOTAL;
const ctx: Ctx = { full, deadline, log: progress };
const loadStart = load();
progress(
  'bench',
  `${full ? 'full' : 'short'} run: ${only.join(', ')}; load average ${loadStart}; ${cpus().length} cores`,
);

// Ctrl-C: children are killed, then scratch databases dropped.
hookExit();
onSignal(runCleanups);
// A stray rejection (a child that died mid-command) is reported, not fatal: the scenario that
// owns it has already failed and cleans up.
process.on('unhandledRejection', (err) => progress('bench', `unhandled: ${(err as Error)?.message ?? err}`));

// Whatever happens, nothing outlives the deadline.
const watchdog = setTimeout(() => {
  progress('bench', 'global deadline passed: killing every bench process');
  killAll();
  void runCleanups().finally(() => process.exit(2));
}, TOTAL + 30_000);
watchdog.unref();

const results: ScenarioResult[] = [];
const failures: string[] = [];
async function run(key: string, fn: (remaining: number) => Promise<ScenarioResult>) {
  if (!only.includes(key)) return;
  const left = deadline - performance.now();
  // What is left is shared with the scenarios still to run, in proportion to their budgets.
  const later = only.slice(only.indexOf(key) + 1).reduce((a, k) => a + (BUDGET[k] ?? 0), 0);
  const budget = Math.min(BUDGET[key] as number, left - later * 0.8);
  if (budget < 10_000) {
    failures.push(`${key}: skipped, no time left in the run`);
    progress(key, 'skipped: no time left');
    return;
  }
  const t = performance.now();
  progress(key, `start (budget ${(budget / 1000).toFixed(0)} s, load average ${load()})`);
  try {
    results.push(await fn(budget));
  } catch (e) {
    failures.push(`${key}: ${(e as Error).message}`);
    progress(key, `FAILED: ${(e as Error).stack}`);
  } finally {
    await runCleanups();
    progress(key, `done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
}

try {
  await run('idle', () => idle(ctx));
  await run('fanout', (b) =>
    fanout(ctx, {
      db: values['fanout-db'] === 'pglite' ? 'pglite' : 'pg',
      budgetMs: b,
      membersFirst: (values['fanout-order'] ?? (full ? 'members-first' : 'connect-first')) === 'members-first',
    }),
  );
  await run('chatmix', (b) => chatmix(ctx, { budgetMs: b, multiNode: nodes > 1 }));
  await run('persist', (b) => persist(ctx, { budgetMs: b }));
  await run('storm', (b) => storm(ctx, { budgetMs: b }));
} finally {
  killAll();
  await runCleanups();
}

const when = new Date();
const stamp = when.toISOString().replace(/[:]/g, '-').replace(/\..*/, '');
const seconds = (performance.now() - start) / 1000;
let pgv = '?';
try {
  pgv = await pgVersion();
} catch {
  /* no PostgreSQL */
}
const targets = results.flatMap((r) => r.targets);
const md = [
  `# Parley benchmark — ${full ? 'full' : 'short'} run, ${when.toISOString()}`,
  '',
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GB; Node ${process.version}; PostgreSQL ${pgv}. ` +
    `Run took ${seconds.toFixed(0)} s. Load average at start: ${loadStart}; at end: ${load()} ` +
    '(a load above the core count means other work shared the machine and every number here is lower than on a quiet one).',
  '',
  '## Targets',
  '',
  table(
    ['target', 'measured', 'goal', 'met'],
    targets.map((t) => [t.label, t.value, t.target, t.met === null ? 'not measured' : t.met ? '**yes**' : '**no**']),
    ['l', 'r', 'r', 'l'],
  ),
  '',
  ...results.flatMap((r) => [`## ${r.title}`, '', ...r.markdown, '']),
  ...(failures.length ? ['## Problems', '', ...failures.map((f) => `- ${f}`), ''] : []),
  `Chart: ${stamp}.svg`,
].join('\n');

mkdirSync(values.out as string, { recursive: true });
const mdPath = path.join(values.out as string, `${stamp}.md`);
const svgPath = path.join(values.out as string, `${stamp}.svg`);
writeFileSync(mdPath, `${md}\n`);
writeFileSync(
  svgPath,
  renderSvg(
    `Parley benchmark (${full ? 'full' : 'short'}) ${when.toISOString().slice(0, 16)}`,
    results.flatMap((r) => r.charts),
  ),
);
process.stdout.write(`${md}\n`);
progress(
  'bench',
  `done in ${seconds.toFixed(0)} s → ${path.relative(process.cwd(), mdPath)}, ${path.relative(process.cwd(), svgPath)}`,
);
clearTimeout(watchdog);
process.exit(failures.length && results.length === 0 ? 1 : 0);
