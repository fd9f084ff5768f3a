/**
 * Persist throughput: messages stored per second through the real send action (access
 * check, seq from the counter row, insert, event log, commit), on PGlite and on PostgreSQL,
 * at a few concurrency levels — beside a baseline of the same number of bare one-row
 * INSERT transactions on the same database, so the table shows what the send path adds.
 * Scenario (4) of bench/run.ts runs this script in its own process.
 *
 *   node --import tsx bench/persist.ts [--messages 2000] [--pg postgres://…]
 *        [--pglite-levels 1,8] [--pg-levels 1,8,32,32x32] [--skip-pg] [--skip-pglite] [--json FILE]
 *        [--no-analyze] [--skip-baseline] [--baseline-messages N]
 *
 * A level is a concurrency (all sends into one channel: the channel's counter row orders
 * them) or `CxK`: C concurrent senders spread over K channels. Latency is per send, from the
 * call to the committed result. Loopback only; bounded by the message count.
 *
 * Before each level the database is analyzed, as autovacuum would keep it. `--no-analyze`
 * leaves it without statistics — a fresh install, or any database with autovacuum off — so the
 * hot statements are planned on tables the planner knows nothing about, and their cached plans
 * are kept while the tables grow (docs/internals.md, "Hot statements").
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { buildServer } from '../packages/server/src/app.js';
import { createChannel } from '../packages/server/src/features/channels/actions.js';
import { sendMessage } from '../packages/server/src/features/messages/actions.js';
import { type Caller, signToken } from '../packages/server/src/platform/auth.js';
import { defaultConfig, NO_HTTP_LIMITS } from '../packages/server/src/platform/config.js';
import { type Database, openDatabase } from '../packages/server/src/platform/db/index.js';
import { runMigrations } from '../packages/server/src/platform/db/migrate.js';
import { machineCpu } from './lib/proc.js';
import { stageMeans } from './lib/stages.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '2000' },
    pg: { type: 'string', default: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test' },
    'skip-pg': { type: 'boolean', default: false },
    'skip-pglite': { type: 'boolean', default: false },
    'pglite-levels': { type: 'string', default: '1,8' },
    'pg-levels': { type: 'string', default: '1,8,32' },
    json: { type: 'string' },
    'no-analyze': { type: 'boolean', default: false },
    'skip-baseline': { type: 'boolean', default: false },
    // The baseline is a rate of commits, steady after a few hundred: fewer than the sends keeps a
    // run short where each commit waits for a flush (1,000–2,600 tx/s here).
    'baseline-messages': { type: 'string' },
  },
});
const levelsOf = (spec: string) =>
  spec.split(',').map((l) => {
    const [c, k] = l.split('x');
    return { concurrency: Number(c), channels: Number(k ?? 1) };
  });
const N = Number(values.messages);
const NB = Math.min(N, Number(values['baseline-messages'] ?? N) || N);

/** One line of the results (also the JSON the bench's persist scenario reads). */
export interface Row {
  backend: string;
  path: string;
  concurrency: number;
  channels: number;
  messages: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

async function runPool(total: number, concurrency: number, one: (i: number) => Promise<void>) {
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        const s = performance.now();
        await one(i);
        lat.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, perSecond: total / seconds, p50: pct(lat, 50), p99: pct(lat, 99) };
}

const all: Row[] = [];
/** The rows so far, written after each level: a run its caller cuts short still gives those done. */
function saveSoFar(rows: Row[]): void {
  if (values.json) writeFileSync(values.json, JSON.stringify([...all, ...rows]));
}

