/**
 * pg-boss's schema and Parley's queues, ready in the database templates (the PGlite one,
 * db/template.ts, and the PostgreSQL one the tests copy), so a new database does not build them
 * at its first start. On a fresh database a server installed pg-boss's schema and created a
 * queue per kind — a partition table with six indexes each, 29 of them — about 1.1 s of CPU on
 * PGlite, at every test file's start and a new data folder's first `parley start`.
 *
 * Only a head start: every start still installs or upgrades the schema and creates (a no-op for
 * an existing queue) and updates each queue it defines, so a template made before a kind was
 * added, or with another retry policy, is still right. `test/jobs/template-queues.pg.test.ts` checks that
 * TEMPLATE_QUEUES names exactly the kinds a server defines, so the head start stays whole.
 *
 * Imports nothing of db/: the template (db/template.ts) uses it.
 */
import { createHash } from 'node:crypto';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import PgBoss from 'pg-boss';
import { installedVersion } from '../package-version.js';

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
export function pgliteExecutor(c: PGlite | Transaction): Executor {
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

/** The queue of every kind of job a server defines (recurring ones included), by name. */
export const TEMPLATE_QUEUES: readonly string[] = [
  'accounts.mail',
  'admin.delete_channel',
  'admin.delete_user',
  'admin.export',
  'admin.sweep',
  'audit.prune',
  'bookmarks.unfurl',
  'calls.dropped',
  'calls.ghost',
  'calls.sweep',
  'db.vacuum',
  'files.expire',
  'files.expire-direct',
  'files.media',
  'inbox.recover',
  'invitations.expire',
  'links.unfurl',
  'mail.send',
  'moderation.lift-ban',
  'notifications.deliver',
  'notifications.digest',
  'notifications.message',
  'notifications.push',
  'polls.close',
  'reminders.remind',
  'scheduled.send',
  'spaces.away',
  'spaces.sweep',
  'users.status-expire',
  'webhooks.deliver',
  'webhooks.retention',
  'webhooks.sweep',
];

/**
 * What a template's job schema was made with: pg-boss's version (a template from another
 * version is not used: its schema could be newer than this pg-boss reads) and the queues.
 */
export const JOBS_TEMPLATE_TAG = `${installedVersion('pg-boss')}:${createHash('sha256')
  .update(TEMPLATE_QUEUES.join('\n'))
  .digest('hex')
  .slice(0, 12)}`;

/** Install pg-boss's schema and create `queues` (with pg-boss's defaults: each start sets its own). */
export async function installJobSchema(executor: Executor, queues: readonly string[] = TEMPLATE_QUEUES): Promise<void> {
  const boss = new PgBoss({
    db: executor as PgBoss.Db,
    schema: JOBS_SCHEMA,
    migrate: true,
    supervise: false,
    schedule: false,
  });
  await boss.start();
  try {
    for (const name of queues) await boss.createQueue(name);
  } finally {
    await boss.stop({ graceful: false, close: false, wait: true });
  }
}
