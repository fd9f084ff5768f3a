/**
 * What a send costs PostgreSQL, statement by statement: a fixed number of sends through the
 * real send action (as bench/persist.ts sends them: C concurrent senders into K channels), on
 * a PostgreSQL whose `pg_stat_statements` is loaded with `pg_stat_statements.track = 'all'`
 * (so the statements of triggers and functions count too), then the extension's counters read
 * back per send: calls, execution µs, shared blocks touched and rows, per statement. Beside
 * them, the CPU the cluster's processes used per send (utime + stime from /proc, of the
 * postmaster's children when `--postmaster-pid` names it; otherwise of every `postgres`
 * process on the machine).
 *
 * The counters count work, not waits for a core, so the table compares two commits fairly even
 * on a busy machine, where msg/s and latency do not.
 *
 *   node --import tsx bench/pg-cost.ts --pg postgres://postgres@127.0.0.1:5433/postgres
 *        [--messages 5000] [--concurrency 64] [--channels 1] [--stored 0] [--postmaster-pid N]
 *        [--top 25] [--json FILE] [--keep] [--config '{"inbox":false}'] [--badges]
 *
 * `--stored N` first writes N messages (and their log rows, with search vectors) straight into
 * the first channel with `generate_series`, so the sends land on tables that size. The
 * database is a new one (dropped at the end unless `--keep`), analyzed before the sends.
 * `--badges` then times a push's badge read (three users' unread totals, all of it unread).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { buildServer } from '../packages/server/src/app.js';
import { createChannel } from '../packages/server/src/features/channels/actions.js';
import { sendMessage } from '../packages/server/src/features/messages/actions.js';
import { type Caller, signToken } from '../packages/server/src/platform/auth.js';
import * as config from '../packages/server/src/platform/config.js';
import { openDatabase } from '../packages/server/src/platform/db/index.js';
import { runMigrations } from '../packages/server/src/platform/db/migrate.js';

const { values } = parseArgs({
  options: {
    pg: { type: 'string', default: process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5433/postgres' },
    messages: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '64' },
    channels: { type: 'string', default: '1' },
    stored: { type: 'string', default: '0' },
    'postmaster-pid': { type: 'string' },
    top: { type: 'string', default: '25' },
    json: { type: 'string' },
    keep: { type: 'boolean', default: false },
    // Then time push badges' reads (unread totals) of three users with everything stored unread.
    badges: { type: 'boolean', default: false },
    // Server settings to change, as JSON (`{"inbox":false}`): what a feature costs, by its absence.
    config: { type: 'string', default: '{}' },
  },
});
const N = Number(values.messages);
const C = Number(values.concurrency);
const K = Number(values.channels);
const STORED = Number(values.stored);

/** One statement's counters over the run, per send. */
export interface StatementCost {
  query: string;
  toplevel: boolean;
  calls: number;
  us: number;
  planUs: number;
  blocks: number;
  dirtied: number;
  rows: number;
}

/** CPU ms of the cluster: the postmaster's children (or every `postgres` process). */
function postgresCpuMs(postmaster: number | null): number {
  let ms = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const mine =
        postmaster === null ? comm === 'postgres' : Number(f[1]) === postmaster || Number(name) === postmaster;
      if (mine) ms += (Number(f[11]) + Number(f[12])) * 10;
    } catch {
      /* gone between the listing and the read */
    }
  }
  return ms;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

