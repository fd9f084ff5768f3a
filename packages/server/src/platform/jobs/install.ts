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
 * checks that TEMPLATE_QUEUES holds exactly the kinds a server defines with their settings, so a
 * start on a new database finds every queue as it wants it (one read, no write).
 *
 * Imports nothing of db/: the template (db/template.ts) uses it.
 */
import { createHash } from 'node:crypto';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import PgBoss from 'pg-boss';
import type { PgliteRunner } from '../db/pglite-thread.js';
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

/** How a queue runs its jobs: what pg-boss stores per queue, as a kind of job sets it (queue.ts). */
export type QueueSettings = {
  name: string;
  policy?: 'standard' | 'short' | 'singleton' | 'stately';
  retryLimit: number;
  retryDelay: number;
  expireInSeconds: number;
};

/** The queue of every kind of job a server defines (recurring ones included), with its settings. */
export const TEMPLATE_QUEUES: readonly QueueSettings[] = [
  { name: 'accounts.mail', retryLimit: 5, retryDelay: 2, expireInSeconds: 300 },
  { name: 'admin.delete_channel', retryLimit: 5, retryDelay: 2, expireInSeconds: 3600 },
  { name: 'admin.delete_user', retryLimit: 5, retryDelay: 2, expireInSeconds: 3600 },
  { name: 'admin.export', retryLimit: 3, retryDelay: 2, expireInSeconds: 1800 },
  { name: 'admin.sweep', retryLimit: 3, retryDelay: 2, expireInSeconds: 300 },
  { name: 'audit.prune', retryLimit: 3, retryDelay: 2, expireInSeconds: 300 },
  { name: 'bookmarks.unfurl', retryLimit: 3, retryDelay: 10, expireInSeconds: 120 },
  { name: 'calls.dropped', retryLimit: 5, retryDelay: 2, expireInSeconds: 60 },
  { name: 'calls.ghost', retryLimit: 5, retryDelay: 2, expireInSeconds: 60 },
  { name: 'calls.sweep', retryLimit: 3, retryDelay: 2, expireInSeconds: 300 },
  { name: 'db.vacuum', retryLimit: 3, retryDelay: 2, expireInSeconds: 300 },
  { name: 'files.expire', retryLimit: 10, retryDelay: 30, expireInSeconds: 300 },
  { name: 'files.expire-direct', retryLimit: 10, retryDelay: 30, expireInSeconds: 300 },
  { name: 'files.media', retryLimit: 3, retryDelay: 5, expireInSeconds: 120 },
  { name: 'imports.sweep_exports', retryLimit: 3, retryDelay: 2, expireInSeconds: 300 },
  { name: 'imports.workspace_export', retryLimit: 2, retryDelay: 2, expireInSeconds: 3600 },
  { name: 'inbox.recover', retryLimit: 3, retryDelay: 2, expireInSeconds: 300 },
  { name: 'invitations.expire', retryLimit: 5, retryDelay: 2, expireInSeconds: 60 },
  { name: 'links.unfurl', retryLimit: 3, retryDelay: 10, expireInSeconds: 120 },
  { name: 'mail.send', retryLimit: 10, retryDelay: 5, expireInSeconds: 120 },
  { name: 'moderation.lift-ban', retryLimit: 5, retryDelay: 5, expireInSeconds: 300 },
  { name: 'notifications.deliver', policy: 'short', retryLimit: 3, retryDelay: 5, expireInSeconds: 120 },
  { name: 'notifications.digest', policy: 'short', retryLimit: 5, retryDelay: 30, expireInSeconds: 120 },
  { name: 'notifications.dnd-end', retryLimit: 10, retryDelay: 2, expireInSeconds: 300 },
  { name: 'notifications.dnd-window', retryLimit: 10, retryDelay: 2, expireInSeconds: 300 },
  { name: 'notifications.message', retryLimit: 3, retryDelay: 5, expireInSeconds: 300 },
  { name: 'notifications.push', retryLimit: 8, retryDelay: 10, expireInSeconds: 120 },
  { name: 'polls.close', retryLimit: 10, retryDelay: 2, expireInSeconds: 300 },
  { name: 'reminders.remind', retryLimit: 10, retryDelay: 2, expireInSeconds: 300 },
  { name: 'scheduled.send', retryLimit: 10, retryDelay: 2, expireInSeconds: 20 },
  { name: 'spaces.archive_idle_rooms', retryLimit: 3, retryDelay: 2, expireInSeconds: 300 },
  { name: 'spaces.away', retryLimit: 5, retryDelay: 2, expireInSeconds: 60 },
  { name: 'spaces.sweep', retryLimit: 3, retryDelay: 2, expireInSeconds: 300 },
  { name: 'users.status-expire', retryLimit: 10, retryDelay: 2, expireInSeconds: 300 },
  { name: 'webhooks.deliver', policy: 'short', retryLimit: 5, retryDelay: 2, expireInSeconds: 300 },
  { name: 'webhooks.retention', retryLimit: 3, retryDelay: 2, expireInSeconds: 300 },
  { name: 'webhooks.sweep', retryLimit: 3, retryDelay: 2, expireInSeconds: 300 },
];

/**
 * What a template's job schema was made with: pg-boss's version (a template from another
 * version is not used: its schema could be newer than this pg-boss reads) and the queues.
 */
export const JOBS_TEMPLATE_TAG = `${installedVersion('pg-boss')}:${createHash('sha256')
  .update(JSON.stringify(TEMPLATE_QUEUES))
  .digest('hex')
  .slice(0, 12)}`;

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
