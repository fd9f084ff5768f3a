/**
 * Routes for guests, join requests, joining by email domain and the transfer of ownership
 * (the actions are in guests.ts, join-requests.ts and ownership.ts). Like every accounts route
 * they need the session cookie, and every write a JSON body (the CSRF defence of
 * `accountRequestGuard`). Also runs the sweep that tells guests their time ran out.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  EmptyBody,
  ErrorBody,
  JoinPageResponse,
  JoinRequestParams,
  JoinRequestResponse,
  JoinRequestsResponse,
  TransferOwnershipBody,
  UpdateGuestBody,
  WorkspaceMemberParams,
  WorkspaceMemberResponse,
  WorkspaceMembersResponse,
  WorkspaceParams,
} from '@parley/protocol';
import { Type } from '@sinclair/typebox';
import { accountOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { announceGuestLocks, updateGuest } from './guests.js';
import { askToJoin, decideRequest, joinPage, pendingRequests, presentJoinRequest } from './join-requests.js';
import { transferOwnership } from './ownership.js';
import { presentMember, presentWorkspace } from './present.js';
import { accountRequestGuard } from './sessions.js';

const account = { config: { auth: 'account' as const } };
const session = [{ session: [] }];
const scoped = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 415: ErrorBody };

/** How often the guest-lock sweep runs (it only reads when nothing is due). */
const GUEST_SWEEP_MS = 15_000;

export function membershipRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.addHook('onRequest', accountRequestGuard(svc.config.allowedOrigins));
    app.addHook('onSend', async (_req, reply) => {
      void reply.header('cache-control', 'no-store');
    });
    const sweep = setInterval(() => {
      announceGuestLocks(svc).catch((err) => svc.log.warn({ err }, 'guest lock sweep failed'));
    }, GUEST_SWEEP_MS);
    sweep.unref();
    app.addHook('onClose', async () => clearInterval(sweep));

    // ---- guests --------------------------------------------------------------------------

    app.patch(
      '/v1/workspaces/:id/guests/:account_id',
      {
        ...account,
        schema: {
          tags: ['workspaces'],
          summary:
            "Move a guest's expiry: later lets them post again, earlier (or past) locks them (owners and admins)",
          description:
            'The guest keeps reading after the expiry; their sends answer 403 GUEST_LOCKED. Their open clients get ' +
            '`guest.updated`. 404 NOT_FOUND for an account that is not a guest here. Remove a guest with ' +
            'DELETE /v1/workspaces/{id}/members/{account_id}.',
          security: session,
          params: WorkspaceMemberParams,
          body: UpdateGuestBody,
          response: { 200: WorkspaceMemberResponse, ...scoped },
        },
      },
      async (req) => {
        const { id, account_id } = req.params;
        const row = await updateGuest(svc, accountOf(req).accountId, id, account_id, req.body.expires_at);
        return { member: presentMember(row, true) };
      },
    );

    // ---- ownership -----------------------------------------------------------------------

    app.post(
      '/v1/workspaces/:id/transfer',
      {
        ...account,
        schema: {
          tags: ['workspaces'],
          summary: 'Hand ownership to another active member, who becomes owner; the caller becomes admin (owners only)',
          description:
            'One transaction. 403 FORBIDDEN with details.reason `guest` or `deactivated` for such a member; ' +
            '400 VALIDATION_ERROR (reason `self`) for the caller; 404 NOT_FOUND for someone not a member. ' +
            'Answers every member as it now stands.',
          security: session,
          params: WorkspaceParams,
          body: TransferOwnershipBody,
          response: { 200: WorkspaceMembersResponse, ...scoped },
        },
      },
      async (req) => {
        const rows = await transferOwnership(svc, accountOf(req).accountId, req.params.id, req.body.account_id);
        return { members: rows.map((r) => presentMember(r, true)) };
      },
    );

    // ---- join page, requests and domain joins ---------------------------------------------

    app.get(
      '/v1/join/:id',
      {
        ...account,
        schema: {
          tags: ['workspaces'],
          summary: "A workspace's join page: its name and policy, and the caller's request or whether they may join",
          description:
            '404 NOT_FOUND unless the workspace takes requests (`request`) or joins by email domain (`domain`).',
          security: session,
          params: WorkspaceParams,
          response: { 200: JoinPageResponse, 401: ErrorBody, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req) => ({ join: await joinPage(svc, accountOf(req).accountId, req.params.id) }),
    );

    app.post(
      '/v1/join/:id',
      {
        ...account,
        schema: {
          tags: ['workspaces'],
          summary:
            'Ask to join (`request` policy: answers the request) or join (`domain` policy: answers the workspace)',
          description:
            'Under `domain`, 403 FORBIDDEN with details.reason `email_unverified` or `domain` unless the caller’s ' +
            'verified email is at the join domain. A deactivated member: 403 (reason `deactivated`). A member gets ' +
            'the workspace back. Asking again keeps the pending request; after a denial it asks anew. The requester ' +
            'is mailed when the request arrives and when it is decided.',
          security: session,
          params: WorkspaceParams,
          body: EmptyBody,
          response: {
            200: Type.Union([
              Type.Object({ request: JoinRequestResponse.properties.request }),
              Type.Object({ workspace: Type.Any() }),
            ]),
            ...scoped,
          },
        },
      },
      async (req) => {
        const r = await askToJoin(svc, accountOf(req).accountId, req.params.id);
        return 'workspace' in r
          ? { workspace: presentWorkspace(r.workspace) }
          : { request: presentJoinRequest(r.request, false) };
      },
    );

    app.get(
      '/v1/workspaces/:id/join-requests',
      {
        ...account,
        schema: {
          tags: ['workspaces'],
          summary: 'Pending requests to join, oldest first, with emails (owners and admins)',
          security: session,
          params: WorkspaceParams,
          response: { 200: JoinRequestsResponse, ...scoped },
        },
      },
      async (req) => {
        const rows = await pendingRequests(svc, accountOf(req).accountId, req.params.id);
        return { requests: rows.map((r) => presentJoinRequest(r, true)) };
      },
    );

    for (const [verb, approve] of [
      ['approve', true],
      ['deny', false],
    ] as const)
      app.post(
        `/v1/workspaces/:id/join-requests/:request_id/${verb}`,
        {
          ...account,
          schema: {
            tags: ['workspaces'],
            summary: approve
              ? 'Approve a request to join: the requester becomes a member and is mailed (owners and admins)'
              : 'Deny a request to join: the requester is mailed (owners and admins)',
            description: '404 NOT_FOUND for an unknown request; 409 CONFLICT for one decided already.',
            security: session,
            params: JoinRequestParams,
            body: EmptyBody,
            response: { 200: JoinRequestResponse, ...scoped, 409: ErrorBody },
          },
        },
        async (req) => {
          const { id, request_id } = req.params;
          const r = await decideRequest(svc, accountOf(req).accountId, id, request_id, approve);
          return { request: presentJoinRequest(r, true) };
        },
      );
  };
}
