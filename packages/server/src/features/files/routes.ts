/**
 * File routes: the streaming upload, cancelling an upload, signed links, and downloads (with
 * credentials, or by a signed URL that an `<img src>` can use).
 *
 * Every download answers with `X-Content-Type-Options: nosniff` and a CSP that runs nothing;
 * only images, audio, video and plain text whose bytes, name and declared type agree are
 * shown inline — HTML, SVG, XML, scripts and anything mismatched are always downloads.
 */
import { rm } from 'node:fs/promises';
import fastifyMultipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AttachmentResponse,
  CidParams,
  CompleteUploadBody,
  DirectUploadBody,
  DirectUploadResponse,
  ErrorBody,
  FileLinksBody,
  FileLinksResponse,
  IdParams,
  MyFilesQuery,
  MyFilesResponse,
  OkResponse,
  StorageUseResponse,
  THUMB_SIZES,
  UploadRules,
  UploadRulesResponse,
} from '@parley/protocol';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, notFound } from '../../platform/errors.js';
import { callerOf, userOf } from '../../platform/http.js';
import { checkRate } from '../../platform/limits.js';
import { discard } from '../../platform/storage/store.js';
import type { Services } from '../../services.js';
import { loadChannel } from '../channels/index.js';
import { checkCan } from '../permissions/index.js';
import {
  cancelUpload,
  checkFileRead,
  checkQuotaRoom,
  fileLinks,
  fileRow,
  multipartBoundary,
  receive,
  storeUpload,
  watchMultipart,
} from './actions.js';
import { completeDirectUpload, createDirectUpload } from './direct.js';
import { contentDisposition } from './names.js';
import type { FileRow } from './present.js';
import { getUploadRules, setUploadRules } from './rules.js';
import { servesInline } from './sniff.js';
import { getStorageUse, listMyFiles } from './storage.js';

