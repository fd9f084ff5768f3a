/**
 * The UI kit rendered with React Native Testing Library, Alice's screens against a real server
 * while Bob (a second real client) acts: the channel list, the message list, typing, reactions,
 * read-by, a thread, an upload, a mention from the composer, and the `MessageUI` slot.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChatClient, ReadBy } from '@parley/client';
// `pure`: one rendering of Alice's app lives through the steps of a conversation (cleaned up at the end).
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react-native/pure';
import { Profiler, type ReactElement, useState } from 'react';
import { Text, View } from 'react-native';
import {
  Avatar,
  Channel,
  ChannelList,
  ChatProvider,
  MessageInput,
  MessageList,
  type MessageUIProps,
  SeenBy,
  Thread,
  TypingIndicator,
} from '../src/index';
import { createApp, makeClient, type TestApp, userToken, when } from './helpers';

let app: TestApp;
let alice: ChatClient;
let bob: ChatClient;

beforeAll(async () => {
  // Most updates here come from the server (Bob's messages, typing, reads), not from the test:
  // React is told it is not in an act() environment so it does not ask for them to be wrapped.
  // Testing Library still wraps what the test does (render, events, waits) in act.
  (globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false;
  app = await createApp([
    { id: 'alice', name: 'Alice', username: 'alice' },
    { id: 'bob', name: 'Bob', username: 'bob' },
    { id: 'carol', name: 'Carol', username: 'carol' },
  ]);
  alice = makeClient(app);
  bob = makeClient(app);
  await alice.connectUser({ id: 'alice' }, userToken(app, 'alice'));
  await bob.connectUser({ id: 'bob' }, userToken(app, 'bob'));
});

afterAll(async () => {
  await alice.disconnectUser();
  await bob.disconnectUser();
});

/** Alice's app: the list, and the conversation she picks from it. */
function AliceApp({
  pickFiles,
  MessageUI,
}: {
  pickFiles?: () => Promise<Blob[]>;
  MessageUI?: (p: MessageUIProps) => ReactElement;
}) {
  const [cid, setCid] = useState<string | null>(null);
  const [type, id] = cid ? (cid.split(/:(.*)/s) as [string, string]) : ['', ''];
  return (
    <ChatProvider client={alice}>
      {cid ? (
        <Channel channel={alice.channel(type, id)} {...(MessageUI ? { MessageUI } : {})}>
          <MessageList />
          <TypingIndicator />
          <MessageInput {...(pickFiles ? { pickFiles } : {})} />
          <Thread />
        </Channel>
      ) : (
        <ChannelList onSelect={setCid} />
      )}
    </ChatProvider>
  );
}

describe('a conversation from the list to the thread, live both ways', () => {
  let dm: ReturnType<ChatClient['channel']>;
  const file = new File([new Uint8Array([0x25, 0x50, 0x44, 0x46, 0x2d, 0x31, 0x2e, 0x34, 0x0a])], 'menu.pdf', {
    type: 'application/pdf',
  });
  const bobs = () => dm.state?.messages.find((m) => m.text === 'Hi Alice, lunch today?');
  afterAll(() => cleanup());

  it('lists the DM with its last message and unread count, and opens it', async () => {
    dm = bob.channel('dm', { members: ['alice', 'bob'] });
    await dm.watch();
    await dm.sendMessage({ text: 'Hi Alice, lunch today?' });
    render(<AliceApp pickFiles={async () => [file]} />);
    const row = await screen.findByLabelText('Bob, 1 unread', {}, { timeout: 10_000 });
    expect(screen.getByText('Bob: Hi Alice, lunch today?')).toBeTruthy();
    fireEvent.press(row);
    await screen.findByText('Hi Alice, lunch today?', {}, { timeout: 10_000 });
    // Shown, so read: Bob sees her read mark reach his message.
    await when(bob, () => (dm.state?.read.alice ?? 0) >= (bobs()?.seq ?? 1), 'Alice to read');
  });

  it('shows who is typing', async () => {
    dm.keystroke();
    await screen.findByText('Bob is typing…', {}, { timeout: 10_000 });
    dm.stopTyping();
    // A boolean, not the element: Jest would print a whole rendered tree on each failed check.
    await waitFor(() => expect(screen.queryByText('Bob is typing…') === null).toBe(true), { timeout: 10_000 });
  });

  it('sends from the composer, and says when it was seen', async () => {
    fireEvent.changeText(screen.getByLabelText('Message'), 'Yes! 12:30?');
    fireEvent.press(screen.getByLabelText('Send'));
    await when(
      bob,
      () => dm.state?.messages.find((m) => m.text === 'Yes! 12:30?' && m.status === 'sent'),
      'Bob to get it',
    );
    await dm.markRead();
    await screen.findByText('Seen', {}, { timeout: 10_000 });
  });

  it('shows reactions live and adds one from the actions sheet', async () => {
    const hers = dm.state?.messages.find((m) => m.text === 'Yes! 12:30?');
    await dm.sendReaction(hers?.id as string, 'love');
    await screen.findByLabelText('love reaction, 1', {}, { timeout: 10_000 });
    fireEvent(screen.getByTestId(`message-${bobs()?.id}`), 'longPress');
    fireEvent.press(await screen.findByLabelText('React with like'));
    await when(bob, () => bobs()?.reactions.like === 1, 'the like');
    expect(await screen.findByLabelText('like reaction, 1, yours')).toBeTruthy();
  });

  it('opens a thread and replies in it', async () => {
    const parent = bobs()?.id as string;
    await dm.getReplies(parent); // Bob has the thread open too
    await dm.sendMessage({ text: 'Where?', parent_id: parent });
    fireEvent.press(await screen.findByText('1 reply', {}, { timeout: 10_000 }));
    await screen.findByText('Where?', {}, { timeout: 10_000 });
    fireEvent.changeText(screen.getByLabelText('Reply'), 'The usual place');
    fireEvent.press(screen.getAllByLabelText('Send').at(-1) as never);
    await when(bob, () => dm.state?.threads[parent]?.some((m) => m.text === 'The usual place'), 'the reply');
    fireEvent.press(screen.getByLabelText('Close thread'));
    await waitFor(() => expect(screen.queryByLabelText('Thread') === null).toBe(true));
  });

  it('uploads a picked file with the message', async () => {
    fireEvent.press(screen.getByLabelText('Attach files'));
    await screen.findByLabelText('Remove menu.pdf');
    fireEvent.changeText(screen.getByLabelText('Message'), 'The menu');
    fireEvent.press(screen.getByLabelText('Send'));
    const withFile = await when(
      bob,
      () => dm.state?.messages.find((m) => m.text === 'The menu' && m.attachments?.length),
      'the file',
    );
    expect(withFile.attachments?.[0]?.name).toBe('menu.pdf');
    await screen.findByLabelText(/^File menu\.pdf/, {}, { timeout: 10_000 });
  });
});

