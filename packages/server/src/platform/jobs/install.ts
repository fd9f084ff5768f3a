/**
 * pg-boss's schema and Parley's queues, ready in the database templates (the PGlite one,
 * db/template.ts, and the PostgreSQL one the tests copy), so a new database does not build them
 * at its first start. On a fresh database a server installed pg-boss's schema and created a
 * queue per kind — a partition table with six indexes each, 29 of them — about 1.1 s of CPU on
 * PGlite, at every test file's start and a new data folder's first `parley start`.
 *
 * Only a head start: every start still installs or upgrades the schema, creates each queue it
 * defines that is missing and updates one whose settings differ, so a template made before a kind
 * was added, or with another retry policy, is still right. `test/jobs/template-queues.pg.test.ts`
 * checks that TEMPLATE_QUEUES (template-queues.ts) holds exactly the kinds a server defines with
 * their settings, so a start on a new database finds every queue as it wants it (one read, no
 * write).
 *
 * Imports nothing of db/: the template (db/template.ts) uses it.
 */
import type { PGlite, Transaction } from '@electric-sql/pglite';
import PgBoss from 'pg-boss';
import type { PgliteRunner } from '../db/pglite-thread.js';
import { type QueueSettings, TEMPLATE_QUEUES } from './template-queues.js';

/** pg-boss's schema in our database. */
export const JOBS_SCHEMA = 'pgboss';

/** What pg-boss runs its SQL through. */
export type Executor = {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
};

/**
 * On PGlite, statements with parameters take the extended protocol (`query`); pg-boss's
 * schema scripts are several statements without parameters, which only `exec` runs.
 */
export function pgliteExecutor(c: PGlite | Transaction | PgliteRunner): Executor {
  return {
    executeSql: async (text, values) => {
      if (values && values.length > 0)
        return c.query(
          text,
          values.map((v) => (v === undefined ? null : v)),
        );
      const results = await c.exec(text);
      return { rows: results.at(-1)?.rows ?? [] };
    },
  };
}

/**
 * Install pg-boss's schema and create `queues` with their settings, so a start that defines them
 * alike has nothing to create or update (queue.ts).
 */
export async function installJobSchema(
  executor: Executor,
  queues: readonly QueueSettings[] = TEMPLATE_QUEUES,
): Promise<void> {
  const boss = new PgBoss({
    db: executor as PgBoss.Db,
    schema: JOBS_SCHEMA,
    migrate: true,
    supervise: false,
    schedule: false,
  });
  await boss.start();
  try {
    for (const q of queues) await boss.createQueue(q.name, queueOptions(q));
  } finally {
    await boss.stop({ graceful: false, close: false, wait: true });
  }
}

/** The options pg-boss creates and updates a queue with. */
export function queueOptions(q: QueueSettings) {
  return {
    name: q.name,
    policy: q.policy ?? 'standard',
    retryLimit: q.retryLimit,
    retryDelay: q.retryDelay,
    retryBackoff: true,
    expireInSeconds: q.expireInSeconds,
  };
}
