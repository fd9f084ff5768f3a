import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorBody, IdParams, PollResponse, PollVoteBody } from '@parley/protocol';
import { callerOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { closePoll, votePoll } from './actions.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };
const tags = ['polls'];

/** Polls are made by sending a message with `poll` (POST /v1/channels/{cid}/messages). */
export function pollRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/messages/:id/poll/votes',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Vote in a poll: your whole choice, replacing an earlier one',
          description:
            'One option in a single-choice poll, one or more in a multiple-choice one. A closed poll answers ' +
            '409 POLL_CLOSED. Counts against the reactions rate limit. Everyone in the channel gets `poll.updated`.',
          params: IdParams,
          body: PollVoteBody,
          response: { 200: PollResponse, 429: ErrorBody, ...errors },
        },
      },
      async (req) => votePoll(svc, callerOf(req), req.params.id, req.body.option_ids),
    );
    app.delete(
      '/v1/messages/:id/poll/votes',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Take back your vote in a poll',
          params: IdParams,
          response: { 200: PollResponse, 429: ErrorBody, ...errors },
        },
      },
      async (req) => votePoll(svc, callerOf(req), req.params.id, null),
    );
    app.post(
      '/v1/messages/:id/poll/close',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Close a poll (its author or a moderator); the results stay',
          params: IdParams,
          response: { 200: PollResponse, ...errors },
        },
      },
      async (req) => closePoll(svc, callerOf(req), req.params.id),
    );
  };
}
