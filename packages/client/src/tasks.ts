/**
 * Tasks from messages in the SDK (`client.tasks`): the tasks assigned to me (`load()`, `more()`,
 * `state.mine`), the tasks of the channels I looked at (`loadChannel(cid)`, `forMessage(id)`: a
 * message's task badge), and the changes — make, reassign, move the due time, complete, reopen,
 * delete. `task.created`, `task.updated` and `task.deleted` from the channels I am in keep
 * both lists current, whoever made the change and on whichever device; a deleted message's task
 * leaves both (the server deletes it with the message).
 */
import type { CreateTaskBody, ServerEvent, Task, TaskResponse, TasksResponse, UpdateTaskBody } from '@parley/protocol';
import type { Http } from './http.js';
import { Store } from './store.js';
import { relativeTime } from './time.js';

/** `client.tasks`'s state. */
export interface TasksState {
  /** My open tasks, newest first, as far as loaded. */
  mine: Task[];
  /** The cursor of my next page; null when all are loaded (or before `load()`). */
  next: string | null;
  loaded: boolean;
  /** Tasks by message id, for the channels loaded with `loadChannel` and every task event seen. */
  byMessage: Record<string, Task>;
}

/**
 * A task's due time in words, "Due in 2 hours" or "Overdue, 3 days ago" (an open task past its
 * time), or null without one. `now` is for tests and for lists that render at one instant.
 */
export function taskDueText(task: Task, now: number = Date.now()): string | null {
  if (!task.due_at) return null;
  const when = relativeTime(task.due_at, now);
  return task.status === 'open' && new Date(task.due_at).getTime() < now ? `Overdue, ${when}` : `Due ${when}`;
}

type TaskEvent = Extract<ServerEvent, { type: 'task.created' | 'task.updated' | 'task.deleted' }>;

/** The most deleted task ids a client remembers (`Tasks.gone`). */
const MAX_GONE = 1_000;

export class Tasks {
  readonly state = new Store<TasksState>({ mine: [], next: null, loaded: false, byMessage: {} });
  private readonly channels = new Set<string>();
  private first: Promise<void> | null = null;
  /**
   * Tasks deleted (by an event, by me, or with their message) while this client ran, newest last
   * (at most `MAX_GONE`): a read answered before a deletion and landing after it would otherwise
   * put the task back, with no later event to take it out again (a task newly mine triggers such
   * a read of my list, and its message may be deleted while the read is on its way).
   */
  private readonly gone = new Set<string>();

  constructor(
    private readonly http: Http,
    private readonly me: () => string,
  ) {}

  /** The first page of my open tasks (kept in `state.mine`). */
  async load(limit = 30): Promise<Task[]> {
    const r = await this.http.call<TasksResponse>('GET', `/v1/me/tasks?limit=${limit}`);
    r.tasks = this.alive(r.tasks);
    this.state.update((s) => ({
      ...s,
      mine: r.tasks,
      next: r.next ?? null,
      loaded: true,
      byMessage: index(s, r.tasks),
    }));
    return r.tasks;
  }

  /**
   * My first page, unless loaded: what a screen showing my tasks asks on mount (the kits'
   * `useTasks()`). A load under way is shared rather than asked again; one that failed is asked
   * again by the next call.
   */
  loadOnce(): Promise<void> {
    if (this.state.get().loaded) return Promise.resolve();
    if (!this.first) {
      const p = this.load().then(
        () => undefined,
        (e: unknown) => {
          if (this.first === p) this.first = null;
          throw e;
        },
      );
      this.first = p;
    }
    return this.first;
  }

  /** My next page, appended to `state.mine`. */
  async more(limit = 30): Promise<Task[]> {
    const { next } = this.state.get();
    if (!next) return [];
    const r = await this.http.call<TasksResponse>('GET', `/v1/me/tasks?limit=${limit}&cursor=${next}`);
    r.tasks = this.alive(r.tasks);
    this.state.update((s) => ({
      ...s,
      mine: [...s.mine, ...r.tasks.filter((t) => !s.mine.some((x) => x.id === t.id))],
      next: r.next ?? null,
      byMessage: index(s, r.tasks),
    }));
    return r.tasks;
  }

  /** My done tasks, newest first (one page; not kept in state). */
  async done(limit = 30): Promise<Task[]> {
    return (await this.http.call<TasksResponse>('GET', `/v1/me/tasks?status=done&limit=${limit}`)).tasks;
  }

