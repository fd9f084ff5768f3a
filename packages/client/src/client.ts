/**
 * ChatClient: one user's connection to a Parley app, with the state any UI can subscribe
 * to. A facade over its parts: the socket (connection.ts), REST (http.ts), ingest (ingest.ts:
 * server events applied to state in seq order, gaps filled from the server's event log,
 * duplicates dropped), the outbox (outbox.ts: pending sends and their retries) and
 * persistence (persistence.ts: the storage adapter's glue). Channel handles (channel.ts) reach
 * the client through the `ChannelHost` interface it implements.
 */
import type {
  Channel as ChannelData,
  ChannelEvent,
  ChannelFilter,
  ClientRequestType,
  CreateReminderBody,
  CreateWebhookBody,
  DataExport,
  DeviceKind,
  EventOf,
  EventType,
  HelloFrame,
  LastChannelResponse,
  Member,
  MeResponse,
  MyFilesResponse,
  NotificationSettings,
  PeopleResponse,
  PushProvider,
  QueryChannelsBody,
  QueryChannelsResponse,
  ReadPrivacy,
  ReadPrivacyResponse,
  Reminder,
  ReplayWebhookBody,
  ReplayWebhookResponse,
  ReplyBody,
  RequestBody,
  ScheduledMessage,
  ScheduleMessageBody,
  SearchMessagesResponse,
  SearchSort,
  ServerEvent,
  SetStatusBody,
  SnoozeReminderBody,
  StorageUse,
  StorageUseResponse,
  UnreadTotals,
  UpdateMeBody,
  UpdateNotificationSettingsBody,
  UpdateReadPrivacyBody,
  UpdateScheduledBody,
  UpdateWebhookBody,
  User,
  UserResponse,
  UsersResponse,
  WebhookDelivery,
  WebhookEndpoint,
  WebPushSubscribeBody,
} from '@parley/protocol';
import { parseCid, RESYNC_REPORT_MAX_MS } from '@parley/protocol';
import { AdminApi } from './admin.js';
import { Assistant } from './assistant.js';
import { ChannelBookmarks } from './bookmarks.js';
import { type Call, type CallMedia, Calls } from './call.js';
import { Channel } from './channel.js';
import { Commands } from './commands.js';
import { Connection, type SocketFactory, type Transport } from './connection.js';
import { Emoji } from './emoji.js';
import { ParleyError } from './errors.js';
import { Files } from './files.js';
import { FeatureFlags } from './flags.js';
import type { ChannelHost } from './host.js';
import { type FetchLike, Http } from './http.js';
import { Groups, Inbox } from './inbox.js';
import { Ingest } from './ingest.js';
import { Moderation } from './moderation.js';
import { Notes } from './notes.js';
import { Outbox, type OutboxEntry } from './outbox.js';
import { Persistence } from './persistence.js';
import { PresenceFollows } from './presence.js';
import { Profiles } from './profiles.js';
import { SavedItems, SidebarSections } from './sidebar.js';
import { Spaces } from './spaces.js';
import type { FetchLike as StreamingFetch } from './sse-socket.js';
import {
  applyUnread,
  type ChannelState,
  type ClientState,
  forgetUnreadRevs,
  initialState,
  type LocalMessage,
  putChannelIn,
  updateChannelIn,
  withUnreadTotals,
} from './state.js';
import { MemoryStorage, type StorageAdapter } from './storage.js';
import { Store } from './store.js';
import { Tasks } from './tasks.js';
import { ChannelViewers } from './viewers.js';

/** A user known only as a member of some channel in state. */
function memberUser(s: ClientState, id: string): User | undefined {
  for (const c of Object.values(s.channels)) {
    const u = c.members[id]?.user;
    if (u) return u;
  }
  return undefined;
}

/** The browser's media and WebRTC, when there are any. */
function browserMedia(): CallMedia | null {
  const g = globalThis as unknown as {
    navigator?: { mediaDevices?: MediaDevices };
    RTCPeerConnection?: typeof RTCPeerConnection;
  };
  const md = g.navigator?.mediaDevices;
  if (!md || !g.RTCPeerConnection) return null;
  return {
    getUserMedia: (c) => md.getUserMedia(c),
    getDisplayMedia: (c) => md.getDisplayMedia(c),
    RTCPeerConnection: g.RTCPeerConnection,
  };
}

export interface ChatClientOptions {
  /** The server's base URL, e.g. `http://localhost:3000`. */
  url: string;
  /** The app's public API key. */
  apiKey: string;
  /** Offline storage; default in memory. Use `IndexedDBStorage` in browsers. */
  storage?: StorageAdapter;
  /** A WebSocket implementation (Node 20 has none built in: pass `ws`). Default: the global one. */
  WebSocket?: SocketFactory;
  /**
   * `auto` (default): a WebSocket, falling back by itself to server-sent events down and POSTs up
   * when the upgrade fails (a proxy that refuses WebSockets), and trying a WebSocket again every
   * few reconnects. `websocket` or `sse`: only that one. The same frames, resume and order on both.
   */
  transport?: Transport;
  /**
   * A fetch implementation, for REST calls and the fallback transport (whose stream needs a
   * response body that can be read as it arrives); default: the global one.
   */
  fetch?: FetchLike;
  /** Media and WebRTC for calls; default: the browser's (`navigator.mediaDevices`, `RTCPeerConnection`). */
  media?: CallMedia;
  /** Connection tuning (tests make these short). */
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** How many recent messages per channel are kept in storage. */
  persistMessages?: number;
  /**
   * Sends the outbox keeps in flight at once, in order (default 64); 1 sends one at a time,
   * one per round trip. The server stores one connection's sends to a channel in frame order.
   */
  sendWindow?: number;
  /**
   * Offer the token with the WebSocket upgrade (a `parley.auth.<token>` subprotocol), one round
   * trip shorter than the auth frame; default true. False always sends the auth frame.
   */
  tokenInProtocol?: boolean;
  /**
   * The kind of device this client runs on, as others see it beside your presence and among a
   * conversation's viewers: 'web', 'desktop' or 'mobile'. Without it the server reads the
   * User-Agent (Electron: desktop; a phone or tablet browser: mobile; else web).
   */
  device?: DeviceKind;
}

