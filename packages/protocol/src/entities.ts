import { type Static, Type } from '@sinclair/typebox';
import { Attachment } from './attachments.js';
import { ChannelType, Cid, Seq, Timestamp, UserId, Uuid } from './ids.js';
import { Poll } from './polls.js';
import { LinkPreview } from './previews.js';
import { ProfileOutput } from './profiles.js';
import { DeviceKind } from './viewers.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/**
 * App-level roles. `admin` and `moderator` have powers in every channel of the app. A `guest`
 * reads and finds only what is in its own channels (docs/protocol/accounts.md, "Guests").
 */
export const USER_ROLES = ['user', 'moderator', 'admin', 'guest'] as const;
export const UserRole = Type.Union(USER_ROLES.map((r) => Type.Literal(r)));

/**
 * Presence states. `busy` (do not disturb) is a connected user who chose it, paused their
 * notifications or is inside their DND window; it shows in place of online or away.
 */
export const PRESENCE_STATES = ['online', 'away', 'busy', 'offline'] as const;
export const PresenceState = Type.Union(PRESENCE_STATES.map((r) => Type.Literal(r)));

/** A user as the wire shows it. */
export const User = Type.Object({
  id: UserId,
  name: Type.String(),
  username: Nullable(Type.String()),
  image: Nullable(Type.String()),
  /** A blurhash of `image` (a picture uploaded through `PUT /v1/me/avatar`): a placeholder while it loads. */
  image_blurhash: Type.Optional(Nullable(Type.String())),
  role: UserRole,
  presence: Type.Optional(PresenceState),
  /**
   * The kinds of device the user is connected on now (`web`, `desktop`, `mobile`; empty when
   * offline), where presence says it: `presence.changed` and the `presence.subscribe` answer.
   */
  devices: Type.Optional(Type.Array(DeviceKind)),
  status: Type.Optional(
    Nullable(
      Type.Object({
        text: Type.String(),
        emoji: Nullable(Type.String()),
        expires_at: Nullable(Timestamp),
      }),
    ),
  ),
  last_active_at: Type.Optional(Nullable(Timestamp)),
  /** Profile (profiles.ts): full name, title, pronouns, about, phone, time zone, custom fields. */
  ...ProfileOutput,
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type User = Static<typeof User>;

/** Member roles inside one channel, from most to least powerful. */
export const MEMBER_ROLES = ['owner', 'admin', 'moderator', 'member'] as const;
export const MemberRole = Type.Union(MEMBER_ROLES.map((r) => Type.Literal(r)));
export type MemberRole = Static<typeof MemberRole>;

/** One user's membership of one channel. */
export const Member = Type.Object({
  user_id: UserId,
  user: Type.Optional(User),
  role: MemberRole,
  last_read_seq: Seq,
  /** When `last_read_seq` last moved forward; null before the server kept it (read-by's times). */
  last_read_at: Type.Optional(Nullable(Timestamp)),
  /**
   * The read mark's revision: it only grows, with every move of the mark (forward, or back by
   * mark-unread). Of two views of one read mark, the one with the larger `read_rev` is the newer,
   * whichever way the mark moved. Absent from servers before it.
   */
  read_rev: Type.Optional(Type.Integer({ minimum: 0 })),
  muted: Type.Boolean(),
  joined_at: Timestamp,
});
export type Member = Static<typeof Member>;

/** One reaction by one user. */
export const Reaction = Type.Object({ type: Type.String(), user_id: UserId, created_at: Timestamp });
export type Reaction = Static<typeof Reaction>;

/** Message types. `deleted` keeps the seq and place of a message whose text is gone. */
export const MESSAGE_TYPES = ['regular', 'system', 'deleted'] as const;
export const MessageType = Type.Union(MESSAGE_TYPES.map((t) => Type.Literal(t)));

const MessageFields = {
  id: Uuid,
  cid: Cid,
  seq: Seq,
  user_id: UserId,
  user: Type.Optional(Nullable(User)),
  type: MessageType,
  text: Type.String(),
  parent_id: Nullable(Uuid),
  show_in_channel: Type.Boolean(),
  reply_count: Type.Integer({ minimum: 0 }),
  last_reply_at: Nullable(Timestamp),
  thread_participants: Type.Array(UserId),
  quoted_message_id: Nullable(Uuid),
  reactions: Type.Record(Type.String(), Type.Integer(), { description: 'reaction counts by type' }),
  own_reactions: Type.Array(Type.String(), {
    description: "the caller's reaction types; always empty in events (derive it from reaction.user_id)",
  }),
  latest_reactions: Type.Array(Reaction),
  mentioned_users: Type.Array(UserId),
  mentioned_here: Type.Boolean(),
  mentioned_channel: Type.Boolean(),
  pinned: Type.Boolean(),
  pinned_at: Nullable(Timestamp),
  pinned_by: Nullable(UserId),
  edited_at: Nullable(Timestamp),
  created_at: Timestamp,
  updated_at: Timestamp,
  deleted_at: Nullable(Timestamp),
  /** Files on the message (see attachments.ts); always present in the server's answers. */
  attachments: Type.Optional(Type.Array(Attachment)),
  /** The poll this message carries (its text is the question); absent on other messages. */
  poll: Type.Optional(Poll),
  /**
   * Link previews (see previews.ts), in the order of their URLs in the text; always present in
   * the server's answers, empty until the unfurl job has run, and empty on deleted messages.
   */
  previews: Type.Optional(Type.Array(LinkPreview)),
};

/** A quoted message, embedded one level deep. */
export const QuotedMessage = Type.Object(MessageFields);
export type QuotedMessage = Static<typeof QuotedMessage>;

/** A message as the wire shows it. */
export const Message = Type.Object({ ...MessageFields, quoted_message: Type.Optional(Nullable(QuotedMessage)) });
export type Message = Static<typeof Message>;

/** The caller's membership, as carried on each channel in lists. */
export const Membership = Type.Object({
  role: MemberRole,
  last_read_seq: Seq,
  /** As `Member.read_rev`. */
  read_rev: Type.Optional(Type.Integer({ minimum: 0 })),
  muted: Type.Boolean(),
  joined_at: Timestamp,
});

/** A channel as the wire shows it. */
export const Channel = Type.Object({
  cid: Cid,
  type: ChannelType,
  id: Type.String(),
  name: Nullable(Type.String()),
  description: Nullable(Type.String()),
  topic: Nullable(Type.String()),
  image: Nullable(Type.String()),
  created_by: Nullable(UserId),
  archived: Type.Boolean(),
  archived_at: Nullable(Timestamp),
  last_seq: Seq,
  last_message_at: Nullable(Timestamp),
  member_count: Type.Integer({ minimum: 0 }),
  created_at: Timestamp,
  updated_at: Timestamp,
  last_message: Type.Optional(Nullable(Message)),
  unread_count: Type.Optional(Type.Integer({ minimum: 0 })),
  mention_count: Type.Optional(Type.Integer({ minimum: 0 })),
  membership: Type.Optional(Nullable(Membership)),
  /** In channel lists, DMs carry their members (they are named after them). */
  members: Type.Optional(Type.Array(Member)),
  /** Only moderators and up may post (features/moderation). */
  frozen: Type.Optional(Type.Boolean()),
  /** Seconds a member waits between two messages; 0: off. Moderators are exempt. */
  slow_mode_s: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Who may react: `members`, or `open` to anyone who may read the channel. */
  reactions: Type.Optional(Type.Union([Type.Literal('members'), Type.Literal('open')])),
  /**
   * What the caller may do here (docs/permissions.md's capability names), computed by the
   * server's one permission model: clients show only these actions.
   */
  own_capabilities: Type.Optional(Type.Array(Type.String())),
});
export type Channel = Static<typeof Channel>;

/** The wire error body. */
export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
  }),
});
export type ErrorBody = Static<typeof ErrorBody>;
