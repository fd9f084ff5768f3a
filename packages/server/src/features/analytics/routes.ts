/** `GET /v1/analytics`: an app's usage by day, for app admins and the server token. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AnalyticsQuery, AnalyticsResponse, ErrorBody } from '@parley/protocol';
import { callerOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { checkAppAdmin } from '../audit/index.js';
import { usageOf } from './usage.js';

export function analyticsRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/analytics',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['admin'],
          summary: 'Usage by UTC day: active users (daily, 30-day), messages, peak connections; totals (app admins)',
          description:
            '`from`/`to` are UTC days (YYYY-MM-DD), both included, at most 366 days; default the last 30. ' +
            'Peak connections are sampled by every node every `PARLEY_USAGE_SAMPLE_SECONDS` and summed.',
          querystring: AnalyticsQuery,
          response: { 200: AnalyticsResponse, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        await checkAppAdmin(svc, caller);
        return usageOf(svc, caller.app.id, req.query);
      },
    );
  };
}