/** A token, or a function that returns one (called again when the server refuses the old one). */
export type TokenOrProvider = string | (() => Promise<string> | string);

/** A listener of `client.on(type, …)`: the event of that type, or any event for `*`. */
export type EventHandler<T extends EventType | '*'> = (event: T extends EventType ? EventOf<T> : ServerEvent) => void;

export class ChatClient implements ChannelHost {
  /** All client state; subscribe to re-render. */
  readonly state = new Store<ClientState>(initialState);

  readonly http: Http;
  /** Reports, bans, the moderation queue, automod and permissions (moderation.ts). */
  readonly moderation: Moderation;
  /** The app's upload rules, and whether it would take a file (files.ts). */
  readonly files: Files;
  /** Profiles: a user with custom field values, the app's field definitions, username checks (profiles.ts). */
  readonly profiles: Profiles;
  /** The virtual office: spaces, who is where, moves, teleports and knocks (spaces.ts). */
  readonly spaces: Spaces;
  /** The app's custom emoji, read once and kept current live (emoji.ts). */
  readonly emoji: Emoji;
  /** This user's feature flags, read with `getFlags()` and kept current live (flags.ts). */
  readonly flags: FeatureFlags;
  /** The app's assistant: catch-up, smart replies, and its admin calls (assistant.ts). */
  readonly assistant: Assistant;
  /** The activity inbox: items, the live unread count, marking read (inbox.ts). */
  readonly inbox: Inbox;
  /** The app's user groups (`@handle`), kept live (inbox.ts). */
  readonly groups: Groups;
  /** The user's sidebar sections and Starred, kept on the server, live on every device (sidebar.ts). */
  readonly sidebar: SidebarSections;
  /** The user's saved messages, with optional due times (sidebar.ts). */
  readonly saved: SavedItems;
  /** Channels' header bookmarks and Files tabs (bookmarks.ts). */
  readonly bookmarks: ChannelBookmarks;
  /** Slash commands and your ephemeral messages (commands.ts). */
  readonly commands: Commands;
  /** Personal and channel notes, live, with history and conflict-aware edits (notes.ts). */
  readonly notes: Notes;
  /** Tasks from messages: mine, and the badges of the channels loaded, live (tasks.ts). */
  readonly tasks: Tasks;
  private conn: Connection | null = null;
  private userId: string | null = null;
  private tokenProvider: (() => Promise<string> | string) | null = null;
  private token: string | null = null;
  private readonly handlers = new Map<string, Set<(e: ServerEvent) => void>>();
  private readonly channelObjects = new Map<string, Channel>();
  private readonly WebSocketImpl: SocketFactory | undefined;
  private readonly persistence: Persistence;
  private readonly inbound: Ingest;
  private readonly sends: Outbox;
  private readonly follows: PresenceFollows;
  private lastQuery: QueryChannelsBody = {};
  private typingTimer: ReturnType<typeof setInterval> | null = null;
  /** This socket's id on the server (the device a call is on); null while offline. */
  private connId: string | null = null;
  private helloCount = 0;
  /** Calls: `client.calls.on('incoming', …)`, `client.calls.state` (see call.ts). */
  readonly calls: Calls;
  /** Who is viewing which channel now, and the channel this client views (viewers.ts). */
  readonly viewers: ChannelViewers;
  /** Bumped by disconnectUser: REST answers that arrive after it are dropped (see Http). */
  private session = 0;
  /** How long the last resync after a reconnect took, hello to caught up, in ms; null before one. */
  lastResyncMs: number | null = null;

  constructor(private readonly options: ChatClientOptions) {
    const WS = options.WebSocket ?? (globalThis as unknown as { WebSocket?: SocketFactory }).WebSocket;
    if (!WS && options.transport !== 'sse')
      throw new Error(
        "No WebSocket implementation: pass one as options.WebSocket (for Node: the `ws` package), or use transport: 'sse'",
      );
    this.WebSocketImpl = WS;
    // Bound: browsers refuse `fetch` called as a method of another object ("Illegal invocation").
    const f =
      options.fetch ??
      (globalThis.fetch ? (globalThis.fetch.bind(globalThis) as unknown as FetchLike | undefined) : undefined);
    if (!f) throw new Error('No fetch implementation: pass one as options.fetch');
    this.http = new Http(
      options.url,
      options.apiKey,
      (refresh) => this.getToken(refresh),
      f,
      () => this.session,
      () => this.userId !== null,
    );
    this.spaces = new Spaces(this.http, {
      request: (type, body) =>
        this.request(type as ClientRequestType, body as never) as unknown as Promise<Record<string, unknown>>,
      me: () => this.userId ?? '',
    });
    this.notes = new Notes(this.http);
    this.files = new Files(this.http);
    this.emoji = new Emoji(this.http);
    this.flags = new FeatureFlags(this.http);
    this.assistant = new Assistant(this.http);
    this.inbox = new Inbox(this.http);
    this.groups = new Groups(this.http);
    this.sidebar = new SidebarSections(this.http);
    this.saved = new SavedItems(this.http);
    this.tasks = new Tasks(this.http, () => this.userId ?? '');
    this.bookmarks = new ChannelBookmarks(this.http);
    this.commands = new Commands({
      http: this.http,
      baseUrl: options.url,
      isOnline: () => this.conn?.isOnline ?? false,
      runOverSocket: ({ cid, ...body }) => this.request('command.run', { cid, ...body }),
    });
    this.profiles = new Profiles(this.http, {
      mergeUsers: (users) => this.mergeUsers(users),
      setMe: (user) => this.state.update((s) => (s.user?.id === user.id ? { ...s, user: { ...user } } : s)),
    });
    this.moderation = new Moderation(this.http, {
      mutesChanged: (added, removed) => this.mutesChanged(added, removed),
    });
    this.persistence = new Persistence(
      options.storage ?? new MemoryStorage(),
      this.state,
      options.apiKey,
      () => this.userId,
      options.persistMessages ?? 100,
    );
    // The parts call `request` and `fillGap` through the client, so a caller that wraps those
    // methods on the instance (tests count gap fills this way) sees every call.
    this.sends = new Outbox(
      {
        request: (type, body) => this.request(type, body),
        isOnline: () => this.conn?.isOnline ?? false,
        updateChannel: (cid, fn) => this.updateChannel(cid, fn),
        findLocal: (cid, id) => this.findLocal(cid, id),
        save: (entries) => this.persistence.saveOutbox(entries),
      },
      options.sendWindow,
    );
    this.follows = new PresenceFollows({
      request: (type, body) => this.request(type, body),
      isOnline: () => this.conn?.isOnline ?? false,
      apply: (states, devices) =>
        this.state.update((s) => {
          let users: Record<string, User> | null = null;
          for (const [id, presence] of Object.entries(states)) {
            // A user not met yet as a user may be known as a channel member.
            const u = s.users[id] ?? memberUser(s, id);
            const kinds = devices?.[id];
            const sameKinds = !kinds || (u?.devices ?? []).join() === kinds.join();
            if (!u || (u.presence === presence && sameKinds)) continue;
            users ??= { ...s.users };
            users[id] = { ...u, presence, ...(kinds ? { devices: kinds } : {}) };
          }
          return users ? { ...s, users } : s;
        }),
    });
    this.viewers = new ChannelViewers({
      request: (type, body) => this.request(type, body),
      isOnline: () => this.conn?.isOnline ?? false,
      myId: () => this.userId ?? '',
    });
    this.calls = new Calls({
      request: (type, body) =>
        this.request(type as ClientRequestType, body as never) as unknown as Promise<Record<string, unknown>>,
      get: (path) => this.http.call('GET', path),
      me: () => this.me,
      connectionId: () => this.connId,
      media: () => options.media ?? browserMedia(),
    });
    this.inbound = new Ingest({
      state: this.state,
      http: this.http,
      myId: () => this.userId ?? '',
      updateChannel: (cid, fn) => this.updateChannel(cid, fn),
      putChannel: (data, members) => this.putChannel(data, members),
      mergeUsers: (users) => this.mergeUsers(users),
      presenceChanged: (userId) => this.follows.changed(userId),
      fillGap: (cid) => this.fillGap(cid),
      reload: async (cid) => this.channelObjects.get(cid)?.reload(),
      stored: (m) => this.sends.settle(m),
      emit: (e) => this.emit(e),
      isMuted: (id) => this.moderation.isMuted(id),
      unreadPushed: (e) => this.state.update((s) => applyUnread(s, e)),
    });
  }

