/**
 * The tasks hooks of the React Native kit (`useTasks`, `useMessageTask`, `useChannelTasks`,
 * `taskDueText`) rendered with React Native Testing Library against a real server: Bob (a second
 * real client) gives Alice a task from his message; her screen lists it and shows its badge, live;
 * done, it leaves her list; a second task goes when Bob deletes its message.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChatClient } from '@parley/client';
import { cleanup, render, screen } from '@testing-library/react-native/pure';
import { Text, View } from 'react-native';
import { ChatProvider, taskDueText, useChannelTasks, useMessageTask, useTasks } from '../src/index';
import { createApp, makeClient, type TestApp, userToken } from './helpers';

let app: TestApp;
let alice: ChatClient;
let bob: ChatClient;

beforeAll(async () => {
  (globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false;
  app = await createApp([
    { id: 'alice', name: 'Alice', username: 'alice' },
    { id: 'bob', name: 'Bob', username: 'bob' },
  ]);
  alice = makeClient(app);
  bob = makeClient(app);
  await alice.connectUser({ id: 'alice' }, userToken(app, 'alice'));
  await bob.connectUser({ id: 'bob' }, userToken(app, 'bob'));
});

afterAll(async () => {
  cleanup();
  await alice.disconnectUser();
  await bob.disconnectUser();
});

function Badge({ messageId }: { messageId: string }) {
  const task = useMessageTask(messageId);
  return <Text testID={`badge-${messageId}`}>{task ? `${task.status} for ${task.assignee_id}` : 'none'}</Text>;
}

/** Alice's screen: her open tasks, and the badges of one channel's messages. */
function AliceTasks({ cid, messageIds }: { cid: string; messageIds: string[] }) {
  const { mine, loaded } = useTasks();
  useChannelTasks(cid);
  return (
    <View>
      <Text testID="loaded">{loaded ? 'loaded' : 'loading'}</Text>
      {mine.map((t) => (
        <Text key={t.id} testID="task">
          {t.message?.text ?? '…'} · {taskDueText(t) ?? 'no due time'}
        </Text>
      ))}
      {messageIds.map((id) => (
        <Badge key={id} messageId={id} />
      ))}
    </View>
  );
}

describe('the tasks hooks', () => {
  it('list my tasks and show badges live; done and deleted ones go', async () => {
    const ch = bob.channel('group', 'chores');
    await ch.createChannel({ members: ['alice'], name: 'Chores' });
    const first = await ch.sendMessage({ text: 'Water the plants' });
    const second = await ch.sendMessage({ text: 'Take out the bins' });
    render(
      <ChatProvider client={alice}>
        <AliceTasks cid="group:chores" messageIds={[first.id, second.id]} />
      </ChatProvider>,
    );
    await screen.findByText('loaded', {}, { timeout: 10_000 });
    expect(screen.queryAllByTestId('task')).toHaveLength(0);

    const due = new Date(Date.now() + 2 * 3600_000 + 60_000);
    const task = await bob.tasks.create(first.id, 'alice', due);
    await bob.tasks.create(second.id, 'alice');
    await screen.findByText(/Water the plants · Due in 2 hours/, {}, { timeout: 10_000 });
    await screen.findByText(/Take out the bins · no due time/, {}, { timeout: 10_000 });
    expect(screen.getByTestId(`badge-${first.id}`).props.children).toBe('open for alice');

    // Done (by Bob): it leaves Alice's list, and its badge says so.
    await bob.tasks.complete(task.id);
    await screen.findByText('done for alice', {}, { timeout: 10_000 });
    expect(screen.queryByText(/Water the plants/)).toBeNull();

    // Bob deletes his message: its task leaves the list and the badge.
    await ch.deleteMessage(second.id);
    await screen.findByText('none', {}, { timeout: 10_000 });
    expect(screen.getByTestId(`badge-${second.id}`).props.children).toBe('none');
    expect(screen.queryAllByTestId('task')).toHaveLength(0);
    expect(alice.tasks.forMessage(second.id)).toBeNull();
  });
});
