/**
 * Imports through a running server: `parley import slack|mattermost|parley` sends the export to the
 * server that owns an embedded database (which only that process may open), and reads the
 * import's progress back as it goes. Behind the admin token, one import at a time per process.
 *
 * The export is written to a temporary file first (the zip's directory is at its end), read
 * within the same limits as on the command line, then imported by the same importer, in its one
 * transaction. The answer is NDJSON, one object a line: `progress` after each conversation
 * (`done`, `total`, `channel`), then one of `report` (the import's report), `refused` (the
 * export's problems; nothing was written) or `error` (`{code, message}`).
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorBody, WorkspaceExportResponse } from '@parley/protocol';
import { Type } from '@sinclair/typebox';
import { eq } from 'drizzle-orm';
import { schema } from '../../platform/db/index.js';
import { ApiError, toApiError } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { originOf } from '../images/index.js';
import { ExportRefusedError, ImportInputError } from './errors.js';
import { importMattermostExport } from './mattermost.js';
import { openMattermostExport } from './mattermost-export.js';
import { importParleyExport } from './parley.js';
import { importSlackExport } from './slack.js';
import { findWorkspaceExport, presentWorkspaceExport, requestWorkspaceExport } from './workspace-exports.js';
import { DEFAULT_EXPORT_LIMITS, type ExportArchive, openExportZip } from './zip.js';

/** The export's bytes, as sent: a zip (or Mattermost's JSONL). */
const BODY_TYPES = ['application/zip', 'application/octet-stream', 'application/x-ndjson'];

const Uuid = Type.String({ format: 'uuid' });