  /** The offline outbox, in send order. */
  get outbox(): OutboxEntry[] {
    return this.sends.entries;
  }
  set outbox(entries: OutboxEntry[]) {
    this.sends.entries = entries;
  }

  /** The connected user's id. */
  get me(): string {
    if (!this.userId) throw new ParleyError('UNAUTHORIZED', 'Call connectUser first', { retryable: false });
    return this.userId;
  }

  private async getToken(refresh: boolean): Promise<string> {
    if (!this.tokenProvider) throw new ParleyError('UNAUTHORIZED', 'Call connectUser first', { retryable: false });
    if (refresh || !this.token) this.token = await this.tokenProvider();
    return this.token;
  }

  /**
   * Connect as a user. Loads what storage holds (channels, recent messages, unsent
   * messages) before the network answers, then connects and keeps reconnecting.
   */
  async connectUser(user: { id: string } & Partial<User>, tokenOrProvider: TokenOrProvider): Promise<User> {
    if (this.conn) await this.disconnectUser();
    this.userId = user.id;
    this.tokenProvider = typeof tokenOrProvider === 'string' ? () => tokenOrProvider : tokenOrProvider;
    this.token = null;
    await this.persistence.restore((entries) => {
      this.sends.entries = entries;
    });
    this.conn = new Connection({
      url: this.options.url,
      apiKey: this.options.apiKey,
      ...(this.WebSocketImpl ? { WebSocket: this.WebSocketImpl } : {}),
      ...(this.options.transport ? { transport: this.options.transport } : {}),
      // The fallback transport's stream and POSTs go through the same fetch as REST calls.
      ...(this.options.fetch ? { fetch: this.options.fetch as unknown as StreamingFetch } : {}),
      token: (refresh) => this.getToken(refresh),
      onHello: (hello, reconnected) => this.onHello(hello, reconnected),
      onEvent: (e) => this.inbound.event(e),
      onState: (s) => this.state.update((st) => (st.connection === s ? st : { ...st, connection: s })),
      ...(this.options.pingIntervalMs !== undefined ? { pingIntervalMs: this.options.pingIntervalMs } : {}),
      ...(this.options.pongTimeoutMs !== undefined ? { pongTimeoutMs: this.options.pongTimeoutMs } : {}),
      ...(this.options.backoffMinMs !== undefined ? { backoffMinMs: this.options.backoffMinMs } : {}),
      ...(this.options.backoffMaxMs !== undefined ? { backoffMaxMs: this.options.backoffMaxMs } : {}),
      ...(this.options.tokenInProtocol !== undefined ? { tokenInProtocol: this.options.tokenInProtocol } : {}),
      ...(this.options.device ? { device: this.options.device } : {}),
    });
    this.typingTimer = setInterval(() => this.inbound.expireTyping(), 1_000);
    const hello = await this.conn.start();
    return hello.user;
  }

  /** Disconnect for good (until connectUser again). The outbox stays in storage. */
  async disconnectUser(): Promise<void> {
    this.session++;
    this.conn?.stop();
    this.conn = null;
    if (this.typingTimer) clearInterval(this.typingTimer);
    this.typingTimer = null;
    await this.persistence.now();
    this.sends.reset();
    this.follows.reset();
    this.viewers.reset();
    this.state.update(() => ({ ...initialState, connection: 'offline' }));
    this.channelObjects.clear();
    this.inbound.reset();
    this.moderation.resetMutes();
    this.commands.reset();
    this.userId = null;
  }

  /**
   * Close the socket and stay offline, without retrying, until `resumeConnection()`: for an app
   * going to the background (the server then pushes to the user's devices at once rather than
   * after its grace period) or a platform saying the network is gone. Unsent messages wait in
   * the outbox. Browsers need not call it: the client follows `online`/`offline` by itself.
   */
  pauseConnection(): void {
    this.conn?.pause();
  }

