/**
 * Client state and the pure functions that apply server events to it. Every function here
 * returns a new object when something changes and the same object when nothing does, so
 * subscribers can compare by identity.
 */
import type { Channel, ChannelEvent, EventOf, Member, Message, Poll, UnreadTotals, User } from '@parley/protocol';

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
   * Each member's read-mark revision (`read_rev`) that `read` holds, where the server sent one:
   * a view with a larger one replaces the mark, whichever way it moved (mark-unread moves it
   * back); a smaller one is stale and left out (`newerRead`).
   */
  readRevs?: Readonly<Record<string, number>>;
  /**
   * When each member's read mark last moved forward (their `last_read_at`, then the
   * `created_at` of each `read.updated`): read-by's times. Null or absent: not known.
   */
  readAt?: Readonly<Record<string, string | null>>;
  /** Whether read-by is on in this channel (its member count within the server's limit), once asked (`channel.loadReadBy`). */
  readByEnabled?: boolean;
  /** Highest seq applied; events at or below it are duplicates. */
  lastSeq: number;
  /** Messages from others after your read mark, in the channel view (muted authors aside). */
  unreadCount: number;
  mentionCount: number;
  /**
   * A read mark made here (`markRead`) that the server has not confirmed: its request failed
   * (offline, a dropped socket). Kept with the channel, and sent again after the next hello,
   * unless your mark moved on the server since (`rev`: the revision of your mark held when it
   * was made; a newer one, a read or mark unread on another device, is the later word).
   */
  unsentRead?: { seq: number; rev?: number };
  /**
   * The seq the counts are known at: that of the snapshot that set them, or of the last event
   * that moved them (a message from someone else, or its deletion). A message above it is
   * counted when its event is applied; one at or below it is in the counts already. A snapshot
   * older than it (an answer that was in flight while such an event was applied) does not
   * replace the counts. Absent: `lastSeq`.
   */
  countsSeq?: number;
  /**
   * The changes live events made to the counts (a message from someone else +1, its deletion
   * −1), each at its event's seq, complete for every seq above `deltasFrom`. A snapshot older
   * than `countsSeq` (asked for before those events were applied: the refresh a mark moved back
   * asks for) is then still the base: its counts, plus the changes past it. Absent: not known
   * (counts restored from storage), and an older snapshot is dropped.
   */
  countDeltas?: readonly CountDelta[];
  /** See `countDeltas`. */
  deltasFrom?: number;
  /**
   * The revision of the server's counts these are (`unread.updated`, or an answer with a
   * `read_rev`): a push with a smaller one is older and dropped. While it is set, a snapshot
   * replaces the counts only when it is at a newer seq than they are (`countsSeq`): at the same
   * seq the push may be the newer (a read mark moves no seq). Cleared at each hello, when the
   * pushes missed while away make the snapshots of the resync the ones to take.
   */
  unreadRev?: number;
  /**
   * Messages a live `message.new` said are unread mentions of yours (counted by it, or by the
   * snapshot it came after), newest last (at most `MENTION_IDS`): a tombstone carries no
   * mentions, so when one of them is deleted while the message itself is not held (the channel
   * never opened) or is held as a tombstone already (a page newer than the deletion), this says
   * the mention count drops too.
   */
  mentionIds?: readonly string[];
  /**
   * Per user, the seq at which what the state knows of their membership was true (the member
   * event applied, or the snapshot that listed them, or left them out): a snapshot older than
   * that does not undo it. A removed user keeps their entry.
   */
  memberSeqs?: Readonly<Record<string, number>>;
  /** The seq at which the channel's own fields (name, topic, member_count…) were last set: an older snapshot leaves them. */
  channelSeq?: number;
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

/** A change of the counts made on a live event (`ChannelState.countDeltas`). */
export interface CountDelta {
  seq: number;
  unread: number;
  mentions: number;
}

/** The most count changes kept: a channel no snapshot reached for longer counts from the latest. */
const MAX_COUNT_DELTAS = 200;

