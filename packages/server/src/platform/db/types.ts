/**
 * The database's types, apart from `index.ts` that opens it: the migrator and the template
 * builder need them, and `index.ts` needs those two, so the types live where all can import
 * them without a cycle.
 */
import type { PGlite } from '@electric-sql/pglite';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import type { HotStatement } from './hot.js';
import type { PgliteThread } from './pglite-thread.js';
import type * as schema from './schema.js';

type Schema = typeof schema;

/** The drizzle database, whichever driver is underneath. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle; actions take `Db | Tx` where they may run inside a caller's transaction. */
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Either a database or a transaction. */
export type Queryable = Db | Tx;

/**
 * `main` serves every query; `hot` only the send lane's hot statements, so a send never queues
 * for a connection behind reads such as resyncs; `read` only the read lane's (the batched reads
 * of connects and resyncs), planned like the send lane's (see index.ts).
 */
export type PoolName = 'main' | 'hot' | 'read';

/** Filled in by `Database.prepared`: how long it waited for a connection, how long it ran (ms). */
export interface PreparedTiming {
  waitMs: number;
  runMs: number;
}

/** The open database with its driver-level handles. */
export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /**
   * Made by this open from the migrated template (a data folder's first start): nothing in it
   * is left from before, no job run by a process that died, no job waiting (platform/jobs).
   */
  fresh?: boolean;
  /**
   * The template this open copied (with `fresh`): the folder its migrations came from and how
   * many of them it holds, so the start's migration step can tell it has nothing to do.
   */
  madeFrom?: { migrationsFolder: string; migrations: number };
  /** Number of SQL statements issued so far (tests assert the cost of hot paths with it). */
  queryCount(): number;
  /**
   * Run a hot statement (declared with `hotStatement`, see hot.ts). On PostgreSQL it is a
   * named prepared statement (parsed once per connection, its plan cached); on PGlite, a plain
   * query. Counted like every other statement.
   */
  prepared<T>(stmt: HotStatement, params: unknown[], timing?: PreparedTiming): Promise<T[]>;
  /**
   * Where connection checkouts report how long they waited for a pooled connection (seconds),
   * and from which pool. Set by the metrics; PGlite has no pool and never calls it.
   */
  observer: { poolWait?: (seconds: number, pool: PoolName) => void };
  /** Pooled connections now: in use, idle and callers waiting, per pool (PostgreSQL). */
  poolState(): Partial<Record<PoolName, { total: number; idle: number; waiting: number }>>;
  /** Run a trivial query; throws if the database is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Raw driver, for migrations and tooling only. */
  driver: /** A data folder's PGlite runs on a thread of its own (pglite-thread.ts); in memory, here. */
    | { kind: 'pglite'; client: PGlite | PgliteThread }
    /**
     * `hotPool`: where the send lane's hot statements run, `readPool` the read lane's (each the
     * main `pool` itself when there is none).
     */
    | { kind: 'postgres'; pool: pg.Pool; hotPool: pg.Pool; readPool: pg.Pool };
}
