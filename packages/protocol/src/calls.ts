/**
 * Calls: the wire shapes of WebRTC voice and video calls over the chat socket (docs/calls.md).
 *
 * A call belongs to a channel. Its life is driven by socket requests (`call.start`,
 * `call.accept`, `call.decline`, `call.cancel`, `call.join`, `call.leave`, `call.end`,
 * `call.invite`) and told by events: `call.ring` to every device of an invitee, `call.updated`
 * to the channel's members on every change, and `call.signal` — an SDP offer or answer or an
 * ICE candidate — relayed from one joined participant's device to another's, never to anyone
 * else. Peers connect in a mesh: the one who joins sends an offer to each who is already in.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Cid, Timestamp, UserId, Uuid } from './ids.js';

/** What a call started with; anyone may still turn a camera on. */
export const CALL_KINDS = ['audio', 'video'] as const;
export const CallKind = Type.Union(CALL_KINDS.map((k) => Type.Literal(k)));
export type CallKind = Static<typeof CallKind>;

/**
 * `ringing` until someone answers, `active` while two or more talk; then one of the ends:
 * `ended` (it was answered), `missed` (nobody answered in time), `declined` (every invitee
 * said no), `cancelled` (the caller hung up before an answer), `busy` (every invitee was in
 * another call).
 */
export const CALL_STATES = ['ringing', 'active', 'ended', 'missed', 'declined', 'cancelled', 'busy'] as const;
export const CallState = Type.Union(CALL_STATES.map((s) => Type.Literal(s)));
export type CallState = Static<typeof CallState>;
/** The states a call ends in. */
export const CALL_END_STATES: readonly CallState[] = ['ended', 'missed', 'declined', 'cancelled', 'busy'];

/** A participant's part: rung (`ringing`), in (`joined`), out again (`left`), or not answered. */
export const PARTICIPANT_STATES = ['ringing', 'joined', 'left', 'declined', 'missed', 'busy'] as const;
export const CallParticipantState = Type.Union(PARTICIPANT_STATES.map((s) => Type.Literal(s)));
export type CallParticipantState = Static<typeof CallParticipantState>;

export const CallParticipant = Type.Object({
  user_id: UserId,
  state: CallParticipantState,
  /** Whether they were rung (false for the caller and for who joined on their own). */
  invited: Type.Boolean(),
  /** The device (socket `connection_id`) they are in the call with, while joined. */
  connection_id: Type.Union([Type.String(), Type.Null()]),
  invited_at: Timestamp,
  joined_at: Type.Union([Timestamp, Type.Null()]),
  left_at: Type.Union([Timestamp, Type.Null()]),
});
export type CallParticipant = Static<typeof CallParticipant>;

export const Call = Type.Object({
  id: Uuid,
  cid: Cid,
  created_by: UserId,
  kind: CallKind,
  state: CallState,
  created_at: Timestamp,
  /** When a second participant joined (talk time starts). */
  started_at: Type.Union([Timestamp, Type.Null()]),
  ended_at: Type.Union([Timestamp, Type.Null()]),
  /** Talk time in ms, from `started_at` to `ended_at`; null until it ended, or if nobody answered. */
  duration_ms: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  participants: Type.Array(CallParticipant),
});
export type Call = Static<typeof Call>;

/** What changed, in a `call.updated`. */
export const CALL_CHANGES = [
  'started',
  'invited',
  'accepted',
  'declined',
  'busy',
  'joined',
  'left',
  'missed',
  'cancelled',
  'ended',
] as const;
export const CallChange = Type.Union(CALL_CHANGES.map((c) => Type.Literal(c)));
export type CallChange = Static<typeof CallChange>;

/** Largest SDP accepted in a signal (a video offer with simulcast is ~6–10 KB). */
export const MAX_SDP_BYTES = 32 * 1024;
/** Largest ICE candidate line. */
export const MAX_CANDIDATE_CHARS = 2048;
/** Most users one `call.invite` names. */
export const MAX_CALL_INVITE = 16;

