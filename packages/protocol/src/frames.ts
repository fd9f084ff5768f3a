import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { CALL_REQUEST_FIELDS } from './calls.js';
import { RunCommandBody } from './commands.js';
import { type PresenceState, User } from './entities.js';
import { CreateReminderBody, ScheduleMessageBody } from './hooks.js';
import { Cid, Seq, UserId, Uuid } from './ids.js';
import { INBOX_REQUEST_FIELDS } from './inbox.js';
import { CreateNoteBody, UpdateNoteBody } from './notes.js';
import { PollVoteBody } from './polls.js';
import { PreviewUrl } from './previews.js';
import { MessageInput, MessageText, ReactionBody } from './rest.js';
import { SEARCH_REQUEST_FIELDS } from './search.js';
import { SIDEBAR_REQUEST_FIELDS } from './sidebar.js';
import { SPACE_REQUEST_FIELDS } from './spaces.js';
import { TASK_REQUEST_FIELDS } from './tasks.js';
import { VIEW_REQUEST_FIELDS } from './viewers.js';

/**
 * The subprotocol a client offers to say it speaks this wire; the server selects it in the 101.
 * Offered beside it, `parley.auth.<token>` carries the token with the upgrade, instead of the
 * auth frame (one round trip less); the server never selects (echoes) that one.
 */
export const WS_PROTOCOL = 'parley';
export const WS_AUTH_PREFIX = 'parley.auth.';

/**
 * The fallback transport, for networks whose proxies refuse WebSocket upgrades: the same frames,
 * server to client as a `text/event-stream` (`GET /v1/sse`, one SSE event per frame, `data:` the
 * frame's JSON; the last event of a stream the server closes is `event: close` with
 * `{"code","reason"}`, the WebSocket close code), client to server as POSTs of frame batches
 * (`POST /v1/sse/{connection_id}`, the id of the stream's hello). See docs/protocol/fallback.md.
 */
export const SSE_PATH = '/v1/sse';
/** Most frames in one POST; a client sends more as further POSTs, one at a time, in order. */
export const MAX_SSE_POST_FRAMES = 256;
/** The body of `POST /v1/sse/{connection_id}`: frames, handled in order as WebSocket frames are. */
export const SsePostBody = Type.Object(
  {
    frames: Type.Array(Type.Object({}, { additionalProperties: true }), {
      minItems: 1,
      maxItems: MAX_SSE_POST_FRAMES,
    }),
  },
  { additionalProperties: false },
);
export type SsePostBody = Static<typeof SsePostBody>;
/** The path of `POST /v1/sse/{connection_id}`. */
export const SsePostParams = Type.Object({ connection_id: Type.String({ minLength: 1, maxLength: 64 }) });
/** The event a stream ends with when the server closes it: a WebSocket close code and reason. */
export const SseCloseData = Type.Object({ code: Type.Integer(), reason: Type.String() });
export type SseCloseData = Static<typeof SseCloseData>;

/** The first frame a client sends after the socket opens (unless the token came with the upgrade). */
export const AuthFrame = Type.Object(
  { type: Type.Literal('auth'), token: Type.String({ minLength: 1, maxLength: 8192 }) },
  { additionalProperties: false },
);
export type AuthFrame = Static<typeof AuthFrame>;

/** The server's answer to a good auth frame. */
export const HelloFrame = Type.Object({
  type: Type.Literal('hello'),
  user: User,
  connection_id: Type.String(),
  protocol_version: Type.Integer(),
  /** The `last_seq` of each channel the user is a member of at connect time. */
  channels: Type.Record(Cid, Seq),
  /**
   * The deployment's data epoch: it changes when the data is restored from a backup. A client
   * that sees it change drops every seq it knew (and what it kept with them) and loads afresh:
   * the restored channels may reuse seqs it saw before the restore.
   */
  epoch: Type.Optional(Type.String()),
  /**
   * Every feature flag of the app, evaluated for this user (as `GET /v1/me/flags` answers), so a
   * client knows its flags without a request; `feature_flags.updated` carries each change's `value`.
   */
  flags: Type.Optional(Type.Record(Type.String(), Type.Boolean())),
});
export type HelloFrame = Static<typeof HelloFrame>;

