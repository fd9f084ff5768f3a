/**
 * Tasks from messages in the React kit (`client.tasks`):
 *
 * - `useTasks()`: my open tasks and every known task by message (loads mine on first use);
 *   `useMessageTask(id)`: one message's task; `useChannelTasks(cid)`: loads a channel's tasks
 *   so its messages can show their badges.
 * - `<TaskList>`: the tasks assigned to me, newest first, each with where, who said it, the
 *   text, the due time, Open and Mark done.
 * - `<TaskBadge>`: a message's task — assignee, due time, done or open — with a done toggle.
 * - `<TaskForm>`: make a task from a message: an assignee among the channel's members and an
 *   optional due time.
 */
import { keepLoading, type TasksState, taskDueText } from '@parley/client';
import type { Task } from '@parley/protocol';
import { type FormEvent, useEffect, useState, useSyncExternalStore } from 'react';
import { channelDisplayName } from './channel-list.js';
import { useChatClient, useClientState, useMe } from './context.js';
import { displayName, fullTime } from './format.js';

export { taskDueText };

/** My open tasks and the known tasks by message, from `client.tasks` (mine loaded on first use). */
export function useTasks(): TasksState {
  const client = useChatClient();
  useEffect(() => keepLoading(() => client.tasks.loadOnce()), [client]);
  return useSyncExternalStore(
    (l) => client.tasks.state.subscribe(l),
    () => client.tasks.state.get(),
    () => client.tasks.state.get(),
  );
}

/** One message's task, or null, from what `client.tasks` knows (this hook loads nothing). */
export function useMessageTask(messageId: string): Task | null {
  const client = useChatClient();
  const get = () => client.tasks.forMessage(messageId);
  return useSyncExternalStore((l) => client.tasks.state.subscribe(l), get, get);
}

/** Load the tasks of channel `cid` (its messages' badges), again whenever it changes. */
export function useChannelTasks(cid: string | null | undefined): void {
  const client = useChatClient();
  useEffect(() => (cid ? keepLoading(() => client.tasks.loadChannel(cid)) : undefined), [client, cid]);
}

function useWhere(cid: string): string {
  const me = useMe();
  return useClientState((s) => {
    const c = s.channels[cid];
    if (!c) return 'a conversation';
    return c.channel.type === 'dm' ? channelDisplayName(c, s, me) : `#${channelDisplayName(c, s, me)}`;
  });
}

function TaskRow({ task, onOpen }: { task: Task; onOpen?: ((task: Task) => void) | undefined }) {
  const client = useChatClient();
  const where = useWhere(task.cid);
  const m = task.message;
  const who = useClientState((s) => (m ? displayName(s.users[m.user_id] ?? m.user, m.user_id) : ''));
  const [error, setError] = useState<string | null>(null);
  const due = taskDueText(task);
  const overdue = due?.startsWith('Overdue') ?? false;
  return (
    <li className="parley-task" data-testid="task-item" data-task-id={task.id} data-message-id={task.message_id}>
      <div className="parley-saved__meta">
        <span className="parley-saved__where">{where}</span>
        {m ? <span className="parley-saved__who">{who}</span> : null}
        {due && task.due_at ? (
          <span className={`parley-saved__due${overdue ? ' parley-task__overdue' : ''}`} title={fullTime(task.due_at)}>
            {due}
          </span>
        ) : null}
      </div>
      <p className="parley-saved__text">{m ? m.text : 'This message is gone'}</p>
      <div className="parley-saved__actions">
        {onOpen ? (
          <button type="button" className="parley-button parley-button--small" onClick={() => onOpen(task)}>
            Open
          </button>
        ) : null}
        <button
          type="button"
          className="parley-button parley-button--small"
          onClick={() =>
            void client.tasks
              .complete(task.id, task.status !== 'done')
              .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)))
          }
        >
          {task.status === 'done' ? 'Reopen' : 'Mark done'}
        </button>
      </div>
      {error ? (
        <p className="parley-error" role="alert">
          {error}
        </p>
      ) : null}
    </li>
  );
}

/** Props of {@link TaskList}. */
export interface TaskListProps {
  /** Open the task's message where it was said. */
  onOpen?(task: Task): void;
  className?: string;
  /** What to say when there is none. */
  empty?: string;
}

