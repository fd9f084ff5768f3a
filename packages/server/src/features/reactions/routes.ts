import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorBody, IdParams, MessageResponse, ReactionBody, ReactionParams, ReactionResponse } from '@parley/protocol';
import { callerOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { addReaction, removeReaction } from './actions.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
const tags = ['reactions'];

export function reactionRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/messages/:id/reactions',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'React to a message (once per type)',
          params: IdParams,
          body: ReactionBody,
          response: { 200: ReactionResponse, 429: ErrorBody, ...errors },
        },
      },
      async (req) => addReaction(svc, callerOf(req), req.params.id, req.body.type),
    );
    app.delete(
      '/v1/messages/:id/reactions/:type',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Remove your reaction of a type',
          params: ReactionParams,
          response: { 200: MessageResponse, ...errors },
        },
      },
      async (req) => removeReaction(svc, callerOf(req), req.params.id, req.params.type),
    );
  };
}
