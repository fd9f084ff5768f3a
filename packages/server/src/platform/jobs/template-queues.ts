/**
 * The queues a database template holds (install.ts installs them) and the tag a template is
 * keyed by. Only node built-ins: a first `parley start` finds its template with this before the
 * server, pg-boss and PGlite have loaded (db/data-folder.ts).
 */
import { createHash } from 'node:crypto';
import { installedVersion } from '../package-version.js';

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