const tags = ['files'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
const Variant = Type.Union([Type.Literal('original'), ...THUMB_SIZES.map((s) => Type.Literal(String(s)))], {
  description: 'the original bytes, or a WebP thumbnail by its longest side',
});
const FILE_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'";

export function fileRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    // Multipart only inside this plugin: everywhere else bodies stay JSON only.
    await app.register(fastifyMultipart, {
      limits: { fileSize: svc.config.uploadMaxBytes, files: 1, fields: 10, parts: 12, fieldSize: 1024 },
    });

    app.post(
      '/v1/channels/:cid/uploads',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Upload a file to a channel (multipart/form-data, one part named `file`), streamed',
          description:
            'Answers the attachment object; send a message with `attachments: [id]` to share it. ' +
            'The content type is decided from the bytes. Too large (for the server, or for its kind under the ' +
            "app's upload rules): 413 PAYLOAD_TOO_LARGE; a type the rules do not allow: 415 INVALID_FILE_TYPE; " +
            'past a quota: 413 QUOTA_EXCEEDED. An upload no message claims is removed after a while.',
          consumes: ['multipart/form-data'],
          params: CidParams,
          response: {
            200: AttachmentResponse,
            409: ErrorBody,
            413: ErrorBody,
            415: ErrorBody,
            429: ErrorBody,
            ...errors,
          },
        },
      },
      async (req) => {
        const me = userOf(req);
        // Checked before a byte of the body is read.
        const a = await loadChannel(svc.db, me, req.params.cid);
        if (!a) throw notFound('Channel');
        checkCan(a, 'upload-file', svc.clock());
        await checkRate(svc, 'uploads', me.app.id, me.userId, req.ip);
        await checkQuotaRoom(svc, me.app.id, me.userId);
        if (!req.isMultipart())
          throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Send the file as multipart/form-data (a part named "file")');
        // The parser throws on a multipart type without a boundary (once a 500): say what is wrong.
        const boundary = multipartBoundary(req.headers['content-type']);
        if (!boundary)
          throw new ApiError('VALIDATION_ERROR', 'Content-Type multipart/form-data needs a boundary parameter');
        const source = watchMultipart(req.raw, boundary);
        const part = await req.file();
        if (part?.fieldname !== 'file') {
          if (part) await discard(part.file);
          throw new ApiError('VALIDATION_ERROR', 'The upload needs one part named "file"');
        }
        const got = await receive(svc, part.file, source);
        if (part.file.truncated) {
          // Refused bytes are not kept, not even the part that fit.
          await rm(got.tmp, { force: true });
          throw new ApiError('PAYLOAD_TOO_LARGE', 'The file is larger than the server accepts');
        }
        return { attachment: await storeUpload(svc, me, a, got, part.filename, part.mimetype) };
      },
    );

    app.post(
      '/v1/channels/:cid/uploads/direct',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Ask to upload a file straight to the object store (S3 storage): a presigned form POST',
          description:
            'POST `fields` then the file (a part named `file`) to `url` as multipart/form-data; the policy holds the ' +
            'key, the content type and the exact size. Then `POST /v1/uploads/{id}/complete` with the `token`. ' +
            'The declared type and size are checked against the rules and quotas now, the bytes at completion. ' +
            '409 CONFLICT without S3 storage (`direct_uploads` in `GET /v1/files/rules` says which).',
          params: CidParams,
          body: DirectUploadBody,
          response: {
            200: DirectUploadResponse,
            409: ErrorBody,
            413: ErrorBody,
            415: ErrorBody,
            429: ErrorBody,
            ...errors,
          },
        },
      },
      async (req) => {
        const me = userOf(req);
        await checkRate(svc, 'uploads', me.app.id, me.userId, req.ip);
        return createDirectUpload(svc, me, req.params.cid, req.body);
      },
    );

    app.post(
      '/v1/uploads/:id/complete',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Complete a direct upload: the server checks the object and answers the attachment',
          description:
            'Reads the uploaded object once: its size must be the one announced, its type (from the bytes) and size ' +
            "must pass the app's rules and the quotas; images lose their metadata, thumbnails follow by job. The " +
            'incoming object is removed either way. Completing again answers the same attachment.',
          params: IdParams,
          body: CompleteUploadBody,
          response: { 200: AttachmentResponse, 413: ErrorBody, 415: ErrorBody, ...errors },
        },
      },
      async (req) => ({ attachment: await completeDirectUpload(svc, userOf(req), req.params.id, req.body.token) }),
    );

    app.get(
      '/v1/files/rules',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: "The app's upload rules: allowed types and each kind's size limit (any user)",
          response: { 200: UploadRulesResponse, ...errors },
        },
      },
      async (req) => getUploadRules(svc, callerOf(req)),
    );
    app.put(
      '/v1/files/rules',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: "Replace the app's upload rules (app admins, the server token)",
          description:
            'Types are read from the bytes: a refused type is 415 INVALID_FILE_TYPE, a file past its ' +
            "kind's limit 413 PAYLOAD_TOO_LARGE. Limits above the server's own (`server_max_bytes`) change nothing.",
          body: UploadRules,
          response: { 200: UploadRulesResponse, ...errors },
        },
      },
      async (req) => setUploadRules(svc, callerOf(req), req.body),
    );

    app.delete(
      '/v1/uploads/:id',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Cancel an upload that no message carries (its uploader only)',
          params: IdParams,
          response: { 200: OkResponse, 409: ErrorBody, ...errors },
        },
      },
      async (req) => {
        await cancelUpload(svc, userOf(req), req.params.id);
        return { ok: true as const };
      },
    );

    app.get(
      '/v1/me/storage',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Your storage use, and the app’s, against the quotas',
          description:
            'Exactly what the quota check counts: your uploads not deleted (attached or not yet) and the profile ' +
            'pictures and workspace logos you uploaded, split by kind; and the app’s total. `limit_bytes` is null ' +
            'when there is no quota (`PARLEY_USER_QUOTA_BYTES`, `PARLEY_APP_QUOTA_BYTES`); an upload past one is ' +
            'refused with 413 QUOTA_EXCEEDED, whose `details.quota` names the `user` or `app` block here and ' +
            '`details.limit_bytes` its limit. A user token only.',
          response: { 200: StorageUseResponse, ...errors },
        },
      },
      async (req) => getStorageUse(svc, callerOf(req)),
    );

    app.get(
      '/v1/me/files',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Your stored files, largest first (to free space)',
          description:
            'The uploads that count toward your quota (not deleted), largest first, each with the message that ' +
            'carries it (`message_id`, null for an upload no message carries yet): delete that message, or cancel ' +
            'the upload (`DELETE /v1/uploads/{id}`), to free its bytes. Profile pictures are not listed. Paged by ' +
            '`cursor` (the `next` of the previous page); `limit` 1–100, default 50. A user token only.',
          querystring: MyFilesQuery,
          response: { 200: MyFilesResponse, ...errors },
        },
      },
      async (req) => listMyFiles(svc, callerOf(req), req.query),
    );

    app.post(
      '/v1/files/links',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Signed, expiring URLs of files (and their thumbnails), for <img src> and downloads',
          description: 'Files the caller may not read are left out of the answer.',
          body: FileLinksBody,
          response: { 200: FileLinksResponse, ...errors },
        },
      },
      async (req) => ({ links: await fileLinks(svc, callerOf(req), req.body.ids) }),
    );

    app.get(
      '/v1/files/:id',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'A file or a thumbnail, with credentials (Range, ETag; S3 stores redirect)',
          params: IdParams,
          querystring: Type.Object({ v: Type.Optional(Variant) }, { additionalProperties: false }),
          response: errors,
        },
      },
      async (req, reply) => {
        const caller = callerOf(req);
        const row = await fileRow(svc, caller.app.id, req.params.id);
        await checkFileRead(svc, caller, row);
        return serve(svc, req, reply, row, req.query.v ?? 'original', 'private, no-cache', 300);
      },
    );

    app.get(
      '/v1/files/:id/signed',
      {
        schema: {
          tags,
          summary: 'A file or a thumbnail by a signed URL (from /v1/files/links); no credentials',
          security: [],
          params: IdParams,
          querystring: Type.Object(
            {
              app: Type.String({ format: 'uuid' }),
              v: Variant,
              exp: Type.Integer({ minimum: 0, maximum: 99999999999 }),
              sig: Type.String({ minLength: 1, maxLength: 64 }),
            },
            { additionalProperties: false },
          ),
          response: errors,
        },
      },
      async (req, reply) => {
        const q = req.query;
        if (!svc.storage.urls.verify({ app: q.app, file: req.params.id, variant: q.v, exp: q.exp }, q.sig))
          throw new ApiError('FORBIDDEN', 'This link is invalid or has expired; ask for a new one');
        const row = await fileRow(svc, q.app, req.params.id);
        const left = Math.max(0, q.exp - Math.floor(Date.now() / 1000));
        return serve(svc, req, reply, row, q.v, `private, max-age=${left}, immutable`, Math.min(left, 300));
      },
    );
  };
}

