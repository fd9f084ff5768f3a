/**
 * @parley/client — Parley's TypeScript SDK for browsers and Node 20+.
 *
 * ```ts
 * const client = new ChatClient({ url: 'http://localhost:3000', apiKey, WebSocket });
 * await client.connectUser({ id: 'alice' }, token);
 * const general = client.channel('public', 'general');
 * await general.watch();
 * await general.sendMessage({ text: 'hello' });
 * ```
 */
export { AdminApi } from './admin.js';
export {
  Assistant,
  type AssistantState,
  type CatchUpOptions,
  type CatchUpProgress,
  type CatchUpResult,
} from './assistant.js';
export { type BookmarksState, ChannelBookmarks } from './bookmarks.js';
export {
  Call,
  type CallEndReason,
  type CallEventMap,
  type CallMedia,
  type CallPhase,
  Calls,
  type CallsEventMap,
  type CallsState,
} from './call.js';
export { Channel, type SendOptions } from './channel.js';
export { ChatClient, type ChatClientOptions, type EventHandler, type TokenOrProvider } from './client.js';

// Under another local name, as in commands.ts: React Native's Babel preset refuses an export list
// naming a local `Commands`.
import { Commands as SlashCommands } from './commands.js';

export type { CommandsState } from './commands.js';
export {
  Connection,
  type ConnectionOptions,
  type SocketFactory,
  type SocketLike,
  type Transport,
  WS_RETRY_AFTER,
} from './connection.js';
export { Emoji, type EmojiState } from './emoji.js';
export { ParleyError } from './errors.js';
export { Files } from './files.js';
export { FeatureFlags, type FlagsState } from './flags.js';
export type { ChannelHost } from './host.js';
export { type FetchLike, isNativeFile, type NativeFile, type UploadFile } from './http.js';
export { Groups, type GroupsState, Inbox, type InboxState } from './inbox.js';
export { Moderation } from './moderation.js';
export { conflictOf, Notes, type NotesState } from './notes.js';
export { type OutboxEntry, pendingMessage } from './outbox.js';
export { Profiles } from './profiles.js';
export { REACTION_EMOJI, reactionEmoji } from './reactions.js';
export {
  connectionRetry,
  isRetryable,
  type KeepLoadingOptions,
  keepLoading,
  MAX_RETRY_DELAY,
  onReconnect,
  retryDelay,
  retrying,
} from './retry.js';
export {
  groupChannels,
  SavedItems,
  type SavedState,
  type SidebarGroup,
  SidebarSections,
  type SidebarState,
} from './sidebar.js';
export { Spaces, type SpacesHost, type SpacesState } from './spaces.js';
export { SseSocket } from './sse-socket.js';
export {
  applyEvent,
  type ChannelState,
  type ClientState,
  type ConnectionState,
  channelStateFrom,
  inChannelView,
  initialState,
  type LocalMessage,
  type LocalUpload,
  type ReadBy,
  type ReadByReader,
  readByOf,
  replaceEverywhere,
  sortChannelList,
  type TypingEntry,
  totals,
  upsertMessage,
} from './state.js';
export { type IdbFactoryLike, IndexedDBStorage, MemoryStorage, type StorageAdapter } from './storage.js';
export { type Readable, Store } from './store.js';
export { Tasks, type TasksState, taskDueText } from './tasks.js';
export { relativeTime } from './time.js';
export { type AttachmentInput, type UploadProgress, Uploads } from './uploads.js';
export { ChannelViewers, type ViewersHost, type ViewersState } from './viewers.js';
export { SlashCommands as Commands };
