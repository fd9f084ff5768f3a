/**
 * The churn soak on its own (bench/scenarios/churn.ts): `npm run bench:churn`.
 *
 *   node --conditions=@parley/source --import tsx bench/churn.ts [--full] [--clients 160]
 *        [--rate 100] [--seconds 60] [--window 10] [--churn 0.1] [--skip-pglite] [--skip-pg]
 *        [--json FILE] [--env KEY=VALUE …]
 *
 * Short run (default): 160 clients, 60 s per soak, 10-s windows; `--full`: 300 clients, 6 minutes,
 * 30-s windows; PGlite gets a third of the clients and of the rate. Each
 * backend runs without churn, then with it. Everything it starts (server, generator, scratch
 * database) is removed at the end, on an error, on Ctrl-C and at the global deadline.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { hookExit, killAll, onSignal } from './lib/proc.js';
import { type Ctx, progress, table } from './lib/report.js';
import { pgVersion, runCleanups } from './lib/setup.js';
import { churn, churnDefaults } from './scenarios/churn.js';

const { values } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    clients: { type: 'string' },
    rate: { type: 'string' },
    seconds: { type: 'string' },
    window: { type: 'string' },
    churn: { type: 'string' },
    'skip-pglite': { type: 'boolean', default: false },
    'skip-pg': { type: 'boolean', default: false },
    json: { type: 'string' },
    env: { type: 'string', multiple: true },
  },
});
const full = values.full as boolean;
const o = churnDefaults(full);
if (values.clients) o.clients = Number(values.clients);
if (values.rate) o.rate = Number(values.rate);
if (values.seconds) o.seconds = Number(values.seconds);
if (values.window) o.windowSeconds = Number(values.window);
if (values.churn) o.churn = Number(values.churn);
o.backends = o.backends.filter(
  (b) => !(b === 'pglite' && values['skip-pglite']) && !(b === 'postgres' && values['skip-pg']),
);
o.env = Object.fromEntries((values.env ?? []).map((kv) => kv.split('=', 2) as [string, string]));

// Four soaks plus setup, with room to spare; nothing outlives it.
const budgetMs = o.backends.length * 2 * (o.seconds * 1000 + 90_000) + 60_000;
const ctx: Ctx = { full, deadline: performance.now() + budgetMs, log: progress };
hookExit();
onSignal(runCleanups);
const guard = setTimeout(() => {
  progress('churn', 'deadline passed: killing every bench process');
  killAll();
  void runCleanups().finally(() => process.exit(2));
}, budgetMs + 60_000);

try {
  progress('churn', `PostgreSQL ${await pgVersion()}; ${JSON.stringify(o)}`);
  const r = await churn(ctx, o);
  if (values.json) writeFileSync(values.json, JSON.stringify(r.runs));
  console.log(`\n## ${r.title}\n`);
  console.log(r.markdown.join('\n'));
  console.log('\nTargets:\n');
  console.log(
    table(
      ['target', 'value', 'bound', 'met'],
      r.targets.map((t) => [t.label, t.value, t.target, t.met === null ? '–' : t.met ? 'yes' : 'no']),
    ),
  );
  for (const run of r.runs)
    if (run.metrics)
      console.log(`\n${run.backend} ${run.churn ? 'churn' : 'no churn'}: server metrics\n${run.metrics}`);
} finally {
  clearTimeout(guard);
  killAll();
  await runCleanups();
}
