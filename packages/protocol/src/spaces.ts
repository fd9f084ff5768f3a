/**
 * Spaces: the virtual office (docs/protocol/spaces-and-calls.md, "Spaces"). An app's admins lay out spaces —
 * desks, meeting rooms, lounges — and people move between them. A user is in at most one
 * space at a time; being there makes them a member of the space's room channel (a `group`
 * channel, `group:space-<space id>`), whose call is the space's call.
 *
 * Live: `space.updated` (a space as it now stands, with who is in it) reaches connections that
 * sent `spaces.watch`; a user's move also travels in their `presence.changed` (`space_id`), so
 * whoever follows their presence sees where they are. `space.invitation` carries teleports
 * (come to my space) and knocks (let me into your meeting) to the people who answer them.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Cid, Timestamp, UserId, Uuid } from './ids.js';
import { NameText } from './text.js';

/** What a space is for; a hint to clients (icons, layout), not a rule. */
export const SPACE_KINDS = ['desk', 'meeting_room', 'lounge', 'kitchen', 'focus', 'other'] as const;
export const SpaceKind = Type.Union(SPACE_KINDS.map((k) => Type.Literal(k)));
export type SpaceKind = Static<typeof SpaceKind>;

/** `free`: nobody in it; `in_use`: someone in it; `in_meeting`: a call is going on in its room. */
export const SPACE_STATUSES = ['free', 'in_use', 'in_meeting'] as const;
export const SpaceStatus = Type.Union(SPACE_STATUSES.map((s) => Type.Literal(s)));
export type SpaceStatus = Static<typeof SpaceStatus>;

/** Largest capacity a space may have (and most spaces an app may list in one answer). */
export const MAX_SPACE_CAPACITY = 500;
export const MAX_SPACES = 500;

export const SpaceOccupant = Type.Object({ user_id: UserId, entered_at: Timestamp });
export type SpaceOccupant = Static<typeof SpaceOccupant>;

