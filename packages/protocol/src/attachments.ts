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

/**
 * A content type an app allows for uploads: a whole type (`application/pdf`) or a family
 * (`image/*`), compared with the type read from the file's bytes. `*\/*` is not one: no list
 * (null) allows every type.
 */
export const AllowedType = Type.String({
  pattern: '^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/([a-z0-9][a-z0-9!#$&^_.+-]{0,126}|\\*)$',
  description: 'a content type, e.g. application/pdf, or a family, e.g. image/*',
});

/** A size limit in bytes, of at least 1 byte. */
const Bytes = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

/**
 * An app's upload rules (`GET`/`PUT /v1/files/rules`): which types may be uploaded and how
 * large each kind of file may be, below the server's own limit (`PARLEY_UPLOAD_MAX_BYTES`).
 * Types are read from the bytes, never the name or the client's header. A refused type is
 * `415 INVALID_FILE_TYPE`; a file over its kind's limit `413 PAYLOAD_TOO_LARGE`.
 */
export const UploadRules = Type.Object(
  {
    /** Types and families allowed; null: every type. */
    allowed_types: Nullable(Type.Array(AllowedType, { minItems: 1, maxItems: 100, uniqueItems: true })),
    /** Most bytes of a file of each kind (`file`: any other); null or absent: the server's limit. */
    max_bytes: Type.Object(
      {
        image: Type.Optional(Nullable(Bytes)),
        video: Type.Optional(Nullable(Bytes)),
        audio: Type.Optional(Nullable(Bytes)),
        file: Type.Optional(Nullable(Bytes)),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type UploadRules = Static<typeof UploadRules>;

/** The rules in force: the app's, and the server's own limit above them. */
export const UploadRulesResponse = Type.Object({
  rules: UploadRules,
  /** The server's limit on any upload (`PARLEY_UPLOAD_MAX_BYTES`). */
  server_max_bytes: Type.Integer(),
  /**
   * Whether clients may upload straight to the object store (S3 storage):
   * `POST /v1/channels/{cid}/uploads/direct`, then `POST /v1/uploads/{id}/complete`.
   */
  direct_uploads: Type.Boolean(),
});
export type UploadRulesResponse = Static<typeof UploadRulesResponse>;

/** No rules: every type, the server's limit for every kind. */
export const DEFAULT_UPLOAD_RULES: UploadRules = { allowed_types: null, max_bytes: {} };

/** Whether `mime` (a type read from bytes) is allowed by `rules`. */
export function uploadTypeAllowed(rules: UploadRules, mime: string): boolean {
  if (!rules.allowed_types) return true;
  const m = mime.toLowerCase().split(';')[0]?.trim() ?? '';
  const family = m.split('/')[0];
  return rules.allowed_types.some((t) => t === m || (t.endsWith('/*') && t.slice(0, -2) === family));
}

/** The most bytes a file of `kind` may have: the app's limit, never above the server's. */
export function uploadMaxBytes(rules: UploadRules, kind: AttachmentKind, serverMax: number): number {
  const own = rules.max_bytes[kind];
  return own ? Math.min(own, serverMax) : serverMax;
}

/** The kind of file a content type is (`image/svg+xml` is a `file`: it is never shown inline). */
export function attachmentKindOf(mime: string): AttachmentKind {
  const m = mime.toLowerCase();
  if (m.startsWith('image/')) return m.startsWith('image/svg') ? 'file' : 'image';
  if (m.startsWith('video/')) return 'video';
  if (m.startsWith('audio/')) return 'audio';
  return 'file';
}

/** Why `rules` refuse a file of `mime` and `size` (the error an upload gets), or null. */
export function uploadRefusal(
  rules: UploadRules,
  file: { mime: string; kind?: AttachmentKind; size: number },
  serverMax: number,
): { code: 'INVALID_FILE_TYPE' | 'PAYLOAD_TOO_LARGE'; message: string; details: Record<string, unknown> } | null {
  if (!uploadTypeAllowed(rules, file.mime))
    return {
      code: 'INVALID_FILE_TYPE',
      message: `Files of type ${file.mime || 'unknown'} may not be uploaded here`,
      details: { mime_type: file.mime, allowed_types: rules.allowed_types },
    };
  const kind = file.kind ?? attachmentKindOf(file.mime);
  const max = uploadMaxBytes(rules, kind, serverMax);
  if (file.size > max)
    return {
      code: 'PAYLOAD_TOO_LARGE',
      message: `A file of this kind (${kind}) may be at most ${max} bytes`,
      details: { kind, max_bytes: max },
    };
  return null;
}

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

// ---- direct uploads (S3): the client sends the bytes to the bucket, the server checks them --

/** `POST /v1/channels/{cid}/uploads/direct`: what the client is about to upload. */
export const DirectUploadBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255, pattern: '^[^\\u0000]*$' }),
    size: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    /** The content type the client believes it is (the server decides from the bytes at completion). */
    type: Type.String({ pattern: '^[A-Za-z0-9][\\w.+-]*/[\\w.+-]+$', maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type DirectUploadBody = Static<typeof DirectUploadBody>;

/** Where and how to upload: an HTML form POST of `fields` then the file (part `file`) to `url`. */
export const DirectUpload = Type.Object({
  id: Uuid,
  url: Type.String(),
  /** Form fields to send first, as given (the signed policy: key, content type, exact size). */
  fields: Type.Record(Type.String(), Type.String()),
  /** Hand back to `POST /v1/uploads/{id}/complete`. */
  token: Type.String(),
  expires_at: Timestamp,
});
export type DirectUpload = Static<typeof DirectUpload>;
export const DirectUploadResponse = Type.Object({ upload: DirectUpload });
export type DirectUploadResponse = Static<typeof DirectUploadResponse>;
export const CompleteUploadBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 4000 }) },
  { additionalProperties: false },
);
export type CompleteUploadBody = Static<typeof CompleteUploadBody>;

