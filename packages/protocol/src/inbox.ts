/**
 * User groups (`@designers`: one handle that mentions several people) and the activity inbox
 * (a stored, per-user list of what concerns you). Server: features/groups, features/inbox.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Message } from './entities.js';
import { Cid, Timestamp, UserId, Uuid } from './ids.js';
import { NameText, SafeText } from './text.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/**
 * A group's handle, as written after `@`: letters, digits, `_`, `.` and `-`, 2–64 characters,
 * starting with a letter or digit. It may not be a username of the app or another group's handle
 * (any case: a username and a handle are one namespace), nor a mention keyword (`here`,
 * `channel`, `everyone`, `all`).
 */
export const GROUP_HANDLE_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.\\-]{1,63}$';
/** Most members of one group. */
export const GROUP_MAX_MEMBERS = 1000;
/** Most groups of one app. */
export const GROUPS_MAX_PER_APP = 500;

export const GroupHandle = Type.String({ pattern: GROUP_HANDLE_PATTERN, maxLength: 64 });

/** A user group of the app (workspace). */
export const UserGroup = Type.Object({
  id: Uuid,
  handle: Type.String(),
  name: Type.String(),
  description: Type.String(),
  /** The members' user ids (at most GROUP_MAX_MEMBERS). */
  members: Type.Array(UserId),
  member_count: Type.Integer({ minimum: 0 }),
  created_by: Nullable(UserId),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type UserGroup = Static<typeof UserGroup>;

export const CreateUserGroupBody = Type.Object(
  {
    handle: GroupHandle,
    name: NameText({ minLength: 1, maxLength: 80 }),
    description: Type.Optional(SafeText({ maxLength: 500 })),
    members: Type.Optional(Type.Array(UserId, { maxItems: GROUP_MAX_MEMBERS })),
  },
  { additionalProperties: false },
);
export type CreateUserGroupBody = Static<typeof CreateUserGroupBody>;

export const UpdateUserGroupBody = Type.Object(
  {
    handle: Type.Optional(GroupHandle),
    name: Type.Optional(NameText({ minLength: 1, maxLength: 80 })),
    description: Type.Optional(SafeText({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type UpdateUserGroupBody = Static<typeof UpdateUserGroupBody>;

/** `POST /v1/user-groups/{id}/members`: add and/or remove members (at least one of the two). */
export const UserGroupMembersBody = Type.Object(
  {
    add: Type.Optional(Type.Array(UserId, { maxItems: GROUP_MAX_MEMBERS })),
    remove: Type.Optional(Type.Array(UserId, { maxItems: GROUP_MAX_MEMBERS })),
  },
  { additionalProperties: false },
);
export type UserGroupMembersBody = Static<typeof UserGroupMembersBody>;

export const UserGroupsQuery = Type.Object(
  {
    /** A prefix of the handle or the name (case-insensitive). */
    q: Type.Optional(SafeText({ maxLength: 64 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  },
  { additionalProperties: false },
);
export type UserGroupsQuery = Static<typeof UserGroupsQuery>;

export const UserGroupResponse = Type.Object({ group: UserGroup });
export type UserGroupResponse = Static<typeof UserGroupResponse>;
export const UserGroupsResponse = Type.Object({ groups: Type.Array(UserGroup) });
export type UserGroupsResponse = Static<typeof UserGroupsResponse>;

/** Who may create, edit and delete groups: the app's admins (default) or every member. */
export const GROUP_MANAGERS = ['admins', 'everyone'] as const;
export type GroupManagers = (typeof GROUP_MANAGERS)[number];
export const UserGroupSettings = Type.Object(
  { managers: Type.Union(GROUP_MANAGERS.map((m) => Type.Literal(m))) },
  { additionalProperties: false },
);
export type UserGroupSettings = Static<typeof UserGroupSettings>;
export const UserGroupSettingsResponse = Type.Object({ settings: UserGroupSettings });
export type UserGroupSettingsResponse = Static<typeof UserGroupSettingsResponse>;

/** What changed, in a `user_group.updated`. */
export const USER_GROUP_CHANGES = ['created', 'updated', 'members', 'deleted'] as const;
export type UserGroupChange = (typeof USER_GROUP_CHANGES)[number];

// ---- the activity inbox -------------------------------------------------------------------

/**
 * Why an item is in the inbox: a `mention` (of you, of a group of yours, or an @here/@channel
 * that notified you), a reply in a `thread` you follow, a `reaction` to your message, a `dm`
 * that came while you were away, an `invitation` (someone added you to a channel), a
 * `reminder` that came due, a `note_mention` (a channel note that names you or a group of yours),
 * a `task` someone assigned you (features/tasks: `message_id` is the task's message), a
 * `note_updated` (a channel note changed in a channel whose notes you subscribed to).
 */
export const INBOX_KINDS = [
  'mention',
  'thread',
  'reaction',
  'dm',
  'invitation',
  'reminder',
  'note_mention',
  'task',
  'note_updated',
] as const;
export type InboxKind = (typeof INBOX_KINDS)[number];
/** The filters of `GET /v1/inbox`: everything, or one family of kinds. */
export const INBOX_FILTERS = ['all', 'mentions', 'threads', 'reactions', 'tasks', 'unread'] as const;
export type InboxFilter = (typeof INBOX_FILTERS)[number];
/** How a mention reached you. */
export const MENTION_VIAS = ['user', 'group', 'here', 'channel'] as const;
/** Most items one page of the inbox holds. */
export const INBOX_MAX_LIMIT = 100;

export const InboxItem = Type.Object({
  id: Uuid,
  kind: Type.Union(INBOX_KINDS.map((k) => Type.Literal(k))),
  /** For a mention: how it reached you (`group`: through `group_handle`); null otherwise. */
  via: Nullable(Type.Union(MENTION_VIAS.map((v) => Type.Literal(v)))),
  group_handle: Nullable(Type.String()),
  cid: Nullable(Cid),
  message_id: Nullable(Uuid),
  /** The thread the message is a reply in, if it is one. */
  parent_id: Nullable(Uuid),
  /** Who caused it (the author, the reactor, who added you). */
  actor_id: Nullable(UserId),
  /** For a reaction: its type. */
  reaction_type: Nullable(Type.String()),
  /** For a `note_mention` or `note_updated`: the channel note (in `cid`). */
  note_id: Nullable(Uuid),
  read: Type.Boolean(),
  created_at: Timestamp,
  /** The message it is about, as the reader sees it now (null once deleted or out of reach). */
  message: Type.Optional(Nullable(Message)),
  /**
   * For a `note_mention` or `note_updated`: the note's title now (null once deleted or out of
   * reach). Also on the item of `inbox.updated` and of the `inbox.new` webhook (the title when
   * the item was recorded).
   */
  note_title: Type.Optional(Nullable(Type.String())),
});
export type InboxItem = Static<typeof InboxItem>;

export const InboxQuery = Type.Object(
  {
    filter: Type.Optional(Type.Union(INBOX_FILTERS.map((f) => Type.Literal(f)))),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: INBOX_MAX_LIMIT })),
    /** `next` of the previous page; opaque. */
    cursor: Type.Optional(SafeText({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type InboxQuery = Static<typeof InboxQuery>;

/** The fields of the inbox's socket requests (frames.ts wraps them with `type` and `req_id`). */
export const INBOX_REQUEST_FIELDS = {
  /** A page of the inbox, as `GET /v1/inbox`. */
  'inbox.list': InboxQuery.properties,
  /** Mark one item read (`read: false`: unread again), as `POST /v1/inbox/{id}/read`. */
  'inbox.read': { id: Uuid, read: Type.Optional(Type.Boolean()) },
  /** Mark every item read, as `POST /v1/inbox/read`. */
  'inbox.read_all': {},
} as const;

export const InboxResponse = Type.Object({
  items: Type.Array(InboxItem),
  /** The cursor of the next (older) page; null on the last. */
  next: Nullable(Type.String()),
  unread_count: Type.Integer({ minimum: 0 }),
});
export type InboxResponse = Static<typeof InboxResponse>;
export const InboxCountResponse = Type.Object({ unread_count: Type.Integer({ minimum: 0 }) });
export type InboxCountResponse = Static<typeof InboxCountResponse>;
export const InboxItemResponse = Type.Object({ item: InboxItem, unread_count: Type.Integer({ minimum: 0 }) });
export type InboxItemResponse = Static<typeof InboxItemResponse>;

const at = { created_at: Timestamp };

/** The group and inbox events (events.ts joins them to the live-only events). */
export const InboxEvents = [
  /**
   * A group was created, renamed, had its members changed or was deleted: to every member of
   * the app's groups' audience (the members before and after, and whoever made the change),
   * so lists and the composer's autocomplete follow.
   */
  Type.Object({
    type: Type.Literal('user_group.updated'),
    group: UserGroup,
    change: Type.Union(USER_GROUP_CHANGES.map((c) => Type.Literal(c))),
    ...at,
  }),
  /**
   * To every connection of one user: their inbox's unread count changed (a new item, or items
   * read on some device). `item`: the new item, when that is why. `removed`: items taken back
   * (an edit took out the mention that made them, before they were read). `read`: items now
   * read (one opened on some device, or a channel read past their messages).
   */
  Type.Object({
    type: Type.Literal('inbox.updated'),
    unread_count: Type.Integer({ minimum: 0 }),
    item: Type.Optional(InboxItem),
    removed: Type.Optional(Type.Array(Uuid)),
    read: Type.Optional(Type.Array(Uuid)),
    ...at,
  }),
] as const;