/** Everything the client holds, as one immutable snapshot. */
export interface ClientState {
  connection: ConnectionState;
  user: User | null;
  channels: Readonly<Record<string, ChannelState>>;
  /** Cids of the channel list, most recent activity first. */
  channelList: readonly string[];
  /** Users seen, with their latest presence and status. */
  users: Readonly<Record<string, User>>;
  /**
   * Unread messages over your channels, muted ones aside. Once the server has sent its totals
   * (`unread.updated`, `GET /v1/me`: `unreadRev` set) they are the server's, over every channel
   * you are in, loaded or not; before that, the sum over the channels the client holds.
   */
  totalUnread: number;
  /** Unread mentions over your channels, as `totalUnread`. */
  totalMentions: number;
  /** Channels with something unread (muted ones aside): the server's, once it sent its totals. */
  unreadChannels?: number;
  /** The revision of the server's totals held (see `ChannelState.unreadRev`); absent: none yet. */
  unreadRev?: number;
  /**
   * The server's data epoch from the last hello (persisted with the state). It changes when the
   * server's data is restored from a backup; the client then drops what it kept and reloads.
   */
  epoch?: string;
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
    readRevs: revsOf(members),
    readAt: readAtOf(members),
    lastSeq: channel.last_seq,
    unreadCount: channel.unread_count ?? 0,
    mentionCount: channel.mention_count ?? 0,
    countsSeq: channel.last_seq,
    countDeltas: [],
    deltasFrom: channel.last_seq,
    memberSeqs: Object.fromEntries(members.map((m) => [m.user_id, channel.last_seq])),
    channelSeq: channel.last_seq,
    hasOlder: channel.last_seq > 0,
    loaded: false,
    watching: false,
  };
}

const sent = (m: Message): LocalMessage => ({ ...m, status: 'sent' });

/** Read-mark revisions from members and your membership, where the server sent them. */
function revsOf(members: readonly Member[]): Record<string, number> {
  const revs: Record<string, number> = {};
  for (const m of members) if (m.read_rev !== undefined) revs[m.user_id] = m.read_rev;
  return revs;
}

/**
 * A user's read mark after a view of it (`seq` at revision `rev`, from a snapshot, an event or
 * an answer) meets what the state holds (`cur` at `curRev`). With both revisions known, a larger
 * one replaces the mark even backwards (someone marked unread), a smaller one is stale and
 * changes nothing, and an equal one is the same server state, which a local mark sent since may
 * be ahead of. Without them (an older server, or a mark not yet confirmed) the mark only moves
 * forward, as it did before revisions.
 */
export function newerRead(
  cur: number | undefined,
  curRev: number | undefined,
  seq: number,
  rev: number | undefined,
): { seq: number; rev: number | undefined } {
  if (rev === undefined) return { seq: Math.max(cur ?? 0, seq), rev: curRev };
  if (curRev === undefined || rev === curRev) return { seq: Math.max(cur ?? 0, seq), rev };
  return rev > curRev ? { seq, rev } : { seq: cur ?? seq, rev: curRev };
}

/**
 * Your own mute of a channel, as you just set it (the server answered). It moves no seq, so a
 * snapshot already in flight would carry the old value at the same `last_seq` and put it back:
 * your membership's entry in `memberSeqs` goes half a seq past `lastSeq`, so only a snapshot
 * from after a later event replaces it.
 */
export function withMuted(s: ChannelState, me: string, muted: boolean): ChannelState {
  if (!s.channel.membership) return s;
  return {
    ...s,
    channel: { ...s.channel, membership: { ...s.channel.membership, muted } },
    memberSeqs: { ...s.memberSeqs, [me]: Math.max(s.memberSeqs?.[me] ?? 0, s.lastSeq + 0.5) },
  };
}

/** `newerRead` applied to one user of a channel state: its `read` and `readRevs`. */
export function withRead(s: ChannelState, user: string, seq: number, rev: number | undefined): ChannelState {
  const r = newerRead(s.read[user], s.readRevs?.[user], seq, rev);
  return {
    ...s,
    read: { ...s.read, [user]: r.seq },
    ...(r.rev !== undefined ? { readRevs: { ...s.readRevs, [user]: r.rev } } : {}),
  };
}

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

