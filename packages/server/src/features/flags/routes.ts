/**
 * Feature flags over REST: the app's flags for its backend and admins (`/v1/feature-flags`),
 * and the caller's own evaluated flags (`GET /v1/me/flags`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ErrorBody,
  FeatureFlagParams,
  FeatureFlagResponse,
  FeatureFlagsResponse,
  MyFlagsResponse,
  PutFeatureFlagBody,
} from '@parley/protocol';
import { Type } from '@sinclair/typebox';
import { callerOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { deleteFlag, listFlags, myFlags, putFlag } from './actions.js';

const tags = ['feature-flags'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 429: ErrorBody };
const Ok = Type.Object({ ok: Type.Boolean() });
const admin = 'The app backend (server token) or an app admin.';

export function flagRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/feature-flags',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: "The app's feature flags, by key",
          description: admin,
          response: { 200: FeatureFlagsResponse, ...errors },
        },
      },
      async (req) => listFlags(svc, callerOf(req)),
    );
    app.put(
      '/v1/feature-flags/:key',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Create a feature flag, or change the fields sent',
          description:
            `${admin} A user has the flag when it is \`enabled\` and they are in \`user_ids\` or in the first ` +
            '`percentage` of users, chosen by a stable hash of the key and the user id (the same users each ' +
            'time; raising the percentage only adds users). A new flag is off, at 0 %, with nobody named. ' +
            'Audited (`feature_flag.created` / `feature_flag.updated`); every connection of the app gets ' +
            '`feature_flags.updated`. 201 when created.',
          params: FeatureFlagParams,
          body: PutFeatureFlagBody,
          response: { 200: FeatureFlagResponse, 201: FeatureFlagResponse, ...errors },
        },
      },
      async (req, reply) => {
        const { created, flag } = await putFlag(svc, callerOf(req), req.params.key, req.body);
        return reply.status(created ? 201 : 200).send({ flag });
      },
    );
    app.delete(
      '/v1/feature-flags/:key',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Delete a feature flag',
          description: `${admin} Audited (\`feature_flag.deleted\`); every connection of the app gets \`feature_flags.updated\`.`,
          params: FeatureFlagParams,
          response: { 200: Ok, ...errors },
        },
      },
      async (req) => {
        await deleteFlag(svc, callerOf(req), req.params.key);
        return { ok: true };
      },
    );
    app.get(
      '/v1/me/flags',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Your feature flags: every flag of the app, on or off for you',
          description:
            'Read again on `feature_flags.updated` (sent to every connection of the app when a flag changes).',
          response: { 200: MyFlagsResponse, ...errors },
        },
      },
      async (req) => myFlags(svc, callerOf(req)),
    );
  };
}
