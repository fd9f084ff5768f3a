/**
 * CORS for the chat API, so an embedder's browser app on its own origin can call Parley
 * directly. The chat API authenticates by headers (X-Api-Key, Authorization), never by cookie,
 * so any origin may call it and no credentials are allowed. The cookie-authenticated paths
 * (accounts, workspaces, invites) and the admin API get no CORS headers at all: they stay
 * same-origin.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

const CLOSED = /^\/v1\/(auth|workspaces|invites|admin)(\/|$|\?)/;
const ALLOW_HEADERS = 'authorization, content-type, idempotency-key, x-api-key, x-request-id';
const ALLOW_METHODS = 'GET, POST, PATCH, PUT, DELETE';

const open = (req: FastifyRequest) =>
  req.url.startsWith('/v1/') && !CLOSED.test(req.url) && typeof req.headers.origin === 'string';

/** Whether a request gets CORS headers: for a route that writes its own (the SSE stream). */
export const corsOpen = open;

export function registerCors(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'OPTIONS' || !open(req) || !req.headers['access-control-request-method']) return;
    return reply
      .status(204)
      .header('access-control-allow-origin', '*')
      .header('access-control-allow-methods', ALLOW_METHODS)
      .header('access-control-allow-headers', ALLOW_HEADERS)
      .header('access-control-max-age', '600')
      .send();
  });
  app.addHook('onSend', async (req, reply) => {
    if (!open(req)) return;
    reply.header('access-control-allow-origin', '*');
    reply.header('access-control-expose-headers', 'x-request-id, retry-after, idempotent-replayed');
  });
}
