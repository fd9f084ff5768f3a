/**
 * Tasks from messages: a message turned into a task with an assignee, an optional due time and
 * a status (open, done). One task per message (`tasks_message_uq`): a done task is reopened,
 * not made again, so a message's badge always names one assignee.
 *
 * Access: whoever may read the message's channel sees its task (NOT_FOUND otherwise, as for
 * the message); a member of the channel makes and changes it; the assignee must be a member
 * who may read it (VALIDATION_ERROR otherwise). Each change is one transaction that locks the
 * task's row and writes, with it:
 *
 * - the due time as an ordinary reminder for the assignee (features/reminders: its job, the
 *   bot's DM and the inbox's `reminder` item are the reminders' own), cancelled and made again
 *   whenever the assignee, the due time or the status changes — pending only while the task is
 *   open, with a due time ahead;
 * - an inbox task (features/inbox, its durable outbox) for an assignee someone else named;
 * - `task.created`, `task.updated` or `task.deleted` to the channel, published after commit; the
 *   webhook outbox records the same events in the same transaction.
 */
import type { CreateTaskBody, Task, TaskEventType, TasksQuery, UpdateTaskBody } from '@parley/protocol';
import { uuidv7 } from '@parley/protocol';
import { and, desc, eq, inArray, isNull, lt } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { type Queryable, schema, type Tx } from '../../platform/db/index.js';
import { ApiError, forbidden, invalid, notFound } from '../../platform/errors.js';
import { type Outbox, withTransaction } from '../../platform/event-log.js';
import type { Services } from '../../services.js';
import { accessChannelRead, mayReadChannel, memberRow } from '../channels/index.js';
import { holdInboxTask } from '../inbox/index.js';
import { accessMessage, enrichMessages } from '../messages/index.js';
import { checkReminderRoom, insertReminder, REMIND } from '../reminders/index.js';

type Me = Caller & { kind: 'user' };
type TaskRow = typeof schema.tasks.$inferSelect;

const t = schema.tasks;
const r = schema.reminders;
const iso = (d: Date | null) => (d ? d.toISOString() : null);
/** A due time may be this far behind the clock (a picker's "now", clock skew) and still be taken. */
const PAST_SLACK_MS = 60_000;
const MAX_AHEAD_MS = 366 * 24 * 3600_000;
/** What the assignee's reminder DM says (the reminders' job adds the message's excerpt). */
const REMINDER_NOTE = 'Task due';

export function presentTask(row: TaskRow): Task {
  return {
    id: row.id,
    cid: row.cid,
    message_id: row.messageId,
    assignee_id: row.assigneeId,
    created_by: row.createdBy,
    status: row.status as Task['status'],
    due_at: iso(row.dueAt),
    reminder_id: row.reminderId,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    completed_at: iso(row.completedAt),
    completed_by: row.completedBy,
  };
}

/** A due time as a date: a time, not long past, at most a year ahead. */
function checkDue(svc: Services, at: string): Date {
  const d = new Date(at);
  if (!Number.isFinite(d.getTime())) throw invalid('due_at is not a time');
  if (d.getTime() < svc.clock() - PAST_SLACK_MS) throw invalid('due_at has passed');
  if (d.getTime() > svc.clock() + MAX_AHEAD_MS) throw invalid('due_at is at most a year ahead');
  return d;
}

/** The same caller, acting as another user of its app (the assignee owns the due time's reminder). */
const asUser = (me: Me, userId: string): Me => ({ kind: 'user', app: me.app, userId });

/** VALIDATION_ERROR unless `userId` is a member of `cid` who may read it (not banned from it). */
async function checkAssignee(q: Queryable, me: Me, cid: string, userId: string): Promise<void> {
  const member = await memberRow(q, me.app.id, cid, userId);
  if (!member || !(await mayReadChannel(q, asUser(me, userId), cid)))
    throw invalid('assignee_id is not a member of this channel', { assignee_id: userId });
}

/**
 * The message as the caller may change its task: readable (NOT_FOUND, naming `what`: the
 * message when making a task, the task when changing one), by a member (FORBIDDEN).
 */
