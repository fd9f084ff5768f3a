/**
 * Picture routes: the caller's profile picture (`PUT`/`DELETE /v1/me/avatar`), the workspace's
 * logo (`PUT`/`DELETE /v1/workspace/logo`, through the chat API so the upload is a bearer-token
 * request like any file upload), and the public, immutable picture URL itself
 * (`GET /v1/images/{app_id}/{id}?size=N`).
 *
 * Uploads are multipart with one part named `file`, streamed to a temporary file as channel
 * uploads are (files/actions.ts `receive`), then stored by `storeImage`.
 */
import { rm } from 'node:fs/promises';
import fastifyMultipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AvatarResponse,
  ErrorBody,
  IMAGE_MAX_BYTES,
  ImageParams,
  ImageQuery,
  LogoResponse,
  OkResponse,
  UserResponse,
} from '@parley/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../platform/errors.js';
import { callerOf, userOf } from '../../platform/http.js';
import { checkRate } from '../../platform/limits.js';
import type { ImageRow } from '../../platform/storage/pictures.js';
import { discard } from '../../platform/storage/store.js';
import type { Services } from '../../services.js';
import { checkLogoAccess, publicUrl } from '../accounts/index.js';
import { checkQuotaRoom, multipartBoundary, type Received, receive, watchMultipart } from '../files/index.js';
import { presentUser } from '../users/index.js';
import { imageRow } from './actions.js';
import { removeAvatar, setAvatar } from './avatar.js';
import { removeWorkspaceLogo, setWorkspaceLogo } from './logo.js';
import { pickSize } from './render.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody };
const uploadErrors = { 404: ErrorBody, 413: ErrorBody, 415: ErrorBody, 429: ErrorBody, ...errors };
const IMAGE_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'";
/** A Host header fit to build a URL from (anything else: the configured public URL). */
const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/** Where the server is reached: `PARLEY_PUBLIC_URL` when set, else the request's own origin. */
export function originOf(svc: Services, req: FastifyRequest): string {
  if (svc.config.publicUrl) return svc.config.publicUrl;
  return HOST.test(req.host) ? `${req.protocol}://${req.host}` : publicUrl(svc.config);
}

/** The one `file` part of a picture upload, in a temporary file; typed errors for anything else. */
async function receivePicture(
  svc: Services,
  req: FastifyRequest,
): Promise<{ got: Received; name: string; type: string }> {
  if (!req.isMultipart())
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Send the picture as multipart/form-data (a part named "file")');
  const boundary = multipartBoundary(req.headers['content-type']);
  if (!boundary) throw new ApiError('VALIDATION_ERROR', 'Content-Type multipart/form-data needs a boundary parameter');
  const source = watchMultipart(req.raw, boundary);
  const part = await req.file();
  if (part?.fieldname !== 'file') {
    if (part) await discard(part.file);
    throw new ApiError('VALIDATION_ERROR', 'The upload needs one part named "file"');
  }
  const got = await receive(svc, part.file, source);
  if (part.file.truncated) {
    await rm(got.tmp, { force: true });
    throw new ApiError('PAYLOAD_TOO_LARGE', `A picture may be at most ${IMAGE_MAX_BYTES / 1024 / 1024} MB`, {
      limit_bytes: IMAGE_MAX_BYTES,
    });
  }
  return { got, name: part.filename, type: part.mimetype };
}

