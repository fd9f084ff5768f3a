import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CidParams, ErrorBody, EventsQuery, EventsResponse } from '@parley/protocol';
import { callerOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { replay } from './replay.js';

export function eventRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/channels/:cid/events',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['events'],
          summary: 'Every logged event after a seq, in order (resync); `reload` when too much was missed',
          params: CidParams,
          querystring: EventsQuery,
          response: { 200: EventsResponse, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        const r = await replay(svc, callerOf(req), req.params.cid, req.query.after, req.query.limit ?? 500);
        // The log holds each event already serialized: splice the stored JSON, never re-encode it.
        return reply
          .type('application/json')
          .send(
            `{"events":[${r.frames.join(',')}],"last_seq":${r.lastSeq},"reload":${r.reload},"has_more":${r.hasMore}${r.reload ? '' : `,"read_to":${r.readTo}`}}` as never,
          );
      },
    );
  };
}
