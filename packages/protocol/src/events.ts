import { type Static, Type } from '@sinclair/typebox';
import { WorkspaceUpdatedEvent } from './accounts.js';
import { DataExport } from './admin.js';
import { AssistantUpdatedEvent } from './assistant.js';
import { BookmarkEvents } from './bookmarks.js';
import { CallEvents } from './calls.js';
import { CommandEvents } from './commands.js';
import { Channel, Member, Message, PresenceState, Reaction, User } from './entities.js';
import { FeatureFlagsUpdatedEvent } from './feature-flags.js';
import { Cid, Seq, Timestamp, UserId, Uuid } from './ids.js';
import { InboxEvents } from './inbox.js';
import { Ban, Flag } from './moderation.js';
import { NoteEvents } from './notes.js';
import { EmojiUpdatedEvent, PollUpdatedEvent } from './polls.js';
import { SidebarEvents } from './sidebar.js';
import { SpaceEvents } from './spaces.js';
import { TaskEvents } from './tasks.js';
import { UnreadEvents } from './unread.js';
import { DeviceKind, ViewersChangedEvent } from './viewers.js';

/**
 * Channel events that take the channel's next seq and are kept in its event log, so a
 * client that was away can replay exactly what it missed.
 */
export const LOGGED_EVENT_TYPES = [
  'message.new',
  'message.updated',
  'message.deleted',
  'reaction.new',
  'reaction.deleted',
  'member.added',
  'member.updated',
  'member.removed',
  'channel.updated',
  'poll.updated',
] as const;
export type LoggedEventType = (typeof LOGGED_EVENT_TYPES)[number];

/** Events that are delivered live only: they carry no seq of their own and are not replayed. */
export const EPHEMERAL_EVENT_TYPES = [
  'typing.start',
  'typing.stop',
  'read.updated',
  'presence.changed',
  'notification.new',
  'channel.added',
  'channel.removed',
  'guest.updated',
  'user.banned',
  'user.updated',
  'flag.new',
  'flag.reviewed',
  'export.ready',
  'call.ring',
  'call.updated',
  'call.signal',
  'space.updated',
  'space.invitation',
  'emoji.updated',
  'feature_flags.updated',
  'assistant.updated',
  'user_group.updated',
  'inbox.updated',
  'unread.updated',
  'sidebar.updated',
  'saved.updated',
  'bookmarks.updated',
  'note.updated',
  'note.deleted',
  'personal_note.updated',
  'personal_note.deleted',
  'workspace.updated',
  'ephemeral.new',
  'ephemeral.deleted',
  'viewers.changed',
  'task.created',
  'task.updated',
  'task.deleted',
] as const;
export type EphemeralEventType = (typeof EPHEMERAL_EVENT_TYPES)[number];

/** Every event name the server sends. */
export const EVENT_TYPES = [...LOGGED_EVENT_TYPES, ...EPHEMERAL_EVENT_TYPES] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const base = { cid: Cid, seq: Seq, created_at: Timestamp };

/** A logged channel event: what `GET /channels/{cid}/events` returns and what sockets receive. */
export const ChannelEvent = Type.Union([
  Type.Object({
    type: Type.Literal('message.new'),
    ...base,
    message: Message,
    parent: Type.Optional(Message),
  }),
  Type.Object({ type: Type.Literal('message.updated'), ...base, message: Message }),
  Type.Object({ type: Type.Literal('message.deleted'), ...base, message: Message, parent: Type.Optional(Message) }),
  Type.Object({ type: Type.Literal('reaction.new'), ...base, message: Message, reaction: Reaction }),
  Type.Object({ type: Type.Literal('reaction.deleted'), ...base, message: Message, reaction: Reaction }),
  Type.Object({ type: Type.Literal('member.added'), ...base, member: Member, channel: Channel }),
  Type.Object({ type: Type.Literal('member.updated'), ...base, member: Member }),
  Type.Object({ type: Type.Literal('member.removed'), ...base, user_id: UserId, channel: Channel }),
  Type.Object({ type: Type.Literal('channel.updated'), ...base, channel: Channel }),
  /** A poll's tallies changed, or it closed (polls.ts). */
  PollUpdatedEvent,
]);
export type ChannelEvent = Static<typeof ChannelEvent>;