export function imageRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    await app.register(fastifyMultipart, {
      limits: {
        fileSize: Math.min(IMAGE_MAX_BYTES, svc.config.uploadMaxBytes),
        files: 1,
        fields: 10,
        parts: 12,
        fieldSize: 1024,
      },
    });

    app.put(
      '/v1/me/avatar',
      {
        config: { auth: 'user' },
        schema: {
          tags: ['users'],
          summary: 'Upload your profile picture (multipart/form-data, one part named `file`)',
          description:
            'The picture is read from its bytes (JPEG, PNG, WebP, AVIF, TIFF or GIF; else 415 INVALID_FILE_TYPE), ' +
            'cropped to a centred square (crop in the client first), stored as WebP at each of `IMAGE_SIZES` ' +
            'without any of its metadata, and your `image` set to its public URL (`/v1/images/{app_id}/{id}`, ' +
            "add `?size=N`). Over 10 MB or the app's image limit: 413 PAYLOAD_TOO_LARGE; past a storage quota: " +
            '413 QUOTA_EXCEEDED. Everyone who shares a channel gets `user.updated`.',
          consumes: ['multipart/form-data'],
          response: { 200: AvatarResponse, ...uploadErrors },
        },
      },
      async (req) => {
        const me = userOf(req);
        await checkRate(svc, 'uploads', me.app.id, me.userId, req.ip);
        await checkQuotaRoom(svc, me.app.id, me.userId);
        const { got, name, type } = await receivePicture(svc, req);
        const { row, image } = await setAvatar(svc, me, got, originOf(svc, req), { name, type });
        const states = await svc.presence.statesOf(me.app.id, [row.id]);
        return { user: presentUser(row, states.get(row.id)), image };
      },
    );

    app.delete(
      '/v1/me/avatar',
      {
        config: { auth: 'user' },
        schema: {
          tags: ['users'],
          summary: 'Remove your profile picture (clients show your initials)',
          description:
            'Your `image` becomes null, whichever way it was set. Everyone who shares a channel gets `user.updated`.',
          response: { 200: UserResponse, ...errors },
        },
      },
      async (req) => {
        const me = userOf(req);
        const row = await removeAvatar(svc, me);
        const states = await svc.presence.statesOf(me.app.id, [row.id]);
        return { user: presentUser(row, states.get(row.id)) };
      },
    );

    app.put(
      '/v1/workspace/logo',
      {
        config: { auth: 'user' },
        schema: {
          tags: ['workspaces'],
          summary: "Upload the caller's workspace's logo (owners and admins; multipart, one part named `file`)",
          description:
            "Stored as a profile picture is (square WebP renditions, no metadata) and set as the workspace's `logo`. " +
            'An app that is no workspace: 404; a member who is not an owner or admin: 403.',
          consumes: ['multipart/form-data'],
          response: { 200: LogoResponse, ...uploadErrors },
        },
      },
      async (req) => {
        const me = userOf(req);
        await checkLogoAccess(svc, me);
        await checkRate(svc, 'uploads', me.app.id, me.userId, req.ip);
        await checkQuotaRoom(svc, me.app.id, me.userId);
        const { got, name, type } = await receivePicture(svc, req);
        return { image: await setWorkspaceLogo(svc, me, got, originOf(svc, req), { name, type }) };
      },
    );

    app.delete(
      '/v1/workspace/logo',
      {
        config: { auth: 'user' },
        schema: {
          tags: ['workspaces'],
          summary: "Remove the caller's workspace's logo (owners and admins)",
          response: { 200: OkResponse, 404: ErrorBody, ...errors },
        },
      },
      async (req) => {
        await removeWorkspaceLogo(svc, callerOf(req));
        return { ok: true as const };
      },
    );

    app.get(
      '/v1/images/:app_id/:id',
      {
        schema: {
          tags: ['users'],
          summary: 'A profile picture or workspace logo, as WebP (public; the URL never changes its picture)',
          description:
            '`size`: the width wanted in pixels; answers the smallest stored size at least that large (192 without). ' +
            'A picture that was replaced or removed is 404.',
          security: [],
          params: ImageParams,
          querystring: ImageQuery,
          response: { 404: ErrorBody, 400: ErrorBody },
        },
      },
      async (req, reply) => {
        const row = await imageRow(svc.db, req.params.app_id, req.params.id);
        if (!row) throw new ApiError('NOT_FOUND', 'Picture not found');
        return servePicture(svc, req, reply, row, req.query.size);
      },
    );
  };
}

/** Answer a stored picture at the size nearest `wanted` (see `pickSize`). */
async function servePicture(svc: Services, req: FastifyRequest, reply: FastifyReply, row: ImageRow, wanted?: number) {
  const size = pickSize(Object.keys(row.sizes).map(Number), wanted);
  const key = row.sizes[String(size)] as string;
  const etag = `"${row.id}-${size}"`;
  reply.header('x-content-type-options', 'nosniff');
  reply.header('content-security-policy', IMAGE_CSP);
  // A picture's URL never changes what it shows: a new upload is a new URL.
  reply.header('cache-control', 'public, max-age=31536000, immutable');
  reply.header('cross-origin-resource-policy', 'cross-origin');
  reply.header('etag', etag);
  if (req.headers['if-none-match']?.split(',').some((t) => t.trim() === etag)) return reply.status(304).send();
  reply.type('image/webp');
  return reply.send(await svc.storage.store.readAll(key));
}
