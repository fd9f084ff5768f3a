/**
 * Ingest: how server events become client state. Logged channel events are applied in seq
 * order — a duplicate (seq at or below the channel's) is dropped, a gap is filled from the
 * server's event log first, and events arriving while a channel loads are held and released
 * in order. Live events (typing, reads, presence, membership of the list) are applied at once.
 *
 * Frames reach here already parsed by `parseServerFrame`, so the switch below narrows each
 * event by its `type` with no casts, and the compiler checks that every event type is handled.
 */
import type {
  Channel,
  ChannelEvent,
  ChannelResponse,
  EventsResponse,
  Member,
  Message,
  QueryChannelsResponse,
  ServerEvent,
  User,
} from '@parley/protocol';
import type { Http } from './http.js';
import { applyEvent, type ChannelState, type ClientState } from './state.js';
import type { Store } from './store.js';

const TYPING_EXPIRY_MS = 7_000;

/** What ingest needs from the client. */
export interface IngestHost {
  readonly state: Store<ClientState>;
  readonly http: Http;
  /** The connected user's id, or '' between sessions. */
  myId(): string;
  updateChannel(cid: string, fn: (c: ChannelState) => ChannelState): void;
  putChannel(data: Channel, members?: Member[]): void;
  mergeUsers(users: User[]): void;
  /** A `presence.changed` arrived about this user (presence.ts: it outdates answers in flight). */
  presenceChanged(userId: string): void;
  /** The client's `fillGap` (called through the client, so it can be wrapped). */
  fillGap(cid: string): Promise<void>;
  /** Drop a channel's messages and load it afresh (the server would not replay so much). */
  reload(cid: string): Promise<void>;
  /** A message.new was applied: the outbox settles the send waiting for it. */
  stored(m: Message): void;
  /** Hand the event to `client.on` listeners. */
  emit(e: ServerEvent): void;
  /** Whether the connected user muted this user: their new messages are not shown (moderation.ts). */
  isMuted(userId: string): boolean;
}

export class Ingest {
  private readonly gapFills = new Map<string, Promise<void>>();
  /** Events held per channel while it loads or fills a gap. */
  private readonly held = new Map<string, ChannelEvent[]>();

  constructor(private readonly host: IngestHost) {}

