import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorBody, SearchMessagesQuery, SearchMessagesResponse } from '@parley/protocol';
import { callerOf } from '../../platform/http.js';
import { checkRate } from '../../platform/limits.js';
import type { Services } from '../../services.js';
import { searchMessages } from './messages.js';

export function searchRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/search/messages',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['search'],
          summary: 'Search the messages the caller may read (query language: docs/protocol/search.md)',
          querystring: SearchMessagesQuery,
          response: { 200: SearchMessagesResponse, 400: ErrorBody, 401: ErrorBody, 429: ErrorBody },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        await checkRate(svc, 'searches', caller.app.id, caller.userId, req.ip);
        return searchMessages(svc, caller, req.query);
      },
    );
  };
}
