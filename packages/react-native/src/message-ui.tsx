/**
 * The `MessageUI` slot: an app replaces how a message row renders, in the list and in threads.
 *
 * ```tsx
 * function Bubble({ message, mine, actions, Default, defaultProps }: MessageUIProps) {
 *   if (message.attachments?.length) return <Default {...defaultProps} />; // the kit's row for files
 *   return <Text onLongPress={() => actions.toggleReaction('like')}>{message.text}</Text>;
 * }
 * <Channel channel={ch} MessageUI={Bubble}>…</Channel>   // or <MessageList MessageUI={…} />, <Thread MessageUI={…} />
 * ```
 */
import { useContext } from 'react';
import { useMe } from './context.js';
import { MessageItem } from './message.js';
import { useMessageActions } from './message-actions.js';
import { type MessageItemProps, type MessageUIComponent, MessageUIContext } from './message-types.js';

/** The MessageUI in effect: the one given, else the channel's, else null (the default row). */
export function useMessageUI(given?: MessageUIComponent | null): MessageUIComponent | null {
  const fromChannel = useContext(MessageUIContext);
  return given ?? fromChannel;
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
