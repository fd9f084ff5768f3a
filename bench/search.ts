/**
 * Message search at scale: a database seeded with N messages over 1,000 channels and 10,000
 * users, a fixed mix of 20 queries (single words, phrases, filters alone, rare and common words)
 * through the real search action (`searchMessages`, as `GET /v1/search/messages` runs it) as
 * an ordinary user, beside the same queries as plain `ILIKE` scans over the same rows; then the
 * index's size and what it costs a send (the real send action, with the search trigger and
 * indexes, and with them removed).
 *
 *   node --conditions=@parley/source --import tsx bench/search.ts
 *        [--messages 1000000] [--pg postgres://…] [--pglite] [--rounds 5] [--sends 3000] [--keep]
 *        [--sends-only] [--send-rounds 3] [--toggle all|gin|btrees|pending] [--db parley_search_… (reuse a --keep run's database)]
 *
 * PostgreSQL by default (a database of its own, dropped at the end unless --keep); `--pglite`
 * runs the same on embedded PGlite (use --messages 100000 there). Loopback only; bounded by
 * the counts. Each query runs `--rounds` times, interleaved with the others; the table gives
 * p50/p95/p99 over all runs of the mix, and per query its median.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { buildServer } from '../packages/server/src/app.js';
import { sendMessage } from '../packages/server/src/features/messages/actions.js';
import { SEARCH_INDEX_WITH as MIGRATION_GIN_WITH } from '../packages/server/src/features/search/index-flush.js';
import { searchMessages } from '../packages/server/src/features/search/messages.js';
import { parseQuery } from '../packages/server/src/features/search/query.js';
import type { Caller } from '../packages/server/src/platform/auth.js';
import { defaultConfig, NO_HTTP_LIMITS } from '../packages/server/src/platform/config.js';
import { type Database, openDatabase, rows } from '../packages/server/src/platform/db/index.js';
import { runMigrations } from '../packages/server/src/platform/db/migrate.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000000' },
    pg: { type: 'string', default: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test' },
    pglite: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '5' },
    sends: { type: 'string', default: '3000' },
    /** What the send comparison takes away: `all` (default), `gin` (trigger + GIN), `btrees`. */
    toggle: { type: 'string', default: 'all' },
    /** Interleaved pairs of send runs, with and without the search trigger and indexes. */
    'send-rounds': { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
    /** Reuse a database a `--keep` run left (its name, printed at the end): no seeding. */
    db: { type: 'string' },
    /** Only the send comparison (the queries need the same seeded database, but take minutes). */
    'sends-only': { type: 'boolean', default: false },
    /**
     * The GIN index's storage options for this run, e.g. `fastupdate = off` to measure the index
     * as it was before the pending list (default: the migration's).
     */
    'gin-with': { type: 'string' },
  },
});
const N = Number(values.messages);
const ROUNDS = Number(values.rounds);
const SENDS = Number(values.sends);
const SEARCH_INDEX_WITH = values['gin-with'] ?? MIGRATION_GIN_WITH;
if (!/^[a-z_ =,0-9]+$/.test(SEARCH_INDEX_WITH)) throw new Error('--gin-with: storage options like fastupdate = off');
const SEND_ROUNDS = Math.max(1, Number(values['send-rounds']));
if (!['all', 'gin', 'btrees', 'pending'].includes(values.toggle as string))
  throw new Error('--toggle: all, gin, btrees or pending');
const CHANNELS = 1000;
const USERS = 10_000;
/** Channels 0–899 are public; 900–999 private groups of 50 members each. */
const PUBLIC = 900;

const COMMON = (
  'the be to of and a in that have it for not on with he as you do at this but his by from they we say her ' +
  'she or an will my one all would there their what so up out if about who get which go me when make can like ' +
  'time no just him know take people into year your good some could them see other than then now look only ' +
  'come its over think also back after use two how our work first well way even new want because any these ' +
  'give day most us deploy release build review meeting budget customer design server client bug fix test'
).split(' ');
/** 20,000 rarer words beside the common ones: `zeta123`-style, drawn with a long tail. */
const RARE = 20_000;

const log = (s: string) => process.stderr.write(`${s}\n`);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};
const median = (xs: number[]) => pct(xs, 50);