/**
 * Insert or replace by id: stored messages in seq order, then unsent ones (seq 0) in send order.
 * `list` must be in that order, each id once, as every list the state holds is (this function and
 * mergeMessages make them so).
 */
export function upsertMessage(list: readonly LocalMessage[], m: LocalMessage): LocalMessage[] {
  // A pipelined burst calls this three times a send on a long list (show it, its ack, its
  // event). Binary searches find where the unsent begin and a stored copy of `m`; only the unsent
  // are scanned for its id (an ack finds it first among them). Reading every element, as the
  // list's rebuilding did, took a third of a sending client's CPU at 2,000 sends in flight
  // (bench/client-send.ts).
  const firstUnsent = firstIndex(list, 0, list.length, (x) => x.seq === 0);
  let at = -1;
  if (m.seq > 0) {
    const after = firstIndex(list, 0, firstUnsent, (x) => x.seq > m.seq);
    if (after > 0 && (list[after - 1] as LocalMessage).id === m.id) at = after - 1;
  }
  for (let k = firstUnsent; at < 0 && k < list.length; k++) if ((list[k] as LocalMessage).id === m.id) at = k;
  const next = list.slice();
  if (at >= 0) next.splice(at, 1);
  if (m.seq === 0) {
    next.push(m);
    return next;
  }
  const stored = at >= 0 && at < firstUnsent ? firstUnsent - 1 : firstUnsent;
  next.splice(
    firstIndex(next, 0, stored, (x) => x.seq > m.seq),
    0,
    m,
  );
  return next;
}

