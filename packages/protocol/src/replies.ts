/**
 * What the server answers with, named once: the REST response bodies' static types and the
 * reply of every socket request (`REQUEST_REPLIES`), so the server's handlers and the SDK's
 * `request()` are typed by the same map. REST routes and socket requests that run the same
 * action answer with the same body.
 *
 * The REST response schemas themselves live in `rest.ts`; this module adds the ones that
 * were restated inline in routes, and the types of all of them.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { CallResponse } from './calls.js';
import { RunCommandResponse } from './commands.js';
import { Channel, Member, Message, PresenceState, Reaction } from './entities.js';
import type { ClientRequest, ClientRequestType } from './frames.js';
import { ReminderResponse, RemindersResponse, ScheduledResponse } from './hooks.js';
import { UserId, Uuid } from './ids.js';
import { InboxCountResponse, InboxItemResponse, InboxResponse } from './inbox.js';
import { NoteResponse, NoteSubscriptionResponse } from './notes.js';
import { PollResponse } from './polls.js';
import { LastChannelResponse } from './reads.js';
import * as rest from './rest.js';
import { SearchMessagesResponse } from './search.js';
import { SavedItemResponse, SavedItemsResponse, SidebarResponse } from './sidebar.js';
import { SpaceInvitationResponse, SpaceLeftResponse, SpaceResponse, SpacesResponse } from './spaces.js';
import { TaskResponse, TasksResponse } from './tasks.js';
import { DeviceKind, ViewersResponse } from './viewers.js';

// ---- REST response bodies: the schemas of rest.ts, with their types ----------------------

/** `{message}`: one message (send, edit, delete, pin, one message by id). */
export const MessageResponse = rest.MessageResponse;
export type MessageResponse = Static<typeof MessageResponse>;
/** `{messages}`: a page of history, thread replies, pins. */
export const MessagesResponse = rest.MessagesResponse;
export type MessagesResponse = Static<typeof MessagesResponse>;
/** `{channels, next}`: one page of a channel query. */
export const QueryChannelsResponse = rest.QueryChannelsResponse;
export type QueryChannelsResponse = Static<typeof QueryChannelsResponse>;
/** `{users}`: users found or upserted. */
export const UsersResponse = rest.UsersResponse;
export type UsersResponse = Static<typeof UsersResponse>;
/** `{user}`: one user (status, profile). */
export const UserResponse = rest.UserResponse;
export type UserResponse = Static<typeof UserResponse>;
/** `{user, unread}`: the caller and their unread totals. */
export const MeResponse = rest.MeResponse;
export type MeResponse = Static<typeof MeResponse>;

// ---- answers that routes used to restate inline --------------------------------------------

/** `{message, reaction}`: a reaction added. */
export const ReactionResponse = Type.Object({ message: Message, reaction: Reaction });
export type ReactionResponse = Static<typeof ReactionResponse>;
/** `{member}`: one membership changed. */
export const MemberResponse = Type.Object({ member: Member });
export type MemberResponse = Static<typeof MemberResponse>;
/** `{removed}`: the users taken out of a channel. */
export const RemovedResponse = Type.Object({ removed: Type.Array(Type.String()) });
export type RemovedResponse = Static<typeof RemovedResponse>;
/** A read mark moved (`read.mark`, `POST …/read`, `POST …/unread`): the mark and the counts at it. */
export const ReadStateResponse = Type.Composite([rest.ReadResponse, Type.Object({ mention_count: Type.Integer() })]);
export type ReadStateResponse = Static<typeof ReadStateResponse>;

// ---- socket replies ----------------------------------------------------------------------

/**
 * `channel.watch`: the channel with its members (only on a first watch, without `since`: a
 * resync with `since` gets what changed as events, and pages members with `channel.members`), and whether the client must reload it (it
 * missed more than the server replays). A watch the server could not subscribe answers
 * `{reload: true}` alone.
 */
