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
import { applyEvent, type ChannelState, type ClientState, settleCounts } from './state.js';
import type { Store } from './store.js';

const TYPING_EXPIRY_MS = 7_000;
/** After a gap fill failed, how long before the held events ask again. */
const GAP_RETRY_MS = 500;

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
  /** An `unread.updated` arrived: the server's counts, applied by revision (state.ts `applyUnread`). */
  unreadPushed(e: Extract<ServerEvent, { type: 'unread.updated' }>): void;
  /** Whether the connected user muted this user: their new messages are not shown (moderation.ts). */
  isMuted(userId: string): boolean;
}

export class Ingest {
  private readonly gapFills = new Map<string, Promise<void>>();
  /** Events held per channel while it loads or fills a gap. */
  private readonly held = new Map<string, ChannelEvent[]>();
  /** How many holds each channel is under (see `hold`). */
  private readonly holds = new Map<string, number>();

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
        let stale = false;
        this.host.updateChannel(cid, (c) => {
          // An event older than the mark held (its revision smaller: it crossed a newer answer
          // or snapshot on the way) changes nothing.
          const rev = c.readRevs?.[user.id];
          if (e.read_rev !== undefined && rev !== undefined && e.read_rev < rev) {
            stale = true;
            return c;
          }
          // The event's time is the stored `last_read_at` when the mark moved forward (read-by's time).
          const forward = seq > (c.read[user.id] ?? 0);
          const next = {
            ...c,
            read: { ...c.read, [user.id]: seq },
            ...(e.read_rev !== undefined ? { readRevs: { ...c.readRevs, [user.id]: e.read_rev } } : {}),
            readAt: forward ? { ...c.readAt, [user.id]: e.created_at } : c.readAt,
          };
          if (user.id === me && next.channel.membership) {
            next.channel = { ...next.channel, membership: { ...next.channel.membership, last_read_seq: seq } };
            // At or past all that is counted, nothing is unread; short of it, the refresh below counts.
            return settleCounts(next);
          }
          return next;
        });
        if (user.id === me && !stale) void this.refreshCounts(cid);
        break;
      }
      case 'presence.changed':
        this.host.presenceChanged(e.user.id);
        // `devices` absent: this change is not about them (keep what was known).
        this.host.mergeUsers([{ ...e.user, presence: e.presence, ...(e.devices ? { devices: e.devices } : {}) }]);
        break;
      case 'channel.added': {
        const cid = e.cid;
        // A channel made with its first message (a new group) comes with that message, this
        // member's membership and counts: shown at once, members filled in by the fetch.
        if (e.channel?.last_message) this.host.putChannel(e.channel);
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
      case 'feature_flags.updated':
        break; // the client's FeatureFlags (flags.ts) reads the user's flags again
      case 'assistant.updated':
        break; // the client's Assistant (assistant.ts) keeps what the app offers
      case 'unread.updated':
        this.host.unreadPushed(e);
        break;
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
      case 'viewers.changed':
        break; // the client's ChannelViewers (viewers.ts) keeps them
      case 'task.created':
      case 'task.updated':
      case 'task.deleted':
        break; // the client's Tasks (tasks.ts) follows them
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
    if (e.seq <= c.lastSeq) {
      // A snapshot holds it; a mention it makes is still noted (applyEvent, `mentionIds`).
      if (e.type === 'message.new' && !this.host.isMuted(e.message.user_id))
        this.host.updateChannel(e.cid, (cur) => applyEvent(cur, e, this.host.myId()));
      return;
    }
    if (e.seq > c.lastSeq + 1) {
      this.held.set(e.cid, [e]);
      // A fill that fails (a node restarting, a proxy's 502) asks again when the events it
      // held are released (below, after a pause), or at the resync of the next hello.
      this.host.fillGap(e.cid).catch(() => {});
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
    // A deleted message this client does not hold as it was (not at all, or a newer page's
    // deleted copy): whether it was a mention is not in the event (the server clears its
    // mentions), so the counts are asked for.
    const unheld =
      e.type === 'message.deleted' &&
      e.message.user_id !== me &&
      !e.message.parent_id &&
      !this.holdsLive(e.cid, e.message.id);
    this.host.updateChannel(e.cid, (c) => applyEvent(c, e, me));
    if (e.type === 'message.new') this.host.stored(e.message);
    if (unheld) void this.refreshCounts(e.cid);
  }

  /** Whether the state holds this message, not deleted, in the channel view. */
  private holdsLive(cid: string, id: string): boolean {
    return !!this.host.state.get().channels[cid]?.messages.some((m) => m.id === id && m.type !== 'deleted');
  }

  /**
   * Hold a channel's live events (while it loads); `release` applies them in order. Holds
   * nest (a thread's page while the channel's own loads): the last release applies them.
   */
  hold(cid: string): void {
    if (!this.held.has(cid)) this.held.set(cid, []);
    this.holds.set(cid, (this.holds.get(cid) ?? 0) + 1);
  }

  /** Apply held events above the channel's lastSeq, in order, and stop holding. */
  release(cid: string): void {
    const left = (this.holds.get(cid) ?? 1) - 1;
    if (left > 0) {
      this.holds.set(cid, left);
      return;
    }
    this.holds.delete(cid);
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
      } catch (err) {
        // The events held are released below and find the gap again: not in a tight loop.
        await new Promise((r) => setTimeout(r, GAP_RETRY_MS));
        throw err;
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
    this.holds.clear();
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
