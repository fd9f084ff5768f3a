/**
 * `<Channel>`: the context for one open channel, as in the React kit. It watches the channel and
 * keeps which thread is open, which message is being edited or quoted. MessageList,
 * MessageInput, Thread and TypingIndicator read it.
 */
import { type Channel as ChannelHandle, connectionRetry, keepLoading, type LocalMessage } from '@parley/client';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import { type StyleProp, Text, View, type ViewStyle } from 'react-native';
import { useChatClient, usePalette } from './context.js';
import { type MessageUIComponent, MessageUIContext } from './message-types.js';

/** A message being edited, and which input edits it (`null`: the channel's; else a thread's parent id). */
export interface EditTarget {
  id: string;
  scope: string | null;
}

/** What {@link useChannelContext} returns. */
export interface ChannelContextValue {
  /** The channel handle from `client.channel(…)`. */
  channel: ChannelHandle;
  /** The parent id of the open thread, or null. */
  thread: string | null;
  openThread(parentId: string): void;
  closeThread(): void;
  /** The message being edited, if any. */
  editing: EditTarget | null;
  setEditing(target: EditTarget | null): void;
  /** The message being quoted in the channel's input, if any. */
  quoting: LocalMessage | null;
  setQuoting(message: LocalMessage | null): void;
  /** The error of the last failed watch, if any. */
  error: Error | null;
}

const ChannelContext = createContext<ChannelContextValue | null>(null);

/** The nearest {@link Channel}'s context; throws outside one. */
export function useChannelContext(): ChannelContextValue {
  const ctx = useContext(ChannelContext);
  if (!ctx) throw new Error('This component must be rendered inside <Channel channel={…}>');
  return ctx;
}

/** The nearest {@link Channel}'s context, or null outside one. */
export function useOptionalChannelContext(): ChannelContextValue | null {
  return useContext(ChannelContext);
}

/** Props of {@link Channel}. */
export interface ChannelProps {
  /** The channel handle, e.g. `client.channel('public', 'general')`. Keep it stable across renders. */
  channel: ChannelHandle;
  /** Watch the channel on mount (events and the latest messages). Default true. */
  watch?: boolean;
  /** Called when the watch fails (e.g. the channel does not exist or is not readable). */
  onError?: (error: Error) => void;
  /** Render message rows (list and threads) with this instead of the kit's (see {@link MessageUIProps}). */
  MessageUI?: MessageUIComponent;
  style?: StyleProp<ViewStyle>;
  children?: ReactNode;
}

// One watch at a time per handle: two views of one channel must not race two `channel.watch`.
const watching = new WeakMap<ChannelHandle, Promise<unknown>>();
function watchOnce(channel: ChannelHandle): Promise<unknown> {
  const running = watching.get(channel);
  if (running) return running;
  const p = channel.watch().finally(() => watching.delete(channel));
  watching.set(channel, p);
  return p;
}

/**
 * Provides one channel to the components inside it and watches it. Switching `channel` resets
 * the open thread and the edit in progress.
 *
 * ```tsx
 * <Channel channel={client.channel('public', 'general')}>
 *   <MessageList />
 *   <TypingIndicator />
 *   <MessageInput />
 *   <Thread />
 * </Channel>
 * ```
 */
export function Channel({ channel, watch = true, onError, MessageUI, style, children }: ChannelProps) {
  const palette = usePalette();
  const [thread, setThread] = useState<{ channel: ChannelHandle; id: string } | null>(null);
  const [editing, setEditingState] = useState<{ channel: ChannelHandle; target: EditTarget } | null>(null);
  const [quotingState, setQuotingState] = useState<{ channel: ChannelHandle; message: LocalMessage } | null>(null);
  const [error, setError] = useState<Error | null>(null);
  /** Whether another try of the failed first load is coming (the error line says so). */
  const [retrying, setRetrying] = useState(false);
  const onErrorRef = useRef(onError);
  onErrorRef.current = onError;

  const client = useChatClient();
  useEffect(() => {
    setError(null);
    if (!watch) return;
    let live = true;
    // A first watch lost on the way (a phone changing networks, an app opened offline) is asked
    // again (connectionRetry). A channel already loaded stays on screen as it is, with no error;
    // one never loaded says why it is empty meanwhile.
    const stop = keepLoading(
      async () => {
        if (!channel.state?.watching) await watchOnce(channel);
        if (live) setError(null);
      },
      {
        ...connectionRetry(client),
        onError: (e, again) => {
          if (again && channel.state?.loaded) return;
          const err = e instanceof Error ? e : new Error(String(e));
          setRetrying(again);
          setError(err);
          onErrorRef.current?.(err);
        },
      },
    );
    return () => {
      live = false;
      stop();
    };
  }, [client, channel, watch]);

  const openThread = useCallback((parentId: string) => setThread({ channel, id: parentId }), [channel]);
  const closeThread = useCallback(() => setThread(null), []);
  const setEditing = useCallback(
    (target: EditTarget | null) => setEditingState(target ? { channel, target } : null),
    [channel],
  );
  const setQuoting = useCallback(
    (message: LocalMessage | null) => setQuotingState(message ? { channel, message } : null),
    [channel],
  );

  const value = useMemo<ChannelContextValue>(
    () => ({
      channel,
      thread: thread?.channel === channel ? thread.id : null,
      openThread,
      closeThread,
      editing: editing?.channel === channel ? editing.target : null,
      setEditing,
      quoting: quotingState?.channel === channel ? quotingState.message : null,
      setQuoting,
      error,
    }),
    [channel, thread, openThread, closeThread, editing, setEditing, quotingState, setQuoting, error],
  );

  return (
    <ChannelContext.Provider value={value}>
      <MessageUIContext.Provider value={MessageUI ?? null}>
        <View style={[{ flex: 1 }, style]}>
          {error ? (
            <Text role="alert" style={{ color: palette.danger, padding: 12 }}>
              Could not open this channel: {error.message}
              {retrying ? ' (trying again…)' : ''}
            </Text>
          ) : null}
          {children}
        </View>
      </MessageUIContext.Provider>
    </ChannelContext.Provider>
  );
}