// ---- storage use: what the quotas count -----------------------------------------------------

/** What a user's stored bytes are, by kind: the four attachment kinds, and profile pictures. */
export const STORAGE_KINDS = [...ATTACHMENT_KINDS, 'picture'] as const;
export type StorageKind = (typeof STORAGE_KINDS)[number];

/** How many items of one kind, and their bytes. */
export const StorageKindUse = Type.Object({
  count: Type.Integer({ minimum: 0 }),
  bytes: Type.Integer({ minimum: 0 }),
});
export type StorageKindUse = Static<typeof StorageKindUse>;

/**
 * One quota's use. `limit_bytes` is the same number a `QUOTA_EXCEEDED` error names in its
 * `details.limit_bytes`; null when there is no limit.
 */
export const QuotaUse = Type.Object({
  used_bytes: Type.Integer({ minimum: 0 }),
  limit_bytes: Nullable(Type.Integer({ minimum: 1 })),
});
export type QuotaUse = Static<typeof QuotaUse>;

/**
 * `GET /v1/me/storage`: the caller's stored bytes and the app's, each with its quota — keyed
 * `user` and `app` as a `QUOTA_EXCEEDED` error's `details.quota` names them. Exactly what the
 * quota check counts: uploads not deleted (attached to a message or not yet) and profile
 * pictures and workspace logos the user uploaded (all their renditions).
 */
export const StorageUse = Type.Object({
  user: Type.Composite([
    QuotaUse,
    Type.Object({
      /** Uploads counted (profile pictures are in `by_kind.picture`, not here). */
      files: Type.Integer({ minimum: 0 }),
      /** `used_bytes` split by kind; every kind is present, with zeros when none. */
      by_kind: Type.Object({
        image: StorageKindUse,
        video: StorageKindUse,
        audio: StorageKindUse,
        file: StorageKindUse,
        picture: StorageKindUse,
      }),
    }),
  ]),
  app: QuotaUse,
});
export type StorageUse = Static<typeof StorageUse>;

/** `GET /v1/me/storage`. */
export const StorageUseResponse = Type.Object({ storage: StorageUse });
export type StorageUseResponse = Static<typeof StorageUseResponse>;

/** Most of your files one page of `GET /v1/me/files` lists. */
export const MY_FILES_MAX_LIMIT = 100;

/** `GET /v1/me/files`: a page of your stored files, largest first. */
export const MyFilesQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MY_FILES_MAX_LIMIT })),
    /** `next` of the previous page; opaque. */
    cursor: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);
export type MyFilesQuery = Static<typeof MyFilesQuery>;

/**
 * One of your stored files, with the message that carries it (null: an upload no message
 * carries yet). To free its space, delete that message, or cancel the upload
 * (`DELETE /v1/uploads/{id}`) when there is none.
 */
export const StoredFile = Type.Composite([Attachment, Type.Object({ message_id: Nullable(Uuid) })]);
export type StoredFile = Static<typeof StoredFile>;

export const MyFilesResponse = Type.Object({
  files: Type.Array(StoredFile),
  /** The cursor of the next (smaller) page; null on the last. */
  next: Nullable(Type.String()),
});
export type MyFilesResponse = Static<typeof MyFilesResponse>;