export const WatchResponse = Type.Union([
  Type.Object({ channel: Channel, members: Type.Optional(Type.Array(Member)), reload: Type.Boolean() }),
  Type.Object({ reload: Type.Literal(true) }),
]);
export type WatchResponse = Static<typeof WatchResponse>;
/** `presence.set`: the caller's presence now. */
export const PresenceResponse = Type.Object({ presence: PresenceState });
/** `ping`: the server's clock, in ms. */
export const PongResponse = Type.Object({ pong: Type.Integer() });
/** `presence.subscribe`: the presence now of each user asked for (unknown users read `offline`). */
export const PresenceSubscribeResponse = Type.Object({
  presence: Type.Record(UserId, PresenceState),
  /** The space each user asked for is in (null: none), for users the caller may see. */
  spaces: Type.Optional(Type.Record(UserId, Type.Union([Uuid, Type.Null()]))),
  /** The kinds of device each user asked for is connected on now (online, away or busy ones only). */
  devices: Type.Optional(Type.Record(UserId, Type.Array(DeviceKind))),
});
export type PresenceSubscribeResponse = Static<typeof PresenceSubscribeResponse>;
/** `channel.members`: one page of members and the cursor of the next (null at the end). */
export const MembersPageResponse = Type.Object({
  members: Type.Array(Member),
  next: Type.Union([UserId, Type.Null()]),
});
export type MembersPageResponse = Static<typeof MembersPageResponse>;
/** A request answered with nothing but `ok`. */
export const EmptyReply = Type.Object({});

/** The body of the reply to each socket request (beside `type`, `req_id` and `ok`). */
export const REQUEST_REPLIES = {
  'message.send': MessageResponse,
  'message.update': MessageResponse,
  'message.delete': MessageResponse,
  'preview.remove': MessageResponse,
  'reaction.add': ReactionResponse,
  'reaction.remove': MessageResponse,
  'typing.start': EmptyReply,
  'typing.stop': EmptyReply,
  'read.mark': ReadStateResponse,
  'last_channel.set': LastChannelResponse,
  'channel.watch': WatchResponse,
  'channel.unwatch': EmptyReply,
  'channel.view': ViewersResponse,
  'presence.set': PresenceResponse,
  'search.messages': SearchMessagesResponse,
  ping: PongResponse,
  'connection.resynced': EmptyReply,
  'presence.subscribe': PresenceSubscribeResponse,
  'presence.unsubscribe': EmptyReply,
  'channel.members': MembersPageResponse,
  'call.start': CallResponse,
  'call.accept': CallResponse,
  'call.decline': CallResponse,
  'call.cancel': CallResponse,
  'call.join': CallResponse,
  'call.leave': CallResponse,
  'call.end': CallResponse,
  'call.invite': CallResponse,
  'call.signal': EmptyReply,
  'reminder.create': ReminderResponse,
  'reminder.list': RemindersResponse,
  'reminder.cancel': ReminderResponse,
  'message.schedule': ScheduledResponse,
  'inbox.list': InboxResponse,
  'inbox.read': InboxItemResponse,
  'inbox.read_all': InboxCountResponse,
  'note.create': NoteResponse,
  'command.run': RunCommandResponse,
  'note.update': NoteResponse,
  'note.delete': NoteResponse,
  'note.subscribe': NoteSubscriptionResponse,
  'task.create': TaskResponse,
  'task.update': TaskResponse,
  'task.delete': TaskResponse,
  'task.list': TasksResponse,
  'sidebar.get': SidebarResponse,
  'sidebar.section.create': SidebarResponse,
  'sidebar.section.update': SidebarResponse,
  'sidebar.section.delete': SidebarResponse,
  'sidebar.reorder': SidebarResponse,
  'sidebar.place': SidebarResponse,
  'sidebar.star': SidebarResponse,
  'saved.create': SavedItemResponse,
  'saved.list': SavedItemsResponse,
  'saved.update': SavedItemResponse,
  'saved.remove': SavedItemResponse,
  'spaces.watch': SpacesResponse,
  'spaces.unwatch': EmptyReply,
  'space.enter': SpaceResponse,
  'space.leave': SpaceLeftResponse,
  'space.teleport': SpaceInvitationResponse,
  'space.teleport.answer': SpaceInvitationResponse,
  'space.knock': SpaceInvitationResponse,
  'space.knock.answer': SpaceInvitationResponse,
  'poll.vote': PollResponse,
  'poll.unvote': PollResponse,
  'poll.close': PollResponse,
} as const satisfies Record<ClientRequestType, TSchema>;

/** The fields of a request frame of type `K`, without `type` and `req_id`. */
export type RequestBody<K extends ClientRequestType> = Omit<ClientRequest<K>, 'type' | 'req_id'>;
/** The body of the reply to a request of type `K`. */
export type ReplyBody<K extends ClientRequestType> = Static<(typeof REQUEST_REPLIES)[K]>;
/** Every socket request with what it sends and what it gets back: `RequestMap['message.send']['reply']`. */
export type RequestMap = { [K in ClientRequestType]: { req: RequestBody<K>; reply: ReplyBody<K> } };
