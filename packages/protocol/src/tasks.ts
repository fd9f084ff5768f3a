/**
 * Tasks from messages (server: features/tasks; docs/protocol/team-features.md, "Tasks"): a
 * message turned into a task with an assignee, an optional due time and a status (`open`,
 * `done`). A message carries at most one task; a done task is reopened rather than made again.
 *
 * Who: whoever may read the message's channel sees its task; a member of the channel makes,
 * changes, completes, reopens or deletes it. The assignee is a member of the channel. A due time
 * is a reminder for the assignee (features/reminders: the bot's DM and an inbox item when due);
 * being assigned by someone else is an inbox item (`task`). Each change is `task.created`, `task.updated` or
 * `task.deleted` to the channel (so every member sees the message's task badge, the assignee
 * among them) and to webhook endpoints, in the channel's lane. Deleting a message deletes its
 * task (`task.deleted`, in the deletion's transaction).
 */
import { type Static, Type } from '@sinclair/typebox';
import { Message } from './entities.js';
import { Cid, Timestamp, UserId, Uuid } from './ids.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const TASK_STATUSES = ['open', 'done'] as const;
export const TaskStatus = Type.Union(TASK_STATUSES.map((s) => Type.Literal(s)));
export type TaskStatus = Static<typeof TaskStatus>;
/** Most tasks one page of a list holds. */
export const TASKS_MAX_LIMIT = 100;

/** A task made from a message. */
export const Task = Type.Object({
  id: Uuid,
  cid: Cid,
  message_id: Uuid,
  assignee_id: UserId,
  created_by: UserId,
  status: TaskStatus,
  /** When it is due (the assignee is reminded then); null: no due time. */
  due_at: Nullable(Timestamp),
  /** The assignee's reminder of the due time (features/reminders), while one is pending. */
  reminder_id: Nullable(Uuid),
  created_at: Timestamp,
  updated_at: Timestamp,
  completed_at: Nullable(Timestamp),
  completed_by: Nullable(UserId),
  /** The message (in lists; absent from events; null once deleted). */
  message: Type.Optional(Nullable(Message)),
});
export type Task = Static<typeof Task>;

/** Turn a message into a task. */
export const CreateTaskBody = Type.Object(
  {
    message_id: Uuid,
    /** A member of the message's channel (yourself included). */
    assignee_id: UserId,
    /** A time ahead, at most a year (a reminder for the assignee then). */
    due_at: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);
export type CreateTaskBody = Static<typeof CreateTaskBody>;

/** Change a task: reassign, move or clear (`null`) its due time, complete (`done`) or reopen (`open`). */
export const UpdateTaskBody = Type.Object(
  {
    assignee_id: Type.Optional(UserId),
    due_at: Type.Optional(Nullable(Timestamp)),
    status: Type.Optional(TaskStatus),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateTaskBody = Static<typeof UpdateTaskBody>;

/** `GET /v1/me/tasks` (tasks assigned to me) and `GET /v1/channels/{cid}/tasks`: newest first. */
export const TasksQuery = Type.Object(
  {
    /** Default `open`. */
    status: Type.Optional(TaskStatus),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: TASKS_MAX_LIMIT })),
    /** `next` of the previous page. */
    cursor: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);
export type TasksQuery = Static<typeof TasksQuery>;

export const TaskResponse = Type.Object({ task: Task });
export type TaskResponse = Static<typeof TaskResponse>;
export const TasksResponse = Type.Object({
  tasks: Type.Array(Task),
  /** Pass as `cursor` for the next (older) page; absent on the last. */
  next: Type.Optional(Uuid),
});
export type TasksResponse = Static<typeof TasksResponse>;

/** The fields of the tasks' socket requests (frames.ts wraps them with `type` and `req_id`). */
export const TASK_REQUEST_FIELDS = {
  /** As `POST /v1/tasks`. */
  'task.create': CreateTaskBody.properties,
  /** As `PATCH /v1/tasks/{id}`. */
  'task.update': { id: Uuid, ...UpdateTaskBody.properties },
  /** As `DELETE /v1/tasks/{id}`. */
  'task.delete': { id: Uuid },
  /** As `GET /v1/me/tasks`. */
  'task.list': TasksQuery.properties,
} as const;

/** The task events (events.ts joins them to the live-only events; webhooks get them too). */
export const TASK_EVENT_TYPES = ['task.created', 'task.updated', 'task.deleted'] as const;
export type TaskEventType = (typeof TASK_EVENT_TYPES)[number];

export const TaskEvents = [
  /**
   * To the channel's subscribers (the assignee is a member): a task of one of its messages was
   * made, changed (assignee, due time, done or reopened) or deleted. Webhook endpoints get the
   * same events in the channel's lane.
   */
  Type.Object({
    type: Type.Union(TASK_EVENT_TYPES.map((t) => Type.Literal(t))),
    cid: Cid,
    task: Task,
    created_at: Timestamp,
  }),
] as const;