  /**
   * Reconnect now (resyncing what was missed) after `pauseConnection()` or while waiting out a
   * backoff; on an open socket, check it with a ping (a socket frozen in the background can look
   * open and be dead). For an app coming to the foreground, or the network coming back.
   */
  resumeConnection(): void {
    this.conn?.resume();
  }

  /** Drop the socket as a network failure would (it reconnects and resyncs by itself). */
  dropConnection(): void {
    this.conn?.kill();
  }

  /**
   * Send a request over the socket: `request('message.send', { cid, message })` resolves with
   * that request's reply (`{ message }`), typed by the protocol's `REQUEST_REPLIES`.
   */
  request<K extends ClientRequestType>(type: K, body: RequestBody<K>): Promise<ReplyBody<K>> {
    if (!this.conn) return Promise.reject(new ParleyError('DISCONNECTED', 'Not connected', { retryable: true }));
    return this.conn.request(type, body);
  }

  /** Listen to server events by type (`message.new`, …) or `*` for all; returns the unsubscribe function. */
  on<T extends EventType | '*'>(type: T, handler: EventHandler<T>): () => void {
    // Stored untyped: `emit` hands each handler only events of the type it was registered for.
    const h = handler as (e: ServerEvent) => void;
    let set = this.handlers.get(type);
    if (!set) {
      set = new Set();
      this.handlers.set(type, set);
    }
    set.add(h);
    return () => {
      set.delete(h);
    };
  }

  /**
   * Start a call in a channel: `client.call('dm:…', { video: true })`. Asks for the microphone
   * (and camera) first, then rings; the `Call` tracks it from there (docs/calls.md).
   */
  call(cid: string, opts: { video?: boolean; invite?: string[] } = {}): Promise<Call> {
    return this.calls.start(cid, opts);
  }

  /** The transport of the open connection: 'websocket', 'sse' (the fallback), or null offline. */
  get transport(): 'websocket' | 'sse' | null {
    return this.conn?.transport ?? null;
  }

  /** This socket's connection id (the device the server knows this client as), or null offline. */
  get connectionId(): string | null {
    return this.connId;
  }

  /**
   * This user's feature flags (each flag of the app: on or off for them), read once; from then
   * on `client.flags.state` follows every change live. `force` reads again.
   */
  getFlags(force = false): Promise<Record<string, boolean>> {
    return this.flags.load(force);
  }

  /** Whether this user has a feature flag (false until `getFlags()` has read them, or for an unknown key). */
  flag(key: string): boolean {
    return this.flags.has(key);
  }

  private emit(e: ServerEvent): void {
    if (e.type === 'call.ring' || e.type === 'call.updated' || e.type === 'call.signal') this.calls.onEvent(e);
    if (e.type === 'space.updated' || e.type === 'space.invitation') this.spaces.onEvent(e);
    if (e.type === 'emoji.updated') this.emoji.onEvent(e);
    if (e.type === 'feature_flags.updated') this.flags.onEvent(e);
    if (e.type === 'assistant.updated') this.assistant.onEvent(e);
    if (e.type === 'viewers.changed') this.viewers.onEvent(e);
    if (e.type === 'inbox.updated') this.inbox.onEvent(e);
    if (e.type === 'user_group.updated') this.groups.onEvent(e);
    if (e.type === 'sidebar.updated') this.sidebar.onEvent(e);
    if (e.type === 'saved.updated') this.saved.onEvent(e);
    if (e.type === 'bookmarks.updated') this.bookmarks.onEvent(e);
    if (e.type === 'ephemeral.new' || e.type === 'ephemeral.deleted') this.commands.onEvent(e);
    if (e.type.startsWith('note.') || e.type.startsWith('personal_note.')) this.notes.onEvent(e);
    if (e.type.startsWith('task.') || e.type === 'message.deleted') this.tasks.onEvent(e);
    for (const h of this.handlers.get(e.type) ?? []) h(e);
    for (const h of this.handlers.get('*') ?? []) h(e);
  }

  /** A channel handle: `channel('public', 'general')` or `channel('dm', { members: ['bob'] })`. */
  channel(type: string, idOrMembers: string | { members: string[]; name?: string }): Channel {
    if (typeof idOrMembers === 'string') {
      const cid = `${type}:${idOrMembers}`;
      let ch = this.channelObjects.get(cid);
      if (!ch) {
        ch = new Channel(this, type, idOrMembers);
        this.channelObjects.set(cid, ch);
      }
      return ch;
    }
    return new Channel(this, type, null, idOrMembers);
  }

  /**
   * Make a group in one step, as a new-group dialog does: its people, a name, an optional
   * picture (a URL) and its first message, one transaction on the server. The state gets the
   * group with that message; a retry of the same call (same `messageId`, made here when not
   * given) makes neither twice. A group naming nobody but you is refused: `GROUP_TOO_SMALL`.
   */
  async createGroup(group: {
    members: string[];
    text: string;
    name?: string;
    image?: string;
    messageId?: string;
  }): Promise<Channel> {
    const ch = new Channel(this, 'group', null, { members: group.members });
    await ch.createChannel({
      members: group.members,
      ...(group.name ? { name: group.name } : {}),
      ...(group.image ? { image: group.image } : {}),
      firstMessage: { text: group.text, ...(group.messageId ? { id: group.messageId } : {}) },
    });
    return this.adopt(ch);
  }

  /** @internal register a channel handle once its cid is known. */
  adopt(ch: Channel): Channel {
    const existing = this.channelObjects.get(ch.cid);
    if (existing) return existing;
    this.channelObjects.set(ch.cid, ch);
    return ch;
  }

  /** Query channels; the results are merged into state and returned as handles. */
  async queryChannels(
    filter: ChannelFilter = {},
    sort?: QueryChannelsBody['sort'],
    options: { limit?: number; cursor?: string } = {},
  ): Promise<{ channels: Channel[]; next: string | null }> {
    const body: QueryChannelsBody = { filter, ...(sort ? { sort } : {}), ...options };
    if (!options.cursor) this.lastQuery = body;
    const r = await this.http.call<QueryChannelsResponse>('POST', '/v1/channels/query', body);
    this.mergeChannels(r.channels);
    return { channels: r.channels.map((c) => this.channel(c.type, c.id)), next: r.next };
  }

