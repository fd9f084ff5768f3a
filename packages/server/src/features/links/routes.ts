/**
 * Link preview routes: removing a preview from your message, and the re-hosted preview
 * images.
 *
 * A preview image is a WebP thumbnail the server made from a picture that a public web page
 * named; its path carries a random id (122 bits) that only messages show, and it is served
 * without credentials so `<img src>` can load it (as the signed file links are, but without an
 * expiry: the message keeps the path for good). It is never the linked site's bytes — always
 * our own re-encoding — and goes out as `image/webp` with `nosniff` and a CSP that runs nothing.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ErrorBody,
  IdParams,
  LinkImageParams,
  MessageResponse,
  RemovePreviewQuery,
  THUMB_SIZES,
} from '@parley/protocol';
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { notFound } from '../../platform/errors.js';
import { callerOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { removePreview } from './actions.js';
import { linkImageKey } from './jobs.js';

const tags = ['messages'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
const IMAGE_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'";

export function linkRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.delete(
      '/v1/messages/:id/previews',
      {
        config: { auth: 'user' },
        schema: {
          tags,
          summary: 'Remove a link preview from your message (it does not come back, even after an edit)',
          description:
            "`url` is the preview's `url`. Only the author may; another URL of the text than its preview URLs: 404.",
          params: IdParams,
          querystring: RemovePreviewQuery,
          response: { 200: MessageResponse, ...errors },
        },
      },
      async (req) => ({ message: await removePreview(svc, callerOf(req), req.params.id, req.query.url) }),
    );

    app.get(
      '/v1/link-images/:app/:id',
      {
        schema: {
          tags,
          summary: "A link preview's image (a WebP thumbnail made by the server); no credentials",
          security: [],
          params: LinkImageParams,
          querystring: Type.Object(
            { v: Type.Union(THUMB_SIZES.map((s) => Type.Literal(String(s)))) },
            { additionalProperties: false },
          ),
          response: { 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req, reply) =>
        serveImage(svc, reply, linkImageKey(req.params.app.toLowerCase(), req.params.id.toLowerCase(), req.query.v)),
    );
  };
}

async function serveImage(svc: Services, reply: FastifyReply, key: string) {
  const store = svc.storage.store;
  reply.header('x-content-type-options', 'nosniff');
  reply.header('content-security-policy', IMAGE_CSP);
  if (store.presign) {
    const url = await store.presign(key, {
      expiresIn: 3600,
      contentType: 'image/webp',
      disposition: 'inline',
      cacheControl: 'public, max-age=31536000, immutable',
    });
    reply.header('cache-control', 'private, max-age=600');
    return reply.redirect(url, 302);
  }
  let size: number;
  try {
    size = await store.size(key);
  } catch {
    throw notFound('Image');
  }
  // The id is the picture's own (a hash of its bytes), so the bytes behind a path never change.
  reply.header('cache-control', 'public, max-age=31536000, immutable');
  reply.header('content-length', size);
  reply.type('image/webp');
  return reply.send(await store.read(key));
}
