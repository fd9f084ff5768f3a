/**
 * HTTP plumbing shared by every feature: the error shape, authentication by route, and
 * request metrics. Routes say who may call them with `config: { auth }`:
 *   - `none`:   anyone (health, docs)
 *   - `admin`:  the operator's admin token
 *   - `user`:   a user token of the app named by the API key
 *   - `server`: a server token of that app
 *   - `any`:    a user or server token of that app
 *   - `account`: a signed-in account of the bundled team web app (its session cookie, no
 *                API key); the accounts feature resolves the cookie, this file only asks
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AppContext, bearer, type Caller, verifyToken } from './auth.js';
import { ApiError, toApiError } from './errors.js';
import { requestLine } from './log.js';
import type { Metrics } from './metrics.js';
import type { AppRegistry } from './tenancy.js';

export type AuthMode = 'none' | 'admin' | 'user' | 'server' | 'any' | 'account';

/** The signed-in account of an `account` route, and the session it came with. */
export interface AccountSession {
  accountId: string;
  sessionId: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthMode;
  }
  interface FastifyRequest {
    caller: Caller | null;
    account: AccountSession | null;
    /** An unexpected error this request was answered 500 for: logged on its request line. */
    failure: unknown;
  }
}

/** The caller of a `user` route. */
export function userOf(req: FastifyRequest): Caller & { kind: 'user' } {
  const c = req.caller;
  if (c?.kind !== 'user') throw new ApiError('FORBIDDEN', 'This endpoint needs a user token');
  return c;
}

/** The caller of an `any`, `user` or `server` route. */
export function callerOf(req: FastifyRequest): Caller {
  if (!req.caller) throw new ApiError('UNAUTHORIZED', 'Missing credentials');
  return req.caller;
}

/** The signed-in account of an `account` route. */
export function accountOf(req: FastifyRequest): AccountSession {
  if (!req.account) throw new ApiError('UNAUTHORIZED', 'Not signed in');
  return req.account;
}

/** Resolve the app named by `X-Api-Key` or `?api_key`. */
export async function appFromRequest(apps: AppRegistry, req: FastifyRequest): Promise<AppContext> {
  const header = req.headers['x-api-key'];
  const key =
    (Array.isArray(header) ? header[0] : header) ?? (req.query as Record<string, unknown> | undefined)?.api_key;
  if (typeof key !== 'string' || key === '')
    throw new ApiError('UNAUTHORIZED', 'Missing API key (X-Api-Key header or api_key query)');
  const app = await apps.byKey(key);
  if (!app) throw new ApiError('UNAUTHORIZED', 'Unknown API key');
  return app;
}

export interface HttpDeps {
  apps: AppRegistry;
  metrics: Metrics;
  isAdminToken(token: string): boolean;
  /**
   * Called for each authenticated user caller: refuses a token whose account session has
   * ended (throws), and makes sure the user exists.
   */
  onUser(caller: Caller & { kind: 'user' }): Promise<void>;
  /** The live session a request's cookie names, or null (missing, unknown, expired, revoked). */
  resolveAccount(req: FastifyRequest): Promise<AccountSession | null>;
  /** Where no route matched: a chance to answer with a page of the web app (see web.ts). */
  pageFallback?: ((req: FastifyRequest, reply: FastifyReply) => boolean) | null;
}

