/** `GET /v1/audit`: the app's audit log, for app admins and the server token. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AuditQuery, AuditResponse, ErrorBody } from '@parley/protocol';
import { callerOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { checkAppAdmin } from './access.js';
import { listAudit } from './queries.js';

export function auditRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/audit',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['admin'],
          summary: 'The audit log of security and admin events, newest first (app admins, server token)',
          description:
            'Filters: `actor` (an account or user id), `action` (exact, or a prefix ending in `.` such as `member.`), ' +
            '`target` (the id acted on), `before`/`after` (times). Keyset paging: pass `next` as `cursor`. ' +
            "A workspace's log includes its members' sign-ins and two-factor changes. Entries older than " +
            '`PARLEY_AUDIT_RETENTION_DAYS` are pruned.',
          querystring: AuditQuery,
          response: { 200: AuditResponse, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        await checkAppAdmin(svc, caller);
        return listAudit(svc, caller.app.id, req.query);
      },
    );
  };
}
