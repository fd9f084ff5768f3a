/**
 * (4) Persist throughput on PostgreSQL: bench/persist.ts, run in its own process — messages
 * per second through the real send action and the p99 time of one send (checks, seq,
 * insert, event log, commit), beside bare one-row INSERT transactions on the same database.
 * Levels: one channel (its counter row serializes the senders) and many channels at once.
 * The short run skips PGlite; the full run includes it.
 */
import { runScript } from '../lib/proc.js';
import { type Ctx, fmt, load, ms, ratio, type ScenarioResult, table } from '../lib/report.js';
import { dropDatabase, onCleanup, PG_URL, RUN_ID } from '../lib/setup.js';
// Type only: erased, so importing it does not run the script.
import type { Row } from '../persist.js';

export async function persist(ctx: Ctx, opts: { budgetMs: number }): Promise<ScenarioResult> {
  const log = (m: string) => ctx.log('persist', m);
  const loadBefore = load();
  const dbName = `parley_bench_persist_${RUN_ID}`;
  onCleanup(() => dropDatabase(dbName));
  const jsonPath = `/tmp/parley-bench-persist-${RUN_ID}.json`;
  // Enough sends per level that the fastest level runs for a good part of a second.
  const messages = ctx.full ? 6000 : 3000;
  const args = [
    '--messages',
    String(messages),
    '--pg',
    PG_URL,
    '--pg-levels',
    ctx.full ? '1,8,32,64,8x8,32x32,64x64,256x64' : '1,16,64,64x64',
    '--json',
    jsonPath,
  ];
  if (ctx.full) args.push('--pglite-levels', '1,8');
  else args.push('--skip-pglite');
  const r = await runScript('persist.ts', args, {
    env: { BENCH_PERSIST_DB_NAME: dbName },
    timeoutMs: Math.max(10_000, opts.budgetMs - 2000),
    onStderr: (line) => line.trim() && log(line.trim()),
  });
  if (r.timedOut)
    throw new Error(`persist.ts did not finish within its budget of ${(opts.budgetMs / 1000).toFixed(0)} s`);
  if (r.code !== 0) throw new Error(`persist.ts exited with ${r.code}`);
  const { readFileSync, rmSync } = await import('node:fs');
  const rows = JSON.parse(readFileSync(jsonPath, 'utf8')) as Row[];
  rmSync(jsonPath, { force: true });

  const send = rows.filter((x) => x.path === 'send action');
  const base = (x: Row) =>
    rows.find(
      (b) =>
        b.path !== 'send action' &&
        b.backend === x.backend &&
        b.concurrency === x.concurrency &&
        b.channels === x.channels,
    );
  const pgSend = send.filter((x) => x.backend.startsWith('PostgreSQL'));
  const bestOk = pgSend.filter((x) => x.p99 <= 20).sort((a, b) => b.perSecond - a.perSecond)[0];
  const best = [...pgSend].sort((a, b) => b.perSecond - a.perSecond)[0];
  for (const x of send)
    log(`${x.backend} ×${x.concurrency} over ${x.channels} channel(s): ${fmt(x.perSecond)} msg/s, p99 ${ms(x.p99)} ms`);
  const md = [
    `${messages.toLocaleString('en-US')} messages per level, through \`sendMessage\` (the action behind \`message.send\`), beside the same number of bare one-row INSERT transactions (the baseline). raw ws and Socket.IO store nothing, so they have no column here. Load average before: ${loadBefore}; after: ${load()}.`,
    '',
    table(
      [
        'database',
        'concurrency',
        'channels',
        'send: msg/s',
        'send p50 ms',
        'send p99 ms',
        'bare INSERT tx/s',
        'bare p99 ms',
        'send / bare INSERT',
      ],
      send.map((x) => {
        const b = base(x);
        return [
          x.backend.replace(/ \(Debian.*\)/, ''),
          x.concurrency,
          x.channels,
          fmt(x.perSecond),
          ms(x.p50),
          ms(x.p99),
          fmt(b?.perSecond ?? Number.NaN),
          ms(b?.p99 ?? Number.NaN),
          ratio(x.perSecond, b?.perSecond ?? Number.NaN),
        ];
      }),
    ),
  ];
  return {
    key: 'persist',
    title: '4. Persist throughput',
    markdown: md,
    targets: [
      {
        label: 'persist ≥ 5,000 msg/s with p99 commit ≤ 20 ms (PostgreSQL)',
        value: bestOk
          ? `${fmt(bestOk.perSecond)} msg/s at p99 ${ms(bestOk.p99)} ms (×${bestOk.concurrency}/${bestOk.channels} ch.)`
          : best
            ? `no level with p99 ≤ 20 ms; best ${fmt(best.perSecond)} msg/s at p99 ${ms(best.p99)} ms`
            : 'not measured',
        target: '≥ 5,000 msg/s, p99 ≤ 20 ms',
        met: pgSend.length ? pgSend.some((x) => x.perSecond >= 5000 && x.p99 <= 20) : null,
      },
    ],
    charts: [
      {
        title: 'Persist: messages/s through the send action (PostgreSQL)',
        unit: 'msg/s',
        bars: pgSend.map((x) => ({ label: `×${x.concurrency}, ${x.channels} ch.`, value: x.perSecond })),
      },
    ],
  };
}
