/**
 * Client state and the pure functions that apply server events to it. Every function here
 * returns a new object when something changes and the same object when nothing does, so
 * subscribers can compare by identity.
 */
import type { Channel, ChannelEvent, Member, Message, Poll, User } from '@parley/protocol';

/** `connecting` on first connect, `online` after hello, `reconnecting` while retrying, `offline` when the browser says so or after disconnectUser. */
export type ConnectionState = 'idle' | 'connecting' | 'online' | 'reconnecting' | 'offline';

/** A message as the client holds it: the server's message plus its local delivery status. */
export interface LocalMessage extends Message {
  /** `sending` until the server stores it, `sent` after, `failed` when it refused (see `error`). */
  status: 'sending' | 'sent' | 'failed';
  error?: { code: string; message: string };
  /** Files of a send still being uploaded (see uploads.ts); gone once the server stores it. */
  uploads?: LocalUpload[];
}

/** One file of an optimistic message, while it uploads. */
export interface LocalUpload {
  /** A local id (the attachment's id once uploaded). */
  id: string;
  name: string;
  size: number;
  type: string;
  /** 0 … 1. */
  progress: number;
  state: 'uploading' | 'done' | 'failed' | 'cancelled';
  /** An object URL of the local file, to show it at once (browsers only). */
  preview?: string;
}

/** Who is typing: key `userId|parentId`. */
export interface TypingEntry {
  user: User;
  parent_id: string | null;
  /** Local receipt time, for client-side expiry if a stop never arrives. */
  at: number;
}

/** One channel as the client knows it. */
export interface ChannelState {
  cid: string;
  channel: Channel;
  members: Readonly<Record<string, Member>>;
  /** The channel view in seq order; messages not yet stored (seq 0) come last, in send order. */
  messages: readonly LocalMessage[];
  /** Thread replies by parent id, in seq order (only threads that were opened or seen live). */
  threads: Readonly<Record<string, readonly LocalMessage[]>>;
  typing: Readonly<Record<string, TypingEntry>>;
  /** Read receipts: each member's last_read_seq. */
  read: Readonly<Record<string, number>>;
  /**
   * When each member's read mark last moved forward (their `last_read_at`, then the
   * `created_at` of each `read.updated`): read-by's times. Null or absent: not known.
   */
  readAt?: Readonly<Record<string, string | null>>;
  /** Whether read-by is on in this channel (its member count within the server's limit), once asked (`channel.loadReadBy`). */
  readByEnabled?: boolean;
  /** Highest seq applied; events at or below it are duplicates. */
  lastSeq: number;
  unreadCount: number;
  mentionCount: number;
  /** Whether history exists before the first loaded message. */
  hasOlder: boolean;
  /**
   * Set while the view is a window of older history (after `channel.loadAround`): messages
   * newer than the window exist, and live ones are not appended (they would leave a hole)
   * until `loadNewer` reaches the latest or `jumpToLatest` reloads.
   */
  hasNewer?: boolean;
  /** Whether messages were loaded (a list entry alone carries only the summary). */
  loaded: boolean;
  watching: boolean;
}

/** Everything the client holds, as one immutable snapshot. */
export interface ClientState {
  connection: ConnectionState;
  user: User | null;
  channels: Readonly<Record<string, ChannelState>>;
  /** Cids of the channel list, most recent activity first. */
  channelList: readonly string[];
  /** Users seen, with their latest presence and status. */
  users: Readonly<Record<string, User>>;
  totalUnread: number;
  totalMentions: number;
}

export const initialState: ClientState = {
  connection: 'idle',
  user: null,
  channels: {},
  channelList: [],
  users: {},
  totalUnread: 0,
  totalMentions: 0,
};

/** A channel state made from a channel (as returned by the API). */
export function channelStateFrom(channel: Channel, members: Member[] = []): ChannelState {
  return {
    cid: channel.cid,
    channel,
    members: Object.fromEntries(members.map((m) => [m.user_id, m])),
    messages: [],
    threads: {},
    typing: {},
    read: Object.fromEntries(members.map((m) => [m.user_id, m.last_read_seq])),
    readAt: readAtOf(members),
    lastSeq: channel.last_seq,
    unreadCount: channel.unread_count ?? 0,
    mentionCount: channel.mention_count ?? 0,
    hasOlder: channel.last_seq > 0,
    loaded: false,
    watching: false,
  };
}

const sent = (m: Message): LocalMessage => ({ ...m, status: 'sent' });

