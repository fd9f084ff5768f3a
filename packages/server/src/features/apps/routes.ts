import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AppCredentials, AppSettings, CreateAppBody, ErrorBody, UpdateAppBody, UserId } from '@parley/protocol';
import { Type } from '@sinclair/typebox';
import { signToken } from '../../platform/auth.js';
import { notFound } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { recordAudit } from '../audit/index.js';

const OPERATOR = { kind: 'admin', id: null } as const;

export function appRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/admin/apps',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          summary: 'Create an app (tenant); its secret is shown only in this answer',
          body: CreateAppBody,
          response: { 200: AppCredentials, 400: ErrorBody, 401: ErrorBody },
        },
      },
      async (req) => {
        // The registry makes and seals the credentials in its own write; the record follows it.
        const made = await svc.apps.create(req.body.name);
        await recordAudit(svc.db, {
          appId: made.id,
          actor: OPERATOR,
          action: 'app.created',
          target: { kind: 'app', id: made.id },
          details: { name: req.body.name },
        });
        return made;
      },
    );
    app.get(
      '/v1/admin/apps',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          summary: 'List apps (without secrets)',
          response: {
            200: Type.Object({
              apps: Type.Array(
                Type.Object({
                  id: Type.String(),
                  name: Type.String(),
                  api_key: Type.String(),
                  created_at: Type.String(),
                }),
              ),
            }),
            401: ErrorBody,
          },
        },
      },
      async () => ({ apps: await svc.apps.list() }),
    );
    app.patch(
      '/v1/admin/apps/:id',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          summary: "Change an app's name or search language (re-indexes its messages)",
          params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
          body: UpdateAppBody,
          response: { 200: AppSettings, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody },
        },
      },
      async (req) => {
        const updated = await svc.apps.update(req.params.id, req.body);
        if (!updated) throw notFound('App');
        await recordAudit(svc.db, {
          appId: req.params.id,
          actor: OPERATOR,
          action: 'app.updated',
          target: { kind: 'app', id: req.params.id },
          details: { ...req.body },
        });
        return updated;
      },
    );
    app.post(
      '/v1/admin/apps/:id/tokens',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          summary: 'Mint a user token (user_id) or a server token (user_id null) for an app',
          params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
          body: Type.Object(
            {
              user_id: Type.Union([UserId, Type.Null()]),
              expires_in: Type.Optional(
                Type.String({
                  // A positive count of at most six digits: `0s` would mint a token that is dead
                  // on arrival, and an unbounded count an `exp` far past any date a JWT library reads.
                  pattern: '^[1-9][0-9]{0,5} ?(s|m|h|d|w)$',
                  description: 'a positive lifetime of at most six digits and a unit, e.g. 1h, 30d',
                }),
              ),
            },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ token: Type.String() }), 401: ErrorBody, 404: ErrorBody },
        },
      },
      async (req) => {
        const secret = await svc.apps.secretOf(req.params.id);
        if (!secret) throw notFound('App');
        const opts = req.body.expires_in ? { expiresIn: req.body.expires_in } : {};
        const token = await signToken(secret, req.body.user_id, opts);
        await recordAudit(svc.db, {
          appId: req.params.id,
          actor: OPERATOR,
          action: 'app.token_minted',
          target: req.body.user_id ? { kind: 'user', id: req.body.user_id } : { kind: 'app', id: req.params.id },
          details: { server: req.body.user_id === null, expires_in: req.body.expires_in ?? null },
        });
        return { token };
      },
    );
  };
}
