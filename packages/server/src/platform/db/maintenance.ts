/**
 * Vacuum and analyze where no autovacuum runs.
 *
 * Everyday traffic rewrites rows: every send moves its channel's counter row (`last_seq`), every
 * read moves a member's `last_read_seq`, reactions and replies rewrite their message, and
 * pg-boss inserts, updates and deletes a row per job. PostgreSQL keeps each old row version
 * until a VACUUM frees it, and plans queries from statistics that an ANALYZE refreshes; on a
 * server, autovacuum does both. PGlite runs PostgreSQL in single-user mode, which has no
 * autovacuum launcher (it reports `autovacuum = on` and never runs it), and a server may run
 * with autovacuum off (as the machines Parley is tested on do). There, left alone, the hot
 * tables and their indexes only grow, and the planner keeps judging them by sizes from long
 * ago: the search bench's `channels` table, after about thirty runs of sends, read as 80,000
 * rows instead of 1,000, and a one-word search planned on it took 564 ms instead of 40 ms.
 *
 * So where no autovacuum runs, a recurring job (once per period across nodes, the first one
 * period after a node starts) vacuums and
 * analyzes every table of Parley's schemas, one statement per table: on PGlite, whose one
 * connection runs one statement at a time, a send waits for at most one table's vacuum, not
 * for the whole database's. After the first pass, a table's untouched pages are marked
 * all-visible and later passes skip them, so a pass costs about what changed since the last.
 */
import { sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { JobQueue } from '../jobs/queue.js';
import { JOBS_SCHEMA } from '../jobs/queue.js';
import { type Database, rows } from './index.js';

/** The recurring job's kind. */
export const VACUUM_JOB = 'db.vacuum';

/** Schemas whose tables a pass vacuums: Parley's own and the job queue's. */
const SCHEMAS = ['public', JOBS_SCHEMA];

/**
 * Whether this database needs Parley to vacuum it: always on PGlite, and on PostgreSQL only
 * when its `autovacuum` setting is off (autovacuum then does the work, better placed than we are).
 */
export async function needsOwnVacuum(database: Database): Promise<boolean> {
  if (database.kind === 'pglite') return true;
  const [row] = await rows<{ on: string }>(database.db, sql`select current_setting('autovacuum') as on`);
  return row?.on !== 'on';
}

/**
 * One pass: `VACUUM (ANALYZE)` on every ordinary table of Parley's schemas, smallest first (the
 * hot small ones — channels, members — are done soonest). Answers how many tables and how long.
 */
export async function vacuumTables(database: Database): Promise<{ tables: number; ms: number }> {
  const started = performance.now();
  const tables = await rows<{ name: string }>(
    database.db,
    sql`select format('%I.%I', n.nspname, c.relname) as name
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relkind = 'r' and n.nspname in (${sql.join(
          SCHEMAS.map((s) => sql`${s}`),
          sql`, `,
        )})
        order by pg_relation_size(c.oid), c.relname`,
  );
  for (const t of tables) await database.db.execute(sql.raw(`vacuum (analyze) ${t.name}`));
  return { tables: tables.length, ms: performance.now() - started };
}

/**
 * Define the recurring pass when this database needs it and `everyMinutes` > 0. A node offers
 * its first pass only after running one period (`firstAfterSeconds`, default the period): a
 * pass at start has freed nothing yet, and on a new install it would analyze tables that are
 * still empty, statistics the planner would then keep through the first period's traffic; a
 * node restarted more often than once a period leaves the passes to the others. Answers
 * whether it was defined.
 */
export async function defineVacuum(
  jobs: JobQueue,
  database: Database,
  opts: { everyMinutes: number; log: FastifyBaseLogger; firstAfterSeconds?: number },
): Promise<boolean> {
  if (opts.everyMinutes <= 0 || !(await needsOwnVacuum(database))) return false;
  await jobs.defineRecurring(
    VACUUM_JOB,
    opts.everyMinutes * 60,
    async () => {
      const { tables, ms } = await vacuumTables(database);
      opts.log.info({ tables, ms: Math.round(ms) }, 'vacuumed and analyzed (no autovacuum here)');
    },
    { firstAfterSeconds: opts.firstAfterSeconds ?? opts.everyMinutes * 60 },
  );
  return true;
}
