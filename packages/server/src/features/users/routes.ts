import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CreateProfileFieldBody,
  ErrorBody,
  MeResponse,
  ProfileFieldIdParams,
  ProfileFieldResponse,
  ProfileFieldsResponse,
  QueryUsersQuery,
  ReorderProfileFieldsBody,
  SetProfileValuesBody,
  SetStatusBody,
  UpdateMeBody,
  UpdateProfileFieldBody,
  UpdateUserBody,
  UpsertUsersBody,
  UserIdParams,
  UsernameAvailability,
  UsernameParams,
  UserResponse,
  UsersResponse,
} from '@parley/protocol';
import { Type } from '@sinclair/typebox';
import type { Caller } from '../../platform/auth.js';
import { notFound } from '../../platform/errors.js';
import { callerOf, userOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { setStatus, updateMe, upsertUsers } from './actions.js';
import { editUser } from './edit.js';
import {
  createField,
  deleteField,
  listFields,
  presentField,
  reorderFields,
  seesAdminFields,
  setFieldValues,
  updateField,
  visibleValues,
} from './fields.js';
import { presentUser, type UserRow } from './present.js';
import { usernameAvailability } from './profile.js';
import { getUser, searchUsers } from './queries.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody };

export function userRoutes(svc: Services): FastifyPluginAsyncTypebox {
  /** One user as `caller` may see them: with presence, and the custom field values it may see. */
  const presentFor = async (caller: Caller, row: UserRow) => {
    const admin = await seesAdminFields(svc, caller);
    const [states, values] = await Promise.all([
      svc.presence.statesOf(caller.app.id, [row.id]),
      visibleValues(svc, caller.app.id, [row.id], admin),
    ]);
    return presentUser(row, states.get(row.id), values.get(row.id) ?? {});
  };
  return async (app) => {
    app.post(
      '/v1/users',
      {
        config: { auth: 'server' },
        schema: {
          tags: ['users'],
          summary: 'Create or update users',
          description:
            "All or none. A username is one @name of the app: another user's username or a user group's handle (any case) is 409 CONFLICT, a mention keyword (`here`, `channel`, `everyone`, `all`) 400 VALIDATION_ERROR; `details.users` lists each such user (`{id, username, reason, held_by?}`) and no user is saved.",
          body: UpsertUsersBody,
          response: { 200: UsersResponse, 409: ErrorBody, ...errors },
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
          description:
            "Case-insensitive prefix of the username or name; for app admins and the server token, of the email of the person's account too. Guests find only people they share a channel with.",
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
          await seesAdminFields(svc, caller),
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
          user: await presentFor(caller, row),
          unread: await svc.unreadTotals(svc, caller.app.id, caller.userId),
        };
      },
    );

    app.patch(
      '/v1/me',
      {
        config: { auth: 'user' },
        schema: {
          tags: ['users'],
          summary: 'Change your own name, username, image or profile',
          description:
            'Only the fields sent change; null (or blank text) clears a profile field. `time_zone` must be an IANA zone name the server knows. A username another user or a user group of the app holds (any case) is 409 CONFLICT (`details.held_by`), a reserved one 400. Everyone who shares a channel gets `user.updated`.',
          body: UpdateMeBody,
          response: { 200: UserResponse, 409: ErrorBody, ...errors },
        },
      },
      async (req) => {
        const caller = userOf(req);
        const user = await updateMe(svc, caller, req.body);
        const row = await getUser(svc, caller.app.id, caller.userId);
        return { user: row ? { ...(await presentFor(caller, row)), presence: user.presence } : user };
      },
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
        return { user: await presentFor(caller, row) };
      },
    );

    app.patch(
      '/v1/users/:id',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['users'],
          summary: "Change someone's name or title (app admins)",
          description:
            "App admins (workspace owners and admins) and the server token; anyone else is 403. In a workspace an admin edits members and guests, not owners or other admins (403, `reason: outranked`). Only the fields sent change, checked as `PATCH /v1/me` checks them: a blank `name` is 400, a null or blank `title` clears it. An unknown or deleted user is 404. Audited as `user.profile_updated` with each changed field's `from` and `to`; everyone who shares a channel with the user gets `user.updated`. Values equal to the stored ones change nothing (no audit entry, no event). Answers the user as the caller sees them.",
          params: UserIdParams,
          body: UpdateUserBody,
          response: { 200: UserResponse, 404: ErrorBody, ...errors },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        const row = await editUser(svc, caller, req.params.id, req.body);
        return { user: await presentFor(caller, row) };
      },
    );

    app.put(
      '/v1/users/:id/fields',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['users'],
          summary: 'Set custom profile field values',
          description:
            "`fields`: field id → value (null or blank clears it; a required field cannot be cleared). A user sets their own `members` fields; app admins and the server token set `admins` fields, and others' fields where `admin_editable`. Links must be http or https; a choice must be one of its options. Answers the user as the caller sees them.",
          params: UserIdParams,
          body: SetProfileValuesBody,
          response: { 200: UserResponse, 404: ErrorBody, ...errors },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        const row = await setFieldValues(svc, caller, req.params.id, req.body.fields);
        return { user: await presentFor(caller, row) };
      },
    );

    app.get(
      '/v1/usernames/:name',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['users'],
          summary: 'Whether a username can be had',
          description:
            '`{available}`, or `{available: false, reason}`: `invalid` (1–64 of letters, digits, `_ . -`), `reserved`, or `taken` by another user or a user group of the app (any case) — the check the writes make. Your own username is available to you; with the server token, only the mention keywords are reserved. Rate-limited as other reads.',
          params: UsernameParams,
          response: { 200: UsernameAvailability, ...errors },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        return usernameAvailability(svc, caller.app.id, req.params.name, caller.userId);
      },
    );

    app.get(
      '/v1/profile-fields',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['users'],
          summary: 'The custom profile fields of the app, in order',
          description: 'Fields visible to `admins` only are listed for app admins and the server token alone.',
          response: { 200: ProfileFieldsResponse, ...errors },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        const rows = await listFields(svc, caller.app.id, await seesAdminFields(svc, caller));
        return { fields: rows.map(presentField) };
      },
    );

    app.post(
      '/v1/profile-fields',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['users'],
          summary: 'Define a custom profile field (app admins)',
          description:
            '`kind` `text`, `link` (http/https) or `choice` (with `options`); added last. A name already used (any case) is 409 CONFLICT; at most 50 fields.',
          body: CreateProfileFieldBody,
          response: { 200: ProfileFieldResponse, 409: ErrorBody, ...errors },
        },
      },
      async (req) => ({ field: await createField(svc, callerOf(req), req.body) }),
    );

    app.patch(
      '/v1/profile-fields/:id',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['users'],
          summary: 'Change a custom profile field (app admins)',
          description: 'Its kind is fixed. Values no longer among the options of a choice field are dropped.',
          params: ProfileFieldIdParams,
          body: UpdateProfileFieldBody,
          response: { 200: ProfileFieldResponse, 404: ErrorBody, 409: ErrorBody, ...errors },
        },
      },
      async (req) => ({ field: await updateField(svc, callerOf(req), req.params.id, req.body) }),
    );

    app.post(
      '/v1/profile-fields/order',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['users'],
          summary: 'Reorder the custom profile fields (app admins)',
          description: '`ids`: every field of the app once, in the new order.',
          body: ReorderProfileFieldsBody,
          response: { 200: ProfileFieldsResponse, ...errors },
        },
      },
      async (req) => ({ fields: await reorderFields(svc, callerOf(req), req.body.ids) }),
    );

    app.delete(
      '/v1/profile-fields/:id',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['users'],
          summary: 'Delete a custom profile field (app admins)',
          description: "Every profile's value of it goes with it.",
          params: ProfileFieldIdParams,
          response: { 200: Type.Object({}), 404: ErrorBody, ...errors },
        },
      },
      async (req) => {
        await deleteField(svc, callerOf(req), req.params.id);
        return {};
      },
    );
  };
}