export function registerHttp(app: FastifyInstance, deps: HttpDeps): void {
  app.decorateRequest('caller', null);
  app.decorateRequest('account', null);
  app.decorateRequest('failure', null);
  // Bodies are JSON only: without this, Fastify's built-in text/plain parser would hand a
  // string to the route schema (400 "body must be object") instead of answering 415.
  app.removeContentTypeParser('text/plain');
  // An empty body is no body, whatever its Content-Type says: clients that always send
  // `application/json` may send nothing on a call without fields. Anything else is parsed by
  // Fastify's own JSON parser (which refuses `__proto__` and `constructor.prototype` keys).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if ((body as string).trim() === '') done(null, undefined);
    else void parseJson(req, body as string, done);
  });

  // preValidation, not preHandler: credentials are checked before the body and query are
  // validated, so an anonymous caller learns nothing about a route's schema (401, not 400).
  app.addHook('preValidation', async (req) => {
    const mode = req.routeOptions.config.auth ?? 'none';
    if (mode === 'none') return;
    if (mode === 'account') {
      const account = await deps.resolveAccount(req);
      if (!account) throw new ApiError('UNAUTHORIZED', 'Not signed in, or the session has expired');
      req.account = account;
      return;
    }
    const token = bearer(req.headers.authorization);
    if (mode === 'admin') {
      if (!token || !deps.isAdminToken(token)) throw new ApiError('UNAUTHORIZED', 'Invalid admin token');
      return;
    }
    const tenant = await appFromRequest(deps.apps, req);
    // `?api_key=` is transport, not a route parameter: drop it before the route's querystring
    // schema (additionalProperties: false) would refuse it.
    const query = req.query as Record<string, unknown> | undefined;
    if (query && typeof query === 'object' && 'api_key' in query) delete query.api_key;
    if (!token) throw new ApiError('UNAUTHORIZED', 'Missing bearer token');
    const caller = await verifyToken(tenant, token);
    if (mode === 'server' && caller.kind !== 'server')
      throw new ApiError('FORBIDDEN', 'This endpoint needs a server token');
    if (mode === 'user' && caller.kind !== 'user') throw new ApiError('FORBIDDEN', 'This endpoint needs a user token');
    if (caller.kind === 'user') await deps.onUser(caller);
    req.caller = caller;
  });

  // …and a route whose body has no required field takes no body as `{}`, while one that needs
  // fields says which are missing rather than "body must be object".
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined && req.routeOptions.schema?.body) req.body = {};
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const labels = { method: req.method, route, status: String(reply.statusCode) };
    deps.metrics.httpRequests.inc(labels);
    deps.metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    requestLine(req, reply, req.failure);
  });

  // Every route's path as a pattern, so a known path asked with the wrong method gets 405.
  const known: { method: string; path: RegExp }[] = [];
  app.addHook('onRoute', (r) => {
    const escaped = r.url
      .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
      .replace(/:[^/]+/g, '[^/]+')
      .replace(/\*/g, '.*');
    for (const method of ([] as string[]).concat(r.method))
      if (method !== 'HEAD') known.push({ method, path: new RegExp(`^${escaped}/?$`) });
  });

  app.setNotFoundHandler((req, reply) => {
    if (deps.pageFallback?.(req, reply)) return;
    const path = req.url.split('?')[0] ?? '/';
    const allowed = [...new Set(known.filter((k) => k.path.test(path)).map((k) => k.method))];
    if (allowed.length) {
      const err = new ApiError(
        'METHOD_NOT_ALLOWED',
        `${req.method} is not allowed on ${path}; use ${allowed.join(', ')}`,
      );
      void reply.status(405).header('allow', allowed.join(', ')).send(err.toBody());
      return;
    }
    const err = new ApiError('NOT_FOUND', `No route ${req.method} ${path}`);
    void reply.status(404).send(err.toBody());
  });

  // While shutting down, new requests get the catalogue's 503 (in-flight ones finish).
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_req, reply) => {
    if (!closing) return;
    const err = new ApiError('UNAVAILABLE', 'The server is shutting down; retry on another node or shortly');
    return reply.status(503).header('connection', 'close').send(err.toBody());
  });

  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const api = fromFastifyError(err);
    const { error, unexpected } = api ? { error: api, unexpected: false } : toApiError(err);
    // Logged once, on the request's one line (onResponse), with its status and time.
    if (unexpected) req.failure = err;
    const retryAfter = (error.details as { retry_after_ms?: unknown } | undefined)?.retry_after_ms;
    if (typeof retryAfter === 'number') void reply.header('retry-after', String(Math.ceil(retryAfter / 1000)));
    void reply.status(error.status).send(error.toBody());
  });
}

/** Map Fastify's own errors (validation, body parsing, limits) onto the catalogue. */
function fromFastifyError(err: FastifyError): ApiError | null {
  if (err instanceof ApiError) return err;
  if (err.validation) {
    const details = err.validation.map((v) => ({
      path: `${err.validationContext ?? ''}${v.instancePath || ''}`,
      message: v.message,
      ...(v.params && 'additionalProperty' in v.params
        ? { field: (v.params as { additionalProperty: string }).additionalProperty }
        : {}),
    }));
    return new ApiError('VALIDATION_ERROR', `Invalid ${err.validationContext ?? 'request'}: ${err.message}`, details);
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('PAYLOAD_TOO_LARGE', 'Request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError('BAD_JSON', 'Body is not valid JSON');
  }
  if (err instanceof SyntaxError || err.statusCode === 400) return new ApiError('BAD_JSON', 'Body is not valid JSON');
  if (err.statusCode === 413) return new ApiError('PAYLOAD_TOO_LARGE', 'Request body is too large');
  if (err.statusCode === 415) return new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
  return null;
}
