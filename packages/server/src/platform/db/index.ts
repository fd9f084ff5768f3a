/**
 * Opening the database: PGlite in the data folder (the embedded default) or PostgreSQL
 * when `DATABASE_URL` is set. Both give the same drizzle database over the same schema and
 * migrations; nothing above this file knows which one it has.
 */
import { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import { statementSpan, tracingOn } from '../tracing.js';
import { type DataFolderOpen, openDataFolder } from './data-folder.js';
import { type HotStatement, isHotStatement } from './hot.js';
import { keepByteOrderMarks } from './pglite-bom.js';
import { oneTripClient, PGLITE_PLANS } from './pglite-query.js';
import type { PgliteThread } from './pglite-thread.js';
import * as schema from './schema.js';
import { databaseTemplate, TemplateFS } from './template.js';
import type { TemplateOptions } from './template-find.js';
import type { Database, Db, PoolName, PreparedTiming, Queryable } from './types.js';

export { fromJson, type HotStatement, hotStatement, rowDigest } from './hot.js';
export type { Database, Db, PoolName, PreparedTiming, Queryable, Tx } from './types.js';
export { schema };

/** Run raw SQL and return its rows (both drivers answer with `{ rows }`). */
export async function rows<T>(q: Queryable, query: SQL): Promise<T[]> {
  const r = (await q.execute(query)) as unknown as { rows: T[] };
  return r.rows;
}

export interface DatabaseOptions {
  /** PostgreSQL URL; when absent, PGlite is used. */
  url?: string | undefined;
  /** Folder for PGlite data; `undefined` = in memory (tests). */
  dataDir?: string | undefined;
  /** PostgreSQL pool size. */
  poolSize?: number;
  /**
   * PostgreSQL: connections of their own for the hot statements (the send path), besides
   * `poolSize`; 0 runs them on the main pool. Default: `PARLEY_HOT_POOL_SIZE`, else 4.
   */
  hotPoolSize?: number;
  /**
   * PostgreSQL, with a hot pool: connections of their own for the read lane's hot statements
   * (the batched reads of connects, resyncs and notifications), planned once per connection like
   * the send lane's. Default 4; 0 runs them on the main pool, planned on every run.
   */
  readPoolSize?: number;
  /** Prepared PGlite instance to use (tests clone one migrated instance). */
  pglite?: PGlite;
  /**
   * Start a new PGlite database as a copy of the migrated template (`template.ts`) instead of
   * running initdb. Default: yes for a data folder that has no database yet; no in memory,
   * where some tests need an empty database. Options choose the template's cache and migrations.
   */
  template?: boolean | TemplateOptions;
  /**
   * The data folder's database already opening (data-folder.ts): `parley start` begins it before
   * this module loads. `dataDir` is then the same folder, and `template` is not used.
   */
  dataFolder?: Promise<DataFolderOpen>;
}

// bigint (int8) columns — seq counters and COUNT(*) — as JS numbers. Seqs stay far below 2^53.
const INT8 = 20;
pg.types.setTypeParser(INT8, (v) => Number(v));

/**
 * An in-memory database's start: PGlite's own parameters, with 16 MB of shared buffers instead of
 * initdb's 128 MB. What such a database holds is small (a test's, a demo's), and PostgreSQL sets
 * up every buffer it is given when it starts: a test server's start took 1.6 s of CPU instead of
 * 2.4 s (medians of three interleaved pairs of five starts, on a loaded machine). And a new WAL
 * segment is not filled with zeros first (`wal_init_zero`): in memory they would only be written
 * over, 16 MB in 8 KB writes that each grew the file (70–200 ms of CPU a start, with the
 * garbage it left).
 */
const IN_MEMORY_START = [
  ...PGlite.defaultStartParams,
  ...['-c', 'shared_buffers=16MB', '-c', 'wal_init_zero=off'],
  ...PGLITE_PLANS,
];

/**
 * A PGlite in the data folder or in memory, new ones made from the template when asked;
 * `madeFrom` when this open made a data folder's database from the template (it is `fresh`).
 */
async function openPglite(
  opts: DatabaseOptions,
): Promise<{ client: PGlite | PgliteThread; madeFrom?: Database['madeFrom'] }> {
  const templateOpts = typeof opts.template === 'object' ? opts.template : {};
  if (opts.dataDir) return openDataFolder(opts.dataDir, opts.template === false ? false : templateOpts);
  const template = opts.template ? await databaseTemplate(templateOpts) : null;
  const client = await PGlite.create({
    parsers: { [INT8]: (v: string) => Number(v) },
    startParams: IN_MEMORY_START,
    ...(template ? { fs: new TemplateFS(template) } : {}),
  });
  return { client };
}

/** A prepared statement whose plan no test has checked must not run: it could go bad for good. */
function checkHot(stmt: HotStatement): void {
  if (!isHotStatement(stmt)) throw new Error(`${stmt.name} is not a declared hot statement`);
}

/** The hot pool's size when the caller does not choose: `PARLEY_HOT_POOL_SIZE` (0 = none), else 4. */
function hotPoolDefault(): number {
  const v = process.env.PARLEY_HOT_POOL_SIZE;
  return v !== undefined && /^\d{1,3}$/.test(v) ? Number(v) : 4;
}

/** How long a hot connection, and with it its plans, lives (see `prepared`). */
const HOT_LIFETIME_S = 300;

/**
 * How the hot and read pools' connections plan (see `prepared`): each statement once, with no
 * sequential scan, no bitmap scan and no sort wherever the planner has another way. Every read
 * of a hot statement is a key probe whose order only its declared index yields (platform/db/hot.ts),
 * so a Sort in one of them means another index was taken, and a bitmap scan that a range was read.
 * A sort they cannot do without (of their JSON input) still runs, costed past `jit_above_cost`:
 * hence no JIT, which compiled a one-row send's plan for 1.7 s. These statements take
 * milliseconds; JIT never pays for itself on them.
 */
export const HOT_SESSION_SETTINGS =
  'set plan_cache_mode = force_generic_plan; set enable_seqscan = off; set enable_bitmapscan = off; ' +
  'set enable_sort = off; set enable_incremental_sort = off; set jit = off';

/**
 * A PostgreSQL pool whose checkouts — `pool.query` (drizzle) and `pool.connect` alike, as
 * pg-pool's `query` checks out through `this.connect` — report their wait to `observer`.
 */
function openPool(
  url: string,
  max: number,
  name: PoolName,
  observer: Database['observer'],
  lifetimeSeconds = 0,
): pg.Pool {
  // Idle connections stay open (a new one costs a backend fork, a login and re-preparing the
  // hot statements, right when a burst needs it); a broken one is dropped on its error.
  // `lifetimeSeconds`: replaced after that long (0: never).
  const pool = new pg.Pool({ connectionString: url, max, idleTimeoutMillis: 0, maxLifetimeSeconds: lifetimeSeconds });
  // A dropped idle connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  // Nor one that drops while checked out (inside a transaction): pg-pool listens for errors
  // only on idle clients, and an `error` event nobody hears would end the process. The query
  // in flight fails anyway, and the pool discards the broken client when it is released.
  pool.on('connect', (client) => client.on('error', () => {}));
  const connect = pool.connect.bind(pool) as (cb?: ConnectCallback) => Promise<pg.PoolClient> | undefined;
  const report = (t0: number) => observer.poolWait?.((performance.now() - t0) / 1000, name);
  (pool as unknown as { connect: (cb?: ConnectCallback) => unknown }).connect = (cb?: ConnectCallback) => {
    const t0 = performance.now();
    if (cb)
      return connect((err, client, done) => {
        report(t0);
        cb(err, client, done);
      });
    return (connect() as Promise<pg.PoolClient>).then((c) => {
      report(t0);
      return c;
    });
  };
  return pool;
}

/** `prepared`, in a span of its own when a traced request runs it (platform/tracing.ts). */
function traced(run: Database['prepared']): Database['prepared'] {
  return <T>(stmt: HotStatement, values: unknown[], timing?: PreparedTiming) =>
    tracingOn()
      ? statementSpan(stmt.text, () => run<T>(stmt, values, timing), stmt.name)
      : run<T>(stmt, values, timing);
}

type ConnectCallback = (err: Error | undefined, client: pg.PoolClient | undefined, done: (r?: unknown) => void) => void;

/** Open PGlite or PostgreSQL as configured. */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  let count = 0;
  const logger = {
    logQuery: () => {
      count++;
    },
  };
  if (opts.url) {
    const observer: Database['observer'] = {};
    const main = openPool(opts.url, opts.poolSize ?? 10, 'main', observer);
    // The hot statements' own connections (see `hotPoolSize`); without them, the main pool.
    const hotSize = opts.hotPoolSize ?? hotPoolDefault();
    // Its connections plan each statement once, without sequential scans (see `prepared`), and
    // are replaced every five minutes, so no plan outlives the statistics it was made with by
    // longer than that.
    const hot = hotSize > 0 ? openPool(opts.url, hotSize, 'hot', observer, HOT_LIFETIME_S) : main;
    // The read lane's (see `readPoolSize`): planned as the hot pool's are, apart from it so a
    // reconnect storm's reads never hold a connection a send waits for.
    const readSize = hotSize > 0 ? (opts.readPoolSize ?? 4) : 0;
    const read = readSize > 0 ? openPool(opts.url, readSize, 'read', observer, HOT_LIFETIME_S) : main;
    // Connections whose session's plan mode is set (see `prepared`).
    const planned = new WeakSet<pg.PoolClient>();
    const db = drizzlePg(main, { schema, logger }) as unknown as Db;
    const stateOf = (p: pg.Pool) => ({ total: p.totalCount, idle: p.idleCount, waiting: p.waitingCount });
    return {
      db,
      kind: 'postgres',
      queryCount: () => count,
      prepared: traced(async <T>(stmt: HotStatement, values: unknown[], timing?: PreparedTiming) => {
        checkHot(stmt);
        count++;
        const t0 = performance.now();
        const pool = stmt.lane === 'read' ? read : hot;
        const client = await pool.connect();
        const t1 = performance.now();
        let failed: Error | undefined;
        try {
          // How the session plans named statements, set once per connection here rather than
          // as a startup option (which poolers such as PgBouncer refuse):
          // - The hot and read pools run nothing but hot statements, and plan each once per
          //   connection (`force_generic_plan`), which lives five minutes (HOT_LIFETIME_S). Their
          //   shapes keep every read on its key whatever the statistics say, and
          //   test/foundation/hot-plans.pg.test.ts holds their generic plans to it on empty,
          //   grown-since-analyzed and large tables; planning on every run cost PostgreSQL more
          //   than running them (0.26 and 0.34 ms a statement against 0.09 and 0.30 in the chat
          //   mix; a connect's opening read 0.31 ms of planning against 0.20 of running it,
          //   docs/benchmarks.md).
          //   They also plan without sequential scans (`enable_seqscan = off`): a plan made
          //   while `messages` fit in a page rightly read it whole, and kept reading it whole
          //   for the rest of the connection as it grew (persist: a send's write 5 → 16 ms
          //   between 3,000 and 12,000 messages, docs/benchmarks.md); every read of theirs is
          //   a key probe anyway, which the plan test holds them to. And without bitmap scans
          //   or sorts: where `messages` held about 200 rows and had no statistics yet, the
          //   planner estimated one row a tenant, costed the Sort a probe by id needs after any
          //   other index at nothing, and took `messages_created_idx` (two pages against the
          //   key's four) — and the connection that planned then read the whole tenant on every
          //   send for its five minutes (1,159 rows and 2.7 ms a batch in the production mix);
          //   with statistics of a few rows, a Bitmap Heap Scan of the tenant.
          // - The main pool also runs the query builder's unnamed statements, which the session
          //   settings would reach too: hot statements that run there (no hot pool) are planned
          //   on every run (`force_custom_plan`), so no generic plan made while a table was
          //   small outlives it.
          // Both reach PL/pgSQL's plans; the search trigger keeps the default for its own
          // (migration 0021).
          if (!planned.has(client)) {
            await client.query(pool === main ? 'set plan_cache_mode = force_custom_plan' : HOT_SESSION_SETTINGS);
            planned.add(client);
          }
          return (await client.query({ name: stmt.name, text: stmt.text, values })).rows as T[];
        } catch (err) {
          failed = err as Error;
          throw err;
        } finally {
          // As pool.query does: a client whose query failed is discarded.
          client.release(failed);
          if (timing) {
            timing.waitMs = t1 - t0;
            timing.runMs = performance.now() - t1;
          }
        }
      }),
      observer,
      poolState: () => ({
        main: stateOf(main),
        ...(hot !== main ? { hot: stateOf(hot) } : {}),
        ...(read !== main ? { read: stateOf(read) } : {}),
      }),
      ping: async () => {
        await main.query('select 1');
      },
      close: async () => {
        await Promise.all([main.end(), ...[hot, read].filter((p) => p !== main).map((p) => p.end())]);
      },
      driver: { kind: 'postgres', pool: main, hotPool: hot, readPool: read },
    };
  }
  // Text must read back byte for byte, as on PostgreSQL: see pglite-bom.ts.
  keepByteOrderMarks();
  const opened: Awaited<ReturnType<typeof openPglite>> = opts.pglite
    ? { client: opts.pglite }
    : ((await opts.dataFolder) ?? (await openPglite(opts)));
  // A PGlite in this thread runs each statement in one call, parsed once (pglite-query.ts); a
  // data folder's thread runs its own the same way (pglite-worker.ts).
  const c = opened.client instanceof PGlite ? oneTripClient(opened.client) : opened.client;
  const db = drizzlePglite(c as PGlite, { schema, logger }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    fresh: opened.madeFrom !== undefined,
    ...(opened.madeFrom ? { madeFrom: opened.madeFrom } : {}),
    queryCount: () => count,
    prepared: traced(async <T>(stmt: HotStatement, params: unknown[], timing?: PreparedTiming) => {
      checkHot(stmt);
      count++;
      const t0 = performance.now();
      try {
        return (await c.query<T>(stmt.text, params)).rows;
      } finally {
        // One connection, no pool: the whole time is the run (PGlite's own queue included).
        if (timing) {
          timing.waitMs = 0;
          timing.runMs = performance.now() - t0;
        }
      }
    }),
    observer: {},
    poolState: () => ({}),
    ping: async () => {
      await c.query('select 1');
    },
    close: async () => {
      if (!c.closed) await c.close();
    },
    driver: { kind: 'pglite', client: c },
  };
}