async function accessForChange(q: Queryable, me: Me, messageId: string, what: 'Message' | 'Task') {
  const a = await accessMessage(q, me, messageId).catch((err: unknown) => {
    if (err instanceof ApiError && err.code === 'NOT_FOUND') throw notFound(what);
    throw err;
  });
  if (!a.member) throw forbidden('Only members of the channel make or change its tasks');
  return a;
}

async function lockTask(tx: Tx, me: Me, id: string): Promise<TaskRow> {
  const [row] = await tx
    .select()
    .from(t)
    .where(and(eq(t.appId, me.app.id), eq(t.id, id)))
    .for('update');
  if (!row) throw notFound('Task');
  return row;
}

async function cancelReminder(tx: Tx, appId: string, reminderId: string | null): Promise<void> {
  if (!reminderId) return;
  await tx
    .update(r)
    .set({ status: 'cancelled' })
    .where(and(eq(r.appId, appId), eq(r.id, reminderId), eq(r.status, 'pending')));
}

function tell(out: Outbox, appId: string, type: TaskEventType, row: TaskRow, at: number): void {
  out.push({
    to: 'channel',
    appId,
    cid: row.cid,
    event: { type, cid: row.cid, task: presentTask(row), created_at: new Date(at).toISOString() },
  });
}

/** Inside the change's transaction: the assignee's inbox item, unless they named themselves. */
function holdAssigned(svc: Services, tx: Tx, me: Me, row: TaskRow): Promise<() => void> {
  if (row.assigneeId === me.userId) return Promise.resolve(() => {});
  return holdInboxTask(svc, tx, me.app.id, {
    kind: 'items',
    items: [
      {
        appId: me.app.id,
        userId: row.assigneeId,
        kind: 'task',
        cid: row.cid,
        messageId: row.messageId,
        actorId: me.userId,
        // One item per (task, assignee): being given the same task again is not news.
        dedupe: `task:${row.id}:${row.assigneeId}`,
      },
    ],
  });
}

/** With the messages they are about, as `me` sees them (null once deleted or out of reach). */
async function withMessages(svc: Services, me: Me, rows: TaskRow[]): Promise<Task[]> {
  const ids = [...new Set(rows.map((x) => x.messageId))];
  const found = ids.length
    ? await svc.db
        .select()
        .from(schema.messages)
        .where(
          and(
            eq(schema.messages.appId, me.app.id),
            inArray(schema.messages.id, ids),
            isNull(schema.messages.deletedAt),
          ),
        )
    : [];
  const messages = new Map((await enrichMessages(svc.db, me.app.id, me.userId, found)).map((m) => [m.id, m]));
  return rows.map((x) => ({ ...presentTask(x), message: messages.get(x.messageId) ?? null }));
}

