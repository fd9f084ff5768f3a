/**
 * Unread counts in the kit. They are the server's: `unread.updated` pushes each change of your
 * channels' counts and of your totals (read from the database, ordered by revision), and the
 * client reads the totals again on every connect, so a badge shows what the server says rather
 * than a sum that can drift. Per channel, `useChannelState(ch)?.unreadCount` / `mentionCount`
 * (and the channel list's badges) are kept the same way.
 */
import { useClientState } from './context.js';

/** Your unread totals: messages and mentions over your channels (muted ones aside), and how many channels have any. */
export interface UnreadTotals {
  /** Unread messages over your channels. */
  total: number;
  /** Unread mentions over your channels. */
  mentions: number;
  /** Channels with something unread. */
  channels: number;
}

/**
 * Your unread totals, live: `{ total, mentions, channels }`. For a tab title or an app badge.
 *
 * ```tsx
 * const { mentions, total } = useUnreadTotals();
 * document.title = mentions > 0 ? `(${mentions}) Chat` : total > 0 ? '• Chat' : 'Chat';
 * ```
 */
export function useUnreadTotals(): UnreadTotals {
  return useClientState((s) => ({
    total: s.totalUnread,
    mentions: s.totalMentions,
    // Before the server's totals arrive (or from a server that does not push), the channels held.
    channels:
      s.unreadChannels ??
      Object.values(s.channels).filter((c) => c.channel.membership && !c.channel.membership.muted && c.unreadCount > 0)
        .length,
  }));
}
