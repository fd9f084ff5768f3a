/**
 * ChatClient: one user's connection to a Parley app, with the state any UI can subscribe
 * to. It owns the socket, the REST calls, the per-channel ordering of events (gaps are
 * filled from the server's event log, duplicates dropped by seq), the offline outbox, and
 * persistence through a storage adapter.
 */
import {
  type Channel as ChannelData,
  type ChannelEvent,
  type ChannelFilter,
  type EventsResponse,
  type HelloFrame,
  LOGGED_EVENT_TYPES,
  type Member,
  type Message,
  type QueryChannelsBody,
  type SetStatusBody,
  type UpdateMeBody,
  type User,
} from '@parley/protocol';
import { Channel } from './channel.js';
import { Connection, type SocketFactory } from './connection.js';
import { ParleyError } from './errors.js';
import { type FetchLike, Http } from './http.js';
import {
  applyEvent,
  type ChannelState,
  type ClientState,
  channelStateFrom,
  initialState,
  type LocalMessage,
  sortChannelList,
  totals,
  upsertMessage,
} from './state.js';
import { MemoryStorage, type StorageAdapter } from './storage.js';
import { Store } from './store.js';

export interface ChatClientOptions {
  /** The server's base URL, e.g. `http://localhost:3000`. */
  url: string;
  /** The app's public API key. */
  apiKey: string;
  /** Offline storage; default in memory. Use `IndexedDBStorage` in browsers. */
  storage?: StorageAdapter;
  /** A WebSocket implementation (Node 20 has none built in: pass `ws`). Default: the global one. */
  WebSocket?: SocketFactory;
  /** A fetch implementation; default: the global one. */
  fetch?: FetchLike;
  /** Connection tuning (tests make these short). */
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** How many recent messages per channel are kept in storage. */
  persistMessages?: number;
}

/** A token, or a function that returns one (called again when the server refuses the old one). */
export type TokenOrProvider = string | (() => Promise<string> | string);

/** A send waiting in the outbox (persisted, so it survives a restart). */
export interface OutboxEntry {
  cid: string;
  message: {
    id: string;
    text: string;
    parent_id?: string | null;
    quoted_message_id?: string | null;
    show_in_channel?: boolean;
  };
  created_at: string;
}

interface Persisted {
  v: 1;
  channels: { channel: ChannelData; members: Member[]; messages: LocalMessage[]; lastSeq: number; loaded: boolean }[];
  users: Record<string, User>;
}

type Handler = (event: { type: string } & Record<string, unknown>) => void;

const LOGGED = new Set<string>(LOGGED_EVENT_TYPES);
const TYPING_EXPIRY_MS = 7_000;

export class ChatClient {
  /** All client state; subscribe to re-render. */
  readonly state = new Store<ClientState>(initialState);
  /** The offline outbox, in send order. */
  outbox: OutboxEntry[] = [];

  readonly http: Http;
  private conn: Connection | null = null;
  private userId: string | null = null;
  private tokenProvider: (() => Promise<string> | string) | null = null;
  private token: string | null = null;
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly channelObjects = new Map<string, Channel>();
  private readonly storage: StorageAdapter;
  private readonly WebSocketImpl: SocketFactory;
  private flushing: Promise<void> | null = null;
  private readonly gapFills = new Map<string, Promise<void>>();
  /** Events held per channel while it loads or fills a gap. */
  private readonly held = new Map<string, ChannelEvent[]>();
  private readonly ackWaiters = new Map<string, { resolve(m: LocalMessage): void; reject(e: ParleyError): void }[]>();
  private persistTimer: ReturnType<typeof setTimeout> | null = null;
  private lastQuery: QueryChannelsBody = {};
  private typingTimer: ReturnType<typeof setInterval> | null = null;
  /** Bumped by disconnectUser: REST answers that arrive after it are dropped (see Http). */
  private session = 0;

