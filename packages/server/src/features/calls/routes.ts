/**
 * Call routes: history and one call (the life of a call is driven over the socket, where the
 * device is known: socket.ts), and the ICE servers a client's RTCPeerConnection needs.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CallResponse, CallsQuery, CallsResponse, ErrorBody, IceServersResponse, IdParams } from '@parley/protocol';
import { requireUser } from '../../platform/auth.js';
import { callerOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { getCall, listCalls } from './actions.js';
import { iceServers } from './ice.js';

const tags = ['calls'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };

export function callRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/calls',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Call history: your calls (or a channel’s, with `cid`), newest first',
          description:
            'Without `cid`: every call you were rung for or took part in. With `cid`: every call of that channel ' +
            '(you must be able to read it). `state` keeps calls in these states (`missed`, `ended,declined`). ' +
            'Paged: pass the answer’s `next` as `before`.',
          querystring: CallsQuery,
          response: { 200: CallsResponse, ...errors },
        },
      },
      async (req) => listCalls(svc, callerOf(req), req.query),
    );

    app.get(
      '/v1/calls/ice-servers',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'STUN and TURN servers for RTCPeerConnection, TURN with a time-limited credential',
          description:
            'TURN REST API credentials: `username` = `<expiry unix seconds>:<user id>`, `credential` = ' +
            'base64(HMAC-SHA1(shared secret, username)); the TURN server (coturn `use-auth-secret`) checks them. ' +
            'Ask again before `expires_at`. Empty when the server configures none (docs/calls.md).',
          response: { 200: IceServersResponse, 401: ErrorBody },
        },
      },
      async (req) => {
        const me = requireUser(callerOf(req), 'ICE servers are for users: use a user token');
        return iceServers(svc.config.calls, me.userId, svc.clock());
      },
    );

    app.get(
      '/v1/calls/:id',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'One call, with its participants',
          params: IdParams,
          response: { 200: CallResponse, ...errors },
        },
      },
      async (req) => ({ call: await getCall(svc, callerOf(req), req.params.id) }),
    );
  };
}