  /** Admin and compliance calls: audit log, analytics, data exports, deletions. */
  get admin(): AdminApi {
    return new AdminApi(this.http);
  }

  /** Ask for your own data export; `export.ready` arrives when it can be downloaded. */
  requestDataExport(): Promise<DataExport> {
    const me = this.state.get().user?.id;
    if (!me) throw new ParleyError('DISCONNECTED', 'Connect a user first', { retryable: false });
    return this.admin.requestExport(me);
  }

  /**
   * Your unread totals over all your channels, from the server (`GET /v1/me`), into
   * `state.totalUnread`, `totalMentions` and `unreadChannels` unless a newer push is held. No
   * need to call it to stay current: read on every connect, then `unread.updated` keeps them.
   */
  async getUnreadTotals(): Promise<UnreadTotals> {
    const r = await this.http.call<MeResponse>('GET', '/v1/me');
    this.state.update((s) => withUnreadTotals(s, r.unread));
    return r.unread;
  }

  /** Find users by name or username prefix. */
  async queryUsers(q: string, limit = 20): Promise<User[]> {
    const r = await this.http.call<UsersResponse>('GET', `/v1/users?q=${encodeURIComponent(q)}&limit=${limit}`);
    this.mergeUsers(r.users);
    return r.users;
  }

  /**
   * One page of the people directory (`GET /v1/people`): everyone in the app in name order,
   * searched by `q` (a word of the name or title, the username; for admins the email) and
   * filtered by `role`, `title` (a word's start) and `fields` (custom profile field id → value:
   * a choice exactly, text by prefix; every filter must hold); admins list deactivated accounts
   * with `deactivated: true`. Pass the answer's `next` as `cursor`, with the same filters, for
   * the following page. The people are merged into `state.users`.
   */
  async queryPeople(
    opts: {
      q?: string;
      role?: User['role'];
      title?: string;
      fields?: Record<string, string>;
      deactivated?: boolean;
      cursor?: string | null;
      limit?: number;
    } = {},
  ): Promise<PeopleResponse> {
    const qs = new URLSearchParams();
    if (opts.q) qs.set('q', opts.q);
    if (opts.role) qs.set('role', opts.role);
    if (opts.title) qs.set('title', opts.title);
    for (const [id, value] of Object.entries(opts.fields ?? {})) if (value) qs.append('field', `${id}:${value}`);
    if (opts.deactivated) qs.set('deactivated', 'true');
    if (opts.cursor) qs.set('cursor', opts.cursor);
    if (opts.limit) qs.set('limit', String(opts.limit));
    const query = qs.toString();
    const r = await this.http.call<PeopleResponse>('GET', `/v1/people${query ? `?${query}` : ''}`);
    this.mergeUsers(r.people);
    return r;
  }

  /**
   * Search the messages this user may read (query language: docs/protocol/search.md). Pass
   * the answer's `next` as `cursor` for the following page; `next` is null on the last.
   */
  async search(
    query: string,
    opts: { sort?: SearchSort; limit?: number; cursor?: string | null } = {},
  ): Promise<SearchMessagesResponse> {
    const params = new URLSearchParams({ q: query });
    if (opts.sort) params.set('sort', opts.sort);
    if (opts.limit) params.set('limit', String(opts.limit));
    if (opts.cursor) params.set('cursor', opts.cursor);
    const r = await this.http.call<SearchMessagesResponse>('GET', `/v1/search/messages?${params}`);
    this.mergeUsers(r.results.flatMap((hit) => (hit.message.user ? [hit.message.user] : [])));
    return r;
  }

  /** Set or clear (text: null) your custom status. */
  async setStatus(status: SetStatusBody): Promise<User> {
    const r = await this.http.call<UserResponse>('POST', '/v1/me/status', status);
    this.mergeUsers([r.user]);
    this.state.update((s) => ({ ...s, user: { ...r.user } }));
    return r.user;
  }

  /** Your privacy settings: whether others see your read receipts. */
  async getReadPrivacy(): Promise<ReadPrivacy> {
    return (await this.http.call<ReadPrivacyResponse>('GET', '/v1/me/privacy')).privacy;
  }

  /**
   * Hide or show your read receipts. Hidden, nobody else sees how far you have read (read-by,
   * `read.updated`, member lists show 0); your own read marks and unread counts are unchanged.
   */
  async setReadPrivacy(body: UpdateReadPrivacyBody): Promise<ReadPrivacy> {
    return (await this.http.call<ReadPrivacyResponse>('PATCH', '/v1/me/privacy', body)).privacy;
  }

  /**
   * Your storage use against the quotas, and the app's: exactly what an upload is checked
   * against (`limit_bytes` null: no limit). Past one, an upload fails with `QUOTA_EXCEEDED`.
   */
  async getStorageUse(): Promise<StorageUse> {
    return (await this.http.call<StorageUseResponse>('GET', '/v1/me/storage')).storage;
  }

  /**
   * One page of your stored files, largest first (`GET /v1/me/files`), each with the message
   * that carries it (`message_id`; null: an upload no message carries). Deleting that message,
   * or cancelling the upload (`DELETE /v1/uploads/{id}`), frees its space. Pass `next` as `cursor`.
   */
  async listMyFiles(opts: { cursor?: string | null; limit?: number } = {}): Promise<MyFilesResponse> {
    const qs = new URLSearchParams();
    if (opts.cursor) qs.set('cursor', opts.cursor);
    if (opts.limit) qs.set('limit', String(opts.limit));
    const query = qs.toString();
    return this.http.call<MyFilesResponse>('GET', `/v1/me/files${query ? `?${query}` : ''}`);
  }

  /** The channel you last had open, on any device (null: none, or no longer readable). */
  async getLastChannel(): Promise<string | null> {
    return (await this.http.call<LastChannelResponse>('GET', '/v1/me/last-channel')).cid;
  }

  /**
   * Keep `cid` as the channel you have open now, so your other devices open it (call it
   * debounced). A connected client says it on its socket (`last_channel.set`) and rejects with
   * `DISCONNECTED` while the socket is down, rather than asking over HTTP: a tab whose session
   * has just ended (signed out, removed from the workspace) then sends nothing its server would
   * refuse. A client without a socket uses `PUT /v1/me/last-channel`.
   */
  async setLastChannel(cid: string): Promise<void> {
    if (this.conn) await this.request('last_channel.set', { cid });
    else await this.http.call<LastChannelResponse>('PUT', '/v1/me/last-channel', { cid });
  }