export const Space = Type.Object({
  id: Uuid,
  name: Type.String(),
  kind: SpaceKind,
  /** Most people in it at once; null: no limit. */
  capacity: Type.Union([Type.Integer({ minimum: 1, maximum: MAX_SPACE_CAPACITY }), Type.Null()]),
  /** Where it sits in the office: spaces are listed by `position`, then by name. */
  position: Type.Integer({ minimum: 0 }),
  status: SpaceStatus,
  /** The room channel, once someone first entered (null until then). */
  cid: Type.Union([Cid, Type.Null()]),
  /** Who is in it, first in first. */
  occupants: Type.Array(SpaceOccupant),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Space = Static<typeof Space>;

const Name = NameText({ maxLength: 80 });
const Capacity = Type.Union([Type.Integer({ minimum: 1, maximum: MAX_SPACE_CAPACITY }), Type.Null()]);
const Position = Type.Integer({ minimum: 0, maximum: 1_000_000 });

/** `POST /v1/spaces` (app admins): a new space. */
export const CreateSpaceBody = Type.Object(
  {
    name: Name,
    kind: Type.Optional(SpaceKind),
    capacity: Type.Optional(Capacity),
    /** Default: after the last space. */
    position: Type.Optional(Position),
  },
  { additionalProperties: false },
);
export type CreateSpaceBody = Static<typeof CreateSpaceBody>;

/** `PATCH /v1/spaces/{id}` (app admins). A lower capacity does not move anyone out. */
export const UpdateSpaceBody = Type.Object(
  {
    name: Type.Optional(Name),
    kind: Type.Optional(SpaceKind),
    capacity: Type.Optional(Capacity),
    position: Type.Optional(Position),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateSpaceBody = Static<typeof UpdateSpaceBody>;

/** `POST /v1/spaces/arrange` (app admins): the office's order; spaces not named keep their place after these. */
export const ArrangeSpacesBody = Type.Object(
  { order: Type.Array(Uuid, { minItems: 1, maxItems: MAX_SPACES, uniqueItems: true }) },
  { additionalProperties: false },
);
export type ArrangeSpacesBody = Static<typeof ArrangeSpacesBody>;

/** `{space}`. */
export const SpaceResponse = Type.Object({ space: Space });
export type SpaceResponse = Static<typeof SpaceResponse>;
/** `{spaces}`: the app's spaces in office order. */
export const SpacesResponse = Type.Object({ spaces: Type.Array(Space) });
export type SpacesResponse = Static<typeof SpacesResponse>;
/** `space.leave`: the space left (null when you were in none). */
export const SpaceLeftResponse = Type.Object({ space: Type.Union([Space, Type.Null()]) });
export type SpaceLeftResponse = Static<typeof SpaceLeftResponse>;

export const SPACE_INVITATION_KINDS = ['teleport', 'knock'] as const;
export const SpaceInvitationKind = Type.Union(SPACE_INVITATION_KINDS.map((k) => Type.Literal(k)));
export type SpaceInvitationKind = Static<typeof SpaceInvitationKind>;
export const SPACE_INVITATION_STATES = ['pending', 'accepted', 'declined', 'expired', 'cancelled'] as const;
export const SpaceInvitationState = Type.Union(SPACE_INVITATION_STATES.map((s) => Type.Literal(s)));
export type SpaceInvitationState = Static<typeof SpaceInvitationState>;

/**
 * A teleport (`from_user_id` asks `to_user_id` to come to `space_id`, where they are) or a
 * knock (`from_user_id` asks whoever is in `space_id`'s meeting to let them in; `to_user_id`
 * null: any of them may answer).
 */
export const SpaceInvitation = Type.Object({
  kind: SpaceInvitationKind,
  space_id: Uuid,
  from_user_id: UserId,
  to_user_id: Type.Union([UserId, Type.Null()]),
  state: SpaceInvitationState,
  expires_at: Timestamp,
  /** Who answered (the invitee, or for a knock the occupant who admitted or declined). */
  answered_by: Type.Union([UserId, Type.Null()]),
});
export type SpaceInvitation = Static<typeof SpaceInvitation>;
export const SpaceInvitationResponse = Type.Object({ invitation: SpaceInvitation });
export type SpaceInvitationResponse = Static<typeof SpaceInvitationResponse>;

/** `POST /v1/spaces/{id}/teleport`: ask a user to come to your space (you must be in it). */
export const TeleportBody = Type.Object({ user_id: UserId }, { additionalProperties: false });
/** `POST /v1/spaces/{id}/teleport/answer`: the invitee answers; accepting moves them. */
export const TeleportAnswerBody = Type.Object({ accept: Type.Boolean() }, { additionalProperties: false });
/** `POST /v1/spaces/{id}/knock/answer`: one of the people inside admits or turns away `user_id`. */
export const KnockAnswerBody = Type.Object({ user_id: UserId, admit: Type.Boolean() }, { additionalProperties: false });

/** What changed, in a `space.updated`. */
export const SPACE_CHANGES = ['created', 'updated', 'deleted', 'entered', 'left', 'status'] as const;
export const SpaceChange = Type.Union(SPACE_CHANGES.map((c) => Type.Literal(c)));
export type SpaceChange = Static<typeof SpaceChange>;

/** The fields of the space request frames (frames.ts wraps them with `type` and `req_id`). */
export const SPACE_REQUEST_FIELDS = {
  'spaces.watch': {},
  'spaces.unwatch': {},
  'space.enter': { space_id: Uuid },
  'space.leave': {},
  'space.teleport': { space_id: Uuid, user_id: UserId },
  'space.teleport.answer': { space_id: Uuid, accept: Type.Boolean() },
  'space.knock': { space_id: Uuid },
  'space.knock.answer': { space_id: Uuid, user_id: UserId, admit: Type.Boolean() },
} as const;

const at = { created_at: Timestamp };

/** The space events (events.ts joins them to the live-only events). */
export const SpaceEvents = [
  /**
   * To connections watching the app's spaces (`spaces.watch`): the space as it now stands,
   * what changed and who moved (`user_id`, for `entered`/`left`; null otherwise).
   */
  Type.Object({
    type: Type.Literal('space.updated'),
    space: Space,
    change: SpaceChange,
    user_id: Type.Union([UserId, Type.Null()]),
    ...at,
  }),
  /** To everyone an invitation concerns: it was made, answered, expired or cancelled. */
  Type.Object({ type: Type.Literal('space.invitation'), invitation: SpaceInvitation, ...at }),
] as const;
