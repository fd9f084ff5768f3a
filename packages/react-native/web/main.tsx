/**
 * One person's phone screen, in a browser: the channel list, then the conversation picked from it
 * (header with a back button, messages, typing, composer, thread). Who and where come from the
 * query: `?key=API_KEY&user=ID&token=JWT` (the page's origin is the server), `&ui=bubble` renders
 * rows through a custom `MessageUI`.
 */
import { ChatClient, IndexedDBStorage, type UploadFile } from '@parley/client';
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Pressable, Text, View } from 'react-native';
import {
  Channel,
  ChannelList,
  ChatProvider,
  channelDisplayName,
  MessageInput,
  MessageList,
  type MessageUIProps,
  Thread,
  TypingIndicator,
  useChannelState,
  useClientState,
  useMe,
  usePalette,
} from '../src/index.js';

/** The page's DOM, typed here as far as it is used (this package's TypeScript has React Native's globals, not the DOM's). */
interface FileInput {
  type: string;
  multiple: boolean;
  files: ArrayLike<File> | null;
  onchange: (() => void) | null;
  oncancel: (() => void) | null;
  click(): void;
}
const page = globalThis as unknown as {
  location: { search: string; origin: string };
  document: { createElement(tag: 'input'): FileInput; getElementById(id: string): Element | null };
};
const { location, document } = page;
const q = new URLSearchParams(location.search);
const user = q.get('user') ?? '';
const client = new ChatClient({
  url: q.get('server') ?? location.origin,
  apiKey: q.get('key') ?? '',
  storage: new IndexedDBStorage(`parley-rnw-${user}`),
  transport: 'websocket',
});

/** The web's file picker: a file input, opened as a phone app would open its picker. */
function pickFiles(): Promise<UploadFile[] | null> {
  return new Promise((resolve) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.multiple = true;
    input.onchange = () => resolve(input.files ? Array.from(input.files) : null);
    input.oncancel = () => resolve(null);
    input.click();
  });
}

/** A custom row for the `MessageUI` slot: bubbles, right for mine; files keep the kit's row. */
function Bubble({ message, mine, actions, Default, defaultProps }: MessageUIProps) {
  const palette = usePalette();
  if (message.attachments?.length || message.type !== 'regular') return <Default {...defaultProps} />;
  return (
    <Pressable
      onLongPress={() => void actions.toggleReaction('like')}
      accessibilityLabel={mine ? 'My bubble' : 'Their bubble'}
      style={{
        alignSelf: mine ? 'flex-end' : 'flex-start',
        maxWidth: '75%',
        margin: 4,
        marginHorizontal: 12,
        paddingVertical: 8,
        paddingHorizontal: 12,
        borderRadius: 16,
        backgroundColor: mine ? palette.accent : palette.surface,
      }}
    >
      <Text style={{ color: mine ? palette.accentText : palette.text }}>{message.text}</Text>
    </Pressable>
  );
}

function Conversation({ cid, onBack }: { cid: string; onBack(): void }) {
  const palette = usePalette();
  const [type, id] = cid.split(/:(.*)/s) as [string, string];
  const channel = client.channel(type, id);
  const state = useChannelState(channel);
  const me = useMe();
  const title = useClientState((s) => (state ? channelDisplayName(state, s, me) : ''));
  return (
    <Channel channel={channel} {...(q.get('ui') === 'bubble' ? { MessageUI: Bubble } : {})}>
      <View
        style={{
          flexDirection: 'row',
          alignItems: 'center',
          gap: 12,
          padding: 12,
          borderBottomWidth: 1,
          borderBottomColor: palette.border,
        }}
      >
        <Pressable role="button" accessibilityLabel="Back" onPress={onBack}>
          <Text style={{ color: palette.accent, fontSize: 16 }}>‹ Back</Text>
        </Pressable>
        <Text accessibilityRole="header" style={{ color: palette.text, fontWeight: '700', fontSize: 17 }}>
          {state?.channel.type === 'dm' ? title : `#${title}`}
        </Text>
      </View>
      <MessageList />
      <TypingIndicator />
      <MessageInput pickFiles={pickFiles} />
      <Thread pickFiles={pickFiles} />
    </Channel>
  );
}

function App() {
  const [cid, setCid] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    client.connectUser({ id: user }, q.get('token') ?? '').catch((e: Error) => setError(e.message));
  }, []);
  if (error) return <Text role="alert">Could not connect: {error}</Text>;
  return (
    <ChatProvider client={client} theme={q.get('theme') === 'dark' ? 'dark' : 'light'}>
      {cid ? (
        <Conversation cid={cid} onBack={() => setCid(null)} />
      ) : (
        <>
          <Text accessibilityRole="header" style={{ fontSize: 22, fontWeight: '800', padding: 12 }}>
            Chats
          </Text>
          <ChannelList onSelect={setCid} />
        </>
      )}
    </ChatProvider>
  );
}

createRoot(document.getElementById('root') as Element).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
