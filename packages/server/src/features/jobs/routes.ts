/**
 * Admin view of the job queue: dead-lettered (failed) jobs, and putting them back. Behind the
 * admin token like the other `/v1/admin` routes.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorBody } from '@parley/protocol';
import { Type } from '@sinclair/typebox';
import { notFound } from '../../platform/errors.js';
import type { Services } from '../../services.js';

const QueueName = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z][\\w.-]*$' });

const FailedJobBody = Type.Object({
  id: Type.String({ format: 'uuid' }),
  queue: Type.String(),
  data: Type.Unknown(),
  attempts: Type.Integer({ description: 'runs made, the last one included' }),
  created_at: Type.String(),
  failed_at: Type.Union([Type.String(), Type.Null()]),
  error: Type.Unknown({ description: 'what the last run threw (message, name)' }),
});

export function jobRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/admin/jobs/failed',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          summary: 'Dead-lettered jobs (out of retries), newest first',
          querystring: Type.Object(
            {
              queue: Type.Optional(QueueName),
              limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
            },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ jobs: Type.Array(FailedJobBody) }), 400: ErrorBody, 401: ErrorBody },
        },
      },
      async (req) => {
        const jobs = await svc.jobs.listFailed({ name: req.query.queue, limit: req.query.limit ?? 100 });
        return {
          jobs: jobs.map((j) => ({
            id: j.id,
            queue: j.name,
            data: j.data,
            attempts: j.retryCount + 1,
            created_at: j.createdOn.toISOString(),
            failed_at: j.completedOn?.toISOString() ?? null,
            error: j.error,
          })),
        };
      },
    );
    app.post(
      '/v1/admin/jobs/retry',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          summary: 'Give failed jobs of one queue one more attempt each',
          body: Type.Object(
            {
              queue: QueueName,
              ids: Type.Array(Type.String({ format: 'uuid' }), { minItems: 1, maxItems: 500, uniqueItems: true }),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({ retried: Type.Integer({ description: 'jobs moved back; ids not failed are skipped' }) }),
            400: ErrorBody,
            401: ErrorBody,
            404: ErrorBody,
          },
        },
      },
      async (req) => {
        if (!svc.jobs.has(req.body.queue)) throw notFound('Queue');
        return { retried: await svc.jobs.retryFailed(req.body.queue, req.body.ids) };
      },
    );
  };
}
