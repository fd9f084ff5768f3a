import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ErrorBody,
  MeResponse,
  QueryUsersQuery,
  SetStatusBody,
  UpdateMeBody,
  UpsertUsersBody,
  UserIdParams,
  UserResponse,
  UsersResponse,
} from '@parley/protocol';
import { notFound } from '../../platform/errors.js';
import { callerOf, userOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { unreadTotals } from '../reads/queries.js';
import { setStatus, updateMe, upsertUsers } from './actions.js';
import { presentUser } from './present.js';
import { getUser, searchUsers } from './queries.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody };

export function userRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/users',
      {
        config: { auth: 'server' },
        schema: {
          tags: ['users'],
          summary: 'Create or update users',
          body: UpsertUsersBody,
          response: { 200: UsersResponse, ...errors },
        },
      },
      async (req) => ({ users: await upsertUsers(svc, callerOf(req), req.body.users) }),
    );

    app.get(
      '/v1/users',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['users'],
          summary: 'Find users by username or name prefix',
          querystring: QueryUsersQuery,
          response: { 200: UsersResponse, ...errors },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        const { rows, next } = await searchUsers(
          svc,
          caller.app.id,
          req.query.q,
          req.query.limit ?? 30,
          req.query.cursor,
          caller.userId ?? undefined,
        );
        const states = await svc.presence.statesOf(
          caller.app.id,
          rows.map((r) => r.id),
        );
        return { users: rows.map((r) => presentUser(r, states.get(r.id))), next };
      },
    );

    app.get(
      '/v1/me',
      {
        config: { auth: 'user' },
        schema: {
          tags: ['users'],
          summary: 'The calling user, with unread totals',
          response: { 200: MeResponse, ...errors },
        },
      },
      async (req) => {
        const caller = userOf(req);
        const row = await getUser(svc, caller.app.id, caller.userId);
        if (!row) throw notFound('User');
        return {
          user: presentUser(row, (await svc.presence.statesOf(caller.app.id, [row.id])).get(row.id)),
          unread: await unreadTotals(svc, caller.app.id, caller.userId),
        };
      },
    );

    app.patch(
      '/v1/me',
      {
        config: { auth: 'user' },
        schema: {
          tags: ['users'],
          summary: 'Change your own name, username or image',
          description: 'Only the fields sent change. A username taken in the app (any case) is 409 CONFLICT.',
          body: UpdateMeBody,
          response: { 200: UserResponse, 409: ErrorBody, ...errors },
        },
      },
      async (req) => ({ user: await updateMe(svc, userOf(req), req.body) }),
    );

    app.post(
      '/v1/me/status',
      {
        config: { auth: 'user' },
        schema: {
          tags: ['users'],
          summary: 'Set or clear your custom status',
          body: SetStatusBody,
          response: { 200: UserResponse, ...errors },
        },
      },
      async (req) => ({ user: await setStatus(svc, userOf(req), req.body) }),
    );

    app.get(
      '/v1/users/:id',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['users'],
          summary: 'One user, with presence',
          params: UserIdParams,
          response: { 200: UserResponse, 404: ErrorBody, ...errors },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        const row = await getUser(svc, caller.app.id, req.params.id, caller.userId ?? undefined);
        if (!row) throw notFound('User');
        return { user: presentUser(row, (await svc.presence.statesOf(caller.app.id, [row.id])).get(row.id)) };
      },
    );
  };
}