/** Live-only events. */
export const EphemeralEvent = Type.Union([
  Type.Object({
    type: Type.Union([Type.Literal('typing.start'), Type.Literal('typing.stop')]),
    cid: Cid,
    parent_id: Type.Union([Uuid, Type.Null()]),
    user: User,
    created_at: Timestamp,
  }),
  Type.Object({
    type: Type.Literal('read.updated'),
    cid: Cid,
    user: User,
    seq: Seq,
    /** The read mark's revision (`Member.read_rev`): an older one than you hold is stale. */
    read_rev: Type.Optional(Type.Integer({ minimum: 0 })),
    created_at: Timestamp,
  }),
  Type.Object({
    type: Type.Literal('presence.changed'),
    user: User,
    presence: PresenceState,
    /**
     * The space the user is in (features/spaces), null when in none; absent when this change
     * is not about where they are (only online/away/offline moved): keep what you knew.
     */
    space_id: Type.Optional(Type.Union([Uuid, Type.Null()])),
    /**
     * The kinds of device the user is connected on now (empty when offline); absent when this
     * change is not about them (a profile or busy change): keep what you knew.
     */
    devices: Type.Optional(Type.Array(DeviceKind)),
    created_at: Timestamp,
  }),
  Type.Object({
    type: Type.Literal('notification.new'),
    cid: Cid,
    reason: Type.Union([Type.Literal('mention'), Type.Literal('here'), Type.Literal('channel')]),
    message: Message,
    created_at: Timestamp,
  }),
  Type.Object({
    type: Type.Union([Type.Literal('channel.added'), Type.Literal('channel.removed')]),
    cid: Cid,
    channel: Type.Optional(Channel),
    created_at: Timestamp,
  }),
  /**
   * To a guest's own connections: their posting time ran out (`locked: true`; sends now answer
   * GUEST_LOCKED) or an admin moved it (`guest_expires_at`, `locked` as it now stands).
   */
  Type.Object({
    type: Type.Literal('guest.updated'),
    user_id: UserId,
    guest_expires_at: Timestamp,
    locked: Type.Boolean(),
    created_at: Timestamp,
  }),
  /**
   * A ban was made (features/moderation). To the banned user's own connections — an app-wide
   * ban then closes them with 4503 BANNED on every node — and to the app's moderators.
   */
  Type.Object({ type: Type.Literal('user.banned'), user_id: UserId, ban: Ban, created_at: Timestamp }),
  /**
   * A user's profile (name, username, image, profile fields) changed: to every user who shares a
   * channel with them, and to their own connections. Carries no custom field values (`fields`):
   * they depend on who looks, so a client that shows them reads the user again.
   */
  Type.Object({ type: Type.Literal('user.updated'), user: User, created_at: Timestamp }),
  /** A new report in the moderation queue, to the app's moderators and admins. */
  Type.Object({ type: Type.Literal('flag.new'), flag: Flag, created_at: Timestamp }),
  /** A report was reviewed: to its reporter, who learns the outcome (`flag.status`). */
  Type.Object({ type: Type.Literal('flag.reviewed'), flag: Flag, created_at: Timestamp }),
  /**
   * To the exported user's own connections: their data export finished (`status` ready or
   * failed); `export` carries the signed download link (see `POST /v1/users/{id}/exports`).
   */
  Type.Object({
    type: Type.Literal('export.ready'),
    user_id: UserId,
    export: DataExport,
    created_at: Timestamp,
  }),
  ...CallEvents,
  ...SpaceEvents,
  /** The app's custom emoji changed: to every connection of the app (polls.ts). */
  EmojiUpdatedEvent,
  /** A feature flag of the app changed: to every connection of the app (feature-flags.ts). */
  FeatureFlagsUpdatedEvent,
  /** The app's assistant changed: what it offers now, to every connection of the app (assistant.ts). */
  AssistantUpdatedEvent,
  WorkspaceUpdatedEvent,
  ...InboxEvents,
  ...UnreadEvents,
  ...SidebarEvents,
  ...BookmarkEvents,
  ...NoteEvents,
  ...TaskEvents,
  ...CommandEvents,
  ViewersChangedEvent,
]);
export type EphemeralEvent = Static<typeof EphemeralEvent>;

/** Any event frame from the server. */
export type ServerEvent = ChannelEvent | EphemeralEvent;
/** The event of one type: `EventOf<'read.updated'>`. */
export type EventOf<T extends EventType> = Extract<ServerEvent, { type: T }>;