/** Turn a message the caller may read, in a channel they are a member of, into a task. */
export async function createTask(svc: Services, me: Me, body: CreateTaskBody): Promise<Task> {
  const appId = me.app.id;
  const due = body.due_at !== undefined ? checkDue(svc, body.due_at) : null;
  if (due) await checkReminderRoom(svc, asUser(me, body.assignee_id));
  let afterCommit = () => {};
  const row = await withTransaction(svc, async (tx, out) => {
    const { message } = await accessForChange(tx, me, body.message_id, 'Message');
    if (message.deletedAt) throw notFound('Message');
    await checkAssignee(tx, me, message.cid, body.assignee_id);
    const id = uuidv7();
    const now = new Date(svc.clock());
    const reminder =
      due && due.getTime() > svc.clock()
        ? await insertReminder(svc, tx, asUser(me, body.assignee_id), {
            messageId: message.id,
            cid: message.cid,
            note: REMINDER_NOTE,
            at: due,
          })
        : null;
    const [made] = await tx
      .insert(t)
      .values({
        appId,
        id,
        messageId: message.id,
        cid: message.cid,
        assigneeId: body.assignee_id,
        createdBy: me.userId,
        dueAt: due,
        reminderId: reminder?.id ?? null,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing()
      .returning();
    if (!made) {
      const [task] = await tx
        .select()
        .from(t)
        .where(and(eq(t.appId, appId), eq(t.messageId, message.id)));
      throw new ApiError('CONFLICT', 'This message already has a task: change or reopen it', {
        task: task ? presentTask(task) : null,
      });
    }
    tell(out, appId, 'task.created', made, svc.clock());
    afterCommit = await holdAssigned(svc, tx, me, made);
    return made;
  });
  afterCommit();
  if (row.reminderId) svc.jobs.wake(REMIND.name);
  return (await withMessages(svc, me, [row]))[0] as Task;
}

/** Reassign a task, move or clear its due time, complete or reopen it. */
export async function updateTask(svc: Services, me: Me, id: string, body: UpdateTaskBody): Promise<Task> {
  const appId = me.app.id;
  const due = typeof body.due_at === 'string' ? checkDue(svc, body.due_at) : body.due_at;
  // Room for one more pending reminder, checked before the transaction (on PGlite's one
  // connection a read outside it would wait for it): the assignee it may be made for.
  if (due || body.assignee_id || body.status === 'open') {
    const [pre] = await svc.db
      .select({ assigneeId: t.assigneeId })
      .from(t)
      .where(and(eq(t.appId, appId), eq(t.id, id)));
    if (pre) await checkReminderRoom(svc, asUser(me, body.assignee_id ?? pre.assigneeId));
  }
  let afterCommit = () => {};
  const row = await withTransaction(svc, async (tx, out) => {
    const before = await lockTask(tx, me, id);
    await accessForChange(tx, me, before.messageId, 'Task');
    const assignee = body.assignee_id ?? before.assigneeId;
    if (assignee !== before.assigneeId) await checkAssignee(tx, me, before.cid, assignee);
    const dueAt = due === undefined ? before.dueAt : due;
    const status = body.status ?? before.status;
    const now = new Date(svc.clock());
    let reminderId = before.reminderId;
    const moved =
      assignee !== before.assigneeId || dueAt?.getTime() !== before.dueAt?.getTime() || status !== before.status;
    if (moved) {
      // The reminder follows the task: only an open task with a due time ahead has one pending.
      await cancelReminder(tx, appId, before.reminderId);
      reminderId = null;
      if (status === 'open' && dueAt && dueAt.getTime() > svc.clock()) {
        reminderId = (
          await insertReminder(svc, tx, asUser(me, assignee), {
            messageId: before.messageId,
            cid: before.cid,
            note: REMINDER_NOTE,
            at: dueAt,
          })
        ).id;
      }
    }
    const done = status === 'done';
    const [after] = (await tx
      .update(t)
      .set({
        assigneeId: assignee,
        dueAt,
        status,
        reminderId,
        ...(status !== before.status ? { completedAt: done ? now : null, completedBy: done ? me.userId : null } : {}),
        updatedAt: now,
      })
      .where(and(eq(t.appId, appId), eq(t.id, id)))
      .returning()) as [TaskRow];
    tell(out, appId, 'task.updated', after, svc.clock());
    if (assignee !== before.assigneeId) afterCommit = await holdAssigned(svc, tx, me, after);
    return after;
  });
  afterCommit();
  if (row.reminderId) svc.jobs.wake(REMIND.name);
  return (await withMessages(svc, me, [row]))[0] as Task;
}

/** Delete a task (its pending reminder is cancelled); the message stays. (Deleting the message deletes its task: `dropMessageTasks`.) */
export async function deleteTask(svc: Services, me: Me, id: string): Promise<Task> {
  const row = await withTransaction(svc, async (tx, out) => {
    const before = await lockTask(tx, me, id);
    await accessForChange(tx, me, before.messageId, 'Task');
    await cancelReminder(tx, me.app.id, before.reminderId);
    await tx.delete(t).where(and(eq(t.appId, me.app.id), eq(t.id, id)));
    const gone = { ...before, reminderId: null, updatedAt: new Date(svc.clock()) };
    tell(out, me.app.id, 'task.deleted', gone, svc.clock());
    return gone;
  });
  return presentTask(row);
}

/**
 * Inside the transaction that deletes these messages (features/messages' soft delete, a deleted
 * user's removed messages in features/admin; services.ts `messagesDeleted`): their tasks go with
 * them, each pending reminder cancelled, each told `task.deleted` to its channel and, through the
 * same outbox, to webhook endpoints; their `task` inbox items go by the inbox's durable outbox.
 * A task without its message would be a badge on nothing and an entry in the assignee's list
 * and Activity that opens nowhere. Returns what runs after the commit.
 */
export async function dropMessageTasks(
  svc: Services,
  tx: Tx,
  out: Outbox,
  appId: string,
  messageIds: readonly string[],
  at: number,
): Promise<() => void> {
  if (messageIds.length === 0) return () => {};
  const gone = await tx
    .delete(t)
    .where(and(eq(t.appId, appId), inArray(t.messageId, [...messageIds])))
    .returning();
  if (gone.length === 0) return () => {};
  for (const row of gone) {
    await cancelReminder(tx, appId, row.reminderId);
    tell(out, appId, 'task.deleted', { ...row, reminderId: null, updatedAt: new Date(at) }, at);
  }
  return holdInboxTask(svc, tx, appId, {
    kind: 'task_items_removed',
    appId,
    messageIds: [...new Set(gone.map((g) => g.messageId))],
  });
}

/**
 * Inside the transaction that deletes a user (features/admin): the tasks assigned to them go,
 * each told `task.deleted` to its channel and webhook endpoints, so no badge names someone who
 * is gone. Their reminders and inbox items go with the person's own (features/admin).
 */
export async function dropAssignedTasks(tx: Tx, out: Outbox, appId: string, userId: string, at: number): Promise<void> {
  const gone = await tx
    .delete(t)
    .where(and(eq(t.appId, appId), eq(t.assigneeId, userId)))
    .returning();
  for (const row of gone) tell(out, appId, 'task.deleted', { ...row, reminderId: null, updatedAt: new Date(at) }, at);
}

/** One task whose message the caller may read. */
export async function getTask(svc: Services, me: Me, id: string): Promise<Task> {
  const [row] = await svc.db
    .select()
    .from(t)
    .where(and(eq(t.appId, me.app.id), eq(t.id, id)));
  if (!row) throw notFound('Task');
  try {
    await accessMessage(svc.db, me, row.messageId);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'NOT_FOUND') throw notFound('Task');
    throw err;
  }
  return (await withMessages(svc, me, [row]))[0] as Task;
}

/**
 * A page of tasks, newest first, of one status (default open): the caller's own (`assignee`)
 * or a channel's (`cid`, already checked readable). Tasks whose message was deleted are left
 * out; so are, in the caller's own list, tasks in channels they may no longer read.
 */
async function pageOf(
  svc: Services,
  me: Me,
  where: { assignee: string } | { cid: string },
  q: TasksQuery,
): Promise<{ tasks: Task[]; next?: string }> {
  const appId = me.app.id;
  const limit = q.limit ?? 30;
  const m = schema.messages;
  const conds = [
    eq(t.appId, appId),
    'cid' in where ? eq(t.cid, where.cid) : eq(t.assigneeId, where.assignee),
    eq(t.status, q.status ?? 'open'),
    isNull(m.deletedAt),
  ];
  if (q.cursor) conds.push(lt(t.id, q.cursor));
  const found = await svc.db
    .select({ task: t })
    .from(t)
    .innerJoin(m, and(eq(m.appId, t.appId), eq(m.id, t.messageId)))
    .where(and(...conds))
    .orderBy(desc(t.id))
    .limit(limit + 1);
  const page = found.slice(0, limit).map((x) => x.task);
  let shown = page;
  if (!('cid' in where)) {
    const readable = new Map<string, boolean>();
    for (const cid of new Set(page.map((x) => x.cid))) readable.set(cid, await mayReadChannel(svc.db, me, cid));
    shown = page.filter((x) => readable.get(x.cid));
  }
  const tasks = await withMessages(svc, me, shown);
  return found.length > limit ? { tasks, next: (page.at(-1) as TaskRow).id } : { tasks };
}

/** `GET /v1/me/tasks`: the tasks assigned to the caller. */
export function listMyTasks(svc: Services, me: Me, q: TasksQuery) {
  return pageOf(svc, me, { assignee: me.userId }, q);
}

/** `GET /v1/channels/{cid}/tasks`: a readable channel's tasks (its messages' badges). */
export async function listChannelTasks(svc: Services, me: Me, cid: string, q: TasksQuery) {
  await accessChannelRead(svc.db, me, cid);
  return pageOf(svc, me, { cid }, q);
}