const admin = new pg.Client({ connectionString: values.pg });
await admin.connect();
const name = `parley_pgcost_${randomBytes(3).toString('hex')}`;
await admin.query(`create database ${name}`);
const u = new URL(values.pg as string);
u.pathname = `/${name}`;
const database = await openDatabase({ url: u.toString(), poolSize: Math.min(40, Math.max(10, C)) });
const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-pgcost-'));
const noLimits = (config as Record<string, unknown>).NO_HTTP_LIMITS;
const server = await buildServer(
  config.defaultConfig({
    dataDir,
    adminToken: 'bench',
    logLevel: 'silent',
    rateMessages: 0,
    ...(noLimits ? { httpLimits: noLimits } : {}),
    ...JSON.parse(values.config as string),
  } as Parameters<typeof config.defaultConfig>[0]),
  { database, migrate: false, logger: false },
);
try {
  await runMigrations(database);
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
  const caller = (id: string): Caller => ({ kind: 'user', app: appCtx, userId: id });
  const cids: string[] = [];
  for (let j = 0; j < K; j++) {
    const cid = `group:cost-${j}`;
    await createChannel(server.svc, caller('u1'), { type: 'group', id: `cost-${j}`, members: users });
    cids.push(cid);
  }
  if (STORED > 0) {
    const t = performance.now();
    process.stderr.write(`storing ${STORED} messages in ${cids[0]}…\n`);
    // Messages as the send writes them (a search vector, a log row with the event), numbered
    // 1..N in the first channel, whose counter then stands at N.
    await database.db.execute(sql`
      with s as (
        select g, (substr(md5(g::text), 1, 8) || '-' || substr(md5(g::text), 9, 4) || '-7' || substr(md5(g::text), 14, 3)
          || '-8' || substr(md5(g::text), 18, 3) || '-' || substr(md5(g::text), 21, 12))::uuid as id,
          'u' || (1 + g % 4) as uid, 'stored message ' || g || ' with a little text in it' as text,
          now() - make_interval(secs => ${STORED} - g) as at
        from generate_series(1, ${STORED}) g
      ), m as (
        insert into messages (app_id, id, cid, seq, user_id, type, text, mentioned_users, mentioned_here,
          created_at, updated_at, search_tsv)
        select ${appCtx.id}::uuid, s.id, ${cids[0]}, s.g, s.uid, 'regular', s.text, '[]'::jsonb, false, s.at, s.at,
          to_tsvector('english', s.text)
        from s
      )
      insert into channel_events (app_id, cid, seq, type, payload, created_at)
      select ${appCtx.id}::uuid, ${cids[0]}, s.g, 'message.new',
        jsonb_build_object('type', 'message.new', 'cid', ${cids[0]}::text, 'seq', s.g,
          'message', jsonb_build_object('id', s.id, 'cid', ${cids[0]}::text, 'seq', s.g, 'text', s.text, 'user_id', s.uid)),
        s.at
      from s`);
    await database.db.execute(
      sql`update channels set last_seq = ${STORED}, last_message_at = now() where app_id = ${appCtx.id} and cid = ${cids[0]}`,
    );
    process.stderr.write(`  stored in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  }
  // A warm-up send per channel (plans, caches), then statistics as autovacuum would keep them.
  for (const cid of cids) await sendMessage(server.svc, caller('u1'), cid, { text: 'warm up' });
  // A checkpoint too: the writes of `--stored` are flushed now, not by the checkpointer while the
  // sends are measured.
  await database.db.execute(sql`vacuum analyze`);
  await database.db.execute(sql`checkpoint`);
  for (let i = 0; i < 200; i++)
    await sendMessage(server.svc, caller(users[i % users.length] as string), cids[i % K] as string, {
      text: `warm ${i} with a little text in it`,
    });

  const oid = (await admin.query('select oid from pg_database where datname = $1', [name])).rows[0].oid as number;
  const postmaster = values['postmaster-pid'] ? Number(values['postmaster-pid']) : null;
  await admin.query('select pg_stat_statements_reset()');
  const cpu0 = postgresCpuMs(postmaster);
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: C }, async () => {
      for (;;) {
        const i = next++;
        if (i >= N) return;
        const s = performance.now();
        await sendMessage(server.svc, caller(users[i % users.length] as string), cids[i % K] as string, {
          text: `message ${i} with a little text in it`,
        });
        lat.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = postgresCpuMs(postmaster);
  // Let the statistics collector's last reports in (it is shared memory: immediate, but the
  // backends' last statements finish just after their results are sent).
  await new Promise((r) => setTimeout(r, 300));
  const rows = (
    await admin.query(
      `select query, toplevel, calls::float8 as calls, total_exec_time as exec_ms, total_plan_time as plan_ms,
        (shared_blks_hit + shared_blks_read)::float8 as blocks, shared_blks_dirtied::float8 as dirtied, rows::float8 as rows
      from pg_stat_statements where dbid = $1 order by total_exec_time desc`,
      [oid],
    )
  ).rows as {
    query: string;
    toplevel: boolean;
    calls: number;
    exec_ms: number;
    plan_ms: number;
    blocks: number;
    dirtied: number;
    rows: number;
  }[];
  const costs: StatementCost[] = rows.map((r) => ({
    query: r.query.replace(/\s+/g, ' ').trim(),
    toplevel: r.toplevel,
    calls: r.calls / N,
    us: (r.exec_ms * 1000) / N,
    planUs: (r.plan_ms * 1000) / N,
    blocks: r.blocks / N,
    dirtied: r.dirtied / N,
    rows: r.rows / N,
  }));
  const top = costs.filter((c) => c.toplevel);
  const sum = (xs: StatementCost[], k: keyof StatementCost) => xs.reduce((a, c) => a + (c[k] as number), 0);
  const cpuUs = ((cpu1 - cpu0) * 1000) / N;
  const summary = {
    messages: N,
    concurrency: C,
    channels: K,
    stored: STORED,
    seconds,
    perSecond: N / seconds,
    p50: pct(lat, 50),
    p99: pct(lat, 99),
    pgCpuUs: cpuUs,
    execUs: sum(top, 'us'),
    planUs: sum(top, 'planUs'),
    calls: sum(top, 'calls'),
    blocks: sum(top, 'blocks'),
  };
  const f = (n: number, d = 1) => n.toFixed(d);
  console.log(
    `\n${N} sends, ${C} concurrent over ${K} channel(s), ${STORED} stored before: ${f(summary.perSecond, 0)} msg/s, p50 ${f(summary.p50, 2)} ms, p99 ${f(summary.p99, 2)} ms`,
  );
  console.log(
    `\n| per send | PostgreSQL CPU µs | statements (top level) | exec µs (top level) | plan µs | shared blocks |\n|---|---:|---:|---:|---:|---:|\n| | ${f(cpuUs, 0)} | ${f(summary.calls, 2)} | ${f(summary.execUs)} | ${f(summary.planUs)} | ${f(summary.blocks)} |`,
  );
  console.log('\n| statement | level | calls/send | exec µs/send | µs/call | blocks/send | dirtied/send | rows/send |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const c of costs.slice(0, Number(values.top)))
    console.log(
      `| \`${c.query.slice(0, 140).replaceAll('|', '\\|')}\` | ${c.toplevel ? 'top' : 'nested'} | ${f(c.calls, 3)} | ${f(c.us)} | ${f(c.calls ? c.us / c.calls : 0)} | ${f(c.blocks)} | ${f(c.dirtied, 2)} | ${f(c.rows, 2)} |`,
    );
  if (values.badges) {
    // A push's badges (features/reads/push.ts `totals`): u2–u4's unread totals, read 40 times,
    // each after one more send of u1's.
    const ms: number[] = [];
    let totals = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      await sendMessage(server.svc, caller('u1'), cids[0] as string, { text: `badge ${i}` });
      const s = performance.now();
      totals = await server.svc.unread.totals(appCtx.id, ['u2', 'u3', 'u4']);
      ms.push(performance.now() - s);
    }
    console.log(
      `\nbadges of u2–u4 (${[...totals.values()].join(', ')} unread): p50 ${f(pct(ms, 50), 2)} ms, p99 ${f(pct(ms, 99), 2)} ms`,
    );
  }
  if (values.json) writeFileSync(values.json, JSON.stringify({ summary, statements: costs }, null, 1));
} finally {
  await server.app.close();
  await database.close();
  rmSync(dataDir, { recursive: true, force: true });
  if (!values.keep) await admin.query(`drop database if exists ${name} with (force)`);
  else console.log(`\nkept database ${name}`);
  await admin.end();
}