/** Members' `last_read_at`, where the server sent it. */
function readAtOf(members: readonly Member[]): Record<string, string | null> {
  return Object.fromEntries(
    members.filter((m) => m.last_read_at !== undefined).map((m) => [m.user_id, m.last_read_at ?? null]),
  );
}

/** One reader of a message: read-by's entry. */
export interface ReadByReader {
  user_id: string;
  /** When their read mark moved past it (null: not known). */
  read_at: string | null;
}

/** Read-by of the viewer's latest message in a channel (see `readByOf`). */
export interface ReadBy {
  /** The viewer's latest stored message in the channel view. */
  message: LocalMessage;
  /** The other members whose read mark is at or past it, earliest first. */
  readers: ReadByReader[];
  /** The other members (readers or not). */
  others: number;
  /** False when the server said read-by is off in this channel (too many members); undefined until asked. */
  enabled: boolean | undefined;
}

/**
 * Read-by of `me`'s latest stored message in the channel: who of the other members has read
 * it, and when — derived from the read marks (`read`) and their times (`readAt`), so it is live
 * as `read.updated` events arrive. Null when `me` has no stored message in the loaded view.
 */
export function readByOf(s: ChannelState, me: string): ReadBy | null {
  let message: LocalMessage | undefined;
  for (let i = s.messages.length - 1; i >= 0; i--) {
    const m = s.messages[i] as LocalMessage;
    if (m.user_id === me && m.status === 'sent' && m.type === 'regular' && m.seq > 0) {
      message = m;
      break;
    }
  }
  if (!message) return null;
  const others = Object.keys(s.members).filter((id) => id !== me);
  const at = s.readAt ?? {};
  const seq = message.seq;
  const readers = others
    .filter((id) => (s.read[id] ?? 0) >= seq)
    .map((id) => ({ user_id: id, read_at: at[id] ?? null }))
    .sort((a, b) => (a.read_at ?? '').localeCompare(b.read_at ?? '') || a.user_id.localeCompare(b.user_id));
  return { message, readers, others: others.length, enabled: s.readByEnabled };
}

/** Whether a message shows in the channel view (not a thread-only reply). */
export const inChannelView = (m: Pick<Message, 'parent_id' | 'show_in_channel'>) => !m.parent_id || m.show_in_channel;

/** Insert or replace by id: stored messages in seq order, then unsent ones (seq 0) in send order. */
export function upsertMessage(list: readonly LocalMessage[], m: LocalMessage): LocalMessage[] {
  const rest = list.filter((x) => x.id !== m.id);
  const stored = rest.filter((x) => x.seq > 0);
  const pending = rest.filter((x) => x.seq === 0);
  if (m.seq === 0) return [...stored, ...pending, m];
  let i = stored.length;
  while (i > 0 && (stored[i - 1] as LocalMessage).seq > m.seq) i--;
  stored.splice(i, 0, m);
  return [...stored, ...pending];
}

/**
 * A page of messages merged into `list` at once, as `upsertMessage` for each of them would, in
 * one pass instead of a copy of the list per message (a page of 50 into 10,000 held took 9 ms).
 * With `keepHeld`, a message already held stays as held (a page that overlaps what live events
 * brought, which may be newer).
 */
export function mergeMessages(
  list: readonly LocalMessage[],
  page: readonly LocalMessage[],
  keepHeld = false,
): readonly LocalMessage[] {
  if (page.length === 0) return list;
  const incoming = new Map(page.map((m) => [m.id, m]));
  const stored: LocalMessage[] = [];
  const pending: LocalMessage[] = [];
  for (const x of list) {
    if (incoming.has(x.id)) {
      if (!keepHeld) continue; // replaced by the page's copy, placed below
      incoming.delete(x.id);
    }
    (x.seq > 0 ? stored : pending).push(x);
  }
  if (keepHeld && incoming.size === 0) return list;
  for (const m of incoming.values()) (m.seq > 0 ? stored : pending).push(m);
  // Stable: what was held stays ahead of a new message of the same seq, as upsertMessage does.
  stored.sort((a, b) => a.seq - b.seq);
  return [...stored, ...pending];
}