  /** Remind me about a message (or a note): at `remind_at`, or `in` `20m`, `1h`, `tomorrow`, `N[mhd]`. */
  async createReminder(body: CreateReminderBody): Promise<Reminder> {
    const tz =
      (body.in === 'tomorrow' || body.repeat) && body.tz_offset === undefined
        ? { tz_offset: new Date().getTimezoneOffset() }
        : {};
    return (await this.http.call<{ reminder: Reminder }>('POST', '/v1/reminders', { ...body, ...tz })).reminder;
  }

  /** Snooze a reminder that fired: remind again `in` `20m`, `1h`, `tomorrow`, `N[mhd]` (or at `remind_at`). */
  async snoozeReminder(id: string, body: SnoozeReminderBody): Promise<Reminder> {
    const tz =
      body.in === 'tomorrow' && body.tz_offset === undefined ? { tz_offset: new Date().getTimezoneOffset() } : {};
    return (
      await this.http.call<{ reminder: Reminder }>('POST', `/v1/reminders/${encodeURIComponent(id)}/snooze`, {
        ...body,
        ...tz,
      })
    ).reminder;
  }

  /** My reminders, soonest first: pending unless `status` says otherwise. */
  async listReminders(status?: Reminder['status']): Promise<Reminder[]> {
    const q = status ? `?status=${status}` : '';
    return (await this.http.call<{ reminders: Reminder[] }>('GET', `/v1/reminders${q}`)).reminders;
  }

  /** Cancel a pending reminder. */
  async cancelReminder(id: string): Promise<Reminder> {
    return (await this.http.call<{ reminder: Reminder }>('DELETE', `/v1/reminders/${encodeURIComponent(id)}`)).reminder;
  }

  /** Send a message later (the server sends it once, at `send_at`, as you). */
  async scheduleMessage(body: ScheduleMessageBody): Promise<ScheduledMessage> {
    return (await this.http.call<{ scheduled_message: ScheduledMessage }>('POST', '/v1/scheduled-messages', body))
      .scheduled_message;
  }

  /** My scheduled messages not sent yet (pending, or failed with why), soonest first. */
  async listScheduledMessages(cid?: string): Promise<ScheduledMessage[]> {
    const q = cid ? `?cid=${encodeURIComponent(cid)}` : '';
    return (await this.http.call<{ scheduled_messages: ScheduledMessage[] }>('GET', `/v1/scheduled-messages${q}`))
      .scheduled_messages;
  }

  /** Change the text or the time of a scheduled message that has not gone yet. */
  async editScheduledMessage(id: string, body: UpdateScheduledBody): Promise<ScheduledMessage> {
    return (
      await this.http.call<{ scheduled_message: ScheduledMessage }>(
        'PATCH',
        `/v1/scheduled-messages/${encodeURIComponent(id)}`,
        body,
      )
    ).scheduled_message;
  }

  /** Cancel a scheduled message. */
  async cancelScheduledMessage(id: string): Promise<ScheduledMessage> {
    return (
      await this.http.call<{ scheduled_message: ScheduledMessage }>(
        'DELETE',
        `/v1/scheduled-messages/${encodeURIComponent(id)}`,
      )
    ).scheduled_message;
  }

  /** The app's webhook endpoints (a workspace owner or admin, or a server token). */
  async listWebhooks(): Promise<WebhookEndpoint[]> {
    return (await this.http.call<{ webhooks: WebhookEndpoint[] }>('GET', '/v1/webhooks')).webhooks;
  }

  /** Add a webhook endpoint; the answer holds its signing secret, shown this once. */
  async createWebhook(body: CreateWebhookBody): Promise<{ webhook: WebhookEndpoint; secret: string }> {
    return this.http.call('POST', '/v1/webhooks', body);
  }

  /** Change a webhook endpoint (`active: true` re-enables a disabled one). */
  async updateWebhook(id: string, body: UpdateWebhookBody): Promise<WebhookEndpoint> {
    return (await this.http.call<{ webhook: WebhookEndpoint }>('PATCH', `/v1/webhooks/${encodeURIComponent(id)}`, body))
      .webhook;
  }

  /** Delete a webhook endpoint and its delivery log. */
  async deleteWebhook(id: string): Promise<void> {
    await this.http.call('DELETE', `/v1/webhooks/${encodeURIComponent(id)}`);
  }

  /** An endpoint's delivery log, newest first. */
  async listWebhookDeliveries(id: string, limit = 50): Promise<WebhookDelivery[]> {
    return (
      await this.http.call<{ deliveries: WebhookDelivery[] }>(
        'GET',
        `/v1/webhooks/${encodeURIComponent(id)}/deliveries?limit=${limit}`,
      )
    ).deliveries;
  }

  /** Send a delivery's event again (a new delivery). */
  async redeliverWebhook(id: string, deliveryId: string): Promise<WebhookDelivery> {
    return (
      await this.http.call<{ delivery: WebhookDelivery }>(
        'POST',
        `/v1/webhooks/${encodeURIComponent(id)}/deliveries/${encodeURIComponent(deliveryId)}/redeliver`,
      )
    ).delivery;
  }

  /** Send a `webhook.test` event now (active or paused); the answer says how the receiver took it. */
  async testWebhook(id: string): Promise<WebhookDelivery> {
    return (await this.http.call<{ delivery: WebhookDelivery }>('POST', `/v1/webhooks/${encodeURIComponent(id)}/test`))
      .delivery;
  }

  /** A new signing secret (shown this once); the old one keeps signing for `overlapSeconds` (default a day). */
  async rotateWebhookSecret(
    id: string,
    overlapSeconds?: number,
  ): Promise<{ webhook: WebhookEndpoint; secret: string }> {
    return this.http.call(
      'POST',
      `/v1/webhooks/${encodeURIComponent(id)}/rotate-secret`,
      overlapSeconds === undefined ? {} : { overlap_seconds: overlapSeconds },
    );
  }

