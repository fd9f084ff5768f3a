/** `<TypingIndicator>`: who is typing in the open channel, or in one of its threads. */
import type { Channel as ChannelHandle } from '@parley/client';
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
  const ctx = useOptionalChannelContext();
  const state = useChannelState(channel ?? ctx?.channel);
  const names = Object.values(state?.typing ?? {})
    .filter((t) => (t.parent_id ?? null) === parentId)
    .sort((a, b) => a.at - b.at)
    .map((t) => t.user.name || t.user.username || t.user.id);
  return (
    <div className={cx('parley-typing', className)} role="status" aria-live="polite">
      {typingText(names)}
    </div>
  );
}
