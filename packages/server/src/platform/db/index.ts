/**
 * Opening the database: PGlite in the data folder (the embedded default) or PostgreSQL
 * when `DATABASE_URL` is set. Both give the same drizzle database over the same schema and
 * migrations; nothing above this file knows which one it has.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import { type HotStatement, isHotStatement } from './hot.js';
import { keepByteOrderMarks } from './pglite-bom.js';
import * as schema from './schema.js';
import { copyTemplate, databaseTemplate, type TemplateOptions, templateTarball } from './template.js';
import type { Database, Db, Queryable } from './types.js';

export { type HotStatement, hotStatement } from './hot.js';
export type { Database, Db, Queryable, Tx } from './types.js';
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
  /** Prepared PGlite instance to use (tests clone one migrated instance). */
  pglite?: PGlite;
  /**
   * Start a new PGlite database as a copy of the migrated template (`template.ts`) instead of
   * running initdb. Default: yes for a data folder that has no database yet; no in memory,
   * where some tests need an empty database. Options choose the template's cache and migrations.
   */
  template?: boolean | TemplateOptions;
}

// bigint (int8) columns — seq counters and COUNT(*) — as JS numbers. Seqs stay far below 2^53.
const INT8 = 20;
pg.types.setTypeParser(INT8, (v) => Number(v));

/** A PGlite in the data folder or in memory, new ones made from the template when asked. */
async function openPglite(opts: DatabaseOptions): Promise<PGlite> {
  const parsers = { [INT8]: (v: string) => Number(v) };
  const templateOpts = typeof opts.template === 'object' ? opts.template : {};
  if (opts.dataDir) {
    mkdirSync(opts.dataDir, { recursive: true });
    const pgdata = path.join(opts.dataDir, 'pgdata');
    // Only a first start copies: an existing database is opened as it is (and migrated after).
    if (opts.template !== false && !existsSync(pgdata)) {
      const template = await databaseTemplate(templateOpts);
      if (template) await copyTemplate(template, pgdata);
    }
    return PGlite.create({ dataDir: pgdata, parsers });
  }
  const template = opts.template ? await databaseTemplate(templateOpts) : null;
  return PGlite.create({ parsers, ...(template ? { loadDataDir: templateTarball(template) } : {}) });
}

/** A prepared statement whose plan no test has checked must not run: it could go bad for good. */
function checkHot(stmt: HotStatement): void {
  if (!isHotStatement(stmt)) throw new Error(`${stmt.name} is not a declared hot statement`);
}

/** Open PGlite or PostgreSQL as configured. */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  let count = 0;
  const logger = {
    logQuery: () => {
      count++;
    },
  };
  if (opts.url) {
    // Idle connections stay open (a new one costs a backend fork, a login and re-preparing the
    // hot statements, right when a burst needs it); a broken one is dropped on its error.
    const pool = new pg.Pool({ connectionString: opts.url, max: opts.poolSize ?? 10, idleTimeoutMillis: 0 });
    // A dropped idle connection must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    // Nor one that drops while checked out (inside a transaction): pg-pool listens for errors
    // only on idle clients, and an `error` event nobody hears would end the process. The query
    // in flight fails anyway, and the pool discards the broken client when it is released.
    pool.on('connect', (client) => client.on('error', () => {}));
    // Connections whose session plans named statements on every run (see `prepared`).
    const planPerRun = new WeakSet<pg.PoolClient>();
    const db = drizzlePg(pool, { schema, logger }) as unknown as Db;
    return {
      db,
      kind: 'postgres',
      queryCount: () => count,
      prepared: async <T>(stmt: HotStatement, values: unknown[]) => {
        checkHot(stmt);
        count++;
        const client = await pool.connect();
        let failed: Error | undefined;
        try {
          // Hot statements are planned on every run (0.1–0.2 ms; the parse is still saved): a
          // cached generic plan lasts until the next ANALYZE — with autovacuum off, for good —
          // and one made while a table was small rightly reads it whole, then keeps doing so as
          // it grows. Set once per connection, here rather than as a startup option (which
          // poolers such as PgBouncer refuse); it touches only named statements.
          if (!planPerRun.has(client)) {
            await client.query('set plan_cache_mode = force_custom_plan');
            planPerRun.add(client);
          }
          return (await client.query({ name: stmt.name, text: stmt.text, values })).rows as T[];
        } catch (err) {
          failed = err as Error;
          throw err;
        } finally {
          // As pool.query does: a client whose query failed is discarded.
          client.release(failed);
        }
      },
      ping: async () => {
        await pool.query('select 1');
      },
      close: () => pool.end(),
      driver: { kind: 'postgres', pool },
    };
  }
  // Text must read back byte for byte, as on PostgreSQL: see pglite-bom.ts.
  keepByteOrderMarks();
  const c = opts.pglite ?? (await openPglite(opts));
  const db = drizzlePglite(c, { schema, logger }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    queryCount: () => count,
    prepared: async <T>(stmt: HotStatement, params: unknown[]) => {
      checkHot(stmt);
      count++;
      return (await c.query<T>(stmt.text, params)).rows;
    },
    ping: async () => {
      await c.query('select 1');
    },
    close: async () => {
      if (!c.closed) await c.close();
    },
    driver: { kind: 'pglite', client: c },
  };
}
