/**
 * The `MessageUI` slot: an app replaces how a message row renders, in the list and in threads,
 * while the kit keeps the list (virtualization, grouping, read marks, live updates).
 *
 * ```tsx
 * function MyMessage({ message, mine, actions, Default, defaultProps }: MessageUIProps) {
 *   if (message.poll) return <Default {...defaultProps} />; // keep the kit's row for polls
 *   return <div className={mine ? 'me' : 'them'} onDoubleClick={() => actions.react('👍')}>{message.text}</div>;
 * }
 * <Channel channel={ch} MessageUI={MyMessage}>…</Channel>   // or <MessageList MessageUI={…} />, <Thread MessageUI={…} />
 * ```
 */
import type { LocalMessage } from '@parley/client';
import { useContext, useMemo } from 'react';
import { useChannelContext } from './channel.js';
import { useChatClient, useMe } from './context.js';
import { MessageItem } from './message.js';
import {
  type MessageActions,
  type MessageItemProps,
  type MessageUIComponent,
  MessageUIContext,
} from './message-types.js';
import { useSavedItem } from './saved.js';

/** The MessageUI in effect: the one given, else the channel's, else null (the default row). */
export function useMessageUI(given?: MessageUIComponent | null): MessageUIComponent | null {
  const fromChannel = useContext(MessageUIContext);
  return given ?? fromChannel;
}

/** {@link MessageActions} bound to `message` (for a custom row; the default row has its own). */
export function useMessageActions(
  message: LocalMessage,
  opts: { editScope?: string | null; onOpenThread?: ((parentId: string) => void) | undefined } = {},
): MessageActions {
  const { channel, setEditing, setQuoting } = useChannelContext();
  const client = useChatClient();
  const saved = useSavedItem(message.id);
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
      toggleSaved: () => (saved ? client.saved.remove(saved.id) : client.saved.save(message.id)),
    }),
    [message, channel, client, saved, editScope, onOpenThread, setEditing, setQuoting],
  );
}

/** Renders `props` through `UI` when there is one, else the default {@link MessageItem}. */
export function MessageSlot({ UI, ...props }: MessageItemProps & { UI: MessageUIComponent | null }) {
  if (!UI) return <MessageItem {...props} />;
  return <CustomRow UI={UI} props={props} />;
}

function CustomRow({ UI, props }: { UI: MessageUIComponent; props: MessageItemProps }) {
  const me = useMe();
  const actions = useMessageActions(props.message, {
    editScope: props.editScope ?? null,
    onOpenThread: props.onOpenThread,
  });
  return (
    <UI
      message={props.message}
      mine={props.message.user_id === me}
      continued={props.continued ?? false}
      highlighted={props.highlighted ?? false}
      actions={actions}
      Default={MessageItem}
      defaultProps={props}
    />
  );
}
