/** `useTyping` and `<TypingIndicator>`: who is typing in the open channel, or in one of its threads. */
import type { Channel as ChannelHandle, TypingEntry } from '@parley/client';
import type { User } from '@parley/protocol';
import { useCallback, useMemo } from 'react';
import { useOptionalChannelContext } from './channel.js';
import { useChannelState } from './context.js';
import { cx } from './format.js';

/** "Alice is typing…", "Alice and Bob are typing…", "Alice, Bob and Carol are typing…", "Several people are typing…". */
export function typingText(names: readonly string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  if (names.length === 3) return `${names[0]}, ${names[1]} and ${names[2]} are typing…`;
  return 'Several people are typing…';
}

/** Options of {@link useTyping}. */
export interface UseTypingOptions {
  /** The channel; default: the surrounding `<Channel>`'s. */
  channel?: ChannelHandle | undefined;
  /** A thread's parent id: who types in that thread, and your typing goes there. Default: the channel itself. */
  parentId?: string | null | undefined;
}

/** What {@link useTyping} returns. */
export interface TypingState {
  /** Who is typing there now, first starter first (never the viewer). */
  users: readonly User[];
  /** Their display names, in the same order. */
  names: readonly string[];
  /** {@link typingText} of the names: "Alice is typing…", or ''. */
  text: string;
  /**
   * Call on every keystroke: the SDK sends `typing.start` at most every 2 s and `typing.stop`
   * after 3 s without one (the protocol's throttling), so calling it often costs nothing.
   */
  keystroke(): void;
  /** Say you stopped (cleared the input); sending a message does this by itself. */
  stop(): void;
}

const NONE: readonly TypingEntry[] = [];

/**
 * Who is typing in a channel (or one thread of it), live from the SDK's state — entries expire
 * by themselves if a stop never arrives — and a throttled way to say that you are typing.
 *
 * ```tsx
 * const { text, keystroke } = useTyping({ parentId: threadId });
 * <textarea onChange={(e) => { setText(e.target.value); keystroke(); }} />
 * <p role="status">{text}</p>
 * ```
 */
export function useTyping({ channel, parentId = null }: UseTypingOptions = {}): TypingState {
  const ctx = useOptionalChannelContext();
  const handle = channel ?? ctx?.channel;
  const state = useChannelState(handle);
  const typing = state?.typing;
  const entries = useMemo(
    () =>
      typing
        ? Object.values(typing)
            .filter((t) => (t.parent_id ?? null) === parentId)
            .sort((a, b) => a.at - b.at)
        : NONE,
    [typing, parentId],
  );
  // A DM handle has no cid until the DM is created: there is nobody to tell yet.
  const keystroke = useCallback(() => {
    if (handle?.id) handle.keystroke(parentId);
  }, [handle, parentId]);
  const stop = useCallback(() => {
    if (handle?.id) handle.stopTyping(parentId);
  }, [handle, parentId]);
  return useMemo(() => {
    const users = entries.map((t) => t.user);
    const names = users.map((u) => u.name || u.username || u.id);
    return { users, names, text: typingText(names), keystroke, stop };
  }, [entries, keystroke, stop]);
}

/** Props of {@link TypingIndicator}. */
export interface TypingIndicatorProps {
  /** Only people typing in this thread; default: in the channel itself. */
  parentId?: string | null;
  /** The channel; default: the surrounding `<Channel>`'s. */
  channel?: ChannelHandle;
  className?: string;
}

/**
 * A polite live region naming who is typing (the viewer is never included: the client does
 * not record your own typing). Entries expire by themselves if a stop never arrives.
 */
export function TypingIndicator({ parentId = null, channel, className }: TypingIndicatorProps) {
  const { text } = useTyping({ channel, parentId });
  return (
    <div className={cx('parley-typing', className)} role="status" aria-live="polite">
      {text}
    </div>
  );
}