/** Parse a single `Range: bytes=…` against `size`; null = the whole file, 'bad' = 416. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'bad' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null; // several ranges or another unit: answer the whole file (allowed)
  const [, a, b] = m as unknown as [string, string, string];
  if (a === '' && b === '') return 'bad';
  let start: number;
  let end: number;
  if (a === '') {
    start = Math.max(0, size - Number(b));
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start > end || start >= size) return 'bad';
  return { start, end };
}

async function serve(
  svc: Services,
  req: FastifyRequest,
  reply: FastifyReply,
  row: FileRow,
  variant: string,
  cacheControl: string,
  presignSeconds: number,
) {
  const thumb = variant !== 'original';
  const key = thumb ? row.thumbs[variant] : row.storageKey;
  if (!key) throw notFound('Thumbnail');
  const inline = thumb || servesInline(row.mimeType, row.name, row.typeMismatch);
  const type = thumb
    ? 'image/webp'
    : inline
      ? row.mimeType === 'text/plain'
        ? 'text/plain; charset=utf-8'
        : row.mimeType
      : 'application/octet-stream';
  const name = thumb ? `${row.name.replace(/\.[^.]*$/, '')}-${variant}.webp` : row.name;
  const disposition = contentDisposition(inline ? 'inline' : 'attachment', name);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('content-security-policy', FILE_CSP);
  reply.header('cache-control', cacheControl);
  const store = svc.storage.store;
  if (store.presign) {
    // The object store serves the bytes (with Range and its own ETag); the link lasts minutes.
    const url = await store.presign(key, {
      expiresIn: Math.max(60, presignSeconds),
      contentType: type,
      disposition,
      cacheControl,
    });
    reply.header('cache-control', 'private, no-store');
    return reply.redirect(url, 302);
  }
  const etag = `"${row.sha256.slice(0, 32)}${thumb ? `-${variant}` : ''}"`;
  reply.header('etag', etag);
  reply.header('accept-ranges', 'bytes');
  reply.header('content-disposition', disposition);
  reply.type(type);
  const inm = req.headers['if-none-match'];
  if (inm?.split(',').some((t) => t.trim() === etag || t.trim() === '*')) return reply.status(304).send();
  const size = thumb ? await store.size(key) : row.size;
  const ifRange = req.headers['if-range'];
  const range = ifRange && ifRange !== etag ? null : parseRange(req.headers.range, size);
  if (range === 'bad') {
    reply.header('content-range', `bytes */${size}`);
    reply.removeHeader('content-disposition');
    return reply
      .status(416)
      .type('application/json')
      .send({ error: { code: 'VALIDATION_ERROR', message: 'The range is outside the file' } });
  }
  if (range) {
    reply.status(206);
    reply.header('content-range', `bytes ${range.start}-${range.end}/${size}`);
    reply.header('content-length', range.end - range.start + 1);
    return reply.send(await store.read(key, range));
  }
  reply.header('content-length', size);
  return reply.send(await store.read(key));
}
