/**
 * @parley/react-native — Parley on React Native: the SDK's core (`@parley/client`) with what a
 * phone adds — offline storage on AsyncStorage or MMKV, the connection following the app's state
 * and the network, APNs/FCM push registration — and a UI kit in React Native primitives with the
 * React kit's parts and names.
 *
 * ```tsx
 * const client = createChatClient({ url, apiKey, storage: new AsyncStorageAdapter(AsyncStorage) });
 * await client.connectUser({ id }, token);
 * watchAppLifecycle(client, { netInfo: NetInfo });
 *
 * <ChatProvider client={client}>
 *   <Channel channel={client.channel('public', 'general')}>
 *     <MessageList />
 *     <TypingIndicator />
 *     <MessageInput pickFiles={pickFiles} />
 *     <Thread />
 *   </Channel>
 * </ChatProvider>
 * ```
 */
export {
  FileCard,
  MessageAttachments,
  type MessageAttachmentsProps,
  PendingFiles,
  type PendingFilesProps,
  useFileLink,
} from './attachments.js';
export {
  Channel,
  type ChannelContextValue,
  type ChannelProps,
  type EditTarget,
  useChannelContext,
  useOptionalChannelContext,
} from './channel.js';
export { ChannelList, type ChannelListProps, channelDisplayName } from './channel-list.js';
export { createChatClient, type NativeChatClientOptions } from './client.js';
export {
  ChatProvider,
  type ChatProviderProps,
  cidOf,
  shallowEqual,
  useChannelState,
  useChatClient,
  useClientState,
  useMe,
  usePalette,
  useTheme,
} from './context.js';
export {
  clockTime,
  DEFAULT_REACTIONS,
  dayLabel,
  displayName,
  formatBytes,
  initials,
  REACTION_EMOJI,
  reactionEmoji,
  relativeTime,
  typingText,
} from './format.js';
export {
  type AppLifecycleOptions,
  type AppStateLike,
  type NetInfoLike,
  type NetStateLike,
  watchAppLifecycle,
} from './lifecycle.js';
export { MessageItem } from './message.js';
export { useMessageActions } from './message-actions.js';
export { MessageInput, type MessageInputProps, mentionQuery } from './message-input.js';
export { buildRows, MessageList, type MessageListProps } from './message-list.js';
export type { MessageActions, MessageItemProps, MessageUIComponent, MessageUIProps } from './message-types.js';
export { MessageSlot, useMessageUI } from './message-ui.js';
export { type PushToken, registerPushToken, unregisterPushToken } from './push.js';
export { ReactionList, type ReactionListProps, ReactionPicker, type ReactionPickerProps } from './reaction-picker.js';
export { SeenBy, type SeenByProps } from './read-by.js';
export {
  AsyncStorageAdapter,
  type AsyncStorageAdapterOptions,
  type AsyncStorageLike,
  type MMKVLike,
  MMKVStorageAdapter,
} from './storage.js';
export { taskDueText, useChannelTasks, useMessageTask, useTasks } from './tasks.js';
export { PALETTES, type Palette, type Theme } from './theme.js';
export { Thread, type ThreadProps } from './thread.js';
export {
  TypingIndicator,
  type TypingIndicatorProps,
  type TypingState,
  type UseTypingOptions,
  useTyping,
} from './typing-indicator.js';
export { Avatar, type AvatarProps } from './user.js';
