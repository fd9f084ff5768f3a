/** {@link MessageActions} bound to one message: what the default row and a custom `MessageUI` call. */
import type { LocalMessage } from '@parley/client';
import { useMemo } from 'react';
import { useChannelContext } from './channel.js';
import type { MessageActions } from './message-types.js';

/** {@link MessageActions} bound to `message` (for a custom row; the default row uses them too). */
export function useMessageActions(
  message: LocalMessage,
  opts: { editScope?: string | null; onOpenThread?: ((parentId: string) => void) | undefined } = {},
): MessageActions {
  const { channel, setEditing, setQuoting } = useChannelContext();
  const { editScope = null, onOpenThread } = opts;
  return useMemo<MessageActions>(
    () => ({
      toggleReaction: (type) =>
        message.own_reactions.includes(type)
          ? channel.deleteReaction(message.id, type)
          : channel.sendReaction(message.id, type),
      edit: () => setEditing({ id: message.id, scope: editScope }),
      remove: () => channel.deleteMessage(message.id),
      quote: () => setQuoting(message),
      openThread: onOpenThread && !message.parent_id ? () => onOpenThread(message.id) : undefined,
      retry: () => channel.retry(message.id),
      togglePin: () => (message.pinned ? channel.unpin(message.id) : channel.pin(message.id)),
    }),
    [message, channel, editScope, onOpenThread, setEditing, setQuoting],
  );
}