  /** Replay one page of the channel events committed in `[since, until)`; call again with `after: next`. */
  async replayWebhook(id: string, body: ReplayWebhookBody): Promise<ReplayWebhookResponse> {
    return this.http.call('POST', `/v1/webhooks/${encodeURIComponent(id)}/replay`, body);
  }

  /**
   * Change your own name, username, image or profile fields (only the fields given; null clears);
   * a taken username is CONFLICT, a bad time zone VALIDATION_ERROR.
   */
  async updateMe(fields: UpdateMeBody): Promise<User> {
    const r = await this.http.call<UserResponse>('PATCH', '/v1/me', fields);
    this.mergeUsers([r.user]);
    this.state.update((s) => ({ ...s, user: { ...r.user } }));
    return r.user;
  }

  // ---- notifications -------------------------------------------------------------------

  /** Your notification preferences: level, per-channel overrides, do-not-disturb, email digest. */
  async notificationSettings(): Promise<NotificationSettings> {
    return (await this.http.call<{ settings: NotificationSettings }>('GET', '/v1/notifications/settings')).settings;
  }

  /**
   * Change your notification preferences (only the fields given). `dnd_minutes` turns
   * do-not-disturb on for that long (0: off); `dnd_schedule` is a daily window in `time_zone`.
   */
  async updateNotificationSettings(fields: UpdateNotificationSettingsBody): Promise<NotificationSettings> {
    return (await this.http.call<{ settings: NotificationSettings }>('PATCH', '/v1/notifications/settings', fields))
      .settings;
  }

  /** The server's VAPID public key (base64url): the `applicationServerKey` for `PushManager.subscribe`. */
  async webPushKey(): Promise<string> {
    return (await this.http.call<{ public_key: string }>('GET', '/v1/push/web/key')).public_key;
  }

  /** Register a browser's push subscription (`PushSubscription.toJSON()`); answers its id. */
  async subscribeWebPush(subscription: WebPushSubscribeBody): Promise<string> {
    const body: WebPushSubscribeBody = { endpoint: subscription.endpoint, keys: subscription.keys };
    return (await this.http.call<{ subscription: { id: string } }>('POST', '/v1/push/web/subscriptions', body))
      .subscription.id;
  }

  /** Remove a Web Push subscription registered with `subscribeWebPush`. */
  async unsubscribeWebPush(id: string): Promise<void> {
    await this.http.call('DELETE', `/v1/push/web/subscriptions/${encodeURIComponent(id)}`);
  }

  /** Register a native app's APNs or FCM token for pushes (React Native and other native shells). */
  async registerDevice(provider: PushProvider, token: string): Promise<string> {
    return (await this.http.call<{ device: { id: string } }>('POST', '/v1/push/devices', { provider, token })).device
      .id;
  }

  /** Remove a device registered with `registerDevice`. */
  async removeDevice(id: string): Promise<void> {
    await this.http.call('DELETE', `/v1/push/devices/${encodeURIComponent(id)}`);
  }

  /**
   * Follow these users' presence (`presence.changed` keeps `state.users[id].presence`
   * current) until the returned function is called. Show a user, watch their presence: the
   * server sends changes only about users some part of the UI asked for. Asks are counted
   * (two lists showing one user follow them once), batched per tick, and renewed after every
   * reconnect.
   */
  watchPresence(userIds: readonly string[]): () => void {
    return this.follows.watch(userIds);
  }

  /**
   * Mark yourself away, back online, or busy (do not disturb: notifications pause until
   * `until`, or until you come back online). Resolves with what others now see, which is
   * also written to `state.users[me].presence`.
   */
  async setPresence(
    presence: 'online' | 'away' | 'busy',
    opts: { until?: Date | string } = {},
  ): Promise<'online' | 'away' | 'busy' | 'offline'> {
    const until = opts.until instanceof Date ? opts.until.toISOString() : opts.until;
    const r = await this.request('presence.set', until === undefined ? { presence } : { presence, until });
    const me = this.userId ? this.state.get().users[this.userId] : undefined;
    if (me && me.presence !== r.presence) this.mergeUsers([{ ...me, presence: r.presence }]);
    return r.presence;
  }

  // ---- state plumbing (used by Channel) -------------------------------------------------

  /** @internal */
  updateChannel(cid: string, fn: (c: ChannelState) => ChannelState): void {
    this.state.update((s) => updateChannelIn(s, cid, fn));
    this.persistence.schedule();
  }

  /** @internal put a channel (from the API) into state, keeping what is loaded. */
  putChannel(data: ChannelData, members?: Member[]): void {
    this.state.update((s) => putChannelIn(s, data, members));
    this.persistence.schedule();
  }

  private mergeChannels(list: ChannelData[]): void {
    for (const { members, ...c } of list) this.putChannel(c, members);
    // DM members come with their profile and presence: the list can show who is around.
    this.mergeUsers(list.flatMap((c) => (c.members ?? []).flatMap((m) => (m.user ? [m.user] : []))));
  }

  private mergeUsers(users: User[]): void {
    if (users.length === 0) return;
    // Optional parts a newer copy leaves out (presence, custom `fields`: events carry none) keep
    // what was known; whatever the copy has wins. A newer copy of the caller (an admin renamed
    // them: user.updated) is `state.user` too, so their own name follows without a reload.
    this.state.update((s) => {
      const mine = s.user ? users.find((u) => u.id === s.user?.id) : undefined;
      return {
        ...s,
        ...(mine && s.user ? { user: { ...s.user, ...mine } } : {}),
        users: { ...s.users, ...Object.fromEntries(users.map((u) => [u.id, { ...s.users[u.id], ...u }])) },
      };
    });
  }

  // ---- events ---------------------------------------------------------------------------