/**
 * CPU time of the given processes (PostgreSQL backends), in ms, from Linux's /proc (0 where there
 * is none): beside the node's own CPU, what a send costs the machine whatever else runs on it —
 * a steadier figure than throughput on a shared machine.
 */
function cpuMsOf(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15 of stat)
    } catch {
      // not on this machine, or the process ended
    }
  }
  return ticks * 10; // USER_HZ = 100
}

/** Seed users, channels, memberships and N messages with SQL (the trigger indexes each row). */
/** A number inlined as SQL (seeding arithmetic needs types that parameters would not carry). */
const n = (x: number) => sql.raw(String(Math.trunc(x)));

async function seed(database: Database, appId: string): Promise<void> {
  const t0 = performance.now();
  const exec = (q: ReturnType<typeof sql>) => database.db.execute(q);
  await exec(sql`insert into users (app_id, id, name, username)
    select ${appId}, 'u' || i, 'User ' || i, 'user' || i from generate_series(0, ${n(USERS - 1)}) i`);
  await exec(sql`insert into channels (app_id, cid, type, id, name, last_seq, member_count)
    select ${appId}, case when i < ${n(PUBLIC)} then 'public:c' || i else 'group:c' || i end,
      case when i < ${n(PUBLIC)} then 'public' else 'group' end, 'c' || i, 'channel-' || i,
      ${n(Math.floor(N / CHANNELS))} + case when i < ${n(N % CHANNELS)} then 1 else 0 end, 50
    from generate_series(0, ${n(CHANNELS - 1)}) i`);
  // Each group has 50 members; user u<k> is in groups (900 + k % 100) and (900 + (k + 37) % 100).
  await exec(sql`insert into members (app_id, cid, user_id, role)
    select ${appId}, 'group:c' || (900 + (k + off) % 100), 'u' || k, 'member'
    from generate_series(0, ${n(USERS - 1)}) k, (values (0), (37)) o(off)
    on conflict do nothing`);
  log(`  seeded users, channels, members in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  // As a bulk import would: the search indexes are built once at the end, not row by row.
  await exec(sql`drop index messages_search_idx`);
  await exec(sql`drop index messages_created_idx`);
  await exec(sql`drop index messages_user_idx`);
  const words = sql.raw(`array[${COMMON.map((w) => `'${w}'`).join(',')}]`);
  const batch = 100_000;
  for (let from = 0; from < N; from += batch) {
    const to = Math.min(N, from + batch) - 1;
    // Words: 70 % from the common list (Zipf-like), 30 % rare ones with a long tail.
    await exec(sql`insert into messages (app_id, id, cid, seq, user_id, type, text, created_at, updated_at)
      select ${appId}, gen_random_uuid(),
        case when i % ${n(CHANNELS)} < ${n(PUBLIC)} then 'public:c' else 'group:c' end || (i % ${n(CHANNELS)}),
        i / ${n(CHANNELS)} + 1, 'u' || ((i::bigint * 7919) % ${n(USERS)}), 'regular',
        (select string_agg(case when random() < 0.7
            then (${words})[1 + floor(power(random(), 2.2) * ${n(COMMON.length)})::int]
            else 'zeta' || floor(power(random(), 3) * ${n(RARE)})::int end, ' ')
          from generate_series(1, 4 + (i % 13)) g where i >= 0),
        now() - (${n(N)} - i) * interval '2 seconds', now() - (${n(N)} - i) * interval '2 seconds'
      from generate_series(${n(from)}, ${n(to)}) i`);
    log(`  messages ${to + 1}/${N} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  await exec(
    sql`create index messages_search_idx on messages using gin (search_tsv) with (${sql.raw(SEARCH_INDEX_WITH)})`,
  );
  await exec(sql`create index messages_created_idx on messages (app_id, created_at)`);
  await exec(sql`create index messages_user_idx on messages (app_id, user_id, created_at)`);
  await exec(sql`analyze`);
  log(`  seeded and analyzed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

/** The fixed mix: [label, query]. `u3` is in groups c903 and c940. */
const MIX: [string, string][] = [
  ['common word', 'deploy'],
  ['very common word', 'time'],
  ['stop word only', 'the'],
  ['rare word', 'zeta15000'],
  ['rare word 2', 'zeta9999'],
  ['mid-frequency word', 'zeta40'],
  ['two common words', 'budget review'],
  ['common + rare', 'release zeta1200'],
  ['phrase, common', '"good people"'],
  ['phrase, rare', '"zeta3 zeta4"'],
  ['word OR word', 'zeta17000 OR zeta18000'],
  ['negation', 'deploy -review'],
  ['filter only: from', 'from:@user7919'],
  ['filter only: in', 'in:#channel-42'],
  ['filter only: date', 'on:2020-01-01'],
  ['word + in', 'meeting in:#channel-903'],
  ['word + from', 'design from:@user5838'],
  ['word + date range', 'bug after:2020-01-01'],
  ['newest first, common', 'customer'],
  ['prefix-like identifier', 'zeta12'],
];

/** The same query as a plain ILIKE scan over the same readable rows (the baseline). */
function ilikeOf(appId: string, userId: string, q: string) {
  const p = parseQuery(q);
  const terms = [...p.text.matchAll(/"([^"]+)"|(-?)(\S+)/g)]
    .filter((m) => m[3] !== 'OR')
    .map((m) => ({ not: m[2] === '-', text: (m[1] ?? m[3] ?? '').replace(/[\\%_]/g, (c) => `\\${c}`) }));
  const conds = [
    sql`m.app_id = ${appId}`,
    sql`m.deleted_at is null`,
    sql`m.cid in (select cid from members where app_id = ${appId} and user_id = ${userId} union all select cid from channels where app_id = ${appId} and type in ('public', 'announcement'))`,
  ];
  const or = p.text.includes(' OR ');
  const likes = terms.map((t) => sql`m.text ${t.not ? sql`not ilike` : sql`ilike`} ${`%${t.text}%`}`);
  if (likes.length) conds.push(or ? sql`(${sql.join(likes, sql` or `)})` : sql.join(likes, sql` and `));
  if (p.from.length)
    conds.push(
      sql`m.user_id in (select id from users where app_id = ${appId} and lower(username) = ${p.from[0]?.toLowerCase()})`,
    );
  if (p.in.length)
    conds.push(
      sql`m.cid in (select cid from channels where app_id = ${appId} and lower(name) = ${p.in[0]?.toLowerCase()})`,
    );
  if (p.since) conds.push(sql`m.created_at >= ${p.since.toISOString()}::timestamptz`);
  if (p.until) conds.push(sql`m.created_at < ${p.until.toISOString()}::timestamptz`);
  return sql`select m.id from messages m where ${sql.join(conds, sql` and `)} order by m.created_at desc limit 20`;
}

async function main(): Promise<void> {
  let database: Database;
  let dropDb: (() => Promise<void>) | null = null;
  let backend: string;
  if (values.pglite) {
    database = await openDatabase({ template: true });
    await runMigrations(database);
    backend = 'PGlite (in process)';
  } else {
    const url = values.pg as string;
    const name = values.db ?? `parley_search_${randomBytes(3).toString('hex')}`;
    if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`--db ${name}: not a database name`);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    if (!values.db) await admin.query(`create database ${name}`);
    backend = `PostgreSQL ${(await admin.query('show server_version')).rows[0].server_version}`;
    const u = new URL(url);
    u.pathname = `/${name}`;
    database = await openDatabase({ url: u.toString(), poolSize: 40 });
    await runMigrations(database);
    dropDb = async () => {
      if (!values.keep && !values.db) await admin.query(`drop database if exists ${name} with (force)`);
      else log(`kept database ${name}`);
      await admin.end();
    };
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-search-bench-'));
  const server = await buildServer(
    // A fixed master key: a kept database's app secret opens again in a later run (--db).
    // No vacuum pass of the server's own: on a million messages it would run through the first
    // measurements; the bench analyzes after seeding and vacuums the send channels between runs.
    defaultConfig({
      dataDir,
      adminToken: 'bench',
      logLevel: 'silent',
      rateMessages: 0,
      httpLimits: NO_HTTP_LIMITS,
      masterKey: '42'.repeat(32),
      vacuumMinutes: 0,
    }),
    { database, migrate: false, logger: false },
  );
  try {
    const [kept] = values.db
      ? await rows<{ id: string; api_key: string }>(
          database.db,
          sql`select id, api_key from apps where name = 'search-bench' order by created_at limit 1`,
        )
      : [];
    if (values.db && !kept) throw new Error(`--db ${values.db}: no search-bench app in it`);
    const app = kept ?? (await server.svc.apps.create('search-bench'));
    const appCtx = await server.svc.apps.byKey(app.api_key);
    if (!appCtx) throw new Error('app not found');
    log(`search bench on ${backend}: ${N.toLocaleString('en')} messages${kept ? ' (reused)' : ''}`);
    if (!kept) await seed(database, app.id);
    await database.db.execute(sql`alter index messages_search_idx set (${sql.raw(SEARCH_INDEX_WITH)})`);
    log(`  GIN index with (${SEARCH_INDEX_WITH})`);
    const caller: Caller = { kind: 'user', app: appCtx, userId: 'u3' };

    // Queries, interleaved: round 1 runs each query once, round 2 again, …
    const parley = new Map<string, number[]>();
    const ilike = new Map<string, number[]>();
    const hits = new Map<string, number>();
    for (let round = 0; round <= (values['sends-only'] ? -1 : ROUNDS); round++) {
      for (const [label, q] of MIX) {
        const sort = label.startsWith('newest') ? 'newest' : 'relevance';
        let t = performance.now();
        const r = await searchMessages(server.svc, caller, { q, sort, limit: 20 });
        const ms = performance.now() - t;
        t = performance.now();
        await rows(database.db, ilikeOf(app.id, 'u3', q));
        const ims = performance.now() - t;
        if (round === 0) {
          hits.set(label, r.results.length);
          continue; // warm-up round
        }
        parley.set(label, [...(parley.get(label) ?? []), ms]);
        ilike.set(label, [...(ilike.get(label) ?? []), ims]);
      }
      if (round > 0) log(`  query round ${round}/${ROUNDS}`);
    }
    const all = [...parley.values()].flat();
    const allIlike = [...ilike.values()].flat();

    const [size] = await rows<{ gin: string; created: string; table: string; tsv: string }>(
      database.db,
      sql`select pg_size_pretty(pg_relation_size('messages_search_idx')) as gin,
            pg_size_pretty(pg_relation_size('messages_created_idx') + pg_relation_size('messages_user_idx')) as created,
            pg_size_pretty(pg_total_relation_size('messages')) as table,
            pg_size_pretty(sum(pg_column_size(search_tsv))::bigint) as tsv from messages`,
    );

    const toggle = values.toggle;
    // `pending` keeps everything and compares the GIN index with its pending list (the "with"
    // side) against the same index with `fastupdate = off` (the "without" side).
    const pending = toggle === 'pending';
    const gin = toggle === 'all' || toggle === 'gin';
    const btrees = toggle === 'all' || toggle === 'btrees';
    /** Merge the GIN pending list, if the index is there (it is dropped on the `without` side). */
    const flushSearchIndex = async () => {
      const [idx] = await rows<{ ok: boolean }>(
        database.db,
        sql`select to_regclass('messages_search_idx') is not null as ok`,
      );
      if (idx?.ok) await database.db.execute(sql`select gin_clean_pending_list('messages_search_idx'::regclass)`);
    };
    // What the index costs a send: the real send action, 16 senders over 16 channels.
    const sendRun = async (tag: string) => {
      const lat: number[] = [];
      let next = 0;
      const cpu0 = process.cpuUsage();
      // This database's backends only: other databases on the same server are not ours.
      const backends = values.pglite
        ? [] // in this process: its CPU is the node's
        : (
            await rows<{ pid: number }>(
              database.db,
              sql`select pid from pg_stat_activity where datname = current_database()`,
            )
          ).map((r) => r.pid);
      const pg0 = cpuMsOf(backends);
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: 16 }, async (_, w) => {
          for (;;) {
            const i = next++;
            if (i >= SENDS) return;
            const s = performance.now();
            await sendMessage(server.svc, { kind: 'user', app: appCtx, userId: `u${w}` }, `public:c${w}`, {
              text: `${tag} message ${i} about the budget review and zeta${i % 500}`,
            });
            lat.push(performance.now() - s);
          }
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      // What sends left in the search index's pending list is merged now, inside the CPU
      // window (the run paid for it) and not into the next run's.
      await flushSearchIndex();
      const cpu = process.cpuUsage(cpu0);
      const nodeUs = (cpu.user + cpu.system) / SENDS;
      const pgUs = ((cpuMsOf(backends) - pg0) * 1000) / SENDS;
      // Each send rewrote its channel's row: without autovacuum (PGlite; this machine's server)
      // the 16 rows' dead versions pile up run after run and every later run reads through
      // them. Freed here, outside the measured window, as autovacuum or Parley's own pass would.
      await database.db.execute(sql`vacuum (analyze) channels`);
      return { perSecond: SENDS / seconds, p50: pct(lat, 50), p99: pct(lat, 99), nodeUs, pgUs };
    };
    // Members of the send channels (public channels need none to read, but senders must be in).
    await database.db.execute(sql`insert into members (app_id, cid, user_id, role)
      select ${app.id}, 'public:c' || w, 'u' || w, 'member' from generate_series(0, 15) w on conflict do nothing`);
    const withIdx: Awaited<ReturnType<typeof sendRun>>[] = [];
    const without: typeof withIdx = [];
    // `--toggle all` (default) compares with and without the trigger and all three indexes;
    // `gin` keeps the two btrees on both sides (what the tsvector and its GIN index cost alone);
    // `btrees` keeps the trigger and GIN index (what the created_at and user btrees cost).
    const searchOff = async () => {
      if (pending) await database.db.execute(sql`alter index messages_search_idx set (fastupdate = off)`);
      if (gin) {
        await database.db.execute(sql`alter table messages disable trigger messages_search_tsv`);
        await database.db.execute(sql`drop index messages_search_idx`);
      }
      if (btrees) {
        await database.db.execute(sql`drop index messages_created_idx`);
        await database.db.execute(sql`drop index messages_user_idx`);
      }
    };
    const searchOn = async () => {
      if (pending) await database.db.execute(sql`alter index messages_search_idx set (${sql.raw(SEARCH_INDEX_WITH)})`);
      if (gin)
        await database.db.execute(
          sql`create index messages_search_idx on messages using gin (search_tsv) with (${sql.raw(SEARCH_INDEX_WITH)})`,
        );
      if (btrees) {
        await database.db.execute(sql`create index messages_created_idx on messages (app_id, created_at)`);
        await database.db.execute(sql`create index messages_user_idx on messages (app_id, user_id, created_at)`);
      }
      if (gin) await database.db.execute(sql`alter table messages enable trigger messages_search_tsv`);
    };
    // Interleaved in pairs, alternating which side goes first (with|without, without|with, …),
    // so neither side always runs on the warmer or the larger table; one rebuild per pair.
    await sendRun('warm-up');
    let on = true;
    for (let i = 0; i < SEND_ROUNDS; i++) {
      if (on) {
        withIdx.push(await sendRun('with'));
        await searchOff();
        without.push(await sendRun('without'));
      } else {
        without.push(await sendRun('without'));
        await searchOn();
        withIdx.push(await sendRun('with'));
      }
      on = !on;
      log(`  send round ${i + 1}/${SEND_ROUNDS}`);
    }
    if (!on) await searchOn();
    log('  send cost measured');

    const f = (x: number) => x.toFixed(1);
    console.log(
      `\n### Search on ${backend}: ${N.toLocaleString('en')} messages, ${CHANNELS} channels, ${USERS.toLocaleString('en')} users\n`,
    );
    if (!values['sends-only']) {
      console.log(
        `${MIX.length} queries × ${ROUNDS} interleaved rounds (after a warm-up round), as user u3 (public channels + 2 groups).\n`,
      );
      console.log('| | p50 ms | p95 ms | p99 ms |');
      console.log('|---|---:|---:|---:|');
      console.log(
        `| Parley search (tsvector + GIN, ranked, highlighted) | ${f(pct(all, 50))} | ${f(pct(all, 95))} | ${f(pct(all, 99))} |`,
      );
      console.log(
        `| plain ILIKE scan, same rows, newest 20 | ${f(pct(allIlike, 50))} | ${f(pct(allIlike, 95))} | ${f(pct(allIlike, 99))} |`,
      );
      console.log('\n| query | hits (page) | Parley median ms | ILIKE median ms |');
      console.log('|---|---:|---:|---:|');
      for (const [label, q] of MIX)
        console.log(
          `| ${label}: \`${q}\` | ${hits.get(label)} | ${f(median(parley.get(label) ?? []))} | ${f(median(ilike.get(label) ?? []))} |`,
        );
    }
    console.log(
      `\nIndex: GIN ${size?.gin}, created_at and user btrees ${size?.created}; search_tsv column ${size?.tsv}; messages table in all ${size?.table}.\n`,
    );
    const m = (xs: { perSecond: number }[]) => median(xs.map((x) => x.perSecond));
    const spread = (xs: { perSecond: number }[]) =>
      `${Math.round(Math.min(...xs.map((x) => x.perSecond)))}–${Math.round(Math.max(...xs.map((x) => x.perSecond)))}`;
    const sides = (
      {
        all: ['with the search trigger and its three indexes', 'without them'],
        gin: ['with the search trigger and GIN index', 'without them (btrees on both sides)'],
        btrees: ['with the two btrees', 'without them (trigger and GIN on both sides)'],
        pending: ['GIN with its pending list', 'GIN with fastupdate off'],
      } as Record<string, [string, string]>
    )[toggle as string] as [string, string];
    const cpuCols = (xs: typeof withIdx) =>
      `${f(median(xs.map((x) => x.nodeUs)))} | ${f(median(xs.map((x) => x.pgUs)))} | ${f(median(xs.map((x) => x.nodeUs + x.pgUs)))}`;
    console.log(
      `| sends (16 senders, 16 channels, ${SEND_ROUNDS} interleaved pairs of ${SENDS} sends) | messages/s median (spread) | p50 ms | p99 ms | node CPU µs/send | PostgreSQL CPU µs/send | CPU µs/send |`,
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    console.log(
      `| ${sides[0]} | ${Math.round(m(withIdx))} (${spread(withIdx)}) | ${f(median(withIdx.map((x) => x.p50)))} | ${f(median(withIdx.map((x) => x.p99)))} | ${cpuCols(withIdx)} |`,
    );
    console.log(
      `| ${sides[1]} | ${Math.round(m(without))} (${spread(without)}) | ${f(median(without.map((x) => x.p50)))} | ${f(median(without.map((x) => x.p99)))} | ${cpuCols(without)} |`,
    );
    // Each pair ran back to back, so its own ratio cancels most of the machine's drift.
    const pairs = withIdx.map((w, i) => (1 - w.perSecond / (without[i] as (typeof without)[number]).perSecond) * 100);
    console.log(
      `\nSend slowdown (${sides[0]} against ${sides[1]}): ${f((1 - m(withIdx) / m(without)) * 100)} % (of the medians); per pair, median ${f(median(pairs))} % (${f(Math.min(...pairs))} to ${f(Math.max(...pairs))} %)`,
    );
    // The same per pair in CPU per send (node + PostgreSQL), which the machine's load moves less.
    const cpuOf = (x: (typeof withIdx)[number]) => x.nodeUs + x.pgUs;
    const cpuPairs = withIdx.map((w, i) => (cpuOf(w) / cpuOf(without[i] as (typeof without)[number]) - 1) * 100);
    console.log(
      `CPU per send added (${sides[0]} against ${sides[1]}): ${f((median(withIdx.map(cpuOf)) / median(without.map(cpuOf)) - 1) * 100)} % (of the medians); per pair, median ${f(median(cpuPairs))} % (${f(Math.min(...cpuPairs))} to ${f(Math.max(...cpuPairs))} %)`,
    );
  } finally {
    // A kept database goes back to the migration's index options for the next run.
    if (values['gin-with'])
      await database.db
        .execute(sql`alter index if exists messages_search_idx set (${sql.raw(MIGRATION_GIN_WITH)})`)
        .catch(() => {});
    await server.app.close();
    await database.close();
    await dropDb?.();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
