import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CidParams, ErrorBody, ReadBody, ReadStateResponse, UnreadBody } from '@parley/protocol';
import { callerOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { markRead, markUnread } from './actions.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };

export function readRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/channels/:cid/read',
      {
        config: { auth: 'user' },
        schema: {
          tags: ['reads'],
          summary: 'Mark read up to seq',
          params: CidParams,
          body: ReadBody,
          response: { 200: ReadStateResponse, ...errors },
        },
      },
      async (req) => markRead(svc, callerOf(req), req.params.cid, req.body.seq),
    );
    app.post(
      '/v1/channels/:cid/unread',
      {
        config: { auth: 'user' },
        schema: {
          tags: ['reads'],
          summary: 'Mark unread from a message on',
          params: CidParams,
          body: UnreadBody,
          response: { 200: ReadStateResponse, ...errors },
        },
      },
      async (req) => markUnread(svc, callerOf(req), req.params.cid, req.body.message_id),
    );
  };
}