  /** Apply one event from the socket, then hand it to listeners. */
  event(e: ServerEvent): void {
    const me = this.host.myId();
    switch (e.type) {
      case 'message.new':
      case 'message.updated':
      case 'message.deleted':
      case 'reaction.new':
      case 'reaction.deleted':
      case 'member.added':
      case 'member.updated':
      case 'member.removed':
      case 'channel.updated':
      case 'poll.updated':
        this.ingest(e);
        break;
      case 'typing.start':
      case 'typing.stop': {
        const { user, parent_id: parentId, type } = e;
        if (user.id === me) break;
        const key = `${user.id}|${parentId ?? ''}`;
        this.host.updateChannel(e.cid, (c) => {
          const { [key]: _old, ...rest } = c.typing;
          const typing =
            type === 'typing.start' ? { ...rest, [key]: { user, parent_id: parentId ?? null, at: Date.now() } } : rest;
          return { ...c, typing };
        });
        break;
      }
      case 'read.updated': {
        const { user, seq, cid } = e;
        this.host.updateChannel(cid, (c) => {
          // The event's time is the stored `last_read_at` when the mark moved forward (read-by's time).
          const forward = seq > (c.read[user.id] ?? 0);
          const next = {
            ...c,
            read: { ...c.read, [user.id]: seq },
            readAt: forward ? { ...c.readAt, [user.id]: e.created_at } : c.readAt,
          };
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
      case 'presence.changed':
        this.host.presenceChanged(e.user.id);
        this.host.mergeUsers([{ ...e.user, presence: e.presence }]);
        break;
      case 'channel.added': {
        const cid = e.cid;
        void this.host.http
          .call<ChannelResponse>('GET', `/v1/channels/${cid}`)
          .then((r) => this.host.putChannel(r.channel, r.members))
          .catch(() => {});
        break;
      }
      case 'channel.removed':
        this.host.updateChannel(e.cid, (c) => ({ ...c, channel: { ...c.channel, membership: null } }));
        break;
      case 'notification.new':
        break; // for listeners only: the message itself arrives as its channel's message.new
      case 'guest.updated':
        break; // for listeners only: the app shows the guest's lock (sends answer GUEST_LOCKED)
      case 'user.updated':
        // Keep what this client read of the custom fields (events carry none): see profiles.ts.
        this.host.mergeUsers([e.user]);
        break;
      case 'user.banned':
      case 'flag.new':
      case 'flag.reviewed':
        break; // for listeners only: moderation screens and the banned user's notice
      case 'export.ready':
        break; // for listeners only: the app offers the export's download link
      case 'call.ring':
      case 'call.updated':
      case 'call.signal':
        break; // for listeners: the client's Calls (call.ts) follows them
      case 'space.updated':
      case 'space.invitation':
        break; // for listeners: the client's Spaces (spaces.ts) follows them
      case 'emoji.updated':
        break; // for listeners: the client's Emoji (emoji.ts) follows them
      case 'inbox.updated':
      case 'user_group.updated':
        break; // for listeners: the client's Inbox and Groups (inbox.ts) follow them
      case 'sidebar.updated':
      case 'saved.updated':
      case 'bookmarks.updated':
        break; // the client's sidebar and saved items (sidebar.ts) follow them
      case 'note.updated':
      case 'note.deleted':
      case 'personal_note.updated':
      case 'personal_note.deleted':
        break; // for listeners: the client's Notes (notes.ts) follows them
      case 'workspace.updated':
        break; // for listeners: the app shows the workspace's new name, address or logo
      case 'ephemeral.new':
      case 'ephemeral.deleted':
        break; // the client's Commands (commands.ts) keeps them
      default: {
        // Every event type is handled above: a new one in the protocol fails to compile here.
        const unhandled: never = e;
        void unhandled;
      }
    }
    // A muted author's new message reaches no listener either (no sound, no notice).
    if (e.type === 'message.new' && this.host.isMuted(e.message.user_id)) return;
    this.host.emit(e);
  }

  /** Apply a logged event in seq order; a gap is filled from the server's log first. */
  ingest(e: ChannelEvent): void {
    const c = this.host.state.get().channels[e.cid];
    if (!c) return; // not in state: the list refresh brings it
    const held = this.held.get(e.cid);
    if (held) {
      held.push(e);
      return;
    }
    if (e.seq <= c.lastSeq) return;
    if (e.seq > c.lastSeq + 1) {
      this.held.set(e.cid, [e]);
      void this.host.fillGap(e.cid);
      return;
    }
    this.apply(e);
  }

  private apply(e: ChannelEvent): void {
    const me = this.host.myId();
    if (e.type === 'message.new' && this.host.isMuted(e.message.user_id)) {
      // Muted: only the seq moves on, so the next event is no gap (and no unread is counted).
      this.host.updateChannel(e.cid, (c) =>
        e.seq <= c.lastSeq
          ? c
          : { ...c, lastSeq: e.seq, channel: { ...c.channel, last_seq: Math.max(c.channel.last_seq, e.seq) } },
      );
      return;
    }
    this.host.updateChannel(e.cid, (c) => applyEvent(c, e, me));
    if (e.type === 'message.new') this.host.stored(e.message);
  }

  /** Hold a channel's live events (while it loads); `release` applies them in order. */
  hold(cid: string): void {
    if (!this.held.has(cid)) this.held.set(cid, []);
  }

  /** Apply held events above the channel's lastSeq, in order, and stop holding. */
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
          const c = this.host.state.get().channels[cid];
          if (!c) break;
          const r = await this.host.http.call<EventsResponse>(
            'GET',
            `/v1/channels/${cid}/events?after=${c.lastSeq}&limit=500`,
          );
          if (r.reload) {
            await this.host.reload(cid);
            break;
          }
          for (const e of r.events) this.apply(e);
          // Events hidden from this user (a shadow-banned author's) were left out but covered:
          // the seq moves past them, so they are no gap (and a page of only those no loop).
          const to = r.read_to;
          if (to !== undefined)
            this.host.updateChannel(cid, (cur) =>
              to <= cur.lastSeq
                ? cur
                : { ...cur, lastSeq: to, channel: { ...cur.channel, last_seq: Math.max(cur.channel.last_seq, to) } },
            );
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

  /** Forget held events (disconnectUser). */
  reset(): void {
    this.held.clear();
  }

  /** Typing entries older than the expiry go (a typing.stop may never come). */
  expireTyping(): void {
    const now = Date.now();
    for (const c of Object.values(this.host.state.get().channels)) {
      const stale = Object.entries(c.typing).filter(([, t]) => now - t.at > TYPING_EXPIRY_MS);
      if (stale.length)
        this.host.updateChannel(c.cid, (cur) => ({
          ...cur,
          typing: Object.fromEntries(Object.entries(cur.typing).filter(([k]) => !stale.some(([s]) => s === k))),
        }));
    }
  }

  private async refreshCounts(cid: string): Promise<void> {
    try {
      const r = await this.host.http.call<QueryChannelsResponse>('POST', '/v1/channels/query', { filter: { cid } });
      for (const c of r.channels) this.host.putChannel(c);
    } catch {
      // counts refresh again on the next read or reconnect
    }
  }
}