export function importRoutes(svc: Services): FastifyPluginAsyncTypebox {
  let running = false;
  return async (app) => {
    // The body is streamed to a file by the handler, not read into memory by a parser.
    app.addContentTypeParser(BODY_TYPES, (_req, payload, done) => done(null, payload));

    app.post(
      '/v1/admin/imports/:source',
      {
        config: { auth: 'admin' },
        // The zip may be as large as the export limits allow; the limits are checked as it is read.
        bodyLimit: DEFAULT_EXPORT_LIMITS.maxTotalBytes,
        schema: {
          tags: ['admin'],
          summary: 'Import a Slack, Mattermost or Parley export into a workspace, with its progress streamed',
          description:
            'The body is the export (a zip; for Mattermost also its JSONL), sent as application/zip or ' +
            'application/octet-stream. The answer is NDJSON: `{"type":"progress","done","total","channel"}` lines, ' +
            'then `{"type":"report","report"}`, `{"type":"refused","problems":[{file,reason}]}` (nothing written) or ' +
            '`{"type":"error","error":{code,message}}`. `409 CONFLICT` while another import runs on this server. ' +
            "What each export becomes: docs/cli.md; Parley's own format (`parley`): docs/moving.md.",
          params: Type.Object({
            source: Type.Union([Type.Literal('slack'), Type.Literal('mattermost'), Type.Literal('parley')]),
          }),
          querystring: Type.Object(
            {
              workspace: Uuid,
              dry_run: Type.Optional(Type.Boolean()),
              team: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Unknown({ description: 'NDJSON (application/x-ndjson), streamed' }),
            400: ErrorBody,
            401: ErrorBody,
            404: ErrorBody,
            409: ErrorBody,
            413: ErrorBody,
            415: ErrorBody,
          },
        },
      },
      async (req, reply) => {
        if (!(req.body instanceof Readable))
          throw new ApiError(
            'UNSUPPORTED_MEDIA_TYPE',
            'Send the export itself as the body (application/zip or application/octet-stream)',
          );
        const [ws] = await svc.db
          .select({ appId: schema.workspaces.appId })
          .from(schema.workspaces)
          .where(eq(schema.workspaces.appId, req.query.workspace));
        if (!ws) throw new ApiError('NOT_FOUND', `No workspace with id ${req.query.workspace}`);
        if (running) throw new ApiError('CONFLICT', 'Another import is running on this server; try again when it ends');
        running = true;
        const dir = await mkdtemp(path.join(tmpdir(), 'parley-import-'));
        let archive: ExportArchive | null = null;
        const done = async () => {
          running = false;
          await archive?.close().catch(() => {});
          await rm(dir, { recursive: true, force: true }).catch(() => {});
        };
        try {
          const file = path.join(dir, `${randomUUID()}.export`);
          await pipeline(req.body, createWriteStream(file));
          const { source } = req.params;
          archive =
            source !== 'mattermost'
              ? await openExportZip(file, DEFAULT_EXPORT_LIMITS, { maxFileBytes: svc.config.uploadMaxBytes })
              : await openMattermostExport(file, DEFAULT_EXPORT_LIMITS);
        } catch (e) {
          await done();
          if (e instanceof ImportInputError) throw new ApiError('VALIDATION_ERROR', e.message);
          throw e;
        }
        const out = new PassThrough();
        const line = (v: unknown) => out.write(`${JSON.stringify(v)}\n`);
        const q = req.query;
        const opts = {
          dryRun: q.dry_run === true,
          onProgress: (d: number, total: number, channel: string | null) =>
            line({ type: 'progress', done: d, total, channel }),
          store: svc.storage.store,
          maxFileBytes: svc.config.uploadMaxBytes,
          publicUrl: svc.config.publicUrl,
        };
        const opened = archive;
        const run =
          req.params.source === 'slack'
            ? importSlackExport(svc.database, q.workspace, opened, opts)
            : req.params.source === 'parley'
              ? // Carried pictures are served here: the public URL, else the address this request came to.
                importParleyExport(svc.database, q.workspace, opened, { ...opts, publicUrl: originOf(svc, req) })
              : importMattermostExport(svc.database, q.workspace, opened, { ...opts, team: q.team });
        run
          .then(
            (report) => {
              svc.log.info({ source: req.params.source, workspace: q.workspace, dryRun: opts.dryRun }, 'import done');
              line({ type: 'report', report });
            },
            (err: unknown) => {
              if (err instanceof ExportRefusedError) line({ type: 'refused', problems: err.problems });
              else if (err instanceof ImportInputError)
                line({ type: 'error', error: { code: 'VALIDATION_ERROR', message: err.message } });
              else {
                const { error, unexpected } = toApiError(err);
                if (unexpected) svc.log.error({ err }, 'import failed');
                line({ type: 'error', error: { code: error.code, message: error.message } });
              }
            },
          )
          .finally(() => {
            out.end();
            void done();
          });
        return reply.header('content-type', 'application/x-ndjson').header('cache-control', 'no-store').send(out);
      },
    );

    app.post(
      '/v1/admin/exports/parley',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          summary: "Export a workspace in Parley's own format (a job), for `import parley` on this or another server",
          description:
            'Answers `202` with the export, `pending`; a job writes the archive (a zip: manifest.json, settings.json, ' +
            "one JSONL file a kind of row and the files' bytes; docs/moving.md) and records its progress. GET the " +
            'export for its progress, then its `/download` once `ready`, until `expires_at`. `404 NOT_FOUND` for no ' +
            'such workspace.',
          body: Type.Object({ workspace: Uuid }, { additionalProperties: false }),
          response: { 202: WorkspaceExportResponse, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        const { workspace } = req.body;
        const [ws] = await svc.db
          .select({ appId: schema.workspaces.appId })
          .from(schema.workspaces)
          .where(eq(schema.workspaces.appId, workspace));
        if (!ws) throw new ApiError('NOT_FOUND', `No workspace with id ${workspace}`);
        const made = await requestWorkspaceExport(svc, workspace);
        return reply.status(202).send({ export: presentWorkspaceExport(made) });
      },
    );

    const ExportId = Type.Object({ export_id: Uuid });
    const found = async (id: string) => {
      const e = await findWorkspaceExport(svc.db, id);
      if (!e) throw new ApiError('NOT_FOUND', `No workspace export ${id} (it may have expired)`);
      return e;
    };

    app.get(
      '/v1/admin/exports/parley/:export_id',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          summary: 'A workspace export: its status and progress',
          params: ExportId,
          response: { 200: WorkspaceExportResponse, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody },
        },
      },
      async (req) => ({ export: presentWorkspaceExport(await found(req.params.export_id)) }),
    );

    app.get(
      '/v1/admin/exports/parley/:export_id/download',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          summary: 'Download a workspace export (application/zip) once it is ready',
          description: '`409 CONFLICT` while it is being made (or when it failed); `404 NOT_FOUND` once it expired.',
          params: ExportId,
          response: {
            200: Type.Unknown({ description: 'the archive (application/zip)' }),
            400: ErrorBody,
            401: ErrorBody,
            404: ErrorBody,
            409: ErrorBody,
          },
        },
      },
      async (req, reply) => {
        const e = await found(req.params.export_id);
        if (e.status !== 'ready' || !e.storage_key)
          throw new ApiError('CONFLICT', `The export is ${e.status}${e.error ? ` (${e.error})` : ''}, not ready`);
        return reply
          .header('content-type', 'application/zip')
          .header('content-disposition', `attachment; filename="parley-workspace-${e.workspace_id}.zip"`)
          .header('cache-control', 'no-store')
          .send(await svc.storage.store.read(e.storage_key));
      },
    );
  };
}
