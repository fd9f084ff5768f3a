/** File rows as the wire shows them (the `Attachment` of protocol/attachments.ts). */
import type { Attachment } from '@parley/protocol';
import type { schema } from '../../platform/db/index.js';

export type FileRow = typeof schema.files.$inferSelect;

/** The path of a file's bytes, or of one of its thumbnails. */
export function filePath(id: string, variant = 'original'): string {
  return variant === 'original' ? `/v1/files/${id}` : `/v1/files/${id}?v=${encodeURIComponent(variant)}`;
}

export function presentAttachment(row: FileRow): Attachment {
  return {
    id: row.id,
    cid: row.cid,
    user_id: row.userId,
    kind: row.kind as Attachment['kind'],
    name: row.name,
    size: row.size,
    mime_type: row.mimeType,
    type_mismatch: row.typeMismatch,
    url: filePath(row.id),
    width: row.width,
    height: row.height,
    blurhash: row.blurhash,
    duration_ms: row.durationMs,
    thumbs: Object.fromEntries(Object.keys(row.thumbs).map((v) => [v, filePath(row.id, v)])),
    processing: row.processing as Attachment['processing'],
    created_at: row.createdAt.toISOString(),
  };
}
