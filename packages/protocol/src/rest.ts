import { type Static, Type } from '@sinclair/typebox';
import { AttachmentIds } from './attachments.js';
import { Channel, Member, MemberRole, Message, User, UserRole } from './entities.js';
import { ChannelEvent } from './events.js';
import { ChannelId, ChannelType, Cid, Seq, Timestamp, UserId, Uuid } from './ids.js';
import { PollInput } from './polls.js';
import { ProfileInput, USERNAME_PATTERN } from './profiles.js';
import { NameText, SafeText } from './text.js';
import { UnreadTotals } from './unread.js';

/** Longest message text accepted, in characters. */
export const MAX_MESSAGE_LENGTH = 10_000;
/** Most distinct reaction types one message may carry. */
export const MAX_REACTION_TYPES = 25;
/** Most users in one upsert or member change. */
export const MAX_BATCH = 100;
/** Largest page of messages, channels, users or events. */
export const MAX_PAGE = 200;

const Name = NameText({ maxLength: 200 });
const ImageUrl = SafeText({ maxLength: 2048 });
/** Message text: 1–10 000 characters, not blank, no NUL, no lone surrogate. */
export const MessageText = NameText({ maxLength: MAX_MESSAGE_LENGTH });
const Limit = Type.Integer({ minimum: 1, maximum: MAX_PAGE });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

// ---- admin -------------------------------------------------------------------------------