/** The tasks assigned to me, open ones, newest first, live. Render inside `<ChatProvider>`. */
export function TaskList({ onOpen, className, empty }: TaskListProps) {
  const client = useChatClient();
  const { mine, next, loaded } = useTasks();
  // Open afresh: a due time may have passed, a task may have been given since.
  useEffect(() => keepLoading(() => client.tasks.load()), [client]);
  if (!loaded) return <p className="parley-muted">Loading…</p>;
  if (mine.length === 0)
    return (
      <p className={`parley-muted ${className ?? ''}`}>
        {empty ?? 'No open tasks. Make a task from a message’s actions to see it here.'}
      </p>
    );
  return (
    <div className={`parley-tasks ${className ?? ''}`}>
      <ul className="parley-saved__list" aria-label="Your tasks">
        {mine.map((t) => (
          <TaskRow key={t.id} task={t} onOpen={onOpen} />
        ))}
      </ul>
      {next ? (
        <button type="button" className="parley-button" onClick={() => void client.tasks.more().catch(() => {})}>
          Show more
        </button>
      ) : null}
    </div>
  );
}

/** Props of {@link TaskBadge}. */
export interface TaskBadgeProps {
  messageId: string;
}

/** A message's task, under the message: who it is for, when it is due, done or not (a toggle). */
export function TaskBadge({ messageId }: TaskBadgeProps) {
  const client = useChatClient();
  const task = useMessageTask(messageId);
  const me = useMe();
  const assignee = useClientState((s) =>
    task ? (task.assignee_id === me ? 'you' : displayName(s.users[task.assignee_id], task.assignee_id)) : '',
  );
  if (!task) return null;
  const done = task.status === 'done';
  const due = done ? null : taskDueText(task);
  return (
    <div className="parley-task-badge" data-testid="task-badge" data-status={task.status}>
      <input
        type="checkbox"
        className="parley-task-badge__check"
        checked={done}
        aria-label={done ? 'Reopen task' : 'Mark task done'}
        onChange={() => void client.tasks.complete(task.id, !done).catch(() => {})}
      />
      <span className="parley-task-badge__text">
        {done ? 'Done' : 'Task'} · for <strong>{assignee}</strong>
        {due ? <span title={task.due_at ? fullTime(task.due_at) : undefined}> · {due}</span> : null}
      </span>
    </div>
  );
}

/** A `datetime-local` input's value for a date, in the viewer's time zone. */
function localInput(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Props of {@link TaskForm}. */
export interface TaskFormProps {
  /** The message to make a task of (its channel's members are the assignees offered). */
  message: { id: string; cid: string; text: string };
  /** After the task was made. */
  onDone?(task: Task): void;
  onCancel?(): void;
}

/** Make a task from `message`: assignee (a member of its channel; you by default) and an optional due time. */
export function TaskForm({ message, onDone, onCancel }: TaskFormProps) {
  const client = useChatClient();
  const me = useMe();
  const people = useClientState(
    (s) => {
      const c = s.channels[message.cid];
      const ids = new Set([...(c ? Object.keys(c.members) : []), ...(me ? [me] : [])]);
      return [...ids]
        .map((id) => ({ id, name: id === me ? `${displayName(s.users[id], id)} (you)` : displayName(s.users[id], id) }))
        .sort((a, b) => a.name.localeCompare(b.name));
    },
    (a, b) => JSON.stringify(a) === JSON.stringify(b),
  );
  // The members to offer: a resync carries no member list, so read a page of it.
  useEffect(() => {
    const at = message.cid.indexOf(':');
    void client
      .channel(message.cid.slice(0, at), message.cid.slice(at + 1))
      .loadMembers({ limit: 200 })
      .catch(() => {});
  }, [client, message.cid]);
  const [assignee, setAssignee] = useState(me ?? '');
  const [due, setDue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    client.tasks
      .create(message.id, assignee, due ? new Date(due) : undefined)
      .then((t) => onDone?.(t))
      .catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)))
      .finally(() => setBusy(false));
  };
  return (
    <form className="parley-task-form" aria-label="Make a task" onSubmit={submit}>
      <p className="parley-task-form__quote">{message.text}</p>
      <label className="parley-task-form__field">
        <span>Assignee</span>
        <select value={assignee} onChange={(e) => setAssignee(e.target.value)} required>
          {people.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      </label>
      <label className="parley-task-form__field">
        <span>Due (optional)</span>
        <input
          type="datetime-local"
          value={due}
          min={localInput(new Date())}
          onChange={(e) => setDue(e.target.value)}
        />
      </label>
      {error ? (
        <p className="parley-error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="parley-task-form__actions">
        {onCancel ? (
          <button type="button" className="parley-button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
        <button type="submit" className="parley-button parley-button--primary" disabled={busy || !assignee}>
          Make task
        </button>
      </div>
    </form>
  );
}
