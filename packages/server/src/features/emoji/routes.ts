/**
 * Custom emoji routes: the app's list, adding (multipart: `shortcode`, `aliases` comma-separated,
 * and the image as `file`), removing, the manage setting, and the images themselves. An image is
 * served without credentials at a random URL (like a signed file link that does not expire), so
 * an `<img>` in any client shows it; the bytes are immutable under that URL.
 */
import fastifyMultipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  EmojiListResponse,
  EmojiResponse,
  EmojiSettings,
  EmojiSettingsResponse,
  ErrorBody,
  MAX_EMOJI_BYTES,
  OkResponse,
  ShortcodeParams,
} from '@parley/protocol';
import { Type } from '@sinclair/typebox';
import { ApiError } from '../../platform/errors.js';
import { callerOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { addEmoji, emojiImage, emojiSettings, listEmoji, removeEmoji, setEmojiSettings } from './actions.js';

const tags = ['emoji'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };

export function emojiRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    await app.register(fastifyMultipart, {
      limits: { fileSize: MAX_EMOJI_BYTES, files: 1, fields: 4, parts: 5, fieldSize: 1024 },
    });

    app.get(
      '/v1/emoji',
      {
        config: { auth: 'any' },
        schema: { tags, summary: "The app's custom emoji", response: { 200: EmojiListResponse, ...errors } },
      },
      async (req) => ({ emoji: await listEmoji(svc, callerOf(req)) }),
    );

    app.post(
      '/v1/emoji',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Add a custom emoji (multipart/form-data: shortcode, aliases, file)',
          description:
            'App admins, or every user when the emoji setting is `everyone`. The image (PNG, GIF or WebP, read ' +
            'from its bytes; 415 INVALID_FILE_TYPE otherwise) is at most 512 KiB (413 PAYLOAD_TOO_LARGE) and is ' +
            "stored at most 128 px a side, animation kept. A name used by another emoji of the app, or a standard emoji's name (`smile`, `+1`…): 409 CONFLICT " +
            '(`details.reason: "standard_emoji"` for the latter). ' +
            'Every connection of the app gets `emoji.updated`.',
          consumes: ['multipart/form-data'],
          response: { 200: EmojiResponse, 409: ErrorBody, 413: ErrorBody, 415: ErrorBody, ...errors },
        },
      },
      async (req) => {
        const caller = callerOf(req);
        if (!req.isMultipart())
          throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Send the emoji as multipart/form-data (shortcode, file)');
        const fields: Record<string, string> = {};
        let file: { bytes: Buffer; type: string; name: string } | null = null;
        for await (const part of req.parts()) {
          if (part.type === 'file') {
            if (part.fieldname !== 'file')
              throw new ApiError('VALIDATION_ERROR', 'The image goes in a part named "file"');
            const bytes = await part.toBuffer().catch((err: unknown) => {
              if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE')
                throw new ApiError('PAYLOAD_TOO_LARGE', `An emoji image is at most ${MAX_EMOJI_BYTES / 1024} KiB`);
              throw err;
            });
            file = { bytes, type: part.mimetype, name: part.filename };
          } else fields[part.fieldname] = String(part.value ?? '');
        }
        if (!file) throw new ApiError('VALIDATION_ERROR', 'The emoji needs an image: a part named "file"');
        if (!fields.shortcode) throw new ApiError('VALIDATION_ERROR', 'The emoji needs a shortcode');
        const emoji = await addEmoji(svc, caller, {
          shortcode: fields.shortcode,
          aliases: (fields.aliases ?? '').split(/[\s,]+/),
          bytes: file.bytes,
          declaredType: file.type,
          filename: file.name,
        });
        return { emoji };
      },
    );

    app.delete(
      '/v1/emoji/:shortcode',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Remove a custom emoji; messages that use it keep their text',
          params: ShortcodeParams,
          response: { 200: OkResponse, ...errors },
        },
      },
      async (req) => {
        await removeEmoji(svc, callerOf(req), req.params.shortcode);
        return { ok: true as const };
      },
    );

    app.get(
      '/v1/emoji/settings',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Who may add and remove custom emoji',
          response: { 200: EmojiSettingsResponse, ...errors },
        },
      },
      async (req) => ({ settings: await emojiSettings(svc, callerOf(req).app.id) }),
    );

    app.patch(
      '/v1/emoji/settings',
      {
        config: { auth: 'any' },
        schema: {
          tags,
          summary: 'Set who may add and remove custom emoji (app admins)',
          body: EmojiSettings,
          response: { 200: EmojiSettingsResponse, ...errors },
        },
      },
      async (req) => setEmojiSettings(svc, callerOf(req), req.body),
    );

    app.get(
      '/v1/emoji/images/:id',
      {
        config: { auth: 'none' },
        schema: {
          tags,
          summary: 'The image of a custom emoji (no credentials: the URL is random)',
          params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        },
      },
      async (req, reply) => {
        const row = await emojiImage(svc, req.params.id);
        reply
          .header('content-type', row.contentType)
          .header('cache-control', 'public, max-age=31536000, immutable')
          .header('x-content-type-options', 'nosniff')
          .header('content-security-policy', "default-src 'none'; sandbox");
        return reply.send(await svc.storage.store.read(row.storageKey));
      },
    );
  };
}
