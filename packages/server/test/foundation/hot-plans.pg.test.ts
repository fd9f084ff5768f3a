/**
 * The plans of the hot statements (platform/db/hot.ts). Each is a named prepared statement on
 * PostgreSQL; a generic plan of it, once cached, is kept until the tables' statistics change —
 * for good where autovacuum is off — and the server's connections plan them afresh on every run
 * instead. Both kinds of plan of every declared statement must reach each table through the
 * index it declares, on a freshly migrated database that was never analyzed (empty tables, no
 * statistics: where a plan made at setup came out wrong, scanning the whole tenant on every
 * send), on one grown large before its first ANALYZE (where the user probes went through a
 * username index of NULLs, and the watch read's log page through a bitmap of the whole range), on one analyzed while it held a few rows and grown since without a new ANALYZE (where
 * the member probe read all of a user's memberships through `members_user_idx`), and on a
 * large analyzed one. On PostgreSQL also as the hot connections plan them (`hot`: generic, with no
 * sequential scan, bitmap scan or sort where there is another way), there on a database whose
 * `messages` grows through its first pages with no statistics or those of a few rows (where a
 * probe by id went through `messages_created_idx` and a Sort, or a Bitmap Heap Scan).
 *
 * The plans come from `plan_cache_mode = force_generic_plan` / `force_custom_plan` and
 * `EXPLAIN EXECUTE` (PostgreSQL 15 has no `EXPLAIN (GENERIC_PLAN)`). PGlite (PostgreSQL 18)
 * runs the same assertions: it never caches these plans (no named statements there), but its
 * planner must agree, so the shapes do not lean on one version's tie-breaking.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Loads every feature, and with them every hot statement they declare.
import '../../src/app.js';
import { type HotStatement, hotStatements } from '../../src/platform/db/hot.js';
import { type Database, HOT_SESSION_SETTINGS, openDatabase } from '../../src/platform/db/index.js';
import { testDatabase } from '../harness.js';

let database: Database;
let drop: () => Promise<void>;

beforeAll(async () => {
  ({ database, drop } = await testDatabase());
});
afterAll(async () => {
  await drop();
});

/** Run SQL on one connection (PREPARE and SET belong to the session). */
async function onSession<T>(fn: (q: (text: string) => Promise<Record<string, unknown>[]>) => Promise<T>): Promise<T> {
  const d = database.driver;
  const pgClient = d.kind === 'postgres' ? await d.pool.connect() : null;
  const q = async (text: string): Promise<Record<string, unknown>[]> => {
    if (pgClient) return (await pgClient.query(text)).rows;
    if (d.kind === 'pglite') return (await d.client.query<Record<string, unknown>>(text)).rows;
    throw new Error('unreachable');
  };
  try {
    return await fn(q);
  } finally {
    // The session's settings and prepared names must not outlive the check: a PostgreSQL
    // connection is closed rather than handed back to the pool.
    if (pgClient) pgClient.release(true);
    else {
      await q('reset plan_cache_mode');
      await q('deallocate all');
    }
  }
}

interface PlanNode {
  'Node Type': string;
  Operation?: string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Conflict Arbiter Indexes'?: string[];
  Plans?: PlanNode[];
}

/**
 * The plan of `s`, as EXPLAIN (FORMAT JSON) gives it: the generic one (what a cached plan
 * would be) or a custom one (what the server's connections make on every run), for arguments
 * the planner cannot see through (all null; the statements take JSON documents).
 */
