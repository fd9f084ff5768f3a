/**
 * The inbox's recovery job: messages whose items a crash left underived (their `inbox_pending`
 * rows outlived the derivation that should have followed their commit) are derived here, and
 * tasks left in `inbox_tasks` run (tasks.ts), once per period across nodes. A row younger than `RECOVER_AFTER_S` is left to the node that wrote
 * it (its derivation is normally done within 50 ms); deriving it twice would store nothing
 * twice (items are idempotent), only cost the work.
 */
import type { Services } from '../../services.js';
import { recoverPending } from './record.js';
import { recoverTasks } from './tasks.js';

/** How often the job runs, in seconds. */
export const RECOVER_EVERY_S = 15;
/** How old an outbox row must be before the job takes it, in seconds. */
export const RECOVER_AFTER_S = 10;

export async function defineInboxJobs(svc: Services): Promise<void> {
  await svc.jobs.defineRecurring('inbox.recover', RECOVER_EVERY_S, async () => {
    await recoverPending(svc, { olderThanMs: RECOVER_AFTER_S * 1000 });
    await recoverTasks(svc, { olderThanMs: RECOVER_AFTER_S * 1000 });
  });
}