  /** A channel's open and done tasks (the latest 100 of each), kept by message for its badges. */
  async loadChannel(cid: string): Promise<Task[]> {
    this.channels.add(cid);
    const path = `/v1/channels/${encodeURIComponent(cid)}/tasks?limit=100`;
    const [open, done] = await Promise.all([
      this.http.call<TasksResponse>('GET', path),
      this.http.call<TasksResponse>('GET', `${path}&status=done`),
    ]);
    const all = this.alive([...open.tasks, ...done.tasks]);
    this.state.update((s) => ({ ...s, byMessage: index(s, all) }));
    return all;
  }

  /** The task of a message, as far as known (its channel loaded, or an event seen). */
  forMessage(messageId: string): Task | null {
    return this.state.get().byMessage[messageId] ?? null;
  }

  /** Turn a message into a task for `assigneeId` (a member of its channel), due at `dueAt` if given. */
  async create(messageId: string, assigneeId: string, dueAt?: string | Date): Promise<Task> {
    const body: CreateTaskBody = { message_id: messageId, assignee_id: assigneeId };
    if (dueAt !== undefined) body.due_at = typeof dueAt === 'string' ? dueAt : dueAt.toISOString();
    const r = await this.http.call<TaskResponse>('POST', '/v1/tasks', body);
    this.apply(r.task, false);
    return r.task;
  }

  /** Reassign, move or clear (`due_at: null`) the due time, or set the status. */
  async update(id: string, body: UpdateTaskBody): Promise<Task> {
    const r = await this.http.call<TaskResponse>('PATCH', `/v1/tasks/${id}`, body);
    this.apply(r.task, false);
    return r.task;
  }

  /** Mark done — or open again, with `done` false. */
  complete(id: string, done = true): Promise<Task> {
    return this.update(id, { status: done ? 'done' : 'open' });
  }

  /** Delete a task (the message stays). */
  async remove(id: string): Promise<void> {
    const r = await this.http.call<TaskResponse>('DELETE', `/v1/tasks/${id}`);
    this.apply(r.task, true);
  }

  /** `tasks` without those deleted since (see `gone`). */
  private alive(tasks: Task[]): Task[] {
    return this.gone.size === 0 ? tasks : tasks.filter((t) => !this.gone.has(t.id));
  }

  private forget(id: string): void {
    this.gone.delete(id);
    this.gone.add(id);
    if (this.gone.size > MAX_GONE) this.gone.delete(this.gone.values().next().value as string);
  }

  private apply(task: Task, deleted: boolean): void {
    if (deleted) this.forget(task.id);
    const mine = !deleted && task.assignee_id === this.me() && task.status === 'open';
    this.state.update((s) => {
      const old = s.mine.find((t) => t.id === task.id) ?? s.byMessage[task.message_id];
      // Events carry no message: keep the one already known.
      const merged = { ...task, message: task.message !== undefined ? task.message : (old?.message ?? undefined) };
      const byMessage = { ...s.byMessage };
      if (deleted) delete byMessage[task.message_id];
      else byMessage[task.message_id] = merged;
      const rest = s.mine.filter((t) => t.id !== task.id);
      const inMine = s.mine.some((t) => t.id === task.id);
      return {
        ...s,
        byMessage,
        mine: mine ? (inMine ? s.mine.map((t) => (t.id === task.id ? merged : t)) : [merged, ...rest]) : rest,
      };
    });
    // A task newly mine from another device or person: read my list again to get its message.
    if (mine && this.state.get().loaded && !this.state.get().mine.find((t) => t.id === task.id)?.message)
      void this.load().catch(() => {});
  }

  /** @internal the client routes `task.*` and `message.deleted` here. */
  onEvent(e: ServerEvent): void {
    if (e.type === 'task.created' || e.type === 'task.updated' || e.type === 'task.deleted')
      this.apply((e as TaskEvent).task, e.type === 'task.deleted');
    // A deleted message takes its task with it (the server tells `task.deleted` too; a
    // `message.deleted` replayed on a resync, with no live task event, drops it as well).
    if (e.type === 'message.deleted') this.dropMessage(e.message.id);
  }

  private dropMessage(messageId: string): void {
    const s = this.state.get();
    const id = s.byMessage[messageId]?.id ?? s.mine.find((t) => t.message_id === messageId)?.id;
    if (!id) return;
    this.forget(id);
    this.state.update((x) => {
      const byMessage = { ...x.byMessage };
      delete byMessage[messageId];
      return { ...x, byMessage, mine: x.mine.filter((t) => t.message_id !== messageId) };
    });
  }

  /** @internal after a reconnect: task events are live only, so read again what was loaded. */
  reconnected(): void {
    if (this.state.get().loaded) void this.load().catch(() => {});
    for (const cid of this.channels) void this.loadChannel(cid).catch(() => {});
  }
}

function index(s: TasksState, tasks: Task[]): Record<string, Task> {
  const out = { ...s.byMessage };
  for (const t of tasks) out[t.message_id] = t;
  return out;
}