async function bench(
  backend: string,
  database: Database,
  levels: { concurrency: number; channels: number }[],
): Promise<Row[]> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-bench-'));
  // One bench user sends far faster than the per-user send limit allows: the limit is off.
  const server = await buildServer(
    defaultConfig({ dataDir, adminToken: 'bench', logLevel: 'silent', rateMessages: 0, httpLimits: NO_HTTP_LIMITS }),
    {
      database,
      migrate: false,
      logger: false,
    },
  );
  const rows: Row[] = [];
  try {
    const app = await server.svc.apps.create('bench');
    const appCtx = await server.svc.apps.byKey(app.api_key);
    if (!appCtx) throw new Error('app not found');
    const users = ['u1', 'u2', 'u3', 'u4'];
    await server.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: { 'x-api-key': app.api_key, authorization: `Bearer ${await signToken(app.api_secret, null)}` },
      payload: { users: users.map((id) => ({ id, name: id })) },
    });
    await database.db.execute(
      sql`create table if not exists bench_baseline (id bigserial primary key, body text not null)`,
    );
    for (const { concurrency: c, channels: k } of levels) {
      // Fresh channels per level, so each level starts from empty counter rows.
      const caller = (u: string): Caller => ({ kind: 'user', app: appCtx, userId: u });
      const cids: string[] = [];
      for (let j = 0; j < k; j++) {
        const cid = `group:bench-${c}-${j}-${randomBytes(3).toString('hex')}`;
        await createChannel(server.svc, caller('u1'), {
          type: 'group',
          id: cid.split(':')[1] as string,
          members: users,
        });
        await sendMessage(server.svc, caller('u1'), cid, { text: 'warm up' });
        cids.push(cid);
      }
      // Statistics, as autovacuum keeps them in a running deployment: a database created a
      // moment ago has none, and the planner then ties every index on app_id with the keys.
      if (!values['no-analyze']) await database.db.execute(sql`analyze`);
      process.stderr.write(`    ${backend}: ${c} concurrent, ${k} channel(s)…\n`);
      const cpu0 = machineCpu([process.pid]);
      // How long the event loop that serves clients was held (PGlite in process holds it for
      // every statement it runs).
      const loop = monitorEventLoopDelay({ resolution: 5 });
      loop.enable();
      const r = await runPool(N, c, async (i) => {
        await sendMessage(server.svc, caller(users[i % users.length] as string), cids[i % k] as string, {
          text: `message ${i} with a little text in it`,
        });
      });
      const cpu1 = machineCpu([process.pid]);
      loop.disable();
      rows.push({ backend, path: 'send action', concurrency: c, channels: k, messages: N, ...r });
      saveSoFar(rows);
      process.stderr.write(`      ${await stageMeans(server.svc.metrics.registry)}\n`);
      // Where the machine's two cores went (bench/lib/proc.ts): this process, PostgreSQL, the rest.
      const perSend = (ms: number) => ((ms * 1000) / N).toFixed(0);
      const [node, pgMs, busy] = [cpu1.pids - cpu0.pids, cpu1.postgres - cpu0.postgres, cpu1.busy - cpu0.busy];
      process.stderr.write(
        `      CPU µs per send: node ${perSend(node)}, PostgreSQL ${perSend(pgMs)}, ` +
          `the rest ${perSend(busy - node - pgMs)}; cores busy ${(busy / 1000 / r.seconds).toFixed(2)}; ` +
          `event loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms\n`,
      );
      server.svc.metrics.registry.resetMetrics();
      if (values['skip-baseline']) continue;
      const b = await runPool(NB, c, async (i) => {
        await database.db.transaction(async (tx) => {
          await tx.execute(sql`insert into bench_baseline (body) values (${`message ${i} with a little text in it`})`);
        });
      });
      rows.push({ backend, path: 'baseline: bare INSERT tx', concurrency: c, channels: k, messages: NB, ...b });
      saveSoFar(rows);
    }
    await database.db.execute(sql`drop table if exists bench_baseline`);
  } finally {
    await server.app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return rows;
}

process.stderr.write(`persist bench: ${N} messages per run\n`);
if (!values['skip-pglite']) {
  // A data folder, as `parley start` opens it (PGlite on a thread of its own).
  const folder = mkdtempSync(path.join(tmpdir(), 'parley-bench-pglite-'));
  const database = await openDatabase({ dataDir: folder });
  await runMigrations(database);
  process.stderr.write('  PGlite…\n');
  all.push(...(await bench('PGlite 0.5 (data folder)', database, levelsOf(values['pglite-levels'] as string))));
  await database.close();
  rmSync(folder, { recursive: true, force: true });
}
if (!values['skip-pg']) {
  const url = values.pg as string;
  const name = process.env.BENCH_PERSIST_DB_NAME || `parley_bench_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  const maxConcurrency = Math.max(...levelsOf(values['pg-levels'] as string).map((l) => l.concurrency));
  const database = await openDatabase({ url: u.toString(), poolSize: Math.min(40, Math.max(10, maxConcurrency)) });
  try {
    await runMigrations(database);
    process.stderr.write('  PostgreSQL…\n');
    all.push(
      ...(await bench(
        `PostgreSQL ${(await admin.query('show server_version')).rows[0].server_version}`,
        database,
        levelsOf(values['pg-levels'] as string),
      )),
    );
  } finally {
    await database.close();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

if (values.json) writeFileSync(values.json, JSON.stringify(all));
console.log('\n| backend | path | concurrency | channels | messages | seconds | messages/s | p50 ms | p99 ms |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of all)
  console.log(
    `| ${r.backend} | ${r.path} | ${r.concurrency} | ${r.channels} | ${r.messages} | ${r.seconds.toFixed(2)} | ${Math.round(r.perSecond)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} |`,
  );
