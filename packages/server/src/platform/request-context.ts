/**
 * Who is on the other end of the request being handled — its client IP and user agent — for
 * code deep inside an action that records it (the audit log) without every action taking the
 * request as a parameter. Set for the whole life of each HTTP request by an `onRequest` hook
 * that runs the rest of the request inside an AsyncLocalStorage context (the pattern of
 * `@fastify/request-context`); a WebSocket frame's handler runs inside one too.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance } from 'fastify';

export interface RequestContext {
  ip: string | null;
  userAgent: string | null;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** The context of the request being handled, or null outside any (a job, start-up). */
export function requestContext(): RequestContext | null {
  return storage.getStore() ?? null;
}

/** Run `fn` with `ctx` as the request context (socket frames, tests). */
export function withRequestContext<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

/** A user agent as stored: at most 512 characters. */
export const clipAgent = (ua: string | string[] | undefined): string | null =>
  typeof ua === 'string' && ua !== '' ? ua.slice(0, 512) : null;

export function registerRequestContext(app: FastifyInstance): void {
  app.addHook('onRequest', (req, _reply, done) => {
    storage.run({ ip: req.ip ?? null, userAgent: clipAgent(req.headers['user-agent']) }, done);
  });
}