async function planOf(s: HotStatement, mode: Mode): Promise<PlanNode> {
  const params = Math.max(0, ...[...s.text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
  return onSession(async (q) => {
    // `hot`: as the server's hot and read connections plan (platform/db/index.ts).
    await q(mode === 'hot' ? HOT_SESSION_SETTINGS : `set plan_cache_mode = force_${mode}_plan`);
    await q(`prepare ${s.name} as ${s.text}`);
    const args = params ? `(${Array(params).fill('null').join(', ')})` : '';
    const [row] = await q(`explain (format json) execute ${s.name}${args}`);
    const out = row?.['QUERY PLAN'];
    const json = (typeof out === 'string' ? JSON.parse(out) : out) as { Plan: PlanNode }[];
    return (json[0] as { Plan: PlanNode }).Plan;
  });
}

const SCAN_BY_INDEX = new Set(['Index Scan', 'Index Only Scan']);

/**
 * What in `plan` breaks `s.reads`: a table read other than through its declared index (a
 * Seq Scan, a Bitmap scan, another index), a table read but not declared, an `on conflict`
 * arbitrated by another index, or a declared table the plan never reads.
 */
function violations(s: HotStatement, plan: PlanNode): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = (n: PlanNode) => {
    const rel = n['Relation Name'];
    if (rel !== undefined) {
      const want = s.reads[rel];
      // One index, or several of which any will do (hot.ts).
      const wanted: readonly (string | undefined)[] = typeof want === 'string' || want === undefined ? [want] : want;
      if (n['Node Type'] === 'ModifyTable') {
        for (const arbiter of n['Conflict Arbiter Indexes'] ?? []) {
          seen.add(rel);
          if (!wanted.includes(arbiter))
            out.push(`${n.Operation} on ${rel}: on conflict through ${arbiter}, want ${wanted.join(' or ')}`);
        }
      } else {
        seen.add(rel);
        if (!SCAN_BY_INDEX.has(n['Node Type']) || !wanted.includes(n['Index Name']))
          out.push(
            `${n['Node Type']} on ${rel}${n['Index Name'] ? ` using ${n['Index Name']}` : ''}, want ${wanted.join(' or ')}`,
          );
      }
    }
    for (const child of n.Plans ?? []) walk(child);
  };
  walk(plan);
  for (const table of Object.keys(s.reads)) if (!seen.has(table)) out.push(`${table} is declared but never read`);
  return out;
}

type Mode = 'generic' | 'custom' | 'hot';

/** Plain generic and custom plans, and on PostgreSQL the hot connections' (PGlite has none). */
const modes = (): Mode[] =>
  database.driver.kind === 'postgres' ? ['generic', 'custom', 'hot'] : ['generic', 'custom'];

async function checkAll(): Promise<Record<string, string[]>> {
  const result: Record<string, string[]> = {};
  for (const s of hotStatements())
    for (const mode of modes()) result[`${s.name} (${mode})`] = violations(s, await planOf(s, mode));
  return result;
}

const none = () => Object.fromEntries(hotStatements().flatMap((s) => modes().map((m) => [`${s.name} (${m})`, []])));

/** The tables the hot statements read: apps, chat rows, counters and the event log. */
const TABLES = [
  'channels',
  'members',
  'users',
  'messages',
  'user_message_flags',
  'channel_events',
  'push_subscriptions',
  'push_devices',
  'workspace_members',
  'notification_settings',
  'channel_notification_settings',
  'push_bursts',
  'user_mutes',
  'channel_count_epochs',
];

describe('hot statements', () => {
  it('are all declared: the send path runs through two, a connect and a watch through one each, the inbox derivation through two, the unread pushes through one, a notification job through three and its pushes through one, and nothing prepares a statement elsewhere', () => {
    const names = hotStatements().map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'parley_send_access',
        'parley_send_batch',
        'parley_watch_read',
        'parley_open_connection',
        'parley_channel_seqs',
        'parley_notify_reachable',
        'parley_notify_messages',
        'parley_notify_candidates',
        'parley_push_targets',
        'parley_inbox_messages',
        'parley_inbox_candidates',
        'parley_unread_push',
      ]),
    );
    // A named statement made with drizzle's `.prepare()` would bypass the declaration (and this
    // test); `Database.prepared` refuses undeclared ones at run time.
    const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');
    const offenders = (readdirSync(src, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.ts'))
      .filter((f) => /\.prepare\(/.test(readFileSync(path.join(src, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('on PostgreSQL: both lanes plan once per connection of their own pool (the generic plans checked here), the main pool on every run', async () => {
    // PGlite runs them as unnamed statements, planned on every run anyway.
    if (database.driver.kind !== 'postgres') return;
    // One connection per pool, so the statements' counters below are the ones their runs moved.
    const url = database.driver.pool.options.connectionString;
    const one = await openDatabase({ url, poolSize: 1, hotPoolSize: 1, readPoolSize: 1 });
    // Without the hot pools (PARLEY_HOT_POOL_SIZE=0), both lanes on the main pool.
    const bare = await openDatabase({ url, poolSize: 1, hotPoolSize: 0 });
    try {
      const byName = (name: string) => hotStatements().find((s) => s.name === name) as HotStatement;
      const access = byName('parley_send_access');
      const watch = byName('parley_watch_read');
      expect([access.lane ?? 'send', watch.lane]).toEqual(['send', 'read']);
      for (const d of [one, bare]) {
        for (let i = 0; i < 8; i++) await d.prepared(access, ['[]']);
        for (let i = 0; i < 8; i++) await d.prepared(watch, ['[]']);
      }
      if (one.driver.kind !== 'postgres' || bare.driver.kind !== 'postgres') throw new Error('unreachable');
      const { pool, hotPool, readPool } = one.driver;
      expect(new Set([pool, hotPool, readPool]).size).toBe(3);
      const counts = `select generic_plans, custom_plans from pg_prepared_statements where name = $1`;
      expect((await hotPool.query(counts, [access.name])).rows).toEqual([{ generic_plans: 8, custom_plans: 0 }]);
      expect((await readPool.query(counts, [watch.name])).rows).toEqual([{ generic_plans: 8, custom_plans: 0 }]);
      // A plan made while a table was tiny (rightly read whole) lives as long as its connection:
      // hot and read connections are replaced after five minutes; the main pool never.
      expect([hotPool, readPool, pool].map((p) => p.options.maxLifetimeSeconds)).toEqual([300, 300, 0]);
      // And they plan without sequential scans (see the grown-table test below), bitmap scans or
      // sorts (see the growing-messages test), and so without JIT: a sort they cannot do without
      // is costed past `jit_above_cost`.
      const setting = 'select current_setting($1) as v';
      for (const name of ['enable_seqscan', 'enable_bitmapscan', 'enable_sort', 'enable_incremental_sort', 'jit']) {
        for (const p of [hotPool, readPool]) expect((await p.query(setting, [name])).rows).toEqual([{ v: 'off' }]);
        expect((await pool.query(setting, [name])).rows).toEqual([{ v: 'on' }]);
      }
      // On the main pool, which also runs the query builder's statements: planned on every run.
      expect([bare.driver.hotPool, bare.driver.readPool]).toEqual([bare.driver.pool, bare.driver.pool]);
      for (const s of [access, watch])
        expect((await bare.driver.pool.query(counts, [s.name])).rows).toEqual([{ generic_plans: 0, custom_plans: 8 }]);
    } finally {
      await one.close();
      await bare.close();
    }
  });

  it("leave the search trigger's own plan cached: a send's message is indexed without replanning its app lookup", async () => {
    // `force_custom_plan` on the hot connections reaches PL/pgSQL's plans too; the trigger sets
    // the default for itself (migration 0021), so its app lookup is planned once per connection.
    const [fn] = await onSession((q) => q(`select proconfig from pg_proc where proname = 'parley_message_search_tsv'`));
    expect(fn?.proconfig).toEqual(['plan_cache_mode=auto']);
    // And it still indexes on a session that forces custom plans for everything else.
    const indexed = await onSession(async (q) => {
      await q('set plan_cache_mode = force_custom_plan');
      await q('begin');
      try {
        await q(`insert into apps (id, name, api_key, api_secret_sealed, search_language)
                 values ('00000000-0000-7000-8000-0000000000f1', 'plan', 'k-plan', 'x', 'simple')`);
        await q(
          `insert into channels (app_id, cid, type, id) values ('00000000-0000-7000-8000-0000000000f1', 'group:p', 'group', 'p')`,
        );
        await q(`insert into messages (app_id, id, cid, seq, user_id, text)
                 values ('00000000-0000-7000-8000-0000000000f1', '00000000-0000-7000-8000-0000000000f2', 'group:p', 1, 'u', 'Running dogs')`);
        return await q(`select search_tsv::text as tsv, current_setting('plan_cache_mode') as mode from messages
                        where id = '00000000-0000-7000-8000-0000000000f2'`);
      } finally {
        await q('rollback');
      }
    });
    // 'simple': the app's configuration, looked up by the trigger (english would stem to 'run').
    expect(indexed).toEqual([{ tsv: "'dogs':2 'running':1", mode: 'force_custom_plan' }]);
  });

  it('keep to their indexes on an empty database that was never analyzed', async () => {
    const analyzed = await onSession((q) =>
      q(`select relname from pg_class where relname in (${TABLES.map((t) => `'${t}'`).join(', ')}) and reltuples >= 0`),
    );
    expect(analyzed).toEqual([]); // no statistics at all: reltuples is -1 until the first ANALYZE
    expect(await checkAll()).toEqual(none());
  });

  it('keep to their indexes on a database grown before it was ever analyzed', {
    timeout: 180_000,
  }, async () => {
    // A fresh install's first minute: rows arrive before autovacuum's first ANALYZE (or with
    // autovacuum off). The planner has no statistics and takes each table's size from its
    // pages; an index of deduplicated NULLs (`username` of users made through the API) is a
    // page or two, and the connect probe of users once went through it and sorted: 0.12 ms of
    // PostgreSQL a connect at 1,100 users, growing with the tenant (the idle bench's tenant).
    // With the large tenants beside it, the watch read's log page came through a Bitmap Heap
    // Scan and a Sort of every event after `since`, and the inbox's flag probe through the
    // (user, cid, seq) index with a filter.
    await fill([
      { app: '00000000-0000-7000-8000-00000000000e', channels: 0, users: 1_100, messages: 0, usernames: false },
      ...LARGE,
    ]);
    const analyzed = await onSession((q) =>
      q(`select relname from pg_class where relname in (${TABLES.map((t) => `'${t}'`).join(', ')}) and reltuples >= 0`),
    );
    expect(analyzed).toEqual([]);
    expect(await checkAll()).toEqual(none());
  });

  it('keep to their indexes on a database analyzed while tiny and grown since', {
    timeout: 180_000,
  }, async () => {
    // A database of its own: the one above grew unanalyzed.
    await drop();
    ({ database, drop } = await testDatabase());
    // Statistics from a handful of rows (a deployment analyzed right after setup, then run
    // with autovacuum off): the planner scales the row counts by the tables' current size but
    // keeps the tiny tables' distinct counts, so `user_id = …` looks as selective as a key and
    // an index on (app_id, user_id) as good as the primary key.
    await fill(TINY);
    await onSession((q) => q('analyze'));
    // The hot and read connections plan their statements now, while the tables fit in a page
    // (a deployment's first minutes), and keep those plans as they grow.
    const hot = await keptPlanConnections();
    await hot?.run();
    await fill(LARGE);
    expect(await checkAll()).toEqual(none());
    // The plans it made then, run now: each still a key probe (a Seq Scan of `messages` kept
    // from the first minutes cost a send 2 ms per 20,000 messages, growing).
    if (hot) {
      try {
        expect(await hot.check()).toEqual(
          Object.fromEntries(hotStatements().map((s) => [`${s.name} (generic, made while tiny)`, []])),
        );
      } finally {
        await hot.close();
      }
    }
  });

  it('keep to their indexes on a large analyzed database', {
    timeout: 180_000,
  }, async () => {
    await onSession((q) => q('analyze'));
    expect(await checkAll()).toEqual(none());
  });

  it('keep to their indexes as `messages` grows through its first pages with no statistics or a few rows of them', {
    timeout: 300_000,
  }, async () => {
    // A deployment's first minutes, on the plans its hot connections make and keep (`hot`).
    // PGlite keeps no plan: it plans these on every run, so a plan that reads a table of a few
    // pages whole is made again as the table grows (the larger databases above hold those).
    // Where `messages` held about 200 rows and had no statistics, or those of a row or two, PostgreSQL 15 estimated one row a tenant, costed the
    // Sort a probe by id needs after any other index at nothing, and took `messages_created_idx`
    // (two pages against the key's four): every send of the connection that planned then read
    // its whole tenant, for the connection's five minutes. With statistics of a few rows, the
    // probes went through a Bitmap Heap Scan of the tenant.
    if (database.driver.kind !== 'postgres') return;
    const t: Tenant = { app: '00000000-0000-7000-8000-00000000000d', channels: 4, users: 20, messages: 2_000 };
    const found: Record<string, string[]> = {};
    for (const stats of [-1, 0, 1, 3, 10]) {
      await drop();
      ({ database, drop } = await testDatabase());
      await fill([{ ...t, messages: 0 }]);
      let have = Math.max(0, stats);
      if (stats >= 0) {
        await onSession((q) => q(insertMessages(t, 0, stats)));
        await onSession((q) => q('analyze'));
      }
      for (const size of [20, 50, 100, 150, 200, 250, 300, 400, 600, 1_000, 2_000]) {
        await onSession((q) => q(insertMessages(t, have, size)));
        have = size;
        for (const s of hotStatements()) {
          const v = violations(s, await planOf(s, 'hot'));
          if (v.length > 0) found[`${s.name}: statistics of ${stats} rows, ${size} messages`] = v;
        }
      }
    }
    expect(found).toEqual({});
  });
});

const nulls = (s: HotStatement) =>
  Array(Math.max(0, ...[...s.text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])))).fill(null);

/**
 * On PostgreSQL, a database of one connection per pool, as the server opens them: `run` executes
 * every hot statement on its lane's connection (so it caches their generic plans), `check`
 * EXPLAINs each through the plan that connection cached.
 */
async function keptPlanConnections() {
  if (database.driver.kind !== 'postgres') return null;
  const url = database.driver.pool.options.connectionString;
  const one = await openDatabase({ url, poolSize: 1, hotPoolSize: 1, readPoolSize: 1 });
  if (one.driver.kind !== 'postgres') throw new Error('unreachable');
  const { hotPool, readPool } = one.driver;
  return {
    run: async () => {
      for (const s of hotStatements()) await one.prepared(s, nulls(s));
    },
    check: async () => {
      const out: Record<string, string[]> = {};
      for (const s of hotStatements()) {
        const client = await (s.lane === 'read' ? readPool : hotPool).connect();
        try {
          const args = nulls(s).length
            ? `(${nulls(s)
                .map(() => 'null')
                .join(', ')})`
            : '';
          const { rows } = await client.query(`explain (format json) execute ${s.name}${args}`);
          const plan = rows[0]?.['QUERY PLAN'] as { Plan: PlanNode }[];
          out[`${s.name} (generic, made while tiny)`] = violations(s, (plan[0] as { Plan: PlanNode }).Plan);
        } finally {
          client.release();
        }
      }
      return out;
    },
    close: () => one.close(),
  };
}

/** A tenant small enough to fit in a page or two per table. */
const TINY: Tenant[] = [{ app: '00000000-0000-7000-8000-00000000000c', channels: 2, users: 6, messages: 40 }];

/**
 * Two tenants: A with 2,000 users, 2,050 channels — 50 group channels, each user in 10 of
 * them, holding 50,000 messages (and their 50,000 logged events), and 2,000 direct-message
 * channels — and B with 5,000 users, 5,100 channels and 100,000 messages in 100 of them. Some messages are pinned or thread
 * replies, so the other indexes on `messages` hold something too. (With only the group
 * channels, `channels` would fit in two pages, which a plan rightly reads whole; see
 * docs/internals.md on what replaces such a plan as the table grows.) `INSERT … SELECT`
 * keeps it to seconds.
 */
const LARGE: Tenant[] = [
  { app: '00000000-0000-7000-8000-00000000000a', channels: 50, users: 2_000, messages: 50_000 },
  { app: '00000000-0000-7000-8000-00000000000b', channels: 100, users: 5_000, messages: 100_000 },
];

interface Tenant {
  app: string;
  channels: number;
  users: number;
  messages: number;
  /** Whether the users have usernames (default: yes); users made through the API often have none. */
  usernames?: boolean;
}

/** The insert of a tenant's messages number `from` to `to` - 1 (`fill`, and growing them). */
function insertMessages(t: Tenant, from: number, to: number): string {
  const a = `'${t.app}'::uuid`;
  return `insert into messages (app_id, id, cid, seq, user_id, text, parent_id, pinned_at, created_at)
    select ${a}, md5(${a}::text || g)::uuid, 'group:c' || (1 + g % ${t.channels}), 1 + g / ${t.channels},
      'u' || (1 + g % ${t.users}), 'message ' || g,
      case when g % 10 = 5 then md5(${a}::text || (g - 5))::uuid end,
      case when g % 500 = 0 then now() end,
      now() - make_interval(secs => ${t.messages} - g)
    from generate_series(${from}, ${to - 1}) g`;
}

async function fill(tenants: Tenant[]): Promise<void> {
  await onSession(async (q) => {
    for (const t of tenants) {
      const a = `'${t.app}'::uuid`;
      await q(`insert into apps (id, name, api_key, api_secret_sealed) values (${a}, 'plans', 'key-${t.app}', 'x')`);
      await q(`insert into users (app_id, id, name, username)
        select ${a}, 'u' || g, 'User ' || g, ${t.usernames === false ? 'null' : `'user' || g`}
        from generate_series(1, ${t.users}) g`);
      await q(`insert into channels (app_id, cid, type, id, name, last_seq, member_count)
        select ${a}, 'group:c' || g, 'group', 'c' || g, 'Channel ' || g, ${t.channels ? t.messages / t.channels : 0}, 0
        from generate_series(1, ${t.channels}) g`);
      await q(`insert into channels (app_id, cid, type, id, member_count)
        select ${a}, 'messaging:dm' || g, 'messaging', 'dm' || g, 2 from generate_series(1, ${t.users}) g`);
      await q(`insert into members (app_id, cid, user_id)
        select ${a}, 'group:c' || (1 + (u + k) % ${t.channels}), 'u' || u
        from generate_series(1, ${t.users}) u, generate_series(0, ${Math.min(10, t.channels) - 1}) k`);
      await q(insertMessages(t, 0, t.messages));
      // The log a watch replays: one event per message, as the send path appends them.
      await q(`insert into channel_events (app_id, cid, seq, type, payload, created_at)
        select app_id, cid, seq, 'message.new', jsonb_build_object('seq', seq), created_at from messages
        where app_id = ${a}`);
      await q(`insert into user_message_flags (app_id, user_id, message_id, cid, seq, mentioned)
        select app_id, 'u' || (1 + seq % ${t.users}), id, cid, seq, true from messages
        where app_id = ${a} and seq % 20 = 0`);
      // Somewhere to reach many of them (the notification job's read): a push subscription for
      // one user in 2, a device for one in 3, and a workspace with an account for one in 2 —
      // tables large enough that reading one whole is not a fair plan.
      await q(`insert into push_subscriptions (app_id, id, user_id, endpoint, p256dh, auth)
        select ${a}, md5('sub' || ${a}::text || g)::uuid, 'u' || g, 'https://push.example/' || g, 'k', 'a'
        from generate_series(1, ${t.users}, 2) g`);
      await q(`insert into push_devices (app_id, id, user_id, provider, token)
        select ${a}, md5('dev' || ${a}::text || g)::uuid, 'u' || g, 'apns', 'token' || g
        from generate_series(1, ${t.users}, 3) g`);
      await q(`insert into workspaces (app_id) values (${a})`);
      await q(`insert into accounts (id, email, name, password_hash)
        select md5('acct' || ${a}::text || g)::uuid, g || '-' || ${a}::text || '@example.com', 'A', 'x'
        from generate_series(1, ${t.users}, 2) g`);
      await q(`insert into workspace_members (app_id, account_id, user_id)
        select ${a}, md5('acct' || ${a}::text || g)::uuid, 'u' || g from generate_series(1, ${t.users}, 2) g`);
      await q(`insert into notification_settings (app_id, user_id)
        select ${a}, 'u' || g from generate_series(1, ${t.users}, 2) g`);
      // A channel level for one user in 4 (the inbox derivation's read of its candidates).
      if (t.channels > 0)
        await q(`insert into channel_notification_settings (app_id, user_id, cid, level)
          select ${a}, 'u' || g, 'group:c' || (1 + g % ${t.channels}), 'mentions' from generate_series(1, ${t.users}, 4) g`);
      // A push burst for one user in 4 (the notification job's read of its candidates).
      if (t.channels > 0)
        await q(`insert into push_bursts (app_id, user_id, collapse_key, sent_at)
          select ${a}, 'u' || g, 'group:c' || (1 + g % ${t.channels}), now() from generate_series(1, ${t.users}, 4) g`);
      // Three mutes for one user in 5, and a count epoch for each group channel (the unread
      // push's reads).
      await q(`insert into user_mutes (app_id, user_id, muted_user_id)
        select ${a}, 'u' || g, 'u' || (1 + (g + k) % ${t.users}) from generate_series(1, ${t.users}, 5) g, generate_series(1, 3) k`);
      if (t.channels > 0)
        await q(`insert into channel_count_epochs (app_id, cid, epoch)
          select ${a}, 'group:c' || g, 1 from generate_series(1, ${t.channels}) g on conflict do nothing`);
    }
  });
}
