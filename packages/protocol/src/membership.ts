/**
 * Workspace membership beyond invites: guests (their expiry), requests to join under the
 * `request` policy, joining by email domain under the `domain` policy, and the transfer of
 * ownership. Routes live with the accounts routes; see docs/protocol/accounts.md ("Guests and join
 * policies").
 */
import { type Static, Type } from '@sinclair/typebox';
import { JoinPolicy } from './accounts.js';
import { Timestamp, Uuid } from './ids.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** `PATCH /v1/workspaces/{id}/guests/{account_id}`: move a guest's expiry (later or earlier). */
export const UpdateGuestBody = Type.Object({ expires_at: Timestamp }, { additionalProperties: false });
export type UpdateGuestBody = Static<typeof UpdateGuestBody>;

/** `POST /v1/workspaces/{id}/transfer`: hand ownership to another active, non-guest member. */
export const TransferOwnershipBody = Type.Object({ account_id: Uuid }, { additionalProperties: false });
export type TransferOwnershipBody = Static<typeof TransferOwnershipBody>;

export const JOIN_REQUEST_STATUSES = ['pending', 'approved', 'denied'] as const;
export const JoinRequestStatus = Type.Union(JOIN_REQUEST_STATUSES.map((s) => Type.Literal(s)));
export type JoinRequestStatus = Static<typeof JoinRequestStatus>;

/** A request to join, as owners and admins list it (with the requester's email) or the requester sees it. */
export const JoinRequest = Type.Object({
  id: Uuid,
  account_id: Uuid,
  name: Type.String(),
  email: Type.Optional(Type.String()),
  status: JoinRequestStatus,
  created_at: Timestamp,
  decided_at: Nullable(Timestamp),
});
export type JoinRequest = Static<typeof JoinRequest>;
export const JoinRequestResponse = Type.Object({ request: JoinRequest });
export const JoinRequestsResponse = Type.Object({ requests: Type.Array(JoinRequest) });
export const JoinRequestParams = Type.Object({ id: Uuid, request_id: Uuid });

/**
 * `GET /v1/join/{id}`: a workspace's join page, for a signed-in account. 404 NOT_FOUND when the
 * workspace is invite-only (or link-only): it does not take requests, and says nothing.
 */
export const JoinPage = Type.Object({
  workspace_id: Uuid,
  workspace_name: Type.String(),
  /** The workspace's logo (`/v1/images/…`, public), or null: show the name's initial. */
  workspace_logo: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  join_policy: JoinPolicy,
  join_domain: Nullable(Type.String()),
  /** Whether the caller is a member already (then open the workspace). */
  member: Type.Boolean(),
  /** The caller's request under the `request` policy, or null. */
  request: Nullable(JoinRequest),
  /** Under `domain`: whether the caller's verified email is at the domain (so joining works). */
  can_join: Type.Boolean(),
});
export type JoinPage = Static<typeof JoinPage>;
export const JoinPageResponse = Type.Object({ join: JoinPage });
