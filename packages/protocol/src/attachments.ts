/**
 * Files on messages: the attachment object an upload answers with and a message carries, and
 * the bodies of the file routes. A message names its attachments by id (`MessageInput`).
 */
import { type Static, Type } from '@sinclair/typebox';
import { Cid, Timestamp, UserId, Uuid } from './ids.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** Most attachments one message carries. */
export const MAX_ATTACHMENTS = 10;

/** What kind of file an attachment is, decided from its bytes. */
export const ATTACHMENT_KINDS = ['image', 'video', 'audio', 'file'] as const;
export const AttachmentKind = Type.Union(ATTACHMENT_KINDS.map((k) => Type.Literal(k)));
export type AttachmentKind = Static<typeof AttachmentKind>;

/** Thumbnail sizes (longest side, px) made for images. */
export const THUMB_SIZES = [360, 1280] as const;

/** A file as the wire shows it, on an upload's answer and on messages. */
export const Attachment = Type.Object({
  id: Uuid,
  cid: Cid,
  user_id: UserId,
  kind: AttachmentKind,
  /** The sanitized file name. */
  name: Type.String(),
  size: Type.Integer({ minimum: 0 }),
  /** The content type decided from the bytes (never the name or the client's header). */
  mime_type: Type.String(),
  /** True when the name's extension or the declared type disagrees with the bytes. */
  type_mismatch: Type.Boolean(),
  /** Path of the file's bytes (`GET`, with credentials); `POST /v1/files/links` gives signed URLs. */
  url: Type.String(),
  width: Nullable(Type.Integer()),
  height: Nullable(Type.Integer()),
  /** A blurhash placeholder for images, once the media job has run. */
  blurhash: Nullable(Type.String()),
  duration_ms: Nullable(Type.Integer()),
  /** Thumbnail paths by size (`"360"`, `"1280"`, `"poster"`), once the media job has run. */
  thumbs: Type.Record(Type.String(), Type.String()),
  /** `pending` while thumbnails are being made; `ready`, `failed` or `none` after. */
  processing: Type.Union([
    Type.Literal('pending'),
    Type.Literal('ready'),
    Type.Literal('failed'),
    Type.Literal('none'),
  ]),
  created_at: Timestamp,
});
export type Attachment = Static<typeof Attachment>;

export const AttachmentResponse = Type.Object({ attachment: Attachment });
export type AttachmentResponse = Static<typeof AttachmentResponse>;

/** Ask for signed, expiring URLs of files the caller may read (usable in `<img src>`). */
export const FileLinksBody = Type.Object(
  { ids: Type.Array(Uuid, { minItems: 1, maxItems: 100, uniqueItems: true }) },
  { additionalProperties: false },
);
export type FileLinksBody = Static<typeof FileLinksBody>;

export const FileLink = Type.Object({
  url: Type.String(),
  /** Signed URLs of the thumbnails made so far, by size. */
  thumbs: Type.Record(Type.String(), Type.String()),
  expires_at: Timestamp,
});
export type FileLink = Static<typeof FileLink>;

/** Links by file id; ids the caller may not read are left out. */
export const FileLinksResponse = Type.Object({ links: Type.Record(Type.String(), FileLink) });
export type FileLinksResponse = Static<typeof FileLinksResponse>;

export const AttachmentIds = Type.Array(Uuid, { maxItems: MAX_ATTACHMENTS, uniqueItems: true });
