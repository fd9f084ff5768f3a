/**
 * The benchmark suite of the scale-out issue: every scenario against Parley and its peers —
 * raw `ws` coalescing a tick's frames per socket (the ceiling), Socket.IO 4 (a room broadcast,
 * Redis adapter with several nodes) and ejabberd 23.01 (MUC + MAM on PostgreSQL, XMPP over
 * WebSocket; bench/ejabberd/setup.sh installs and prepares it). Each scenario runs its servers
 * interleaved (A, B, C, D, A, B, C, D, …) `--repeat` times; the report gives medians, spreads
 * and the ratios of the runs made side by side, marking a ratio unreliable when its runs
 * disagree by more than 2×.
 *
 *   npm run bench          short run (scaled-down counts), with ejabberd about 14 minutes on a quick 2-core VM (28 on a slow one)
 *   npm run bench:full     full run (10,000 idle connections, 5,000 chat-mix users, finer steps)
 *   node --import tsx bench/run.ts [--full] [--scenario idle,fanout,chatmix,persist,storm,prodmix,tenk]
 *        [--servers parley,raw,sio,ejabberd,raw-each,raw-pg] [--repeat 3]
 *        [--fanout-db pg|pglite] [--fanout-order connect-first|members-first] [--nodes 1|2]
 *
 * Servers and load generators each run in their own process; loopback only; every loop is
 * bounded by a count and a deadline; every process started here is killed at the end, even
 * on failure. Progress goes to stderr; the report (markdown) to stdout and to
 * bench/results/<date>.md with a chart in bench/results/<date>.svg.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { renderSvg } from './lib/chart.js';
import { BENCH_DIR, hookExit, killAll, onSignal } from './lib/proc.js';
import { type Ctx, load, progress, type ScenarioResult, table } from './lib/report.js';
import { KINDS, type Kind, pgVersion, runCleanups } from './lib/setup.js';
import { chatmix } from './scenarios/chatmix.js';
import { fanout } from './scenarios/fanout.js';
import { idle } from './scenarios/idle.js';
import { persist } from './scenarios/persist.js';
import { prodmix, prodmixSeconds, prodmixVariants } from './scenarios/prodmix.js';
import { storm } from './scenarios/storm.js';
import { tenk } from './scenarios/tenk.js';

const USAGE = `usage: npm run bench [-- options]   (npm run bench:full for the full run)

  --scenario idle,fanout,chatmix,persist,storm,prodmix,tenk   which scenarios (default: all)
  --servers parley,raw,sio,ejabberd,raw-each,raw-pg   which servers (default: parley,raw,sio,ejabberd;
                                                 raw-pg, raw ws behind a PostgreSQL commit, runs in the chat mix only)
  --repeat N                                     interleaved runs of each server (default 3)
  --full                                         the full counts (10,000 idle, 5,000 chat-mix users)
  --fanout-db pg|pglite   --fanout-order connect-first|members-first   --nodes 1|2
  --mix-rate N                                   the chat mix's messages per second (default 500: 10,000
                                                 deliveries/s; lower it where 500 takes every core)
  --out DIR                                      where the report goes (default bench/results)

ejabberd needs a one-time setup: npm run bench:ejabberd-setup`;

let parsed: ReturnType<typeof parseOptions>;
function parseOptions() {
  return parseArgs({
    options: {
      help: { type: 'boolean', short: 'h', default: false },
      full: { type: 'boolean', default: false },
      only: { type: 'string' },
      scenario: { type: 'string' },
      servers: { type: 'string', default: 'parley,raw,sio,ejabberd' },
      repeat: { type: 'string', default: '3' },
      'fanout-db': { type: 'string', default: 'pg' },
      'fanout-order': { type: 'string' },
      nodes: { type: 'string' },
      'mix-rate': { type: 'string' },
      out: { type: 'string', default: path.join(BENCH_DIR, 'results') },
    },
  });
}
try {
  parsed = parseOptions();
} catch (e) {
  console.error(`${(e as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (parsed.values.help) {
  console.log(USAGE);
  process.exit(0);
}
const { values } = parsed;
const die = (msg: string): never => {
  console.error(`${msg}\n\n${USAGE}`);
  process.exit(2);
};
const full = values.full === true;
const ALL = ['idle', 'fanout', 'chatmix', 'persist', 'storm', 'prodmix', 'tenk'];
const picked = values.scenario ?? values.only;
const only = picked ? picked.split(',') : ALL;
for (const o of only) if (!ALL.includes(o)) die(`unknown scenario "${o}" (${ALL.join(', ')})`);
const repeat = Math.max(1, Math.min(10, Number(values.repeat) || 3));
let servers = (values.servers as string).split(',') as Kind[];
for (const k of servers) if (!KINDS.includes(k)) die(`unknown server "${k}" (${KINDS.join(', ')})`);
if (!servers.includes('parley')) die('--servers must include parley (every ratio is Parley / peer)');
const setupProblems: string[] = [];
if (servers.includes('ejabberd')) {
  try {
    execFileSync(path.join(BENCH_DIR, 'ejabberd', 'setup.sh'), ['check'], { stdio: 'ignore' });
  } catch {
    servers = servers.filter((k) => k !== 'ejabberd');
    setupProblems.push(
      'ejabberd: not installed or its template database is missing — run `bench/ejabberd/setup.sh` once (it was left out of this run).',
    );
  }
}

// Time budgets (ms), scaled by the repetitions and the servers (a budget is for 3 runs of 4).
const scale = (repeat / 3) * (servers.length / 4);
const BUDGET: Record<string, number> = full
  ? {
      idle: 15 * 60_000,
      fanout: 40 * 60_000,
      chatmix: 40 * 60_000,
      persist: 10 * 60_000,
      storm: 30 * 60_000,
      prodmix: 20 * 60_000,
    }
  : { idle: 150_000, fanout: 240_000, chatmix: 270_000, persist: 240_000, storm: 380_000, prodmix: 330_000 };
for (const k of Object.keys(BUDGET)) if (k !== 'persist' && k !== 'prodmix') BUDGET[k] = (BUDGET[k] as number) * scale;
// One run of one server (what bench:ab asks for) still needs a whole fan-out ramp: 20 s, the
// scaled share, ended it before its first step.
BUDGET.fanout = Math.max(90_000, BUDGET.fanout as number);
// Parley against itself (bare, everything on): only the repetitions scale it.
BUDGET.persist = (BUDGET.persist as number) * (repeat / 3);
// A run is about 17 s of setting up and its window (5 s unless BENCH_PRODMIX_SECONDS says); the
// budget is for two variants (bare, everything on), more take their share each.
BUDGET.prodmix =
  ((BUDGET.prodmix as number) * (repeat / 3) * (prodmixVariants() / 2) * (17 + prodmixSeconds(full))) /
  (17 + (full ? 30 : 5));
// 10,000 connections: Parley alone (1 and 2 nodes), whatever --servers says.
BUDGET.tenk = (full ? 60 * 60_000 : 240_000) * (repeat / 3);
const TOTAL = only.reduce((a, k) => a + (BUDGET[k] as number), 0) + 30_000;

// Two nodes (Parley ×2 with Redis, Socket.IO ×2 with its Redis adapter) in the chat mix: asked
// for with --nodes 2.
const nodes = values.nodes ? Number(values.nodes) : 1;
const mixRate = values['mix-rate'] === undefined ? undefined : Number(values['mix-rate']);
if (mixRate !== undefined && !(Number.isInteger(mixRate) && mixRate >= 10 && mixRate <= 2000))
  die(`--mix-rate must be a whole number of messages per second from 10 to 2000, not "${values['mix-rate']}"`);

const start = performance.now();
const deadline = start + TOTAL;
const ctx: Ctx = { full, deadline, log: progress };
const loadStart = load();
progress(
  'bench',
  `${full ? 'full' : 'short'} run: ${only.join(', ')} × ${servers.join(', ')}, ${repeat} interleaved runs each; load average ${loadStart}; ${cpus().length} cores`,
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
const failures: string[] = [...setupProblems];
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

// raw-pg (the durable floor) is a chat-mix peer: the other scenarios leave it out.
const notDurable = servers.filter((k) => k !== 'raw-pg');
try {
  await run('idle', (b) => idle(ctx, { budgetMs: b, servers: notDurable, repeat }));
  await run('fanout', (b) =>
    fanout(ctx, {
      db: values['fanout-db'] === 'pglite' ? 'pglite' : 'pg',
      budgetMs: b,
      membersFirst: values['fanout-order'] === 'members-first',
      servers: notDurable,
      repeat,
    }),
  );
  await run('chatmix', (b) => chatmix(ctx, { budgetMs: b, multiNode: nodes > 1, servers, repeat, rate: mixRate }));
  await run('persist', (b) => persist(ctx, { budgetMs: b, repeat }));
  await run('storm', (b) => storm(ctx, { budgetMs: b, servers: notDurable, repeat }));
  await run('prodmix', (b) => prodmix(ctx, { budgetMs: b, repeat }));
  await run('tenk', (b) => tenk(ctx, { budgetMs: b, repeat, nodes: values.nodes ? [nodes] : [1, 2] }));
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
    `Servers: ${servers.join(', ')}; ${repeat} interleaved runs per scenario; medians with the spread (min–max) of the runs. ` +
    `Run took ${seconds.toFixed(0)} s. Load average at start: ${loadStart}; at end: ${load()} ` +
    '(a load above the core count means other work shared the machine and every number here is lower than on a quiet one).',
  '',
  '## Targets',
  '',
  table(
    ['target', 'measured', 'goal', 'met'],
    targets.map((t) => [
      t.label,
      t.value,
      t.target,
      t.met === null
        ? 'not measured'
        : `${t.met ? '**yes**' : '**no**'}${t.unreliable ? ' (unreliable: runs disagree > 2×)' : ''}`,
    ]),
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
