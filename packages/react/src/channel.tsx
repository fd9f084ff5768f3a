/**
 * `<Channel>`: the context for one open channel. It watches the channel, remembers where the
 * user's read mark was when it opened (for the "New messages" line), which thread is open and
 * which message is being edited. MessageList, MessageInput, Thread and TypingIndicator read it.
 */
import { type Channel as ChannelHandle, connectionRetry, keepLoading, type LocalMessage } from '@parley/client';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import { useChatClient } from './context.js';
import { cx } from './format.js';
import { type MessageUIComponent, MessageUIContext } from './message-types.js';

/** A message being edited, and which input edits it (`null`: the channel's input; else a thread's parent id). */
export interface EditTarget {
  id: string;
  scope: string | null;
}

/** What {@link useChannelContext} returns. */
export interface ChannelContextValue {
  /** The channel handle from `client.channel(…)`. */
  channel: ChannelHandle;
  /**
   * The user's `membership.last_read_seq` when the channel opened (the "New messages" line sits
   * after it); `null` when nothing was unread then, or unknown (not a member, not loaded yet).
   */
  initialReadSeq: number | null;
  /** The parent id of the open thread, or null. */
  thread: string | null;
  /** Open a thread; focus returns to the element that opened it when it closes. */
  openThread(parentId: string): void;
  closeThread(): void;
  /** The message being edited, if any. */
  editing: EditTarget | null;
  setEditing(target: EditTarget | null): void;
  /** The message being quoted in the channel's input (its "Quote" action), if any. */
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
  /** Extra class names for the wrapper element. */
  className?: string;
  /** Render message rows (list and threads) with this instead of the kit's (see {@link MessageUIProps}). */
  MessageUI?: MessageUIComponent;
  children?: ReactNode;
}

/** The read mark to draw the "New messages" line at: none when nothing was unread on opening. */
const readSeqOf = (ch: ChannelHandle): number | null => {
  const s = ch.state;
  if (!s?.channel.membership || s.unreadCount === 0) return null;
  return s.channel.membership.last_read_seq;
};
// One watch at a time per handle: React's development double effects, or two views of one
// channel, must not send two `channel.watch` requests that race each other.
const watching = new WeakMap<ChannelHandle, Promise<unknown>>();
function watchOnce(channel: ChannelHandle): Promise<unknown> {
  const running = watching.get(channel);
  if (running) return running;
  const p = channel.watch().finally(() => watching.delete(channel));
  watching.set(channel, p);
  return p;
}

const takeMark = (channel: ChannelHandle) => ({ channel, seq: readSeqOf(channel), known: !!channel.state });

/**
 * Provides one channel to the components inside it and watches it. Switching `channel`
 * resets the read mark, the open thread and the edit in progress. It does not stop watching
 * on unmount: the channel keeps receiving live events (cheap, and the list stays current).
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
export function Channel({ channel, watch = true, onError, className, MessageUI, children }: ChannelProps) {
  // The read mark is captured when the channel opens: later reads (by this view) must not move
  // the "New messages" line while the user is looking at it.
  const [mark, setMark] = useState(() => takeMark(channel));
  const [thread, setThread] = useState<{ channel: ChannelHandle; id: string } | null>(null);
  const [editing, setEditingState] = useState<{ channel: ChannelHandle; target: EditTarget } | null>(null);
  const [quotingState, setQuotingState] = useState<{ channel: ChannelHandle; message: LocalMessage } | null>(null);
  const [error, setError] = useState<Error | null>(null);
  /** Whether another try of the failed first load is coming (the error line says so). */
  const [retrying, setRetrying] = useState(false);
  const opener = useRef<HTMLElement | null>(null);
  const onErrorRef = useRef(onError);
  onErrorRef.current = onError;

  if (mark.channel !== channel) setMark(takeMark(channel));

  const client = useChatClient();
  useEffect(() => {
    let live = true;
    setError(null);
    // A first watch lost on the way (a phone changing networks, a server restarting behind its
    // proxy, an app opened offline) is asked again (connectionRetry). A channel already loaded
    // stays on screen as it is, with no error; one never loaded says why it is empty meanwhile.
    const stop = keepLoading(
      async () => {
        if (watch && !channel.state?.watching) await watchOnce(channel);
        if (!live) return;
        setError(null);
        setMark((m) => (m.channel === channel && !m.known ? takeMark(channel) : m));
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

  const openThread = useCallback(
    (parentId: string) => {
      const active = typeof document !== 'undefined' ? document.activeElement : null;
      opener.current = active instanceof HTMLElement ? active : null;
      setThread({ channel, id: parentId });
    },
    [channel],
  );
  const closeThread = useCallback(() => {
    setThread(null);
    const el = opener.current;
    opener.current = null;
    if (el?.isConnected) el.focus();
  }, []);
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
      initialReadSeq: mark.channel === channel ? mark.seq : readSeqOf(channel),
      thread: thread?.channel === channel ? thread.id : null,
      openThread,
      closeThread,
      editing: editing?.channel === channel ? editing.target : null,
      setEditing,
      quoting: quotingState?.channel === channel ? quotingState.message : null,
      setQuoting,
      error,
    }),
    [channel, mark, thread, openThread, closeThread, editing, setEditing, quotingState, setQuoting, error],
  );

  return (
    <ChannelContext.Provider value={value}>
      <MessageUIContext.Provider value={MessageUI ?? null}>
        <div className={cx('parley-channel', value.thread && 'parley-channel--thread-open', className)}>
          {error ? (
            <p className="parley-error parley-channel__error" role="alert">
              Could not open this channel: {error.message}
              {retrying ? ' (trying again…)' : ''}
            </p>
          ) : null}
          {children}
        </div>
      </MessageUIContext.Provider>
    </ChannelContext.Provider>
  );
}