  private onHello(hello: HelloFrame, reconnected: boolean): void {
    this.connId = hello.connection_id;
    this.helloCount++;
    if (reconnected) this.calls.reconnected();
    if (reconnected) this.spaces.reconnected();
    // emoji.updated is live-only: after a gap, read the list again (if it was read at all).
    if (reconnected && this.emoji.state.get().loaded) this.emoji.load(true).catch(() => {});
    // The hello says this user's flags (a server that does not: read them again after a gap).
    if (hello.flags) this.flags.fromHello(hello.flags);
    else if (reconnected) this.flags.reconnected();
    // assistant.updated is live-only: after a gap, read what it offers again (if read at all).
    if (reconnected) this.assistant.reconnected();
    if (reconnected) this.inbox.reconnected();
    if (reconnected) this.sidebar.reconnected();
    if (reconnected) this.saved.reconnected();
    if (reconnected) this.tasks.reconnected();
    this.mergeUsers([hello.user]);
    // Pushes missed while away: the resync's snapshots and totals are the newer (state.ts).
    this.state.update((s) => forgetUnreadRevs({ ...s, user: hello.user }));
    void this.getUnreadTotals().catch(() => {});
    this.follows.resubscribe();
    this.viewers.reconnected();
    // Mutes are loaded on every hello; what arrived before they were known is pruned then.
    void this.moderation.mutes().catch(() => {});
    void this.resync(hello, reconnected);
  }

  /**
   * Mutes changed (moderation.ts): newly muted authors' messages leave every channel's state
   * now; for unmuted ones, loaded channels reload so their messages come back.
   */
  private mutesChanged(added: string[], removed: string[]): void {
    if (added.length) {
      const gone = new Set(added);
      for (const c of Object.values(this.state.get().channels)) {
        if (!c.messages.some((m) => gone.has(m.user_id))) continue;
        this.updateChannel(c.cid, (cur) => ({ ...cur, messages: cur.messages.filter((m) => !gone.has(m.user_id)) }));
      }
    }
    if (removed.length)
      for (const c of Object.values(this.state.get().channels))
        if (c.loaded || c.watching)
          void this.channelObjects
            .get(c.cid)
            ?.reload()
            .catch(() => {});
  }

  /**
   * After every hello: watched channels re-watch from their last seq (the server replays what
   * was missed), loaded member channels fill their gap from the log, the channel list is
   * refreshed, and the outbox flushes in order.
   */
  private async resync(hello: HelloFrame, reconnected: boolean): Promise<void> {
    const started = Date.now();
    const known = this.state.get().epoch;
    // The server's data was restored from a backup since this client last saw it: the seqs it
    // holds may be reused for other events, and what it kept past the restore point is gone.
    const restored = !!hello.epoch && !!known && hello.epoch !== known;
    if (hello.epoch && hello.epoch !== known) this.state.update((s) => ({ ...s, epoch: hello.epoch }));
    if (restored) await this.forgetRestored(hello);
    const { channels } = this.state.get();
    const work: Promise<unknown>[] = [];
    for (const c of Object.values(channels)) {
      if (restored && (c.loaded || c.watching)) {
        work.push(this.channelObjects.get(c.cid)?.reload() ?? Promise.resolve());
      } else if (c.watching) {
        work.push(this.channelObjects.get(c.cid)?.rewatch() ?? Promise.resolve());
      } else if (c.loaded && (hello.channels[c.cid] ?? 0) > c.lastSeq) {
        work.push(this.fillGap(c.cid));
      }
    }
    await Promise.allSettled(work);
    await this.queryChannels(
      this.lastQuery.filter ?? {},
      this.lastQuery.sort,
      this.lastQuery.limit ? { limit: this.lastQuery.limit } : {},
    ).catch(() => {});
    // Read marks made here that the server did not take go again (a failure keeps them again).
    for (const c of Object.values(this.state.get().channels)) {
      const at = c.unsentRead === undefined ? null : parseCid(c.cid);
      if (!at) continue;
      void this.channel(at.type, at.id)
        .resendRead()
        .catch(() => {});
    }
    // Back after a drop: how long catching up took, for the server's connection-stability
    // figures (an older server answers UNKNOWN_TYPE, ignored).
    if (reconnected) {
      this.lastResyncMs = Math.min(Date.now() - started, RESYNC_REPORT_MAX_MS);
      void this.request('connection.resynced', { ms: this.lastResyncMs }).catch(() => {});
    }
    void this.flush();
  }

  /**
   * After a restore: every channel forgets its threads and its seqs (the server's `last_seq`
   * from the hello stands), and messages that were sent keep only until the reload replaces
   * them; pending sends stay to be sent again (their ids make that safe).
   */
  private async forgetRestored(hello: HelloFrame): Promise<void> {
    for (const c of Object.values(this.state.get().channels)) {
      const seq = hello.channels[c.cid] ?? 0;
      this.updateChannel(c.cid, (cur) => ({
        ...cur,
        threads: {},
        messages: cur.messages.filter((m) => m.status !== 'sent' || m.seq <= seq),
        lastSeq: Math.min(cur.lastSeq, seq),
        // What the state knew at seqs past the restore point is no longer newer than a snapshot.
        countsSeq: 0,
        countDeltas: undefined,
        memberSeqs: {},
        channelSeq: 0,
        channel: { ...cur.channel, last_seq: seq },
      }));
    }
    await this.persistence.now();
  }

  /** Apply a logged event in seq order; a gap is filled from the server's log first. */
  ingest(e: ChannelEvent): void {
    this.inbound.ingest(e);
  }

  /** @internal how many hellos this client has had (a channel's load compares it). */
  get hellos(): number {
    return this.helloCount;
  }

  /** @internal hold a channel's live events (while it loads); `release` applies them in order. */
  hold(cid: string): void {
    this.inbound.hold(cid);
  }

  /** @internal apply held events above the channel's lastSeq, in order, and stop holding. */
  release(cid: string): void {
    this.inbound.release(cid);
  }

  /** Fetch every event after the channel's lastSeq from the log and apply them (single-flight). */
  fillGap(cid: string): Promise<void> {
    return this.inbound.fillGap(cid);
  }

  // ---- sending and the outbox -------------------------------------------------------------

  /** @internal queue a send (persisted first), show it as pending, and flush. */
  enqueue(entry: OutboxEntry, local: LocalMessage): Promise<LocalMessage> {
    return this.sends.enqueue(entry, local);
  }

  /** Send queued messages in order, several in flight; stop at the first failure that may pass. */
  flush(): Promise<void> {
    return this.sends.flush();
  }

  /** @internal */
  findLocal(cid: string, id: string): LocalMessage | undefined {
    const c = this.state.get().channels[cid];
    if (!c) return undefined;
    return (
      c.messages.find((m) => m.id === id) ??
      Object.values(c.threads)
        .flat()
        .find((m) => m.id === id)
    );
  }
}
