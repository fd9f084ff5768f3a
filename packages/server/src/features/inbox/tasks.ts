/**
 * The inbox's durable outbox for what is not a send (a send has its own, `inbox_pending`, in
 * record.ts): a reaction (the author's item), an invitation to a channel, an edit that names
 * someone new or no longer, a channel note that names someone, tasks gone with their messages.
 *
 * The action calls `holdInboxTask` inside its transaction: the task is one row of `inbox_tasks`,
 * which exists exactly when the action commits. The function it returns runs the task after the
 * commit and deletes the row once its items are stored. A row a crash left (the process died
 * between the commit and the run) is run by `recoverTasks`: at start and by the `inbox.recover`
 * job. Running a task twice stores nothing twice: items are idempotent by their `dedupe`, and an
 * edit's removals are deletes.
 */
import { uuidv7 } from '@parley/protocol';
import { sql } from 'drizzle-orm';
import { type Queryable, rows } from '../../platform/db/index.js';
import type { Services } from '../../services.js';
import {
  editedMentions,
  type NewItem,
  noteMentions,
  recordItems,
  recoverPending,
  removeTaskItems,
  track,
} from './record.js';

export type InboxTask =
  | { kind: 'items'; items: NewItem[] }
  | { kind: 'mentions_edited'; appId: string; messageId: string; added: string[]; removed: string[] }
  /** Tasks went with their messages: their `task` items go (`removeTaskItems`). */
  | { kind: 'task_items_removed'; appId: string; messageIds: string[] }
  | {
      kind: 'note_mentions';
      appId: string;
      noteId: string;
      cid: string;
      actorId: string;
      text: string;
      prevText: string;
    };

const none = () => {};

function run(svc: Services, task: InboxTask): Promise<void> {
  switch (task.kind) {
    case 'items':
      return recordItems(svc, task.items);
    case 'mentions_edited':
      return editedMentions(svc, task.appId, task.messageId, task.added, task.removed);
    case 'note_mentions':
      return noteMentions(svc, task);
    case 'task_items_removed':
      return removeTaskItems(svc, task.appId, task.messageIds);
  }
}

/**
 * Inside the action's transaction `tx`: write the task's row (nothing with the inbox off) and
 * return what runs it after the commit. Call the returned function only once the transaction
 * committed; it never throws and never waits (a failure leaves the row to the recovery).
 */
export async function holdInboxTask(svc: Services, tx: Queryable, appId: string, task: InboxTask): Promise<() => void> {
  if (!svc.config.inbox) return none;
  const id = uuidv7();
  await tx.execute(
    sql`insert into inbox_tasks (app_id, id, task) values (${appId}, ${id}, ${JSON.stringify(task)}::jsonb)`,
  );
  return () =>
    track(
      svc,
      run(svc, task)
        .then(() => svc.db.execute(sql`delete from inbox_tasks where app_id = ${appId} and id = ${id}`))
        .catch((err) => svc.log.error({ err, task: task.kind }, 'inbox: task failed; the recovery runs it again')),
    );
}

const RECOVER_BATCH = 200;

/**
 * Run the tasks older than `olderThanMs` (left by a crash, or whose run failed), oldest first, a
 * batch at a time, until none is left or `maxBatches` ran. With the inbox off the rows are only
 * dropped. A task that fails again stays for the next pass; the others go on. Returns how many ran.
 */
export async function recoverTasks(svc: Services, opts: { olderThanMs: number; maxBatches?: number }): Promise<number> {
  let done = 0;
  let failed = 0;
  for (let i = 0; i < (opts.maxBatches ?? 20); i++) {
    const before = new Date(svc.clock() - opts.olderThanMs);
    const found = await rows<{ app_id: string; id: string; task: InboxTask }>(
      svc.db,
      sql`select app_id, id, task from inbox_tasks where created_at <= ${before}
        order by created_at, id limit ${RECOVER_BATCH} offset ${failed}`,
    );
    if (found.length === 0) break;
    for (const r of found) {
      try {
        if (svc.config.inbox) await run(svc, r.task);
        await svc.db.execute(sql`delete from inbox_tasks where app_id = ${r.app_id} and id = ${r.id}`);
        done++;
      } catch (err) {
        failed++;
        svc.log.warn({ err, task: r.task.kind }, 'inbox: a recovered task failed; it stays for the next pass');
      }
    }
    if (found.length < RECOVER_BATCH) break;
  }
  if (done > 0) svc.log.info({ tasks: done }, 'inbox: ran the tasks a crash left');
  return done;
}

/**
 * At start, on a node that runs jobs: derive every message left pending and run every task left,
 * of any age — after a crash the next start records what the crash left, without waiting for the
 * job's period. What another live node is doing now is done twice, which stores nothing twice.
 * Never throws.
 */
export function recoverAtStart(svc: Services): void {
  const all = async () => {
    await recoverPending(svc, { olderThanMs: 0 });
    await recoverTasks(svc, { olderThanMs: 0 });
  };
  track(
    svc,
    all().catch((err) => svc.log.warn({ err }, 'inbox: recovery at start failed')),
  );
}
