/** User groups over REST (features/groups/actions.ts). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CreateUserGroupBody,
  ErrorBody,
  IdParams,
  UpdateUserGroupBody,
  UserGroupMembersBody,
  UserGroupResponse,
  UserGroupSettings,
  UserGroupSettingsResponse,
  UserGroupsQuery,
  UserGroupsResponse,
} from '@parley/protocol';
import { callerOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import {
  changeGroupMembers,
  createGroup,
  deleteGroup,
  getGroup,
  groupManagers,
  listGroups,
  setGroupManagers,
  updateGroup,
} from './actions.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };
const tags = ['user-groups'];

export function groupRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    const config = { auth: 'any' as const };
    app.post(
      '/v1/user-groups',
      {
        config,
        schema: {
          tags,
          summary: 'Create a user group (`@handle` mentions its members who can read the channel)',
          description:
            "App admins and the server token; every member but guests when the app setting says `everyone`. The handle may not be a username or another group's handle, any case (409 CONFLICT, `details.held_by`), nor `here`/`channel`/`everyone`/`all` (400). Everyone in the app gets `user_group.updated`.",
          body: CreateUserGroupBody,
          response: { 201: UserGroupResponse, ...errors },
        },
      },
      async (req, reply) => reply.status(201).send({ group: await createGroup(svc, callerOf(req), req.body) }),
    );
    app.get(
      '/v1/user-groups',
      {
        config,
        schema: {
          tags,
          summary: "The app's user groups by handle; `q` searches handle and name by prefix",
          querystring: UserGroupsQuery,
          response: { 200: UserGroupsResponse, ...errors },
        },
      },
      async (req) => ({ groups: await listGroups(svc, callerOf(req), req.query.q, req.query.limit) }),
    );
    app.get(
      '/v1/user-group-settings',
      {
        config,
        schema: {
          tags,
          summary: 'Who may manage user groups: `admins` (default) or `everyone`',
          response: { 200: UserGroupSettingsResponse, ...errors },
        },
      },
      async (req) => ({ settings: { managers: await groupManagers(svc, callerOf(req).app.id) } }),
    );
    app.put(
      '/v1/user-group-settings',
      {
        config,
        schema: {
          tags,
          summary: 'Set who may manage user groups (app admins and the server token)',
          body: UserGroupSettings,
          response: { 200: UserGroupSettingsResponse, ...errors },
        },
      },
      async (req) => ({ settings: await setGroupManagers(svc, callerOf(req), req.body.managers) }),
    );
    app.get(
      '/v1/user-groups/:id',
      {
        config,
        schema: {
          tags,
          summary: 'One user group with its members',
          params: IdParams,
          response: { 200: UserGroupResponse, ...errors },
        },
      },
      async (req) => ({ group: await getGroup(svc, callerOf(req), req.params.id) }),
    );
    app.patch(
      '/v1/user-groups/:id',
      {
        config,
        schema: {
          tags,
          summary: "Change a group's handle, name or description",
          description:
            "Managers only. A new handle follows the rule of creation: not a username or another group's handle, any case (409 CONFLICT), nor a mention keyword (400).",
          params: IdParams,
          body: UpdateUserGroupBody,
          response: { 200: UserGroupResponse, ...errors },
        },
      },
      async (req) => ({ group: await updateGroup(svc, callerOf(req), req.params.id, req.body) }),
    );
    app.delete(
      '/v1/user-groups/:id',
      {
        config,
        schema: {
          tags,
          summary: 'Delete a user group',
          params: IdParams,
          response: { 200: UserGroupResponse, ...errors },
        },
      },
      async (req) => ({ group: await deleteGroup(svc, callerOf(req), req.params.id) }),
    );
    app.post(
      '/v1/user-groups/:id/members',
      {
        config,
        schema: {
          tags,
          summary: 'Add and/or remove members of a group',
          params: IdParams,
          body: UserGroupMembersBody,
          response: { 200: UserGroupResponse, ...errors },
        },
      },
      async (req) => ({ group: await changeGroupMembers(svc, callerOf(req), req.params.id, req.body) }),
    );
  };
}