export const CreateAppBody = Type.Object({ name: Name }, { additionalProperties: false });
export type CreateAppBody = Static<typeof CreateAppBody>;
export const AppCredentials = Type.Object({
  id: Uuid,
  name: Type.String(),
  api_key: Type.String(),
  api_secret: Type.String(),
});
export type AppCredentials = Static<typeof AppCredentials>;
/** `PATCH /v1/admin/apps/{id}`: an app's settings. */
export const UpdateAppBody = Type.Object(
  {
    name: Type.Optional(Name),
    /** A PostgreSQL text-search configuration: `english`, `german`, `simple`, … */
    search_language: Type.Optional(Type.String({ pattern: '^[a-z_]{1,63}$' })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateAppBody = Static<typeof UpdateAppBody>;
export const AppSettings = Type.Object({ id: Uuid, name: Type.String(), search_language: Type.String() });

// ---- users -------------------------------------------------------------------------------

export const UserInput = Type.Object(
  {
    id: UserId,
    name: Type.Optional(Name),
    username: Type.Optional(Nullable(Type.String({ pattern: USERNAME_PATTERN }))),
    image: Type.Optional(Nullable(ImageUrl)),
    role: Type.Optional(UserRole),
    ...ProfileInput,
  },
  { additionalProperties: false },
);
export type UserInput = Static<typeof UserInput>;
export const UpsertUsersBody = Type.Object(
  { users: Type.Array(UserInput, { minItems: 1, maxItems: MAX_BATCH }) },
  { additionalProperties: false },
);
export type UpsertUsersBody = Static<typeof UpsertUsersBody>;
export const UsersResponse = Type.Object({
  users: Type.Array(User),
  /** User search only: the cursor of the next page, or null on the last. */
  next: Type.Optional(Nullable(Type.String())),
});
export const UserResponse = Type.Object({ user: User });
export const QueryUsersQuery = Type.Object(
  {
    q: Type.Optional(SafeText({ maxLength: 100 })),
    limit: Type.Optional(Limit),
    /** `next` of the previous page. */
    cursor: Type.Optional(SafeText({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type QueryUsersQuery = Static<typeof QueryUsersQuery>;

export const SetStatusBody = Type.Object(
  {
    text: Nullable(SafeText({ maxLength: 200 })),
    emoji: Type.Optional(Nullable(SafeText({ maxLength: 64 }))),
    expires_at: Type.Optional(Nullable(Timestamp)),
  },
  { additionalProperties: false },
);
export type SetStatusBody = Static<typeof SetStatusBody>;
/**
 * What a user may change about themselves (with a user token): name, username, image and the
 * profile (profiles.ts). The bundled web app's people pick their username here, since their
 * accounts have none. Custom field values go to PUT /v1/users/{id}/fields.
 */
export const UpdateMeBody = Type.Object(
  {
    name: Type.Optional(Name),
    username: Type.Optional(Nullable(Type.String({ pattern: USERNAME_PATTERN }))),
    image: Type.Optional(Nullable(ImageUrl)),
    ...ProfileInput,
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateMeBody = Static<typeof UpdateMeBody>;
/**
 * `PATCH /v1/users/{id}`: an app admin (or the server token) corrects someone's name or title,
 * checked as `PATCH /v1/me` checks them (a blank name is refused; null or blank title clears it).
 * Audited as `user.profile_updated`.
 */
export const UpdateUserBody = Type.Object(
  {
    name: Type.Optional(Name),
    title: ProfileInput.title,
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateUserBody = Static<typeof UpdateUserBody>;
export const MeResponse = Type.Object({
  user: User,
  /** The caller's unread totals (unread.ts), with the revision they were read at. */
  unread: UnreadTotals,
});

// ---- channels ----------------------------------------------------------------------------

const ChannelProps = {
  /** A channel without a name has `null`, never a blank one. */
  name: Type.Optional(Nullable(NameText({ maxLength: 200 }))),
  description: Type.Optional(Nullable(SafeText({ maxLength: 2000 }))),
  topic: Type.Optional(Nullable(SafeText({ maxLength: 500 }))),
  image: Type.Optional(Nullable(ImageUrl)),
};

/**
 * The first message of a channel made in one step (`first_message` of `POST /v1/channels`),
 * checked as a send is (text, mentions, rate limit, the app's before-send hook, automod). Its
 * `id` (UUIDv7, made by the client) is the create's idempotency key: the same create again with
 * the same id answers the channel and message already made, and makes neither twice.
 */
export const FirstMessageInput = Type.Object(
  {
    id: Type.Optional(Uuid),
    text: MessageText,
  },
  {
    additionalProperties: false,
    description: 'Create the channel with this first message, in one transaction (a user token; not `dm`)',
  },
);
export type FirstMessageInput = Static<typeof FirstMessageInput>;

export const CreateChannelBody = Type.Object(
  {
    type: ChannelType,
    id: Type.Optional(ChannelId),
    ...ChannelProps,
    members: Type.Optional(Type.Array(UserId, { maxItems: MAX_BATCH })),
    created_by: Type.Optional(UserId),
    /**
     * Create the channel with its first message, in one transaction (a user token; not for
     * `dm`): members get the channel and the message together, and a message refused creates no
     * channel. A `group` made this way needs someone besides its creator (`GROUP_TOO_SMALL`).
     */
    first_message: Type.Optional(FirstMessageInput),
  },
  { additionalProperties: false },
);
export type CreateChannelBody = Static<typeof CreateChannelBody>;

export const UpdateChannelBody = Type.Object(
  {
    ...ChannelProps,
    archived: Type.Optional(Type.Boolean()),
    /** Moderation settings (capability `freeze-channel`). */
    frozen: Type.Optional(Type.Boolean()),
    slow_mode_s: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
    reactions: Type.Optional(Type.Union([Type.Literal('members'), Type.Literal('open')])),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateChannelBody = Static<typeof UpdateChannelBody>;

export const ChannelResponse = Type.Object({ channel: Channel, members: Type.Array(Member) });
export type ChannelResponse = Static<typeof ChannelResponse>;
/** `POST /v1/channels`: the channel, its members and, with `first_message`, that message as stored. */
export const CreateChannelResponse = Type.Object({
  channel: Channel,
  members: Type.Array(Member),
  /** With `first_message`: that message, as stored (seq 1). */
  message: Type.Optional(Message),
});
export type CreateChannelResponse = Static<typeof CreateChannelResponse>;

const Op = (t: Parameters<typeof Type.Union>[0][number]) =>
  Type.Union([
    t,
    Type.Object(
      { $eq: Type.Optional(t), $in: Type.Optional(Type.Array(t, { maxItems: MAX_PAGE })) },
      { additionalProperties: false, minProperties: 1 },
    ),
  ]);

export const ChannelFilter = Type.Object(
  {
    cid: Type.Optional(Op(Cid)),
    type: Type.Optional(Op(ChannelType)),
    members: Type.Optional(
      Type.Union([
        UserId,
        Type.Object(
          { $eq: Type.Optional(UserId), $in: Type.Optional(Type.Array(UserId, { maxItems: MAX_BATCH })) },
          { additionalProperties: false, minProperties: 1 },
        ),
      ]),
    ),
    name: Type.Optional(
      Type.Union([
        SafeText({ maxLength: 200 }),
        Type.Object(
          {
            $eq: Type.Optional(SafeText({ maxLength: 200 })),
            $autocomplete: Type.Optional(SafeText({ minLength: 1, maxLength: 100 })),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
      ]),
    ),
    archived: Type.Optional(Type.Boolean()),
    /** Words found anywhere in the name, topic or description (ignoring case): the channel browser's search. */
    search: Type.Optional(SafeText({ minLength: 1, maxLength: 100 })),
    joined: Type.Optional(
      Type.Boolean({ description: 'true: only channels I belong to (default); false: only ones I do not' }),
    ),
  },
  { additionalProperties: false },
);
export type ChannelFilter = Static<typeof ChannelFilter>;

export const QueryChannelsBody = Type.Object(
  {
    filter: Type.Optional(ChannelFilter),
    sort: Type.Optional(
      Type.Array(
        Type.Object(
          {
            field: Type.Union([Type.Literal('last_message_at'), Type.Literal('created_at')]),
            direction: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(-1)])),
          },
          { additionalProperties: false },
        ),
        { maxItems: 1 },
      ),
    ),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(SafeText({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type QueryChannelsBody = Static<typeof QueryChannelsBody>;
export const QueryChannelsResponse = Type.Object({ channels: Type.Array(Channel), next: Nullable(Type.String()) });

export const MembersBody = Type.Object(
  {
    add: Type.Optional(Type.Array(UserId, { minItems: 1, maxItems: MAX_BATCH })),
    remove: Type.Optional(Type.Array(UserId, { minItems: 1, maxItems: MAX_BATCH })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type MembersBody = Static<typeof MembersBody>;

export const UpdateMemberBody = Type.Object(
  { role: Type.Optional(MemberRole), muted: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateMemberBody = Static<typeof UpdateMemberBody>;

// ---- messages ----------------------------------------------------------------------------

export const MessageInput = Type.Object(
  {
    id: Type.Optional(Uuid),
    /** May be empty (`""`) only when the message carries attachments. */
    text: Type.Union([MessageText, Type.Literal('')]),
    parent_id: Type.Optional(Nullable(Uuid)),
    show_in_channel: Type.Optional(Type.Boolean()),
    quoted_message_id: Type.Optional(Nullable(Uuid)),
    /** Ids of uploads (`POST /v1/channels/{cid}/uploads`) to attach, at most 10, in order. */
    attachments: Type.Optional(AttachmentIds),
    /** Make the message a poll (its text is the question): needs `create-poll`. */
    poll: Type.Optional(PollInput),
  },
  { additionalProperties: false },
);
export type MessageInput = Static<typeof MessageInput>;
export const SendMessageBody = MessageInput;
export type SendMessageBody = MessageInput;

export const UpdateMessageBody = Type.Object({ text: MessageText }, { additionalProperties: false });
export type UpdateMessageBody = Static<typeof UpdateMessageBody>;
export const MessageResponse = Type.Object({ message: Message });
export const MessagesResponse = Type.Object({ messages: Type.Array(Message) });

export const HistoryQuery = Type.Object(
  {
    before: Type.Optional(Seq),
    after: Type.Optional(Seq),
    /** A message id, or a seq (the message at it, or the last one before it). */
    around: Type.Optional(
      Type.String({
        pattern: '^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9]{1,15})$',
        description: 'a message id, or a seq',
      }),
    ),
    limit: Type.Optional(Limit),
  },
  { additionalProperties: false },
);
export type HistoryQuery = Static<typeof HistoryQuery>;

export const ReactionBody = Type.Object(
  { type: Type.String({ pattern: '^[A-Za-z0-9_+\\-:]{1,32}$' }) },
  { additionalProperties: false },
);
export type ReactionBody = Static<typeof ReactionBody>;

export const MessageVersionsResponse = Type.Object({
  versions: Type.Array(Type.Object({ version: Type.Integer(), text: Type.String(), created_at: Timestamp })),
});

// ---- reads and resync --------------------------------------------------------------------

export const ReadBody = Type.Object({ seq: Seq }, { additionalProperties: false });
export type ReadBody = Static<typeof ReadBody>;
export const UnreadBody = Type.Object({ message_id: Uuid }, { additionalProperties: false });
export type UnreadBody = Static<typeof UnreadBody>;
export const ReadResponse = Type.Object({
  cid: Cid,
  last_read_seq: Seq,
  /** The read mark's revision after this call (`Member.read_rev`). */
  read_rev: Type.Optional(Type.Integer({ minimum: 0 })),
  unread_count: Type.Integer(),
  /**
   * The channel's last seq when the counts were read (in the same snapshot): every message up to
   * it is in them, none after it. A client that has not applied those messages yet counts them
   * as already counted.
   */
  last_seq: Type.Optional(Seq),
});

export const EventsQuery = Type.Object(
  { after: Seq, limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
  { additionalProperties: false },
);
export type EventsQuery = Static<typeof EventsQuery>;
/**
 * Replay answer. `reload: true` means more was missed than the server replays: drop the
 * channel's local state and load it afresh (its `last_seq` is given).
 */
export const EventsResponse = Type.Object({
  events: Type.Array(ChannelEvent),
  last_seq: Seq,
  reload: Type.Boolean(),
  has_more: Type.Boolean(),
  /**
   * The highest seq this answer covers. Events about messages hidden from the caller (a
   * shadow-banned author's) are left out but still covered: a client moves its seq to this,
   * and asks again after it when `has_more`.
   */
  read_to: Type.Optional(Seq),
});
export type EventsResponse = Static<typeof EventsResponse>;

export const CidParams = Type.Object({ cid: Cid });
export const IdParams = Type.Object({ id: Uuid });
export const UserIdParams = Type.Object({ id: UserId });
export const MemberParams = Type.Object({ cid: Cid, user_id: UserId });
export const ReactionParams = Type.Object({ id: Uuid, type: Type.String({ pattern: '^[A-Za-z0-9_+\\-:]{1,32}$' }) });
