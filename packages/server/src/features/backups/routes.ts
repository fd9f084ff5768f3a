/**
 * Backups through a running server (platform/backup): the operator's `parley backup` asks the
 * server that owns an embedded database for the archive, streamed as it is made; and the
 * admin console reads when the last backup ran and how it went. Behind the admin token.
 */
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorBody } from '@parley/protocol';
import { Type } from '@sinclair/typebox';
import { createBackup } from '../../platform/backup/create.js';
import { backupRunning, recentRuns } from '../../platform/backup/runs.js';
import { ApiError } from '../../platform/errors.js';
import type { BlobStore } from '../../platform/storage/store.js';
import type { Services } from '../../services.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

const BackupRun = Type.Object({
  id: Type.String({ format: 'uuid' }),
  status: Type.Union([Type.Literal('running'), Type.Literal('ok'), Type.Literal('failed')]),
  database_kind: Type.String(),
  started_at: Type.String(),
  finished_at: Nullable(Type.String()),
  duration_ms: Type.Union([Type.Integer(), Type.Null()]),
  bytes: Type.Union([Type.Integer(), Type.Null()], { description: 'size of the archive' }),
  objects: Type.Union([Type.Integer(), Type.Null()], { description: 'objects of the file store in it' }),
  key_included: Type.Boolean({ description: 'whether the master key is in it, sealed with a passphrase' }),
  error: Nullable(Type.String()),
  restored_at: Nullable(Type.String({ description: 'on a deployment restored from this backup: when' })),
});

/** What the backup routes need besides the services: the store without held removals, the key. */
export interface BackupDeps {
  store: BlobStore;
  masterKey: Buffer;
}

export function backupRoutes(svc: Services, deps: BackupDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/admin/backups',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          summary: 'Recent backups, newest first, with the last one and the last that succeeded',
          querystring: Type.Object(
            { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })) },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              last: Type.Union([BackupRun, Type.Null()]),
              last_ok: Type.Union([BackupRun, Type.Null()]),
              backups: Type.Array(BackupRun),
            }),
            400: ErrorBody,
            401: ErrorBody,
          },
        },
      },
      async (req) => {
        const backups = await recentRuns(svc.db, req.query.limit ?? 20);
        const lastOk =
          backups.find((b) => b.status === 'ok') ?? (await recentRuns(svc.db, 100)).find((b) => b.status === 'ok');
        return { last: backups[0] ?? null, last_ok: lastOk ?? null, backups };
      },
    );

    app.post(
      '/v1/admin/backup',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          summary: 'Make a backup now and stream it (a tar archive; `parley backup` writes it to a file)',
          description:
            'The database as one snapshot, every object of the file store, and — sealed with `passphrase` when one ' +
            'is given — the master key, with a manifest of sizes and SHA-256 digests (docs/backup.md). Runs while the ' +
            'server serves traffic. `409 CONFLICT` while another backup runs.',
          body: Type.Object(
            { passphrase: Type.Optional(Type.String({ minLength: 8, maxLength: 1024 })) },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Unknown({ description: 'the archive (application/x-tar), streamed' }),
            400: ErrorBody,
            401: ErrorBody,
            409: ErrorBody,
          },
        },
      },
      async (req, reply) => {
        if (await backupRunning(svc.db))
          throw new ApiError('CONFLICT', 'Another backup is running; try again when it ends');
        const out = new PassThrough();
        const made = createBackup(
          {
            database: svc.database,
            databaseUrl: svc.config.databaseUrl,
            store: deps.store,
            masterKey: deps.masterKey,
            tmpDir: svc.config.dataDir,
          },
          out,
          { passphrase: req.body.passphrase },
        );
        made.then(
          (r) => svc.log.info({ bytes: r.bytes, objects: r.manifest.objects.count }, 'backup made'),
          (err: unknown) => {
            svc.log.warn({ err }, 'backup failed');
            // Cut the answer short: the reader sees an archive without its manifest.
            out.destroy(err as Error);
          },
        );
        return reply
          .header('content-type', 'application/x-tar')
          .header('content-disposition', `attachment; filename="${path.basename('parley-backup.tar')}"`)
          .header('cache-control', 'no-store')
          .send(out);
      },
    );
  };
}
