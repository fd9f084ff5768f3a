/**
 * Routes for a user's data exports and for deleting users and channels. Deletions are done by
 * jobs: the answer is 202 with the job's id; the decision is in the audit log at once, in
 * the same transaction that enqueued the job.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CidParams,
  DataExportResponse,
  DataExportsResponse,
  DeleteUserQuery,
  DeletionResponse,
  EmptyBody,
  ErrorBody,
  ExportDownloadParams,
  ExportDownloadQuery,
  ExportParams,
  UserIdParams,
} from '@parley/protocol';
import { and, desc, eq } from 'drizzle-orm';
import type { FastifyReply } from 'fastify';
import type { Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { ApiError, notFound } from '../../platform/errors.js';
import { callerOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { actorOfCaller, checkAppAdmin, recordAudit } from '../audit/index.js';
import { userExists } from './deletion.js';
import { presentExport } from './export.js';
import { DELETE_CHANNEL, DELETE_USER, MAKE_EXPORT } from './job-names.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };

/** The user themselves, an app admin, or the server token. */
async function checkSelfOrAdmin(svc: Services, caller: Caller, userId: string): Promise<void> {
  if (caller.kind === 'user' && caller.userId === userId) return;
  await checkAppAdmin(svc, caller);
}

export function adminRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/users/:id/exports',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['admin'],
          summary: "Ask for a user's data export (the user, an app admin, or the server token)",
          description:
            'A job makes a .tar.gz of the profile, messages, reactions and uploads list. The user’s connections ' +
            'get `export.ready` when it is done; then GET the export for its signed `url`, which works without ' +
            'credentials until `expires_at` (`PARLEY_EXPORT_TTL_HOURS`). Asking again while one is being made ' +
            'answers that one.',
          params: UserIdParams,
          body: EmptyBody,
          response: { 202: DataExportResponse, ...errors },
        },
      },
      async (req, reply) => {
        const caller = callerOf(req);
        const appId = caller.app.id;
        const userId = req.params.id;
        await checkSelfOrAdmin(svc, caller, userId);
        if (!(await userExists(svc, appId, userId, true))) throw notFound('User');
        // One archive in the making per user: asking again while it is made answers that one.
        const [making] = await svc.db
          .select()
          .from(schema.dataExports)
          .where(
            and(
              eq(schema.dataExports.appId, appId),
              eq(schema.dataExports.userId, userId),
              eq(schema.dataExports.status, 'pending'),
            ),
          )
          .limit(1);
        if (making) return reply.status(202).send({ export: presentExport(svc, making) });
        const id = randomUUID();
        const row = await svc.db.transaction(async (tx) => {
          const [row] = await tx
            .insert(schema.dataExports)
            .values({ appId, id, userId, requestedBy: caller.userId })
            .returning();
          await recordAudit(tx, {
            appId,
            actor: actorOfCaller(caller),
            action: 'export.requested',
            target: { kind: 'user', id: userId },
            details: { export_id: id },
          });
          await svc.jobs.enqueue(tx, MAKE_EXPORT, { appId, exportId: id });
          return row;
        });
        if (!row) throw new Error('insert returned no export');
        svc.jobs.wake(MAKE_EXPORT.name);
        return reply.status(202).send({ export: presentExport(svc, row) });
      },
    );

    app.get(
      '/v1/users/:id/exports',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['admin'],
          summary: "A user's data exports, newest first (the user, an app admin, or the server token)",
          params: UserIdParams,
          response: { 200: DataExportsResponse, ...errors },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        await checkSelfOrAdmin(svc, caller, req.params.id);
        const got = await svc.db
          .select()
          .from(schema.dataExports)
          .where(and(eq(schema.dataExports.appId, caller.app.id), eq(schema.dataExports.userId, req.params.id)))
          .orderBy(desc(schema.dataExports.createdAt))
          .limit(20);
        return { exports: got.map((r) => presentExport(svc, r)) };
      },
    );

    app.get(
      '/v1/users/:id/exports/:export_id',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['admin'],
          summary: 'One data export, with a fresh signed download `url` once ready',
          params: ExportParams,
          response: { 200: DataExportResponse, ...errors },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        await checkSelfOrAdmin(svc, caller, req.params.id);
        const [row] = await svc.db
          .select()
          .from(schema.dataExports)
          .where(
            and(
              eq(schema.dataExports.appId, caller.app.id),
              eq(schema.dataExports.userId, req.params.id),
              eq(schema.dataExports.id, req.params.export_id),
            ),
          );
        if (!row) throw notFound('Export');
        return { export: presentExport(svc, row) };
      },
    );

    app.get(
      '/v1/exports/:export_id/download',
      {
        config: { auth: 'none' },
        schema: {
          tags: ['admin'],
          summary: 'Download a data export (.tar.gz) through its signed link',
          description: '403 FORBIDDEN for a bad or expired signature; 404 NOT_FOUND once the export is gone.',
          security: [],
          params: ExportDownloadParams,
          querystring: ExportDownloadQuery,
          response: { 403: ErrorBody, 404: ErrorBody, 400: ErrorBody },
        },
      },
      async (req, reply) => {
        const { export_id } = req.params;
        const { app: appId, exp, sig } = req.query;
        if (!svc.storage.urls.verify({ app: appId, file: export_id, variant: 'export', exp }, sig, svc.clock()))
          throw new ApiError('FORBIDDEN', 'This link is not valid or has expired: ask for the export again');
        const row = await svc.db.transaction(async (tx) => {
          const [row] = await tx
            .select()
            .from(schema.dataExports)
            .where(and(eq(schema.dataExports.appId, appId), eq(schema.dataExports.id, export_id)));
          if (row?.status !== 'ready' || !row.storageKey) throw notFound('Export');
          await recordAudit(tx, {
            appId,
            actor: { kind: 'user', id: row.userId },
            action: 'export.downloaded',
            target: { kind: 'user', id: row.userId },
            details: { export_id },
          });
          return row;
        });
        const body = await svc.storage.store.read(row.storageKey as string);
        return (reply as FastifyReply)
          .header('content-type', 'application/gzip')
          .header('content-disposition', `attachment; filename="parley-export-${row.userId}.tar.gz"`)
          .header('cache-control', 'private, no-store')
          .header('x-content-type-options', 'nosniff')
          .send(body);
      },
    );

    app.delete(
      '/v1/users/:id',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['admin'],
          summary: 'Delete a user, soft (default) or hard, through the job queue (app admins, server token)',
          description:
            '`soft`: the user becomes "[deleted user]" with every personal field cleared; their messages stay. ' +
            '`hard`: their messages, reactions and uploads are removed too. Answers 202 with the job id.',
          params: UserIdParams,
          querystring: DeleteUserQuery,
          response: { 202: DeletionResponse, ...errors },
        },
      },
      async (req, reply) => {
        const caller = callerOf(req);
        await checkAppAdmin(svc, caller);
        const appId = caller.app.id;
        const userId = req.params.id;
        const mode = req.query.mode ?? 'soft';
        if (caller.kind === 'user' && caller.userId === userId)
          throw new ApiError('FORBIDDEN', 'Admins cannot delete themselves here');
        // A soft-deleted user can still be hard-deleted (their messages removed later).
        if (!(await userExists(svc, appId, userId, mode === 'soft'))) throw notFound('User');
        const jobId = await svc.db.transaction(async (tx) => {
          const jobId = await svc.jobs.enqueue(tx, DELETE_USER, { appId, userId, mode });
          await recordAudit(tx, {
            appId,
            actor: actorOfCaller(caller),
            action: 'user.deleted',
            target: { kind: 'user', id: userId },
            details: { mode, job_id: jobId },
          });
          return jobId;
        });
        svc.jobs.wake(DELETE_USER.name);
        return reply.status(202).send({ job_id: jobId ?? '', target: { user_id: userId } });
      },
    );

    app.delete(
      '/v1/channels/:cid',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['admin'],
          summary: 'Delete a channel and everything in it, through the job queue (app admins, server token)',
          description: 'Its members get `channel.removed`. Answers 202 with the job id. Archive instead to keep it.',
          params: CidParams,
          response: { 202: DeletionResponse, ...errors },
        },
      },
      async (req, reply) => {
        const caller = callerOf(req);
        await checkAppAdmin(svc, caller);
        const appId = caller.app.id;
        const { cid } = req.params;
        const [ch] = await svc.db
          .select({ name: schema.channels.name })
          .from(schema.channels)
          .where(and(eq(schema.channels.appId, appId), eq(schema.channels.cid, cid)));
        if (!ch) throw notFound('Channel');
        const jobId = await svc.db.transaction(async (tx) => {
          const jobId = await svc.jobs.enqueue(tx, DELETE_CHANNEL, { appId, cid });
          await recordAudit(tx, {
            appId,
            actor: actorOfCaller(caller),
            action: 'channel.deleted',
            target: { kind: 'channel', id: cid },
            details: { name: ch.name, job_id: jobId },
          });
          return jobId;
        });
        svc.jobs.wake(DELETE_CHANNEL.name);
        return reply.status(202).send({ job_id: jobId ?? '', target: { cid } });
      },
    );
  };
}
