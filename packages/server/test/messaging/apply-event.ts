/**
 * A minimal client-side channel store, for resync tests: a snapshot of one channel and a pure
 * `applyEvent` that folds logged events into it. If replaying the log onto an old snapshot
 * gives the same store as a fresh snapshot, the log carries everything a client needs.
 */
export interface ChannelState {
  channel: Record<string, any>;
  /** By user_id. */
  members: Record<string, any>;
  /** By id: top-level messages and thread replies alike. */
  messages: Record<string, any>;
  /** Per message id, the reactions on it as sorted `user_id:type` keys. */
  reactions: Record<string, string[]>;
}

/** A logged channel event as the wire carries it. */
export type LoggedEvent = { type: string; cid: string; seq: number } & Record<string, any>;

const merge = (old: any, next: any) => ({ ...(old ?? {}), ...next });
const inChannel = (m: any) => m.type === 'regular' && (!m.parent_id || m.show_in_channel);

/** Apply one event; returns a new state and never mutates the given one. */
export function applyEvent(state: ChannelState, e: LoggedEvent): ChannelState {
  const s: ChannelState = {
    channel: { ...state.channel },
    members: { ...state.members },
    messages: { ...state.messages },
    reactions: { ...state.reactions },
  };
  if (e.cid !== s.channel.cid) return state;
  // The channel's own copy of fields that events carry whole.
  if (e.channel) s.channel = merge(s.channel, e.channel);
  s.channel.last_seq = Math.max(s.channel.last_seq ?? 0, e.seq, e.channel?.last_seq ?? 0);

  const putMessage = (m: any) => {
    s.messages[m.id] = merge(s.messages[m.id], m);
  };
  const setReaction = (messageId: string, key: string, on: boolean) => {
    const set = new Set(s.reactions[messageId] ?? []);
    if (on) set.add(key);
    else set.delete(key);
    s.reactions[messageId] = [...set].sort();
  };

  switch (e.type) {
    case 'message.new':
      putMessage(e.message);
      if (e.parent) putMessage(e.parent);
      // Sending a regular message that shows in the channel moves the channel's sort time.
      if (inChannel(e.message)) s.channel.last_message_at = e.message.created_at;
      break;
    case 'message.updated':
      putMessage(e.message);
      break;
    case 'message.deleted':
      putMessage(e.message);
      if (e.parent) putMessage(e.parent);
      // A deleted message loses its reactions.
      s.reactions[e.message.id] = [];
      break;
    case 'reaction.new':
    case 'reaction.deleted':
      putMessage(e.message);
      setReaction(e.message.id, `${e.reaction.user_id}:${e.reaction.type}`, e.type === 'reaction.new');
      break;
    case 'member.added':
      s.members[e.member.user_id] = e.member;
      break;
    case 'member.updated':
      // member.updated carries the membership without the user profile: keep the one we have.
      s.members[e.member.user_id] = merge(s.members[e.member.user_id], e.member);
      break;
    case 'member.removed':
      delete s.members[e.user_id];
      break;
    case 'channel.updated':
      break;
    case 'poll.updated':
      // The tallies as they now stand (own votes are per caller: events carry none).
      if (s.messages[e.message_id]) putMessage({ id: e.message_id, poll: e.poll });
      break;
    default:
      throw new Error(`applyEvent: not a logged event type: ${e.type}`);
  }
  return s;
}

export function applyEvents(state: ChannelState, events: readonly LoggedEvent[]): ChannelState {
  return events.reduce(applyEvent, state);
}

/** Build a state from REST answers: GET channel, every message and every thread's replies. */
export function stateFrom(channelBody: { channel: any; members: any[] }, messages: any[]): ChannelState {
  const s: ChannelState = { channel: { ...channelBody.channel }, members: {}, messages: {}, reactions: {} };
  for (const m of channelBody.members) s.members[m.user_id] = m;
  for (const m of messages) {
    s.messages[m.id] = m;
    // Tests keep under 10 reactions per message, so latest_reactions lists them all.
    s.reactions[m.id] = (m.latest_reactions as any[]).map((r) => `${r.user_id}:${r.type}`).sort();
  }
  return s;
}

const CHANNEL_FIELDS = [
  'cid',
  'type',
  'id',
  'name',
  'description',
  'topic',
  'image',
  'created_by',
  'archived',
  'archived_at',
  'last_seq',
  'last_message_at',
  'member_count',
  'created_at',
  'updated_at',
];
const MEMBER_FIELDS = ['user_id', 'role', 'last_read_seq', 'muted', 'joined_at'];
const MESSAGE_FIELDS = [
  'id',
  'cid',
  'seq',
  'user_id',
  'type',
  'text',
  'parent_id',
  'show_in_channel',
  'reply_count',
  'last_reply_at',
  'thread_participants',
  'quoted_message_id',
  'reactions',
  'latest_reactions',
  'mentioned_users',
  'mentioned_here',
  'mentioned_channel',
  'pinned',
  'pinned_at',
  'pinned_by',
  'edited_at',
  'created_at',
  'updated_at',
  'deleted_at',
];
const pick = (o: any, keys: string[]) => Object.fromEntries(keys.map((k) => [k, o?.[k]]));
const sortedById = <T>(rec: Record<string, T>) =>
  Object.fromEntries(Object.entries(rec).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * What a client shows of the state to `viewer`: the fields events carry, with own_reactions
 * derived from the reactions (events carry it empty by design: it is per caller).
 */
export function view(s: ChannelState, viewer: string) {
  const own = (id: string) =>
    (s.reactions[id] ?? [])
      .filter((k) => k.startsWith(`${viewer}:`))
      .map((k) => k.slice(viewer.length + 1))
      .sort();
  return {
    channel: pick(s.channel, CHANNEL_FIELDS),
    members: sortedById(
      Object.fromEntries(
        Object.entries(s.members).map(([id, m]) => [
          id,
          { ...pick(m, MEMBER_FIELDS), user: m.user ? pick(m.user, ['id', 'name', 'username', 'role']) : undefined },
        ]),
      ),
    ),
    messages: sortedById(
      Object.fromEntries(
        Object.entries(s.messages).map(([id, m]) => [
          id,
          {
            ...pick(m, MESSAGE_FIELDS),
            // A poll's tallies and state; `own_votes` is per caller, as `own_reactions` is.
            poll: m.poll ? { ...m.poll, own_votes: undefined } : undefined,
            own_reactions: own(id),
            reactions_by: s.reactions[id] ?? [],
          },
        ]),
      ),
    ),
  };
}