function replaceMessage(list: readonly LocalMessage[], m: Message, keepOwn: boolean): readonly LocalMessage[] {
  const i = list.findIndex((x) => x.id === m.id);
  if (i < 0) return list;
  const prev = list[i] as LocalMessage;
  const next = list.slice();
  const own: LocalMessage = { ...sent(m), own_reactions: keepOwn ? prev.own_reactions : m.own_reactions };
  // Events carry no one's own votes: keep what this client knows of its own (features/polls).
  if (keepOwn && own.poll && prev.poll) own.poll = { ...own.poll, own_votes: prev.poll.own_votes };
  next[i] = own;
  return next;
}

function mapThreads(
  threads: ChannelState['threads'],
  fn: (list: readonly LocalMessage[]) => readonly LocalMessage[],
): ChannelState['threads'] {
  let changed = false;
  const out: Record<string, readonly LocalMessage[]> = {};
  for (const [k, v] of Object.entries(threads)) {
    const n = fn(v);
    if (n !== v) changed = true;
    out[k] = n;
  }
  return changed ? out : threads;
}

/** Replace a message wherever it is held (channel view and threads). */
export function replaceEverywhere(s: ChannelState, m: Message, keepOwn = true): ChannelState {
  return {
    ...s,
    messages: replaceMessage(s.messages, m, keepOwn),
    threads: mapThreads(s.threads, (l) => replaceMessage(l, m, keepOwn)),
  };
}

function findMessage(s: ChannelState, id: string): LocalMessage | undefined {
  return (
    s.messages.find((m) => m.id === id) ??
    Object.values(s.threads)
      .flat()
      .find((m) => m.id === id)
  );
}

/**
 * Put a poll's new state on its message (wherever it is shown). `ownVotes`: the caller's votes,
 * from a vote's answer; otherwise the ones this client already knew stay.
 */
export function setPoll(s: ChannelState, messageId: string, poll: Poll, ownVotes?: string[]): ChannelState {
  const prev = findMessage(s, messageId);
  if (!prev) return s;
  const m = { ...prev, poll: { ...poll, own_votes: ownVotes ?? prev.poll?.own_votes ?? [] } };
  return replaceEverywhere(s, m, false);
}

/** Would this message count as unread for `me` given a read mark? */
function countsUnread(m: Message, me: string, lastRead: number): boolean {
  return m.seq > lastRead && m.user_id !== me && inChannelView(m);
}

function mentions(m: Message, me: string): boolean {
  return m.mentioned_users.includes(me) || m.mentioned_channel;
}

/**
 * Apply one logged channel event. Events at or below `lastSeq` are ignored (duplicates);
 * the caller makes sure events arrive in seq order (filling gaps from the server's log).
 */
