/**
 * Every frame the server sends a client, as one discriminated union, and `parseServerFrame`,
 * which turns the socket's text into it. The SDK switches on `frame.type` with no casts.
 *
 * Parsing runs on every frame a client receives, so by default it checks the envelope only:
 * the type is known, and the fields a client routes by (`cid`, `seq`, `req_id`, `ok`, the ids
 * of the `user`, `message`, `member` or `channel` it carries) have their types. The bodies
 * themselves come from the server, which builds them from these same schemas. This module uses
 * no schema library at run time, so the SDK's bundle carries no validator; `checkServerFrame`
 * (server-frame-check.ts) checks a whole frame against its TypeBox schema — for tests and for
 * debugging a server that may be out of step (it costs several times more; docs/protocol.md).
 */
import type { ServerEvent } from './events.js';
import type { HelloFrame, ReplyFrame } from './frames.js';

/** Any frame from the server: `hello`, a `reply`, or an event. */
export type ServerFrame = HelloFrame | ReplyFrame | ServerEvent;
/** The `type` of every frame the server sends. */
export type ServerFrameType = ServerFrame['type'];

/** A frame that is not JSON, not an object, of a type this client does not know, or malformed. */
export class ProtocolError extends Error {
  constructor(
    /** `BAD_JSON`, `UNKNOWN_TYPE` (a newer server's frame: ignore it) or `INVALID_FRAME`. */
    readonly code: 'BAD_JSON' | 'UNKNOWN_TYPE' | 'INVALID_FRAME',
    message: string,
    /** The frame's `type`, when it had one. */
    readonly frameType?: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const hasId = (v: unknown) => isObj(v) && isStr(v.id);
const isNullableStr = (v: unknown) => v === null || v === undefined || isStr(v);
const logged = (f: Obj) => isStr(f.cid) && isSeq(f.seq);
const withMessage = (f: Obj) => logged(f) && hasId(f.message);

/** The envelope check of each frame type: what the SDK relies on before it routes a frame. */
const ENVELOPE: Record<ServerFrameType, (f: Obj) => boolean> = {
  hello: (f) => hasId(f.user) && isStr(f.connection_id) && typeof f.protocol_version === 'number' && isObj(f.channels),
  reply: (f) =>
    f.ok === true
      ? isSeq(f.req_id)
      : f.ok === false && (f.req_id === null || isSeq(f.req_id)) && isObj(f.error) && isStr(f.error.code),
  'message.new': withMessage,
  'message.updated': withMessage,
  'message.deleted': withMessage,
  'reaction.new': (f) => withMessage(f) && isObj(f.reaction),
  'reaction.deleted': (f) => withMessage(f) && isObj(f.reaction),
  'member.added': (f) => logged(f) && isObj(f.member) && isStr(f.member.user_id) && hasId(f.channel),
  'member.updated': (f) => logged(f) && isObj(f.member) && isStr(f.member.user_id),
  'member.removed': (f) => logged(f) && isStr(f.user_id) && hasId(f.channel),
  'channel.updated': (f) => logged(f) && hasId(f.channel),
  'poll.updated': (f) => logged(f) && isStr(f.message_id) && isObj(f.poll),
  'emoji.updated': (f) => isStr(f.shortcode) && isStr(f.change),
  'feature_flags.updated': (f) => isStr(f.key) && isStr(f.change),
  'assistant.updated': (f) => isStr(f.smart_replies_mode),
  'workspace.updated': (f) => isStr(f.workspace_id) && isStr(f.name) && isNullableStr(f.logo),
  'typing.start': (f) => isStr(f.cid) && hasId(f.user) && isNullableStr(f.parent_id),
  'typing.stop': (f) => isStr(f.cid) && hasId(f.user) && isNullableStr(f.parent_id),
  'read.updated': (f) => isStr(f.cid) && hasId(f.user) && isSeq(f.seq),
  'presence.changed': (f) => hasId(f.user) && isStr(f.presence),
  'notification.new': (f) => isStr(f.cid) && isStr(f.reason) && hasId(f.message),
  'channel.added': (f) => isStr(f.cid),
  'channel.removed': (f) => isStr(f.cid),
  'guest.updated': (f) => isStr(f.user_id) && isStr(f.guest_expires_at) && typeof f.locked === 'boolean',
  'user.banned': (f) => isStr(f.user_id) && isObj(f.ban),
  'user.updated': (f) => hasId(f.user),
  'flag.new': (f) => hasId(f.flag),
  'flag.reviewed': (f) => hasId(f.flag),
  'export.ready': (f) => isStr(f.user_id) && hasId(f.export),
  'call.ring': (f) => isStr(f.cid) && hasId(f.call) && isStr(f.from_user_id),
  'call.updated': (f) => isStr(f.cid) && hasId(f.call) && isStr(f.change) && isStr(f.user_id),
  'space.updated': (f) => hasId(f.space) && isStr(f.change),
  'space.invitation': (f) => isObj(f.invitation) && isStr(f.invitation.space_id),
  'user_group.updated': (f) => hasId(f.group) && isStr(f.change),
  'inbox.updated': (f) => typeof f.unread_count === 'number' && (f.item === undefined || hasId(f.item)),
  'unread.updated': (f) =>
    typeof f.rev === 'number' && typeof f.total === 'number' && (f.cid === undefined || isStr(f.cid)),
  'sidebar.updated': (f) => isObj(f.sidebar) && Array.isArray(f.sidebar.sections),
  'saved.updated': (f) => isStr(f.change) && hasId(f.saved_item),
  'bookmarks.updated': (f) => isStr(f.cid) && Array.isArray(f.bookmarks),
  'note.updated': (f) => isStr(f.cid) && hasId(f.note),
  'note.deleted': (f) => isStr(f.cid) && hasId(f.note),
  'personal_note.updated': (f) => hasId(f.note),
  'personal_note.deleted': (f) => hasId(f.note),
  'ephemeral.new': (f) => isStr(f.cid) && hasId(f.ephemeral),
  'ephemeral.deleted': (f) => isStr(f.cid) && isStr(f.id),
  'viewers.changed': (f) => isStr(f.cid) && Array.isArray(f.viewers),
  'task.created': (f) => isStr(f.cid) && hasId(f.task),
  'task.updated': (f) => isStr(f.cid) && hasId(f.task),
  'task.deleted': (f) => isStr(f.cid) && hasId(f.task),
  'call.signal': (f) =>
    isStr(f.cid) && isStr(f.call_id) && isStr(f.from_user_id) && isStr(f.from_connection_id) && isObj(f.signal),
};

const envelopes: Partial<Record<string, (f: Obj) => boolean>> = ENVELOPE;

/**
 * Parse one frame from the server: its text (or an already parsed value). Returns the typed
 * frame, or a `ProtocolError` (returned, not thrown: a bad frame is expected input, and the
 * caller decides whether to log, drop or close).
 */
export function parseServerFrame(data: unknown): ServerFrame | ProtocolError {
  let f: unknown = data;
  if (typeof data === 'string') {
    try {
      f = JSON.parse(data);
    } catch {
      return new ProtocolError('BAD_JSON', 'The frame is not JSON');
    }
  }
  const type = isObj(f) ? f.type : undefined;
  if (!isObj(f) || typeof type !== 'string')
    return new ProtocolError('INVALID_FRAME', 'The frame is not an object with a type');
  // Own keys only: a frame typed `toString` or `__proto__` must not find Object's methods.
  const check = Object.hasOwn(envelopes, type) ? envelopes[type] : undefined;
  if (!check) return new ProtocolError('UNKNOWN_TYPE', `Unknown frame type ${type}`, type);
  if (!check(f)) return new ProtocolError('INVALID_FRAME', `Malformed ${type} frame`, type);
  return f as ServerFrame;
}
