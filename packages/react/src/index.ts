/**
 * @parley/react — React components for Parley, built only on `@parley/client`.
 *
 * Import the components from this package and its stylesheet from `@parley/react/styles.css`
 * (or link {@link parleyStylesHref}), then:
 *
 * ```tsx
 * <ChatProvider client={client} theme="dark">
 *   <ChannelList activeCid={cid} onSelect={setCid} />
 *   <Channel channel={client.channel(type, id)}>
 *     <MessageList />
 *     <TypingIndicator />
 *     <MessageInput />
 *     <Thread />
 *   </Channel>
 * </ChatProvider>
 * ```
 */
export {
  type AssistantFeatures,
  type CatchUpView,
  type SmartRepliesView,
  useAssistant,
  useCatchUp,
  useSmartReplies,
} from './assistant.js';
export {
  AttachButton,
  FileCard,
  formatBytes,
  Lightbox,
  type LightboxProps,
  MAX_FILES,
  MessageAttachments,
  type MessageAttachmentsProps,
  PendingFiles,
  refusalText,
  useFileLink,
  usePendingFiles,
  useUploadAccept,
} from './attachments.js';
export {
  BookmarksBar,
  type BookmarksBarProps,
  ChannelFiles,
  type ChannelFilesProps,
  useBookmarks,
} from './bookmarks.js';
export {
  CallButtons,
  type CallButtonsProps,
  CallHistory,
  type CallHistoryProps,
  CallView,
  type CallViewProps,
  endReasonText,
  formatCallTime,
  IncomingCallToast,
  useCall,
  useCalls,
  useRingtone,
  useSpeaking,
} from './calls.js';
export {
  Channel,
  type ChannelContextValue,
  type ChannelProps,
  type EditTarget,
  useChannelContext,
  useOptionalChannelContext,
} from './channel.js';
export { ChannelList, type ChannelListProps, channelDisplayName, useChannelTitle } from './channel-list.js';
export {
  ChatProvider,
  type ChatProviderProps,
  cidOf,
  shallowEqual,
  type Theme,
  useChannelState,
  useChatClient,
  useClientState,
  useMe,
  useTheme,
} from './context.js';
export { customCode, emojiMap, ReactionGlyph, useCustomEmoji, useEmojiMap } from './custom-emoji.js';
export { clearDraftMemory, draftKey, loadDraft, saveDraft } from './drafts.js';
export {
  customEntries,
  type EmojiEntry,
  EmojiPicker,
  type EmojiPickerProps,
  loadEmojis,
  searchEmojis,
} from './emoji-picker.js';
export {
  EphemeralMessages,
  type EphemeralMessagesProps,
  useEphemeralMessages,
} from './ephemeral.js';
export { useFlag } from './flags.js';
export { clockTime, dayLabel, displayName, localTime, relativeTime } from './format.js';
export {
  InboxBadge,
  type InboxBadgeProps,
  InboxList,
  type InboxListProps,
  inboxItemSummary,
  inboxItemWhere,
  useInbox,
} from './inbox.js';
export { Markdown, type MarkdownProps, renderMarkdown } from './markdown.js';
export { MessageItem, type MessageItemProps } from './message.js';
export { defaultCommands, MessageInput, type MessageInputProps, type SlashCommand } from './message-input.js';
export { MessageList, type MessageListProps } from './message-list.js';
export type { MessageActions, MessageUIComponent, MessageUIProps } from './message-types.js';
export { useMessageActions } from './message-ui.js';
export {
  mergeDraft,
  NoteConflict,
  type NoteConflictProps,
  NoteEditor,
  type NoteEditorProps,
  NotesPanel,
  type NotesPanelProps,
} from './notes.js';
export { Poll, PollComposer, type PollComposerProps, type PollProps } from './poll.js';
export { useWatchPresence } from './presence.js';
export {
  LinkPreviewCard,
  type LinkPreviewCardProps,
  MessagePreviews,
  type MessagePreviewsProps,
} from './previews.js';
export {
  DEFAULT_REACTIONS,
  REACTION_EMOJI,
  ReactionPicker,
  type ReactionPickerProps,
  reactionEmoji,
} from './reaction-picker.js';
export { SeenBy, type SeenByProps } from './read-by.js';
export { type BuildRowsOptions, buildRows, type MessageRow } from './rows.js';
export { SavedList, type SavedListProps, useSavedItem, useSavedItems } from './saved.js';
export {
  DEFAULT_SEARCH_CHIPS,
  highlightParts,
  loadRecentSearches,
  MessageSearch,
  type MessageSearchProps,
  type SearchChip,
  SearchHighlight,
} from './search.js';
export {
  DRAG_TYPE,
  type MenuItem,
  PopupMenu,
  useSidebar,
} from './sidebar-sections.js';
export { parleyStylesHref } from './styles.js';
export {
  TaskBadge,
  type TaskBadgeProps,
  TaskForm,
  type TaskFormProps,
  TaskList,
  type TaskListProps,
  taskDueText,
  useChannelTasks,
  useMessageTask,
  useTasks,
} from './tasks.js';
export { Thread, type ThreadProps } from './thread.js';
export {
  TypingIndicator,
  type TypingIndicatorProps,
  type TypingState,
  typingText,
  type UseTypingOptions,
  useTyping,
} from './typing-indicator.js';
export { type UnreadTotals, useUnreadTotals } from './unread.js';
export {
  Avatar,
  type AvatarProps,
  lookupUser,
  type Presence,
  PresenceDot,
  type PresenceDotProps,
  UserProfileCard,
  type UserProfileCardProps,
  useUser,
} from './user.js';
export {
  ChannelViewers,
  type ChannelViewersProps,
  devicesText,
  useViewers,
  useViewing,
  type ViewersInfo,
} from './viewers.js';
