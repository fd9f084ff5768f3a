/**
 * A/B of two commits on one machine: the chosen scenarios run for commit A and commit B in
 * turn, A, B, A, B, … (`--runs` pairs), and a table per scenario puts each measure side by side
 * — each side's median and spread (min–max), and B/A, the median of the pairs' ratios — so a
 * slowdown shows the day it lands, measured against the code before it on the same machine in
 * the same minutes.
 *
 *   npm run bench:ab -- --a main~3 --b HEAD --scenarios start,persist --runs 3 [-- extra args]
 *
 * Each commit gets a git worktree of its own (detached, under `--cache`, default
 * $TMPDIR/parley-ab/<commit hash>) with its own `npm ci`, made once and reused by later calls;
 * each run is a child process started in that worktree, so each side runs its own code:
 *
 * - a scenario of bench/run.ts (idle, fanout, chatmix, persist, storm, prodmix, tenk) runs as
 *   `bench/run.ts --scenario X --servers parley --repeat 1`, and every figure of its report is a
 *   measure;
 * - `start` runs `parley start` on a new data folder (embedded PGlite) and measures the wall
 *   time from the spawn to the first 200 of /healthz, and the `ready in` the command prints,
 *   on a data folder in `--start-dir` (a first start creates ~1,200 files: where a create is
 *   slow, as on an ext4 without a journal soon after many deletions, they weigh the most);
 * - any other name runs `bench/<name>.ts` (people, search, webhooks, …), whose markdown tables
 *   are read the same way.
 *
 * Arguments after `--` go to every child. Each run is bounded by `--timeout` (s): past it the
 * child gets SIGTERM (bench/run.ts then kills its own children), and SIGKILL 10 s later.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { abTable, compare, interleave, readReport, type Side } from './lib/ab.js';
import { BENCH_DIR } from './lib/proc.js';

const USAGE = `usage: npm run bench:ab -- --a COMMIT [--b COMMIT] --scenarios NAME,… [--runs 3] [-- extra args]

  --a COMMIT          the baseline (any git revision: main, HEAD~1, a hash)
  --b COMMIT          the candidate (default HEAD)
  --scenarios LIST    start, a scenario of bench/run.ts (idle, fanout, chatmix, persist, storm,
                      prodmix, tenk), or the name of a script bench/<name>.ts
  --runs N            pairs of runs, A then B (default 3)
  --timeout S         bound on one run, seconds (default 900)
  --cache DIR         where the worktrees live (default $TMPDIR/parley-ab)
  --start-dir DIR     where \`start\` makes its data folders (default $TMPDIR); a tmpfs such as
                      /dev/shm leaves the file system's creates out of the figure
  --out DIR           where the report goes (default bench/results)`;

const RUN_SCENARIOS = ['idle', 'fanout', 'chatmix', 'persist', 'storm', 'prodmix', 'tenk'];
const ROOT = path.resolve(BENCH_DIR, '..');

let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h', default: false },
      a: { type: 'string' },
      b: { type: 'string', default: 'HEAD' },
      scenarios: { type: 'string' },
      runs: { type: 'string', default: '3' },
      timeout: { type: 'string', default: '900' },
      cache: { type: 'string', default: path.join(tmpdir(), 'parley-ab') },
      'start-dir': { type: 'string', default: tmpdir() },
      out: { type: 'string', default: path.join(BENCH_DIR, 'results') },
    },
  });
}
try {
  parsed = parse();
} catch (e) {
  console.error(`${(e as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
const { values, positionals: extra } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const die = (msg: string): never => {
  console.error(`bench:ab: ${msg}\n\n${USAGE}`);
  process.exit(2);
};
if (!values.a) die('--a is required');
if (!values.scenarios) die('--scenarios is required');
const scenarios = (values.scenarios as string).split(',').filter(Boolean);
for (const s of scenarios)
  if (s !== 'start' && !RUN_SCENARIOS.includes(s) && !existsSync(path.join(BENCH_DIR, `${s}.ts`)))
    die(`unknown scenario "${s}"`);
if (scenarios.includes('start') && !existsSync(values['start-dir'] as string))
  die(`--start-dir ${values['start-dir']}: no such folder`);
const runs = Math.max(1, Math.min(20, Number(values.runs) || 3));
const timeoutMs = Math.max(10, Number(values.timeout) || 900) * 1000;

const T0 = performance.now();
const log = (m: string) =>
  process.stderr.write(`[${((performance.now() - T0) / 1000).toFixed(1).padStart(6)}s] ab  ${m}\n`);

const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();

/** The worktree of `rev`, made and installed once per commit hash. */
function worktree(rev: string): { hash: string; dir: string } {
  let hash: string;
  try {
    hash = git('rev-parse', '--verify', `${rev}^{commit}`);
  } catch {
    return die(`not a commit: ${rev}`);
  }
  const dir = path.join(values.cache as string, hash);
  const ready = path.join(dir, '.parley-ab-ready');
  if (existsSync(ready)) {
    log(`${rev} (${hash.slice(0, 8)}): worktree ${dir}, installed before`);
    return { hash, dir };
  }
  // A half-made one (an npm ci that failed or was stopped) is made again.
  if (existsSync(dir)) {
    try {
      git('worktree', 'remove', '--force', dir);
    } catch {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  git('worktree', 'prune');
  mkdirSync(values.cache as string, { recursive: true });
  log(`${rev} (${hash.slice(0, 8)}): git worktree add ${dir}`);
  git('worktree', 'add', '--quiet', '--detach', dir, hash);
  log(`${rev} (${hash.slice(0, 8)}): npm ci (once per commit; builds dist/ and the web app)`);
  const t = performance.now();
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  log(`${rev} (${hash.slice(0, 8)}): installed in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  writeFileSync(ready, `${new Date().toISOString()}\n`);
  return { hash, dir };
}

interface Done {
  code: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run a child in `cwd` to its end (bounded), keeping its output. */
function runChild(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Done> {
  return new Promise((resolve) => {
    const t = performance.now();
    const child = spawn(process.execPath, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      if (process.env.BENCH_VERBOSE) process.stderr.write(d);
    });
    let timedOut = false;
    let kill: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (kill) clearTimeout(kill);
      resolve({ code, timedOut, stdout, stderr, ms: performance.now() - t });
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * `parley start` on a new data folder: wall ms from the spawn to /healthz's first 200, and the
 * `ready in` figure the command printed. The server is then stopped with SIGTERM (its drain).
 */
async function startRun(cwd: string): Promise<Map<string, number>> {
  const data = mkdtempSync(path.join(values['start-dir'] as string, 'parley-ab-start-'));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', PARLEY_DRAIN_DELAY_MS: '0' };
  for (const k of ['DATABASE_URL', 'REDIS_URL', 'PARLEY_DATA_DIR', 'PORT', 'HOST']) delete env[k];
  for (const k of Object.keys(env)) if (k.startsWith('npm_')) delete env[k];
  const t = performance.now();
  const child = spawn(
    process.execPath,
    [path.join(cwd, 'packages/cli/bin/parley.mjs'), 'start', '--data', data, '--port', String(port), ...extra],
    { cwd: data, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const m = new Map<string, number>();
  try {
    const deadline = t + timeoutMs;
    for (;;) {
      if (gone) throw new Error(`parley start exited before it was healthy:\n${out}`);
      if (performance.now() > deadline) throw new Error(`parley start: not healthy within the bound:\n${out}`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      // Polled, not waited on a signal: the figure is when the port answers, seen from outside.
      await new Promise((r) => setTimeout(r, 10));
    }
    m.set('start · wall to healthy (ms)', performance.now() - t);
    const ready = /ready in (\d+) ms/.exec(out);
    if (ready) m.set('start · printed "ready in" (ms)', Number(ready[1]));
  } finally {
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(kill);
    rmSync(data, { recursive: true, force: true });
  }
  return m;
}

async function oneRun(scenario: string, cwd: string, outDir: string): Promise<Map<string, number>> {
  if (scenario === 'start') return startRun(cwd);
  const script = RUN_SCENARIOS.includes(scenario)
    ? ['bench/run.ts', '--scenario', scenario, '--servers', 'parley', '--repeat', '1', '--out', outDir, ...extra]
    : [`bench/${scenario}.ts`, ...extra];
  const r = await runChild(cwd, ['--conditions=@parley/source', '--import', 'tsx', ...script]);
  if (r.timedOut || r.code !== 0) {
    const tail = r.stderr.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${r.timedOut ? 'did not finish within --timeout' : `exited with ${r.code}`}\n${tail}`);
  }
  const m = readReport(r.stdout);
  m.set(`${scenario} · run wall (s)`, r.ms / 1000);
  return m;
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const sides = { A: worktree(values.a as string), B: worktree(values.b as string) };
const names = { A: `${values.a} (${sides.A.hash.slice(0, 8)})`, B: `${values.b} (${sides.B.hash.slice(0, 8)})` };
const scratch = mkdtempSync(path.join(tmpdir(), 'parley-ab-out-'));
const loadStart = load();
const sections: string[] = [];
const problems: string[] = [];
for (const scenario of scenarios) {
  const got: Record<Side, Map<string, number>[]> = { A: [], B: [] };
  for (const { side, run } of interleave(runs)) {
    log(`${scenario}: run ${run + 1}/${runs}, ${side} ${names[side]} (load average ${load()})`);
    try {
      got[side][run] = await oneRun(scenario, sides[side].dir, scratch);
    } catch (e) {
      got[side][run] = new Map();
      problems.push(`${scenario}, run ${run + 1} of ${side}: ${(e as Error).message}`);
      log(`${scenario}: run ${run + 1} of ${side} FAILED: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  sections.push(`## ${scenario}`, '', abTable(compare(got.A, got.B), names.A, names.B), '');
}
rmSync(scratch, { recursive: true, force: true });

const when = new Date();
const md = [
  `# A/B, ${when.toISOString()}`,
  '',
  `A = ${names.A}, B = ${names.B}; ${runs} runs each, interleaved A, B, A, B, …; each side's median (min–max) and B/A, the median (min–max) of the pairs' ratios (marked unreliable when they disagree by more than 2×). Load average at start ${loadStart}, at end ${load()}.`,
  '',
  ...sections,
  ...(problems.length ? ['## Problems', '', ...problems.map((p) => `- ${p.replace(/\n/g, '\n  ')}`), ''] : []),
].join('\n');
mkdirSync(values.out as string, { recursive: true });
const file = path.join(values.out as string, `ab-${when.toISOString().replace(/[:]/g, '-').replace(/\..*/, '')}.md`);
writeFileSync(file, `${md}\n`);
process.stdout.write(`${md}\n`);
log(`done in ${((performance.now() - T0) / 1000).toFixed(0)} s → ${path.relative(process.cwd(), file)}`);
process.exit(problems.length && sections.length === 0 ? 1 : 0);
