/** `useTyping` and `<TypingIndicator>`: who is typing in the open channel, or in one of its threads. */
import type { Channel as ChannelHandle, TypingEntry } from '@parley/client';
import type { User } from '@parley/protocol';
import { useCallback, useMemo } from 'react';
import { Text } from 'react-native';
import { useOptionalChannelContext } from './channel.js';
import { useChannelState, usePalette } from './context.js';
import { typingText } from './format.js';

/** Options of {@link useTyping}. */
export interface UseTypingOptions {
  /** The channel; default: the surrounding `<Channel>`'s. */
  channel?: ChannelHandle | undefined;
  /** A thread's parent id: who types in that thread, and your typing goes there. */
  parentId?: string | null | undefined;
}

/** What {@link useTyping} returns. */
export interface TypingState {
  /** Who is typing there now, first starter first (never the viewer). */
  users: readonly User[];
  names: readonly string[];
  /** "Alice is typing…", or ''. */
  text: string;
  /** Call on every change of the input: the SDK throttles what it sends. */
  keystroke(): void;
  /** Say you stopped (cleared the input); sending does this by itself. */
  stop(): void;
}

const NONE: readonly TypingEntry[] = [];

/** Who is typing in a channel (or one thread of it), live, and a throttled way to say you are. */
export function useTyping({ channel, parentId = null }: UseTypingOptions = {}): TypingState {
  const ctx = useOptionalChannelContext();
  const handle = channel ?? ctx?.channel;
  const typing = useChannelState(handle)?.typing;
  const entries = useMemo(
    () =>
      typing
        ? Object.values(typing)
            .filter((t) => (t.parent_id ?? null) === parentId)
            .sort((a, b) => a.at - b.at)
        : NONE,
    [typing, parentId],
  );
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
}

/** A polite live region naming who is typing; empty (but present, so nothing jumps) when nobody is. */
export function TypingIndicator({ parentId = null, channel }: TypingIndicatorProps) {
  const palette = usePalette();
  const { text } = useTyping({ channel, parentId });
  return (
    <Text
      role="status"
      accessibilityLiveRegion="polite"
      style={{ color: palette.muted, fontSize: 12, paddingHorizontal: 12, minHeight: 16 }}
    >
      {text}
    </Text>
  );
}