/** The first index in [from, to) whose element meets `p`, for a `p` false and then true over it; `to` if none. */
function firstIndex(list: readonly LocalMessage[], from: number, to: number, p: (x: LocalMessage) => boolean): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (p(list[mid] as LocalMessage)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
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

/** How many ids `ChannelState.mentionIds` keeps. */
const MENTION_IDS = 200;

/**
 * Apply one logged channel event. Events at or below `lastSeq` are ignored (duplicates);
 * the caller makes sure events arrive in seq order (filling gaps from the server's log).
 */
export function applyEvent(s: ChannelState, e: ChannelEvent, me: string): ChannelState {
  const lastRead = s.channel.membership?.last_read_seq ?? 0;
  if (e.seq <= s.lastSeq) {
    // Applied already (a snapshot holds it), but a mention it makes is noted: should the
    // message be deleted after a page showed it as a tombstone, this says the count drops.
    if (e.type !== 'message.new' || e.seq <= lastRead || (s.mentionIds ?? []).includes(e.message.id)) return s;
    const m = sent(e.message);
    if (!inChannelView(m) || m.type !== 'regular' || !countsUnread(m, me, lastRead) || !mentions(m, me)) return s;
    return { ...s, mentionIds: [...(s.mentionIds ?? []), m.id].slice(-MENTION_IDS) };
  }
  // Counted already by the snapshot that set the counts (its page may hold the message too).
  const counted = e.seq <= countsSeqOf(s);
  let next: ChannelState = {
    ...s,
    lastSeq: e.seq,
    countsSeq: countsSeqOf(s),
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
        const shown = (next.loaded || next.watching) && (!next.hasNewer || next.messages.some((x) => x.id === m.id));
        next = { ...next, messages: shown ? upsertMessage(next.messages, m) : next.messages };
        if (m.type !== 'deleted')
          next = {
            ...next,
            channel: { ...next.channel, last_message: e.message, last_message_at: e.message.created_at },
          };
        if (!counted && m.type === 'regular' && countsUnread(m, me, lastRead)) {
          const mention = mentions(m, me);
          next = noteCounts(
            {
              ...next,
              ...(mention ? { mentionIds: [...(next.mentionIds ?? []), m.id].slice(-MENTION_IDS) } : {}),
            },
            e.seq,
            1,
            mention ? 1 : 0,
          );
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
      // Whether it mentioned you: the message held, else (not held, or held as a tombstone
      // already) what its message.new said.
      const ids = next.mentionIds ?? [];
      const mention = prev && prev.type !== 'deleted' ? mentions(prev, me) : ids.includes(e.message.id);
      if (ids.includes(e.message.id)) next = { ...next, mentionIds: ids.filter((id) => id !== e.message.id) };
      // Counted unless it was a system message: the counts stand at an older seq than this
      // deletion, so the message was live for them even if a newer page already shows it deleted.
      if (!counted && prev?.type !== 'system' && countsUnread(e.message, me, lastRead))
        next = noteCounts(next, e.seq, next.unreadCount > 0 ? -1 : 0, mention && next.mentionCount > 0 ? -1 : 0);
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
      if (e.type === 'member.added') next = channelFields(next, e.channel, e.seq);
      // A snapshot newer than this event already holds what became of this member.
      if (e.seq <= (next.memberSeqs?.[member.user_id] ?? 0)) return next;
      // A read.updated (live, no seq) applied while this event was held may be newer.
      next = withRead(next, member.user_id, member.last_read_seq, member.read_rev);
      next = {
        ...next,
        members: { ...next.members, [member.user_id]: member },
        memberSeqs: { ...next.memberSeqs, [member.user_id]: e.seq },
        ...(member.last_read_at !== undefined
          ? { readAt: { ...next.readAt, [member.user_id]: member.last_read_at ?? null } }
          : {}),
      };
      if (member.user_id === me && next.channel.membership)
        next = { ...next, channel: { ...next.channel, membership: { ...next.channel.membership, role: member.role } } };
      return next;
    }
    case 'member.removed': {
      next = channelFields(next, e.channel, e.seq);
      if (e.seq <= (next.memberSeqs?.[e.user_id] ?? 0)) return next;
      const { [e.user_id]: _gone, ...members } = next.members;
      // Without a revision their read mark goes with them: one who comes back starts from the
      // mark they come back with. With one it stays (read-by counts members only): a mark from
      // after a rejoin, applied before this older removal was, must not be lost, and the
      // rejoin's own mark has a larger revision than any before it.
      const { [e.user_id]: _mark, ...rest } = next.read;
      const read = next.readRevs?.[e.user_id] === undefined ? rest : next.read;
      next = { ...next, members, read, memberSeqs: { ...next.memberSeqs, [e.user_id]: e.seq } };
      if (e.user_id === me) next = { ...next, channel: { ...next.channel, membership: null } };
      return next;
    }
    case 'channel.updated':
      return channelFields(next, e.channel, e.seq);
  }
}

/** The counts moved by a live event at `seq` (kept in `countDeltas`, see there). */
function noteCounts(s: ChannelState, seq: number, unread: number, mentions: number): ChannelState {
  const next = { ...s, unreadCount: s.unreadCount + unread, mentionCount: s.mentionCount + mentions, countsSeq: seq };
  if (!s.countDeltas) return next;
  const deltas = [...s.countDeltas, { seq, unread, mentions }];
  if (deltas.length <= MAX_COUNT_DELTAS) return { ...next, countDeltas: deltas };
  const dropped = deltas.splice(0, deltas.length - MAX_COUNT_DELTAS);
  return { ...next, countDeltas: deltas, deltasFrom: dropped[dropped.length - 1]?.seq ?? s.deltasFrom };
}

/**
 * The counts from the server's (`unread`, `mentions`, true at seq `at`) with your mark at `mark`,
 * plus what live events applied past `at` changed (`countDeltas`); null when those are not all
 * known.
 */
export function countsFrom(
  s: ChannelState,
  at: number,
  mark: number,
  unread: number,
  mentions: number,
): Pick<ChannelState, 'unreadCount' | 'mentionCount' | 'countDeltas' | 'deltasFrom'> | null {
  let kept: CountDelta[] = [];
  if (at < countsSeqOf(s)) {
    if (!s.countDeltas || at < (s.deltasFrom ?? Number.POSITIVE_INFINITY)) return null;
    kept = s.countDeltas.filter((d) => d.seq > at);
  }
  let u = unread;
  let m = mentions;
  for (const d of kept)
    if (d.seq > mark) {
      u += d.unread;
      m += d.mentions;
    }
  return { unreadCount: Math.max(0, u), mentionCount: Math.max(0, m), countDeltas: kept, deltasFrom: at };
}

/** Where the counts stand (see `ChannelState.countsSeq`). */
export const countsSeqOf = (s: ChannelState): number => s.countsSeq ?? s.lastSeq;

/** The channel's own fields from an event at `seq`, unless a newer snapshot set them already. */
function channelFields(s: ChannelState, c: Channel, seq: number): ChannelState {
  if (seq <= (s.channelSeq ?? 0)) return s;
  return { ...s, channelSeq: seq, channel: { ...s.channel, ...stripExtras(c), last_seq: s.channel.last_seq } };
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
    ? { ...s, channels, channelList: sortChannelList(channels), ...localTotals(s, channels) }
    : { ...s, channels };
}

/**
 * Put a channel (as the API returns it: a snapshot, consistent at its `last_seq`) into state,
 * keeping what is loaded. See `mergeSnapshot` for what an older snapshot may not undo.
 */
export function putChannelIn(s: ClientState, data: Channel, members?: Member[]): ClientState {
  const cur = s.channels[data.cid];
  const next = cur ? mergeSnapshot(cur, data, members, s.user?.id ?? '') : channelStateFrom(data, members);
  const channels = { ...s.channels, [data.cid]: next };
  return { ...s, channels, channelList: sortChannelList(channels), ...localTotals(s, channels) };
}

/**
 * A snapshot of a channel merged into what the state holds, so that the state converges
 * whatever order answers and live events arrive in: the snapshot is true at `at` (its
 * `last_seq`, or for an answer without one the seq held when it was asked for), and each part
 * of the state remembers the seq it is true at — the counts (`countsSeq`), each member
 * (`memberSeqs`), the channel's fields (`channelSeq`), the latest message (`lastSeq`). A part
 * is replaced only by a snapshot at least as new; an older one leaves what events brought.
 * Read marks only move forward here (a snapshot may be older than a `read.updated`); they move
 * back only by `read.updated` and `markUnread`'s answer. `lastSeq` never moves back; it jumps
 * forward only where nothing is loaded (the events in between are then skipped, not replayed).
 */
export function mergeSnapshot(
  cur: ChannelState,
  data: Channel,
  members: readonly Member[] | undefined,
  me: string,
  at: number = data.last_seq,
): ChannelState {
  const idle = !cur.loaded && !cur.watching;
  const lastSeq = idle ? Math.max(cur.lastSeq, at) : cur.lastSeq;
  const newest = at >= cur.lastSeq;
  const { last_message: lastMessage, unread_count: _u, mention_count: _m, membership, ...fields } = data;
  let channel: Channel = cur.channel;
  let channelSeq = cur.channelSeq ?? 0;
  if (at >= channelSeq) {
    const { last_message_at: _at, ...own } = fields;
    channel = { ...channel, ...own };
    channelSeq = at;
  }
  if (newest) {
    channel = {
      ...channel,
      last_message_at: data.last_message_at,
      ...(lastMessage !== undefined ? { last_message: lastMessage } : {}),
    };
  }
  channel = { ...channel, last_seq: Math.max(cur.lastSeq, at, cur.channel.last_seq) };

  // Members: each user as the newer of the snapshot and what was applied about them.
  let memberMap = cur.members;
  let memberSeqs = cur.memberSeqs ?? {};
  let read = cur.read;
  let readRevs = cur.readRevs ?? {};
  let readAt = cur.readAt;
  if (members) {
    const listed = new Map(members.map((m) => [m.user_id, m]));
    const nextMembers: Record<string, Member> = { ...cur.members };
    const seqs: Record<string, number> = { ...memberSeqs };
    const nextRead: Record<string, number> = { ...cur.read };
    const nextRevs: Record<string, number> = { ...readRevs };
    const nextReadAt: Record<string, string | null> = { ...cur.readAt };
    for (const id of new Set([...Object.keys(cur.members), ...Object.keys(memberSeqs), ...listed.keys()])) {
      const m = listed.get(id);
      if (m) {
        const r = newerRead(nextRead[id], nextRevs[id], m.last_read_seq, m.read_rev);
        nextRead[id] = r.seq;
        if (r.rev !== undefined) nextRevs[id] = r.rev;
      }
      if (m && m.last_read_at !== undefined && m.last_read_seq >= (cur.read[id] ?? 0))
        nextReadAt[id] = m.last_read_at ?? null;
      if (at < (seqs[id] ?? 0)) continue;
      seqs[id] = at;
      if (m) nextMembers[id] = { ...m, last_read_seq: nextRead[id] ?? m.last_read_seq };
      else delete nextMembers[id];
    }
    memberMap = nextMembers;
    memberSeqs = seqs;
    read = nextRead;
    readRevs = nextRevs;
    readAt = nextReadAt;
  }

  // Your membership: present or not as the newer says; the read mark as `newerRead` says (a
  // snapshot from before you marked unread must not read it all again).
  const was = cur.channel.membership;
  const myRevBefore = cur.readRevs?.[me];
  const staleRead =
    membership?.read_rev !== undefined && myRevBefore !== undefined && membership.read_rev < myRevBefore;
  let mine = was;
  const myRead = (m: NonNullable<typeof membership>, w: NonNullable<typeof was>) => {
    const before = readRevs[me];
    const r = newerRead(w.last_read_seq, before, m.last_read_seq, m.read_rev);
    if (r.rev !== undefined && me) {
      readRevs = { ...readRevs, [me]: r.rev };
      // The revision is your entry's in `read` too: it moves with it, or a later snapshot at the
      // same revision would keep the entry's older mark (a mark moved back while offline).
      if (r.rev !== before && me in read) read = { ...read, [me]: r.seq };
    }
    return r.seq;
  };
  if (membership !== undefined && at >= (memberSeqs[me] ?? 0)) {
    mine = membership && was ? { ...membership, last_read_seq: myRead(membership, was) } : membership;
    if (me && !members) memberSeqs = { ...memberSeqs, [me]: at };
  } else if (membership && was) {
    const seq = myRead(membership, was);
    if (seq !== was.last_read_seq) mine = { ...was, last_read_seq: seq };
  }
  channel = { ...channel, membership: mine };

  // Counts: the snapshot's, when it is not older than what they already account for, nor
  // than the read mark they were counted from.
  let unreadCount = cur.unreadCount;
  let mentionCount = cur.mentionCount;
  let countsSeq = countsSeqOf(cur);
  // Counts the server pushed are replaced only by a snapshot at a newer seq (`unreadRev`).
  const pushed = cur.unreadRev !== undefined;
  // A snapshot from before your mark last moved holds counts from its mark: still yours when the
  // mark came back to the same message (marked unread where it stood), else not.
  const otherMark = staleRead && membership?.last_read_seq !== mine?.last_read_seq;
  // Older than the counts (asked for before events the client has applied since), it is still
  // their base when every change those events made is known (`countDeltas`); not once the
  // server pushes the counts.
  let deltas: Pick<ChannelState, 'countDeltas' | 'deltasFrom'> = {};
  if (data.unread_count !== undefined && (pushed ? at > countsSeq : true) && !otherMark) {
    // Your read mark may be ahead of the snapshot's (you read while it was in flight).
    const mark = mine?.last_read_seq ?? 0;
    const ahead = mark > (membership?.last_read_seq ?? 0);
    const read = ahead && mark >= at;
    const counts = countsFrom(
      cur,
      at,
      ahead ? mark : 0,
      read ? 0 : data.unread_count,
      read ? 0 : (data.mention_count ?? 0),
    );
    if (counts) {
      ({ unreadCount, mentionCount } = counts);
      deltas = { countDeltas: counts.countDeltas, deltasFrom: counts.deltasFrom };
      countsSeq = Math.max(countsSeq, at);
    }
  }
  const next: ChannelState = {
    ...cur,
    channel,
    members: memberMap,
    memberSeqs,
    channelSeq,
    read,
    readRevs,
    readAt,
    lastSeq,
    unreadCount,
    mentionCount,
    countsSeq,
    ...deltas,
  };
  return settleCounts(next);
}

/**
 * A page of members (`channel.members`) merged in: it is at least as new as the events applied
 * before it was asked for (`asked`, the seq then), not as those applied since. A page says
 * nothing of who is not on it.
 */
export function mergeMemberPage(s: ChannelState, page: readonly Member[], asked: number): ChannelState {
  const members: Record<string, Member> = { ...s.members };
  const memberSeqs: Record<string, number> = { ...s.memberSeqs };
  const read: Record<string, number> = { ...s.read };
  const readRevs: Record<string, number> = { ...s.readRevs };
  for (const m of page) {
    const r = newerRead(read[m.user_id], readRevs[m.user_id], m.last_read_seq, m.read_rev);
    read[m.user_id] = r.seq;
    if (r.rev !== undefined) readRevs[m.user_id] = r.rev;
    if (asked < (memberSeqs[m.user_id] ?? 0)) continue;
    memberSeqs[m.user_id] = asked;
    members[m.user_id] = { ...m, last_read_seq: read[m.user_id] ?? m.last_read_seq };
  }
  return { ...s, members, memberSeqs, read, readRevs };
}

/** Nothing is unread at or below your read mark: at or past everything counted, the counts are 0. */
export function settleCounts(s: ChannelState): ChannelState {
  const r = s.channel.membership?.last_read_seq;
  if (r === undefined || (s.unreadCount === 0 && s.mentionCount === 0)) return s;
  return r >= Math.max(s.lastSeq, countsSeqOf(s)) ? { ...s, unreadCount: 0, mentionCount: 0, mentionIds: [] } : s;
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

/** The totals summed over the channels held, unless the server's totals are held (`unreadRev`). */
function localTotals(
  s: ClientState,
  channels: ClientState['channels'],
): { totalUnread: number; totalMentions: number } | Record<string, never> {
  return s.unreadRev === undefined ? totals(channels) : {};
}

/** The server's totals (`GET /v1/me`'s `unread`, or a push's), unless older than those held. */
export function withUnreadTotals(s: ClientState, t: UnreadTotals): ClientState {
  if (t.rev === undefined || (s.unreadRev !== undefined && t.rev <= s.unreadRev)) return s;
  return { ...s, totalUnread: t.total, totalMentions: t.mentions, unreadChannels: t.channels, unreadRev: t.rev };
}

/**
 * Apply an `unread.updated`: the totals by revision, and the channel's counts when the push is
 * newer than the ones held (by revision) and not behind what they account for (by seq: a
 * message applied since the push was read is not in it; its own push follows).
 */
export function applyUnread(s: ClientState, e: EventOf<'unread.updated'>): ClientState {
  let next = withUnreadTotals(s, e);
  const cur = e.cid === undefined ? undefined : next.channels[e.cid];
  if (!cur || e.unread_count === undefined) return next;
  if (cur.unreadRev !== undefined && e.rev <= cur.unreadRev) return next;
  const at = e.last_seq ?? cur.lastSeq;
  if (at < countsSeqOf(cur)) return next;
  next = updateChannelIn(next, cur.cid, (c) =>
    settleCounts({
      ...c,
      unreadCount: e.unread_count ?? 0,
      mentionCount: e.mention_count ?? 0,
      countsSeq: at,
      countDeltas: [],
      deltasFrom: at,
      unreadRev: e.rev,
    }),
  );
  return next;
}

/** Every channel's pushed revision forgotten (a new connection: see `ChannelState.unreadRev`). */
export function forgetUnreadRevs(s: ClientState): ClientState {
  if (!Object.values(s.channels).some((c) => c.unreadRev !== undefined)) return s;
  const channels: Record<string, ChannelState> = {};
  for (const [cid, c] of Object.entries(s.channels)) {
    const { unreadRev: _r, ...rest } = c;
    channels[cid] = rest;
  }
  return { ...s, channels };
}