/** One WebRTC signalling message, relayed as it is to one peer. */
export const CallSignal = Type.Union([
  Type.Object(
    {
      type: Type.Union([Type.Literal('offer'), Type.Literal('answer')]),
      sdp: Type.String({ minLength: 1, maxLength: MAX_SDP_BYTES }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('candidate'),
      /** null: the end of this peer's candidates. */
      candidate: Type.Union([
        Type.Object(
          {
            candidate: Type.String({ maxLength: MAX_CANDIDATE_CHARS }),
            sdp_mid: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
            sdp_m_line_index: Type.Union([Type.Integer({ minimum: 0, maximum: 255 }), Type.Null()]),
            username_fragment: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
          },
          { additionalProperties: false },
        ),
        Type.Null(),
      ]),
    },
    { additionalProperties: false },
  ),
]);
export type CallSignal = Static<typeof CallSignal>;

/** The fields of the call request frames (frames.ts wraps them with `type` and `req_id`). */
export const CALL_REQUEST_FIELDS = {
  'call.start': {
    cid: Cid,
    kind: CallKind,
    /** Who to ring: members of the channel; default every other member, if they fit the mesh limit. */
    invite: Type.Optional(Type.Array(UserId, { minItems: 1, maxItems: MAX_CALL_INVITE })),
  },
  'call.accept': { call_id: Uuid },
  'call.decline': { call_id: Uuid },
  'call.cancel': { call_id: Uuid },
  'call.join': { call_id: Uuid },
  'call.leave': { call_id: Uuid },
  'call.end': { call_id: Uuid },
  'call.invite': { call_id: Uuid, user_ids: Type.Array(UserId, { minItems: 1, maxItems: MAX_CALL_INVITE }) },
  'call.signal': {
    call_id: Uuid,
    to_user_id: UserId,
    signal: CallSignal,
  },
} as const;

/** `{call}`: the answer of every call request but `call.signal`. */
export const CallResponse = Type.Object({ call: Call });
export type CallResponse = Static<typeof CallResponse>;

/** `GET /v1/calls`: the caller's calls, newest first. */
export const CallsQuery = Type.Object(
  {
    cid: Type.Optional(Cid),
    /** Only calls in these end states, comma-separated (e.g. `missed`). */
    state: Type.Optional(Type.String({ pattern: '^[a-z]+(,[a-z]+)*$', maxLength: 100 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    /** The `next` of the previous page. */
    before: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);
export type CallsQuery = Static<typeof CallsQuery>;

export const CallsResponse = Type.Object({
  calls: Type.Array(Call),
  next: Type.Union([Uuid, Type.Null()]),
});
export type CallsResponse = Static<typeof CallsResponse>;

/** One entry of `RTCConfiguration.iceServers`. */
export const IceServer = Type.Object({
  urls: Type.Array(Type.String()),
  username: Type.Optional(Type.String()),
  credential: Type.Optional(Type.String()),
});
export type IceServer = Static<typeof IceServer>;

/** `GET /v1/calls/ice-servers`: STUN and TURN servers, TURN with a credential that expires. */
export const IceServersResponse = Type.Object({
  ice_servers: Type.Array(IceServer),
  /** When the TURN credential stops working; null without TURN. */
  expires_at: Type.Union([Timestamp, Type.Null()]),
});
export type IceServersResponse = Static<typeof IceServersResponse>;

const at = { created_at: Timestamp };

/** The call events (events.ts joins them to the live-only events). */
export const CallEvents = [
  /** To every device of an invitee: ring until `expires_at` or a `call.updated` ends it for you. */
  Type.Object({
    type: Type.Literal('call.ring'),
    cid: Cid,
    call: Call,
    from_user_id: UserId,
    expires_at: Timestamp,
    ...at,
  }),
  /** To the channel's members: the call as it now stands, what changed and who did it (and on which device). */
  Type.Object({
    type: Type.Literal('call.updated'),
    cid: Cid,
    call: Call,
    change: CallChange,
    user_id: UserId,
    connection_id: Type.Union([Type.String(), Type.Null()]),
    ...at,
  }),
  /** To one device of one participant: a peer's SDP or ICE candidate. */
  Type.Object({
    type: Type.Literal('call.signal'),
    cid: Cid,
    call_id: Uuid,
    from_user_id: UserId,
    from_connection_id: Type.String(),
    signal: CallSignal,
    ...at,
  }),
] as const;

/**
 * Talk time in whole seconds: elapsed seconds counted down (floor), as a running call clock
 * shows them. The one rounding rule for every display of a call's length — the channel's
 * "Call ended · …" message and the call history's clock — so one call never reads "5 s" in
 * one place and "0:04" in another.
 */
export function callSeconds(ms: number): number {
  return Math.max(0, Math.floor(ms / 1000));
}

/** Talk time as a clock: 0:07, 12:04, 1:02:03 (`callSeconds`). */
export function formatCallClock(ms: number): string {
  const s = callSeconds(ms);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Talk time in words, as the "Call ended · …" message says it: 45 s, 12 min, 1 h 5 min (`callSeconds`, then whole minutes). */
export function formatCallLength(ms: number): string {
  const s = callSeconds(ms);
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
}
