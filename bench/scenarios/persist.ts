/**
 * (4) Persist throughput on PostgreSQL: bench/persist.ts, run in its own process — messages
 * per second through the real send action and the p99 time of one send (checks, seq,
 * insert, event log, commit), beside bare one-row INSERT transactions on the same database.
 * Levels: one channel (its counter row serializes the senders) and many channels at once.
 * The short run skips PGlite; the full run includes it. Run `repeat` times (a scratch database
 * each); per level, the median and spread (min–max) of the runs.
 */
import { runScript } from '../lib/proc.js';
import { type Ctx, fmt, load, ms, type ScenarioResult, table } from '../lib/report.js';
import { dropDatabase, onCleanup, PG_URL, RUN_ID } from '../lib/setup.js';
import { f0, fms, type Metric, median, Runs } from '../lib/stats.js';
// Type only: erased, so importing it does not run the script.
import type { Row } from '../persist.js';

export async function persist(ctx: Ctx, opts: { budgetMs: number; repeat: number }): Promise<ScenarioResult> {
  const log = (m: string) => ctx.log('persist', m);
  const loadBefore = load();
  const end = performance.now() + opts.budgetMs;
  // Enough sends per level that the fastest level runs for a good part of a second.
  // A level runs long enough for its steady state: at 3,000 sends (half a second) the first
  // level's p99 was its warm-up, 37–40 ms against 20–25 ms at 10,000 (docs/benchmarks.md).
  const messages = ctx.full ? 20_000 : 10_000;
  // The bare INSERT baseline is a rate of commits, each waiting for its WAL flush: steady after a
  // few hundred, and at 1,000–2,600 tx/s 10,000 of them per level were most of a run's time.
  const baseline = ctx.full ? 5000 : 3000;
  const levels = ctx.full ? '1,8,32,64,8x8,32x32,64x64,128x64,256x64' : '64,64x64,128x64,256x64';
  const runs = new Runs(['parley']);
  const keys: { key: string; backend: string; concurrency: number; channels: number }[] = [];
  const { readFileSync, rmSync } = await import('node:fs');
  for (let rep = 0; rep < opts.repeat; rep++) {
    const left = end - performance.now();
    if (left < 8000) {
      runs.notes.push(`run ${rep + 1}: skipped (time budget).`);
      continue;
    }
    const dbName = `parley_bench_persist_${RUN_ID}_${rep}`;
    onCleanup(() => dropDatabase(dbName));
    const jsonPath = `/tmp/parley-bench-persist-${RUN_ID}-${rep}.json`;
    const args = ['--messages', String(messages), '--baseline-messages', String(baseline)];
    args.push('--pg', PG_URL, '--pg-levels', levels, '--json', jsonPath);
    if (ctx.full) args.push('--pglite-levels', '1,8');
    else args.push('--skip-pglite');
    const r = await runScript('persist.ts', args, {
      env: { BENCH_PERSIST_DB_NAME: dbName },
      timeoutMs: Math.max(8000, left / (opts.repeat - rep) + 8000),
      onStderr: (line) => line.trim() && log(`run ${rep + 1}: ${line.trim()}`),
    });
    // The script writes its rows after each level: a run cut at its budget keeps the levels it finished.
    let rows: Row[] = [];
    try {
      rows = JSON.parse(readFileSync(jsonPath, 'utf8')) as Row[];
    } catch {
      /* no level finished */
    }
    rmSync(jsonPath, { force: true });
    if (r.timedOut || r.code !== 0) {
      const what = r.timedOut ? 'did not finish within its budget' : `exited with ${r.code}`;
      const done = rows.filter((x) => x.path === 'send action').length;
      runs.notes.push(`run ${rep + 1}: persist.ts ${what}${done ? `; its first ${done} level(s) are kept` : ''}.`);
      if (!done) {
        runs.add('parley', rep, null);
        continue;
      }
    }
    await dropDatabase(dbName);
    const m: Record<string, number> = {};
    for (const x of rows.filter((y) => y.path === 'send action')) {
      const key = `${x.backend.startsWith('PostgreSQL') ? 'pg' : 'pglite'}-${x.concurrency}x${x.channels}`;
      if (!keys.some((k) => k.key === key))
        keys.push({
          key,
          backend: x.backend.replace(/ \(Debian.*\)/, ''),
          concurrency: x.concurrency,
          channels: x.channels,
        });
      const b = rows.find(
        (y) =>
          y.path !== 'send action' &&
          y.backend === x.backend &&
          y.concurrency === x.concurrency &&
          y.channels === x.channels,
      );
      m[`s:${key}`] = x.perSecond;
      m[`p50:${key}`] = x.p50;
      m[`p99:${key}`] = x.p99;
      m[`b:${key}`] = b?.perSecond ?? Number.NaN;
      m[`r:${key}`] = b ? x.perSecond / b.perSecond : Number.NaN;
      log(
        `run ${rep + 1}: ${x.backend} ×${x.concurrency} over ${x.channels} channel(s): ${fmt(x.perSecond)} msg/s, p99 ${ms(x.p99)} ms`,
      );
    }
    runs.add('parley', rep, m);
  }
  const c = (key: string, fmtf = f0) => runs.cell('parley', { key, label: '', format: fmtf } as Metric);
  // The target: the PostgreSQL level whose median msg/s is highest among those whose median p99 ≤ 20 ms.
  const pg = keys.filter((k) => k.key.startsWith('pg-'));
  const ok = pg
    .filter((k) => runs.med('parley', `p99:${k.key}`) <= 20)
    .sort((a, b) => runs.med('parley', `s:${b.key}`) - runs.med('parley', `s:${a.key}`))[0];
  const best = [...pg].sort((a, b) => runs.med('parley', `s:${b.key}`) - runs.med('parley', `s:${a.key}`))[0];
  const md = [
    `${messages.toLocaleString('en-US')} messages per level, through \`sendMessage\` (the action behind \`message.send\`), beside ${baseline.toLocaleString('en-US')} bare one-row INSERT transactions (the baseline); ${opts.repeat} runs, each on a fresh database; medians with the spread (min–max). raw ws and Socket.IO store nothing; ejabberd's storage is measured inside the fan-out and chat-mix scenarios (its archive rows). Load average before: ${loadBefore}; after: ${load()}.`,
    '',
    table(
      [
        'database',
        'concurrency × channels',
        'send: msg/s',
        'send p50 ms',
        'send p99 ms',
        'bare INSERT tx/s',
        'send / bare INSERT',
      ],
      keys.map((k) => [
        k.backend,
        `${k.concurrency} × ${k.channels}`,
        c(`s:${k.key}`),
        c(`p50:${k.key}`, fms),
        c(`p99:${k.key}`, fms),
        c(`b:${k.key}`),
        c(`r:${k.key}`, (n) => `${n.toFixed(2)}×`),
      ]),
    ),
    ...(runs.notes.length ? ['', ...runs.notes.map((n) => `- ${n}`)] : []),
  ];
  const okRate = ok ? runs.med('parley', `s:${ok.key}`) : Number.NaN;
  return {
    key: 'persist',
    title: '4. Persist throughput',
    markdown: md,
    targets: [
      {
        label: 'persist ≥ 10,000 msg/s with p99 ≤ 20 ms (PostgreSQL)',
        value: ok
          ? `${c(`s:${ok.key}`)} msg/s at p99 ${c(`p99:${ok.key}`, fms)} ms (${ok.concurrency} × ${ok.channels})`
          : best
            ? `no level with p99 ≤ 20 ms; best ${c(`s:${best.key}`)} msg/s at p99 ${c(`p99:${best.key}`, fms)} ms`
            : 'not measured',
        target: '≥ 10,000 msg/s, p99 ≤ 20 ms',
        met: pg.length ? okRate >= 10_000 : null,
      },
    ],
    charts: [
      {
        title: 'Persist: messages/s through the send action (PostgreSQL)',
        unit: 'msg/s',
        bars: pg.map((k) => {
          const v = runs.values('parley', `s:${k.key}`);
          return {
            label: `${k.concurrency} × ${k.channels}`,
            value: median(v),
            lo: Math.min(...v),
            hi: Math.max(...v),
          };
        }),
      },
    ],
  };
}