it('the composer suggests members for @ and the server resolves the mention', async () => {
  const group = bob.channel('group', 'lunch');
  await group.createChannel({ name: 'lunch', members: ['alice', 'bob', 'carol'] });
  await group.watch();
  const { unmount } = render(
    <ChatProvider client={alice}>
      <Channel channel={alice.channel('group', 'lunch')}>
        <MessageList />
        <MessageInput />
      </Channel>
    </ChatProvider>,
  );
  await screen.findByText('No messages yet', {}, { timeout: 10_000 });
  fireEvent.changeText(screen.getByLabelText('Message'), 'Ask @ca');
  fireEvent.press(await screen.findByLabelText('Mention Carol'));
  expect(screen.getByLabelText('Message').props.value).toBe('Ask @carol ');
  fireEvent.changeText(screen.getByLabelText('Message'), 'Ask @carol too');
  fireEvent.press(screen.getByLabelText('Send'));
  const m = await when(bob, () => group.state?.messages.find((x) => x.text === 'Ask @carol too'), 'the mention');
  expect(m.mentioned_users).toEqual(['carol']);
  unmount();
  cleanup();
});

it('the MessageUI slot renders rows, and can fall back to the kit’s', async () => {
  const dm = bob.channel('dm', { members: ['alice', 'bob'] });
  await dm.watch();
  await dm.sendMessage({ text: 'custom please' });
  function Bubble({ message, mine, Default, defaultProps }: MessageUIProps) {
    if (message.attachments?.length) return <Default {...defaultProps} />;
    return (
      <View accessibilityLabel={mine ? 'my bubble' : 'their bubble'}>
        <Text>{`» ${message.text}`}</Text>
      </View>
    );
  }
  const { unmount } = render(
    <ChatProvider client={alice}>
      <Channel channel={alice.channel('dm', dm.id as string)} MessageUI={Bubble}>
        <MessageList />
      </Channel>
    </ChatProvider>,
  );
  await screen.findByText('» custom please', {}, { timeout: 10_000 });
  expect(screen.getAllByLabelText('their bubble').length).toBeGreaterThan(0);
  // The message with a file is the kit's own row.
  expect(screen.getByLabelText(/^File menu\.pdf/)).toBeTruthy();
  await act(async () => {
    unmount();
  });
  cleanup();
});

it('an avatar whose picture fails to load shows the initials', async () => {
  const dana = {
    id: 'dana',
    name: 'Dana Scully',
    username: 'dana',
    image: 'https://pictures.invalid/dana.png',
    role: 'user',
    created_at: '2026-11-28T00:00:00.000Z',
    updated_at: '2026-11-28T00:00:00.000Z',
  } as const;
  const { unmount } = render(<Avatar user={dana} id="dana" />);
  const picture = screen.getByLabelText('Dana Scully');
  expect(screen.queryByText('DS')).toBeNull();
  await act(async () => {
    fireEvent(picture, 'error', { nativeEvent: { error: 'unreachable' } });
  });
  expect(screen.getByText('DS')).toBeTruthy();
  await act(async () => {
    unmount();
  });
  cleanup();
});

it('Seen by re-renders when one of its readers changes, not on every message of the channel', async () => {
  const group = alice.channel('group', `seen-${Date.now().toString(36)}`);
  await group.createChannel({ name: 'Pair', members: ['bob'] });
  await group.watch();
  const sent = await group.sendMessage({ text: 'read me' });
  const readBy = { message: sent, readers: [{ user_id: 'bob', read_at: null }], others: 1 } as unknown as ReadBy;
  let commits = 0;
  const { unmount } = render(
    <ChatProvider client={alice}>
      <Channel channel={group}>
        <Profiler id="seen" onRender={() => (commits += 1)}>
          <SeenBy readBy={readBy} />
        </Profiler>
      </Channel>
    </ChatProvider>,
  );
  await screen.findByText('Seen by Bob', {}, { timeout: 10_000 });
  const before = commits;
  // Each message changes the channel's state; Bob is as he was.
  for (const text of ['one', 'two', 'three']) await group.sendMessage({ text });
  await when(alice, () => group.state?.messages.length === 4, 'the messages to arrive');
  expect(commits).toBe(before);
  await act(async () => {
    unmount();
  });
  cleanup();
});
