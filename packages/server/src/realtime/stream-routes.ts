/**
 * The fallback transport's two routes, for networks whose proxies refuse WebSocket upgrades:
 *
 *   GET  /v1/sse                      the stream down: `text/event-stream`, hello first
 *   POST /v1/sse/{connection_id}      frames up, handled in order, answered down the stream
 *
 * Both authenticate as every REST route does (X-Api-Key or `?api_key`, a user token as
 * `Authorization: Bearer`), so a bad credential is a 401 before any stream opens, and both count
 * against the REST rate limits; the frames a POST carries then go through the gateway exactly as
 * WebSocket frames (the same per-action limits, handlers and replies). Everything after the
 * headers is the gateway's (Gateway.handleStream, Gateway.post; the socket is sse-socket.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorBody, SsePostBody, SsePostParams } from '@parley/protocol';
import { Type } from '@sinclair/typebox';
import { bearer } from '../platform/auth.js';
import { corsOpen } from '../platform/cors.js';
import { ApiError } from '../platform/errors.js';
import { userOf } from '../platform/http.js';
import type { Services } from '../services.js';
import type { Gateway } from './gateway.js';

export function streamRoutes(svc: Services, gateway: Gateway): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/sse',
      {
        config: { auth: 'user' },
        schema: {
          tags: ['realtime'],
          summary:
            'The fallback transport, down: a text/event-stream of the WebSocket frames (hello first; `: ping` comments; a last `event: close` with the close code)',
          response: {
            200: Type.String({ description: 'text/event-stream' }),
            401: ErrorBody,
            403: ErrorBody,
            429: ErrorBody,
          },
        },
      },
      async (req, reply) => {
        const caller = userOf(req);
        const token = bearer(req.headers.authorization);
        if (!token) throw new ApiError('UNAUTHORIZED', 'Missing bearer token');
        // From here the response is the stream's, written by the gateway, not by Fastify.
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          // No proxy or browser may cache, transform (compress and hold) or buffer the stream.
          'cache-control': 'no-cache, no-store, no-transform',
          'x-accel-buffering': 'no',
          ...(corsOpen(req)
            ? { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'x-request-id' }
            : {}),
        });
        // A first comment, so the headers leave now and every proxy on the way sees bytes.
        res.write(': parley\n\n');
        gateway.handleStream(req.raw, res, caller.app.apiKey, token);
      },
    );

    app.post(
      '/v1/sse/:connection_id',
      {
        config: { auth: 'user' },
        // A batch of frames, each at most maxFrameBytes (checked frame by frame by the gateway).
        bodyLimit: Math.max(svc.config.bodyLimit, 4 * svc.config.maxFrameBytes),
        schema: {
          tags: ['realtime'],
          summary:
            "The fallback transport, up: frames for the stream of this connection id, handled in order; replies and errors come down the stream. Only the stream's own user may post to it",
          params: SsePostParams,
          body: SsePostBody,
          response: {
            204: Type.Null(),
            400: ErrorBody,
            401: ErrorBody,
            403: ErrorBody,
            404: ErrorBody,
            413: ErrorBody,
            429: ErrorBody,
          },
        },
      },
      async (req, reply) => {
        const frames = req.body.frames.map((f) => JSON.stringify(f));
        gateway.post(userOf(req), req.params.connection_id, frames);
        return reply.status(204).send(null);
      },
    );
  };
}
