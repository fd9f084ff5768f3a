/**
 * Tasks from messages in the React Native kit (`client.tasks`), with the React kit's hooks and
 * names, so an app's task screens read the same on the phone:
 *
 * - `useTasks()`: my open tasks and every known task by message (loads mine on first use);
 * - `useMessageTask(id)`: one message's task (its badge), or null;
 * - `useChannelTasks(cid)`: loads a channel's tasks so its messages can show their badges;
 * - `taskDueText(task)`: "Due in 2 hours", "Overdue, 3 days ago".
 *
 * Every change — made here, on another device or by someone else, a task gone with its deleted
 * message — reaches them live through `client.tasks.state`.
 */
import { keepLoading, type TasksState } from '@parley/client';
import type { Task } from '@parley/protocol';
import { useEffect, useSyncExternalStore } from 'react';
import { useChatClient } from './context.js';

export { taskDueText } from '@parley/client';

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