/** Most user ids in one `presence.subscribe` / `presence.unsubscribe`. */
export const MAX_PRESENCE_IDS = 200;
/** Most users one connection may follow the presence of; a subscribe beyond it is refused whole. */
export const MAX_PRESENCE_SUBSCRIPTIONS = 1_000;
/** Largest page of `channel.members`. */
export const MAX_MEMBERS_PAGE = 500;
const PresenceIds = Type.Array(UserId, { minItems: 1, maxItems: MAX_PRESENCE_IDS });

const ReqId = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
/** The longest resync a client may report (10 minutes); a longer one is not a resync but a stall. */
export const RESYNC_REPORT_MAX_MS = 600_000;

const req = <P extends Record<string, TSchema>>(type: string, props: P) =>
  Type.Object({ type: Type.Literal(type), req_id: ReqId, ...props }, { additionalProperties: false });

/** Every request a client may send after auth, by type. Each is answered with a `reply`. */
export const CLIENT_REQUESTS = {
  'message.send': req('message.send', { cid: Cid, message: MessageInput }),
  'message.update': req('message.update', {
    message: Type.Object({ id: Uuid, text: MessageText }, { additionalProperties: false }),
  }),
  'message.delete': req('message.delete', { message_id: Uuid }),
  /** Remove a link preview from your message (its `url`); it does not come back, even after an edit. */
  'preview.remove': req('preview.remove', { message_id: Uuid, url: PreviewUrl }),
  'reaction.add': req('reaction.add', { message_id: Uuid, reaction: ReactionBody }),
  /**
   * The frame's own `type` names the request, so the reaction type travels as
   * `reaction: {type}` (as in reaction.add) or as `reaction_type`.
   */
  'reaction.remove': req('reaction.remove', {
    message_id: Uuid,
    reaction: Type.Optional(ReactionBody),
    reaction_type: Type.Optional(ReactionBody.properties.type),
  }),
  'typing.start': req('typing.start', { cid: Cid, parent_id: Type.Optional(Type.Union([Uuid, Type.Null()])) }),
  'typing.stop': req('typing.stop', { cid: Cid, parent_id: Type.Optional(Type.Union([Uuid, Type.Null()])) }),
  'read.mark': req('read.mark', { cid: Cid, seq: Seq }),
  /**
   * The channel you have open now, kept on the server so it follows you to other devices
   * (`PUT /v1/me/last-channel`); sent on the socket so a tab whose session just ended asks
   * nothing over HTTP.
   */
  'last_channel.set': req('last_channel.set', { cid: Cid }),
  'channel.watch': req('channel.watch', { cid: Cid, since: Type.Optional(Seq) }),
  'channel.unwatch': req('channel.unwatch', { cid: Cid }),
  /**
   * Say which channel this connection shows the user now (`null`: none, the view is hidden or
   * closed). Answered with who views it; the channel's members and watchers get
   * `viewers.changed`. Only a channel you may read; one per connection, ended by its close.
   */
  'channel.view': req('channel.view', VIEW_REQUEST_FIELDS),
  /**
   * Choose away, online or busy. `busy` pauses notifications until `until` (ISO time, in the
   * future), or until set back; `online` ends a chosen busy (a DND window keeps you busy).
   */
  'presence.set': req('presence.set', {
    presence: Type.Union([Type.Literal('online'), Type.Literal('away'), Type.Literal('busy')]),
    until: Type.Optional(Type.String({ format: 'date-time' })),
  }),
  'search.messages': req('search.messages', SEARCH_REQUEST_FIELDS),
  ping: req('ping', {}),
  /**
   * After a reconnect (the connect URL's `reconnect=1`), how long the client took to catch up:
   * from its hello to its last resync request answered, in ms. Counted once per connection, in
   * the server's connection-stability figures (`parley_resync_seconds`, usage analytics).
   */
  'connection.resynced': req('connection.resynced', {
    ms: Type.Integer({ minimum: 0, maximum: RESYNC_REPORT_MAX_MS }),
  }),
  /**
   * Receive `presence.changed` for these users (of the caller's app) from now on, on this
   * connection; at most `MAX_PRESENCE_IDS` per request and `MAX_PRESENCE_SUBSCRIPTIONS` per
   * connection. Answered with their presence now. Subscriptions end with the connection.
   */
  'presence.subscribe': req('presence.subscribe', { user_ids: PresenceIds }),
  /** Stop receiving `presence.changed` for these users on this connection. */
  'presence.unsubscribe': req('presence.unsubscribe', { user_ids: PresenceIds }),
  /** One page of a channel's members, ordered by user id: `cursor` is the `next` of the page before. */
  'channel.members': req('channel.members', {
    cid: Cid,
    cursor: Type.Optional(UserId),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_MEMBERS_PAGE })),
  }),
  /** Start a call in a channel and ring its other members (docs/calls.md); you join it on this device. */
  'call.start': req('call.start', CALL_REQUEST_FIELDS['call.start']),
  /** Answer a ring on this device: you join, and your other devices stop ringing. */
  'call.accept': req('call.accept', CALL_REQUEST_FIELDS['call.accept']),
  /** Decline a ring (on every device). */
  'call.decline': req('call.decline', CALL_REQUEST_FIELDS['call.decline']),
  /** The caller stops ringing before anyone answered. */
  'call.cancel': req('call.cancel', CALL_REQUEST_FIELDS['call.cancel']),
  /** Join a channel's live call without a ring (or move it to this device). */
  'call.join': req('call.join', CALL_REQUEST_FIELDS['call.join']),
  /** Hang up: leave the call; it ends when fewer than two are left. */
  'call.leave': req('call.leave', CALL_REQUEST_FIELDS['call.leave']),
  /** End the call for everyone in it. */
  'call.end': req('call.end', CALL_REQUEST_FIELDS['call.end']),
  /** Ring more members of the channel into a live call. */
  'call.invite': req('call.invite', CALL_REQUEST_FIELDS['call.invite']),
  /** Relay an SDP offer/answer or ICE candidate to one other joined participant's device. */
  'call.signal': req('call.signal', CALL_REQUEST_FIELDS['call.signal']),
  /** Receive `space.updated` for every space of the app on this connection; answered with the spaces now. */
  'spaces.watch': req('spaces.watch', SPACE_REQUEST_FIELDS['spaces.watch']),
  'spaces.unwatch': req('spaces.unwatch', SPACE_REQUEST_FIELDS['spaces.unwatch']),
  /** Go to a space (leaving the one you are in): you join its room channel. SPACE_FULL when full. */
  'space.enter': req('space.enter', SPACE_REQUEST_FIELDS['space.enter']),
  /** Leave the space you are in (and its room channel). */
  'space.leave': req('space.leave', SPACE_REQUEST_FIELDS['space.leave']),
  /** Ask a user to come to your space (you must be in it). */
  'space.teleport': req('space.teleport', SPACE_REQUEST_FIELDS['space.teleport']),
  /** Answer a teleport to a space: accepting moves you there. */
  'space.teleport.answer': req('space.teleport.answer', SPACE_REQUEST_FIELDS['space.teleport.answer']),
  /** Knock on a space whose meeting is going on: the people inside are asked to let you in. */
  'space.knock': req('space.knock', SPACE_REQUEST_FIELDS['space.knock']),
  /** From inside the space: admit (moves them in) or turn away a knocking user. */
  'space.knock.answer': req('space.knock.answer', SPACE_REQUEST_FIELDS['space.knock.answer']),
  /** Remind me about a message (or a note) later: `remind_at`, or `in` (`20m`, `1h`, `tomorrow`, `N[mhd]`). */
  'reminder.create': req('reminder.create', CreateReminderBody.properties),
  /** My pending reminders, soonest first. */
  'reminder.list': req('reminder.list', {}),
  'reminder.cancel': req('reminder.cancel', { id: Uuid }),
  /** Send a message later (by the job queue, exactly once). */
  'message.schedule': req('message.schedule', ScheduleMessageBody.properties),
  /** Vote in a poll: your whole choice, replacing an earlier one. */
  'poll.vote': req('poll.vote', { message_id: Uuid, option_ids: PollVoteBody.properties.option_ids }),
  /** Take back your vote in a poll. */
  'poll.unvote': req('poll.unvote', { message_id: Uuid }),
  /** Close a poll (its author or a moderator); its results stay. */
  'poll.close': req('poll.close', { message_id: Uuid }),
  /** A page of my activity inbox (`filter`, `limit`, `cursor`). */
  'inbox.list': req('inbox.list', INBOX_REQUEST_FIELDS['inbox.list']),
  /** Mark one inbox item read (or unread again). */
  'inbox.read': req('inbox.read', INBOX_REQUEST_FIELDS['inbox.read']),
  /** Mark every inbox item read. */
  'inbox.read_all': req('inbox.read_all', INBOX_REQUEST_FIELDS['inbox.read_all']),
  /** Create a personal note, or a channel note with `cid` (as `POST /v1/notes`). */
  'note.create': req('note.create', CreateNoteBody.properties),
  /** Edit a note from `base_version` (as `PATCH /v1/notes/{id}`): merged, or CONFLICT with both texts. */
  'note.update': req('note.update', { id: Uuid, ...UpdateNoteBody.properties }),
  'note.delete': req('note.delete', { id: Uuid }),
  /** Follow (default) or stop following (`subscribed: false`) a channel's notes. */
  'note.subscribe': req('note.subscribe', { cid: Cid, subscribed: Type.Optional(Type.Boolean()) }),
  /** My sidebar sections (as `GET /v1/me/sidebar`). */
  'sidebar.get': req('sidebar.get', SIDEBAR_REQUEST_FIELDS['sidebar.get']),
  'sidebar.section.create': req('sidebar.section.create', SIDEBAR_REQUEST_FIELDS['sidebar.section.create']),
  'sidebar.section.update': req('sidebar.section.update', SIDEBAR_REQUEST_FIELDS['sidebar.section.update']),
  'sidebar.section.delete': req('sidebar.section.delete', SIDEBAR_REQUEST_FIELDS['sidebar.section.delete']),
  /** Put the sections in this order (every one of mine, each once). */
  'sidebar.reorder': req('sidebar.reorder', SIDEBAR_REQUEST_FIELDS['sidebar.reorder']),
  /** Move a channel into a section (at `position`), or back to its group (`section_id: null`). */
  'sidebar.place': req('sidebar.place', SIDEBAR_REQUEST_FIELDS['sidebar.place']),
  /** Star (default) or unstar (`starred: false`) a channel. */
  'sidebar.star': req('sidebar.star', SIDEBAR_REQUEST_FIELDS['sidebar.star']),
  /** Save a message, with an optional due time (a reminder). */
  'saved.create': req('saved.create', SIDEBAR_REQUEST_FIELDS['saved.create']),
  /** A page of my saved items. */
  'saved.list': req('saved.list', SIDEBAR_REQUEST_FIELDS['saved.list']),
  /** Complete a saved item, or mark it not done. */
  'saved.update': req('saved.update', SIDEBAR_REQUEST_FIELDS['saved.update']),
  'saved.remove': req('saved.remove', SIDEBAR_REQUEST_FIELDS['saved.remove']),
  /** Turn a message into a task (as `POST /v1/tasks`). */
  'task.create': req('task.create', TASK_REQUEST_FIELDS['task.create']),
  /** Reassign, move the due time, complete or reopen a task (as `PATCH /v1/tasks/{id}`). */
  'task.update': req('task.update', TASK_REQUEST_FIELDS['task.update']),
  'task.delete': req('task.delete', TASK_REQUEST_FIELDS['task.delete']),
  /** A page of the tasks assigned to me (as `GET /v1/me/tasks`). */
  'task.list': req('task.list', TASK_REQUEST_FIELDS['task.list']),
  /** Run a slash command in a channel (as `POST /v1/channels/{cid}/commands/run`). */
  'command.run': req('command.run', { cid: Cid, ...RunCommandBody.properties }),
} as const;

export type ClientRequestType = keyof typeof CLIENT_REQUESTS;
export type ClientRequest<T extends ClientRequestType = ClientRequestType> = Static<(typeof CLIENT_REQUESTS)[T]>;

/** The answer to a request frame. */
export type ReplyFrame =
  | ({ type: 'reply'; req_id: number; ok: true } & Record<string, unknown>)
  | { type: 'reply'; req_id: number | null; ok: false; error: { code: string; message: string; details?: unknown } };

/** A presence state as sent in `presence.set`. */
export type SettablePresence = Static<typeof PresenceState>;