export function applyEvent(s: ChannelState, e: ChannelEvent, me: string): ChannelState {
  if (e.seq <= s.lastSeq) return s;
  const lastRead = s.channel.membership?.last_read_seq ?? 0;
  let next: ChannelState = {
    ...s,
    lastSeq: e.seq,
    channel: { ...s.channel, last_seq: Math.max(s.channel.last_seq, e.seq) },
  };
  switch (e.type) {
    case 'message.new': {
      const m = sent(e.message);
      if (m.parent_id) {
        const thread = next.threads[m.parent_id];
        if (thread) next = { ...next, threads: { ...next.threads, [m.parent_id]: upsertMessage(thread, m) } };
      }
      if (inChannelView(m)) {
        const known = next.messages.some((x) => x.id === m.id && x.status === 'sent');
        const shown = (next.loaded || next.watching) && (!next.hasNewer || next.messages.some((x) => x.id === m.id));
        next = { ...next, messages: shown ? upsertMessage(next.messages, m) : next.messages };
        if (m.type !== 'deleted')
          next = {
            ...next,
            channel: { ...next.channel, last_message: e.message, last_message_at: e.message.created_at },
          };
        if (!known && m.type === 'regular' && countsUnread(m, me, lastRead)) {
          next = {
            ...next,
            unreadCount: next.unreadCount + 1,
            mentionCount: next.mentionCount + (mentions(m, me) ? 1 : 0),
          };
        }
      }
      if (e.parent) next = replaceEverywhere(next, e.parent);
      return next;
    }
    case 'message.updated':
    case 'reaction.new':
    case 'reaction.deleted': {
      let m: Message = e.message;
      const prev = findMessage(next, m.id);
      if (e.type !== 'message.updated' && e.reaction.user_id === me) {
        const own = prev?.own_reactions ?? [];
        m = {
          ...m,
          own_reactions:
            e.type === 'reaction.new'
              ? [...new Set([...own, e.reaction.type])]
              : own.filter((t) => t !== e.reaction.type),
        };
        next = replaceEverywhere(next, m, false);
      } else {
        next = replaceEverywhere(next, m, true);
      }
      if (next.channel.last_message?.id === m.id) next = { ...next, channel: { ...next.channel, last_message: m } };
      return next;
    }
    case 'message.deleted': {
      const prev = findMessage(next, e.message.id);
      next = replaceEverywhere(next, { ...e.message, own_reactions: [] }, false);
      const was = prev ?? e.message;
      if (
        prev?.type !== 'deleted' &&
        (prev ? prev.type === 'regular' : true) &&
        countsUnread(e.message, me, lastRead)
      ) {
        next = {
          ...next,
          unreadCount: Math.max(0, next.unreadCount - 1),
          mentionCount: Math.max(0, next.mentionCount - (prev && mentions(was, me) ? 1 : 0)),
        };
      }
      if (e.parent) next = replaceEverywhere(next, e.parent);
      if (next.channel.last_message?.id === e.message.id) {
        const latest = [...next.messages].reverse().find((x) => x.type !== 'deleted' && x.status === 'sent');
        next = { ...next, channel: { ...next.channel, last_message: latest ?? null } };
      }
      return next;
    }
    case 'poll.updated':
      return setPoll(next, e.message_id, e.poll);
    case 'member.added':
    case 'member.updated': {
      const member = e.member;
      next = {
        ...next,
        members: { ...next.members, [member.user_id]: member },
        read: { ...next.read, [member.user_id]: member.last_read_seq },
        ...(member.last_read_at !== undefined
          ? { readAt: { ...next.readAt, [member.user_id]: member.last_read_at ?? null } }
          : {}),
      };
      if (e.type === 'member.added')
        next = { ...next, channel: { ...next.channel, ...stripExtras(e.channel), last_seq: next.channel.last_seq } };
      if (member.user_id === me && next.channel.membership)
        next = { ...next, channel: { ...next.channel, membership: { ...next.channel.membership, role: member.role } } };
      return next;
    }
    case 'member.removed': {
      const { [e.user_id]: _gone, ...members } = next.members;
      next = {
        ...next,
        members,
        channel: { ...next.channel, ...stripExtras(e.channel), last_seq: next.channel.last_seq },
      };
      if (e.user_id === me) next = { ...next, channel: { ...next.channel, membership: null } };
      return next;
    }
    case 'channel.updated':
      return { ...next, channel: { ...next.channel, ...stripExtras(e.channel), last_seq: next.channel.last_seq } };
  }
}

/** Channel fields from an event, without list extras (which the event does not know). */
function stripExtras(c: Channel): Partial<Channel> {
  const { last_message: _a, unread_count: _b, mention_count: _c, membership: _d, ...rest } = c;
  return rest;
}

/**
 * Change one channel with `fn`; the list order and the totals are recomputed only when what
 * they depend on changed. The same state comes back when nothing changed.
 */
export function updateChannelIn(s: ClientState, cid: string, fn: (c: ChannelState) => ChannelState): ClientState {
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
}

/** Put a channel (as the API returns it) into state, keeping what is loaded. */
export function putChannelIn(s: ClientState, data: Channel, members?: Member[]): ClientState {
  const cur = s.channels[data.cid];
  let next: ChannelState;
  if (!cur) {
    next = channelStateFrom(data, members);
  } else {
    const fresh = data.last_seq <= cur.lastSeq || !cur.loaded;
    const channel: Channel = {
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
      next.readAt = { ...next.readAt, ...readAtOf(members) };
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
}

/** Sort cids by most recent activity (last message, else creation), newest first. */
export function sortChannelList(channels: ClientState['channels']): string[] {
  const key = (c: ChannelState) => c.channel.last_message_at ?? c.channel.created_at;
  return Object.values(channels)
    .filter((c) => c.channel.membership)
    .sort((a, b) => (key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : a.cid < b.cid ? 1 : -1))
    .map((c) => c.cid);
}

/** Totals over the channel list, muted channels excluded. */
export function totals(channels: ClientState['channels']): { totalUnread: number; totalMentions: number } {
  let totalUnread = 0;
  let totalMentions = 0;
  for (const c of Object.values(channels)) {
    if (!c.channel.membership || c.channel.membership.muted) continue;
    totalUnread += c.unreadCount;
    totalMentions += c.mentionCount;
  }
  return { totalUnread, totalMentions };
}