  constructor(private readonly options: ChatClientOptions) {
    this.storage = options.storage ?? new MemoryStorage();
    const WS = options.WebSocket ?? (globalThis as unknown as { WebSocket?: SocketFactory }).WebSocket;
    if (!WS) throw new Error('No WebSocket implementation: pass one as options.WebSocket (for Node: the `ws` package)');
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
    );
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
    await this.restore();
    this.conn = new Connection({
      url: this.options.url,
      apiKey: this.options.apiKey,
      WebSocket: this.WebSocketImpl,
      token: (refresh) => this.getToken(refresh),
      onHello: (hello, reconnected) => this.onHello(hello, reconnected),
      onEvent: (frame) => this.onEvent(frame),
      onState: (s) => this.state.update((st) => (st.connection === s ? st : { ...st, connection: s })),
      ...(this.options.pingIntervalMs !== undefined ? { pingIntervalMs: this.options.pingIntervalMs } : {}),
      ...(this.options.pongTimeoutMs !== undefined ? { pongTimeoutMs: this.options.pongTimeoutMs } : {}),
      ...(this.options.backoffMinMs !== undefined ? { backoffMinMs: this.options.backoffMinMs } : {}),
      ...(this.options.backoffMaxMs !== undefined ? { backoffMaxMs: this.options.backoffMaxMs } : {}),
    });
    this.typingTimer = setInterval(() => this.expireTyping(), 1_000);
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
    await this.persistNow();
    for (const list of this.ackWaiters.values())
      for (const w of list) w.reject(new ParleyError('DISCONNECTED', 'disconnected', { retryable: true }));
    this.ackWaiters.clear();
    this.state.update(() => ({ ...initialState, connection: 'offline' }));
    this.channelObjects.clear();
    this.held.clear();
    this.outbox = [];
    this.userId = null;
  }

  /** Drop the socket as a network failure would (it reconnects and resyncs by itself). */
  dropConnection(): void {
    this.conn?.kill();
  }

  /** Send a request over the socket. */
  request(type: string, fields: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    if (!this.conn) return Promise.reject(new ParleyError('DISCONNECTED', 'Not connected', { retryable: true }));
    return this.conn.request(type, fields);
  }

  /** Listen to server events by type (`message.new`, …) or `*` for all; returns the unsubscribe function. */
  on(type: string, handler: Handler): () => void {
    let set = this.handlers.get(type);
    if (!set) {
      set = new Set();
      this.handlers.set(type, set);
    }
    set.add(handler);
    return () => {
      set.delete(handler);
    };
  }

  private emit(frame: { type: string } & Record<string, unknown>): void {
    for (const h of this.handlers.get(frame.type) ?? []) h(frame);
    for (const h of this.handlers.get('*') ?? []) h(frame);
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
    const r = await this.http.call<{ channels: ChannelData[]; next: string | null }>(
      'POST',
      '/v1/channels/query',
      body,
    );
    this.mergeChannels(r.channels);
    return { channels: r.channels.map((c) => this.channel(c.type, c.id)), next: r.next };
  }

  /** Find users by name or username prefix. */
  async queryUsers(q: string, limit = 20): Promise<User[]> {
    const r = await this.http.call<{ users: User[] }>('GET', `/v1/users?q=${encodeURIComponent(q)}&limit=${limit}`);
    this.mergeUsers(r.users);
    return r.users;
  }

  /** Set or clear (text: null) your custom status. */
  async setStatus(status: SetStatusBody): Promise<User> {
    const r = await this.http.call<{ user: User }>('POST', '/v1/me/status', status);
    this.mergeUsers([r.user]);
    this.state.update((s) => ({ ...s, user: { ...r.user } }));
    return r.user;
  }

  /** Change your own name, username or image (only the fields given); a taken username is CONFLICT. */
  async updateMe(fields: UpdateMeBody): Promise<User> {
    const r = await this.http.call<{ user: User }>('PATCH', '/v1/me', fields);
    this.mergeUsers([r.user]);
    this.state.update((s) => ({ ...s, user: { ...r.user } }));
    return r.user;
  }

  /** Mark yourself away or back online (presence). */
  async setPresence(presence: 'online' | 'away'): Promise<void> {
    await this.request('presence.set', { presence });
  }

  // ---- state plumbing (used by Channel) -------------------------------------------------

  /** @internal */
  updateChannel(cid: string, fn: (c: ChannelState) => ChannelState): void {
    this.state.update((s) => {
      const cur = s.channels[cid];
      if (!cur) return s;
      const next = fn(cur);
      if (next === cur) return s;
      const channels = { ...s.channels, [cid]: next };
      const listChanged =
        cur.channel.last_message_at !== next.channel.last_message_at ||
        cur.unreadCount !== next.unreadCount ||
        cur.mentionCount !== next.mentionCount ||
        !!cur.channel.membership !== !!next.channel.membership ||
        cur.channel.membership?.muted !== next.channel.membership?.muted;
      return listChanged
        ? { ...s, channels, channelList: sortChannelList(channels), ...totals(channels) }
        : { ...s, channels };
    });
    this.schedulePersist();
  }

  /** @internal put a channel (from the API) into state, keeping what is loaded. */
  putChannel(data: ChannelData, members?: Member[]): void {
    this.state.update((s) => {
      const cur = s.channels[data.cid];
      let next: ChannelState;
      if (!cur) {
        next = channelStateFrom(data, members);
      } else {
        const fresh = data.last_seq <= cur.lastSeq || !cur.loaded;
        const channel: ChannelData = {
          ...cur.channel,
          ...data,
          last_seq: Math.max(cur.lastSeq, data.last_seq),
          last_message: data.last_message !== undefined && fresh ? data.last_message : cur.channel.last_message,
          membership: data.membership !== undefined ? data.membership : cur.channel.membership,
        };
        next = { ...cur, channel };
        if (members) {
          next.members = Object.fromEntries(members.map((m) => [m.user_id, m]));
          next.read = { ...next.read, ...Object.fromEntries(members.map((m) => [m.user_id, m.last_read_seq])) };
        }
        // Server counts are exact at data.last_seq; they apply when we are at that point too,
        // or when nothing is loaded (then the events in between are skipped, not replayed).
        if (data.unread_count !== undefined && (data.last_seq === cur.lastSeq || (!cur.loaded && !cur.watching))) {
          next.unreadCount = data.unread_count;
          next.mentionCount = data.mention_count ?? 0;
          if (!cur.loaded && !cur.watching) next.lastSeq = Math.max(cur.lastSeq, data.last_seq);
        }
      }
      const channels = { ...s.channels, [data.cid]: next };
      return { ...s, channels, channelList: sortChannelList(channels), ...totals(channels) };
    });
    this.schedulePersist();
  }

  private mergeChannels(list: ChannelData[]): void {
    for (const { members, ...c } of list) this.putChannel(c, members);
    // DM members come with their profile and presence: the list can show who is around.
    this.mergeUsers(list.flatMap((c) => (c.members ?? []).flatMap((m) => (m.user ? [m.user] : []))));
  }

  private mergeUsers(users: User[]): void {
    if (users.length === 0) return;
    this.state.update((s) => ({ ...s, users: { ...s.users, ...Object.fromEntries(users.map((u) => [u.id, u])) } }));
  }

  // ---- events ---------------------------------------------------------------------------

  private onHello(hello: HelloFrame, reconnected: boolean): void {
    this.mergeUsers([hello.user]);
    this.state.update((s) => ({ ...s, user: hello.user }));
    void this.resync(hello, reconnected);
  }

  /**
   * After every hello: watched channels re-watch from their last seq (the server replays what
   * was missed), loaded member channels fill their gap from the log, the channel list is
   * refreshed, and the outbox flushes in order.
   */
  private async resync(hello: HelloFrame, _reconnected: boolean): Promise<void> {
    const { channels } = this.state.get();
    const work: Promise<unknown>[] = [];
    for (const c of Object.values(channels)) {
      if (c.watching) {
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
    void this.flush();
  }

  private onEvent(frame: { type: string } & Record<string, unknown>): void {
    const me = this.userId ?? '';
    if (LOGGED.has(frame.type) && typeof frame.seq === 'number' && typeof frame.cid === 'string') {
      this.ingest(frame as unknown as ChannelEvent);
    } else {
      switch (frame.type) {
        case 'typing.start':
        case 'typing.stop': {
          const user = frame.user as User;
          if (user.id === me) break;
          const key = `${user.id}|${(frame.parent_id as string | null) ?? ''}`;
          this.updateChannel(frame.cid as string, (c) => {
            const { [key]: _old, ...rest } = c.typing;
            const typing =
              frame.type === 'typing.start'
                ? { ...rest, [key]: { user, parent_id: (frame.parent_id as string | null) ?? null, at: Date.now() } }
                : rest;
            return { ...c, typing };
          });
          break;
        }
        case 'read.updated': {
          const user = frame.user as User;
          const seq = frame.seq as number;
          const cid = frame.cid as string;
          this.updateChannel(cid, (c) => {
            const next = { ...c, read: { ...c.read, [user.id]: seq } };
            if (user.id === me && next.channel.membership) {
              next.channel = { ...next.channel, membership: { ...next.channel.membership, last_read_seq: seq } };
              if (seq >= next.lastSeq) {
                next.unreadCount = 0;
                next.mentionCount = 0;
              }
            }
            return next;
          });
          if (user.id === me) void this.refreshCounts(cid);
          break;
        }
        case 'presence.changed': {
          const user = { ...(frame.user as User), presence: frame.presence as User['presence'] };
          this.mergeUsers([user]);
          break;
        }
        case 'channel.added': {
          const cid = frame.cid as string;
          void this.http
            .call<{ channel: ChannelData; members: Member[] }>('GET', `/v1/channels/${cid}`)
            .then((r) => this.putChannel(r.channel, r.members))
            .catch(() => {});
          break;
        }
        case 'channel.removed': {
          const cid = frame.cid as string;
          this.updateChannel(cid, (c) => ({ ...c, channel: { ...c.channel, membership: null } }));
          break;
        }
      }
    }
    this.emit(frame);
  }

  /** Apply a logged event in seq order; a gap is filled from the server's log first. */
  ingest(e: ChannelEvent): void {
    const c = this.state.get().channels[e.cid];
    if (!c) return; // not in state: the list refresh brings it
    const held = this.held.get(e.cid);
    if (held) {
      held.push(e);
      return;
    }
    if (e.seq <= c.lastSeq) return;
    if (e.seq > c.lastSeq + 1) {
      this.held.set(e.cid, [e]);
      void this.fillGap(e.cid);
      return;
    }
    this.apply(e);
  }

  private apply(e: ChannelEvent): void {
    const me = this.userId ?? '';
    this.updateChannel(e.cid, (c) => applyEvent(c, e, me));
    if (e.type === 'message.new') this.settleAck(e.message);
  }

  /** @internal hold a channel's live events (while it loads); `release` applies them in order. */
  hold(cid: string): void {
    if (!this.held.has(cid)) this.held.set(cid, []);
  }

  /** @internal apply held events above the channel's lastSeq, in order, and stop holding. */
  release(cid: string): void {
    const held = this.held.get(cid) ?? [];
    this.held.delete(cid);
    held.sort((a, b) => a.seq - b.seq);
    for (const e of held) this.ingest(e);
  }

  /** Fetch every event after the channel's lastSeq from the log and apply them (single-flight). */
  fillGap(cid: string): Promise<void> {
    const running = this.gapFills.get(cid);
    if (running) return running;
    const p = (async () => {
      await Promise.resolve(); // so the map holds `p` before it can finish
      this.hold(cid);
      try {
        for (;;) {
          const c = this.state.get().channels[cid];
          if (!c) break;
          const r = await this.http.call<EventsResponse>(
            'GET',
            `/v1/channels/${cid}/events?after=${c.lastSeq}&limit=500`,
          );
          if (r.reload) {
            await this.channelObjects.get(cid)?.reload();
            break;
          }
          for (const e of r.events) this.apply(e);
          if (!r.has_more) break;
        }
      } finally {
        this.gapFills.delete(cid);
        this.release(cid);
      }
    })();
    this.gapFills.set(cid, p);
    return p;
  }

  private async refreshCounts(cid: string): Promise<void> {
    try {
      const r = await this.http.call<{ channels: ChannelData[] }>('POST', '/v1/channels/query', { filter: { cid } });
      for (const c of r.channels) this.putChannel(c);
    } catch {
      // counts refresh again on the next read or reconnect
    }
  }

  private expireTyping(): void {
    const now = Date.now();
    for (const c of Object.values(this.state.get().channels)) {
      const stale = Object.entries(c.typing).filter(([, t]) => now - t.at > TYPING_EXPIRY_MS);
      if (stale.length)
        this.updateChannel(c.cid, (cur) => ({
          ...cur,
          typing: Object.fromEntries(Object.entries(cur.typing).filter(([k]) => !stale.some(([s]) => s === k))),
        }));
    }
  }

  // ---- sending and the outbox -------------------------------------------------------------

  /** @internal queue a send (persisted first), show it as pending, and flush. */
  async enqueue(entry: OutboxEntry, local: LocalMessage): Promise<LocalMessage> {
    this.outbox = [...this.outbox.filter((o) => o.message.id !== entry.message.id), entry];
    this.showLocal(local);
    const acked = new Promise<LocalMessage>((resolve, reject) => {
      const list = this.ackWaiters.get(local.id) ?? [];
      list.push({ resolve, reject });
      this.ackWaiters.set(local.id, list);
    });
    await this.storage.set(this.key('outbox'), this.outbox);
    void this.flush();
    return acked;
  }

  private showLocal(m: LocalMessage): void {
    this.updateChannel(m.cid, (c) => {
      let next = c;
      if (m.parent_id && c.threads[m.parent_id]) {
        next = { ...next, threads: { ...next.threads, [m.parent_id]: upsertMessage(c.threads[m.parent_id] ?? [], m) } };
      }
      if (!m.parent_id || m.show_in_channel) {
        next = { ...next, messages: upsertMessage(next.messages, m) };
        // A new send is the channel's latest activity: show it as the last message and move
        // the channel up the list at once, not only when the server's message.new arrives.
        const last = next.channel.last_message_at;
        if (m.status === 'sending' && (!last || m.created_at > last))
          next = { ...next, channel: { ...next.channel, last_message: m, last_message_at: m.created_at } };
      }
      return next;
    });
  }

  /** Send queued messages one at a time, in order; stop at the first failure that may pass. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    const run = async () => {
      await Promise.resolve(); // so `flushing` is set before the loop can finish
      try {
        while (this.outbox.length && this.conn?.isOnline) {
          const entry = this.outbox[0] as OutboxEntry;
          try {
            const r = await this.request('message.send', { cid: entry.cid, message: entry.message });
            const m = { ...(r.message as Message), status: 'sent' as const };
            this.showLocal(m);
            this.settleAck(m);
          } catch (e) {
            const err = e as ParleyError;
            if (err.retryable) {
              // Lost connection: the next hello flushes. A server-side hiccup: try again shortly.
              const wait =
                err.code === 'RATE_LIMITED'
                  ? Number((err.details as { retry_after_ms?: number })?.retry_after_ms ?? 1_000)
                  : 1_000;
              if (this.conn?.isOnline) setTimeout(() => void this.flush(), wait);
              break;
            }
            this.markFailed(entry, err);
          }
          this.outbox = this.outbox.filter((o) => o !== entry);
          await this.storage.set(this.key('outbox'), this.outbox);
        }
      } finally {
        this.flushing = null;
      }
    };
    this.flushing = run();
    return this.flushing;
  }

  private markFailed(entry: OutboxEntry, err: ParleyError): void {
    const local = this.findLocal(entry.cid, entry.message.id);
    if (local) this.showLocal({ ...local, status: 'failed', error: { code: err.code, message: err.message } });
    for (const w of this.ackWaiters.get(entry.message.id) ?? []) w.reject(err);
    this.ackWaiters.delete(entry.message.id);
  }

  private settleAck(m: Message): void {
    const waiters = this.ackWaiters.get(m.id);
    if (!waiters) return;
    this.ackWaiters.delete(m.id);
    for (const w of waiters) w.resolve({ ...m, status: 'sent' });
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

  // ---- persistence ---------------------------------------------------------------------------

  private key(what: string): string {
    return `parley:${this.options.apiKey}:${this.userId ?? '-'}:${what}`;
  }

  private schedulePersist(): void {
    if (this.persistTimer || !this.userId) return;
    this.persistTimer = setTimeout(() => {
      this.persistTimer = null;
      void this.persistNow();
    }, 300);
  }

  private async persistNow(): Promise<void> {
    if (this.persistTimer) clearTimeout(this.persistTimer);
    this.persistTimer = null;
    if (!this.userId) return;
    const keep = this.options.persistMessages ?? 100;
    const s = this.state.get();
    const data: Persisted = {
      v: 1,
      channels: Object.values(s.channels)
        .filter((c) => c.channel.membership)
        .map((c) => ({
          channel: { ...c.channel, unread_count: c.unreadCount, mention_count: c.mentionCount },
          members: Object.values(c.members),
          messages: c.messages.filter((m) => m.status === 'sent').slice(-keep),
          lastSeq: c.lastSeq,
          loaded: c.loaded,
        })),
      users: s.users,
    };
    try {
      await this.storage.set(this.key('state'), data);
    } catch {
      // storage full or unavailable: the network remains the source of truth
    }
  }

  /** Load channels, recent messages and the outbox from storage into state. */
  private async restore(): Promise<void> {
    const [data, outbox] = await Promise.all([
      this.storage.get<Persisted>(this.key('state')).catch(() => undefined),
      this.storage.get<OutboxEntry[]>(this.key('outbox')).catch(() => undefined),
    ]);
    const channels: Record<string, ChannelState> = {};
    for (const p of data?.v === 1 ? data.channels : []) {
      const c = channelStateFrom(p.channel, p.members);
      channels[p.channel.cid] = {
        ...c,
        messages: p.messages,
        lastSeq: p.lastSeq,
        loaded: p.loaded,
        hasOlder: (p.messages[0]?.seq ?? p.lastSeq) > 1,
      };
    }
    this.outbox = outbox ?? [];
    const me = this.userId ?? '';
    for (const o of this.outbox) {
      const c = channels[o.cid];
      if (!c) continue;
      const local = pendingMessage(o, me);
      channels[o.cid] =
        o.message.parent_id && !o.message.show_in_channel ? c : { ...c, messages: upsertMessage(c.messages, local) };
    }
    this.state.update((s) => ({
      ...s,
      channels,
      channelList: sortChannelList(channels),
      users: data?.users ?? {},
      ...totals(channels),
    }));
  }
}

/** The local, not-yet-stored form of a queued message. */
export function pendingMessage(o: OutboxEntry, userId: string): LocalMessage {
  return {
    id: o.message.id,
    cid: o.cid,
    seq: 0,
    user_id: userId,
    type: 'regular',
    text: o.message.text,
    parent_id: o.message.parent_id ?? null,
    show_in_channel: !!o.message.show_in_channel,
    reply_count: 0,
    last_reply_at: null,
    thread_participants: [],
    quoted_message_id: o.message.quoted_message_id ?? null,
    reactions: {},
    own_reactions: [],
    latest_reactions: [],
    mentioned_users: [],
    mentioned_here: false,
    mentioned_channel: false,
    pinned: false,
    pinned_at: null,
    pinned_by: null,
    edited_at: null,
    created_at: o.created_at,
    updated_at: o.created_at,
    deleted_at: null,
    status: 'sending',
  };
}
