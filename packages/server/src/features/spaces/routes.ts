/**
 * Spaces routes (`/v1/spaces`): the office and its layout, and every move a user can make —
 * the same actions as the socket requests (socket.ts). Watching the office live is socket-only
 * (`spaces.watch`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ArrangeSpacesBody,
  CreateSpaceBody,
  ErrorBody,
  IdParams,
  KnockAnswerBody,
  SpaceInvitationResponse,
  SpaceLeftResponse,
  SpaceResponse,
  SpacesResponse,
  TeleportAnswerBody,
  TeleportBody,
  UpdateSpaceBody,
} from '@parley/protocol';
import { callerOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { answerKnock, answerTeleport, knock, teleport } from './invites.js';
import { arrangeSpaces, createSpace, deleteSpace, listSpaces, updateSpace } from './layout.js';
import { enterSpace, leaveSpace } from './moves.js';

const tags = ['spaces'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

export function spaceRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/spaces',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'The office: every space of the app in order, with who is in each',
          response: { 200: SpacesResponse, ...errors },
        },
      },
      async (req) => ({ spaces: await listSpaces(svc, callerOf(req)) }),
    );

    app.post(
      '/v1/spaces',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Create a space (app admins, the server token)',
          body: CreateSpaceBody,
          response: { 200: SpaceResponse, ...errors },
        },
      },
      async (req) => ({ space: await createSpace(svc, callerOf(req), req.body) }),
    );

    app.post(
      '/v1/spaces/arrange',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Put the spaces in this order (app admins); spaces not named follow',
          body: ArrangeSpacesBody,
          response: { 200: SpacesResponse, ...errors },
        },
      },
      async (req) => ({ spaces: await arrangeSpaces(svc, callerOf(req), req.body) }),
    );

    app.patch(
      '/v1/spaces/:id',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Rename a space, change its kind, capacity or position (app admins)',
          params: IdParams,
          body: UpdateSpaceBody,
          response: { 200: SpaceResponse, ...errors },
        },
      },
      async (req) => ({ space: await updateSpace(svc, callerOf(req), req.params.id, req.body) }),
    );

    app.delete(
      '/v1/spaces/:id',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Remove an empty space (app admins); CONFLICT while anyone is in it',
          params: IdParams,
          response: { 200: SpaceResponse, ...errors },
        },
      },
      async (req) => ({ space: await deleteSpace(svc, callerOf(req), req.params.id) }),
    );

    app.post(
      '/v1/spaces/:id/enter',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Go to a space (leaving the one you are in); you join its room channel',
          description:
            'SPACE_FULL at capacity; FORBIDDEN while a meeting is going on there (knock instead). ' +
            'Guests have no place in the office.',
          params: IdParams,
          response: { 200: SpaceResponse, ...errors },
        },
      },
      async (req) => ({ space: await enterSpace(svc, callerOf(req), req.params.id) }),
    );

    app.post(
      '/v1/spaces/leave',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Leave the space you are in (and its room channel)',
          response: { 200: SpaceLeftResponse, ...errors },
        },
      },
      async (req) => ({ space: await leaveSpace(svc, callerOf(req)) }),
    );

    app.post(
      '/v1/spaces/:id/teleport',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Ask a user to come to this space, where you are',
          params: IdParams,
          body: TeleportBody,
          response: { 200: SpaceInvitationResponse, ...errors },
        },
      },
      async (req) => ({ invitation: await teleport(svc, callerOf(req), req.params.id, req.body.user_id) }),
    );

    app.post(
      '/v1/spaces/:id/teleport/answer',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Answer a teleport to this space; accepting moves you there',
          params: IdParams,
          body: TeleportAnswerBody,
          response: { 200: SpaceInvitationResponse, ...errors },
        },
      },
      async (req) => ({ invitation: await answerTeleport(svc, callerOf(req), req.params.id, req.body.accept) }),
    );

    app.post(
      '/v1/spaces/:id/knock',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Knock on a space whose meeting is going on: the people inside are asked to let you in',
          params: IdParams,
          response: { 200: SpaceInvitationResponse, ...errors },
        },
      },
      async (req) => ({ invitation: await knock(svc, callerOf(req), req.params.id) }),
    );

    app.post(
      '/v1/spaces/:id/knock/answer',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'From inside the space: admit (moves them in) or turn away a knocking user',
          params: IdParams,
          body: KnockAnswerBody,
          response: { 200: SpaceInvitationResponse, ...errors },
        },
      },
      async (req) => ({
        invitation: await answerKnock(svc, callerOf(req), req.params.id, req.body.user_id, req.body.admit),
      }),
    );
  };
}
