/**
 * File writes and access: storing an upload (bytes first, then one transaction that checks
 * the quotas, inserts the row and enqueues its jobs), cancelling one, and deciding who may
 * read a file.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Attachment, THUMB_SIZES, uuidv7 } from '@parley/protocol';
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { ApiError, notFound } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { accessChannelRead, type ChannelAccess } from '../channels/access.js';
import { withTransaction } from '../events/log.js';
import { usage } from './attach.js';
import { EXPIRE_UPLOAD as expireUpload, MAKE_MEDIA as makeMedia } from './job-names.js';
import { cleanImage, THUMBNAILED } from './media.js';
import { sanitizeName } from './names.js';
import { type FileRow, presentAttachment } from './present.js';
import { SNIFF_BYTES, sniff } from './sniff.js';

/** A received upload in a temporary file, before it is checked and stored. */
export interface Received {
  tmp: string;
  size: number;
  sha256: string;
  head: Buffer;
}

/** Where uploads are written while they arrive (inside the data folder: same disk as the store). */
export function uploadTmpDir(svc: Services): string {
  return path.join(svc.config.dataDir, 'tmp', 'uploads');
}

/**
 * Stream an upload to a temporary file, hashing it and keeping its first bytes for the type
 * check. The multipart stream's own size limit ends it with a 413 past `uploadMaxBytes`.
 */
export async function receive(svc: Services, stream: Readable): Promise<Received> {
  const dir = uploadTmpDir(svc);
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, randomUUID());
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let headBytes = 0;
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      if (headBytes < SNIFF_BYTES) {
        const part = chunk.subarray(0, SNIFF_BYTES - headBytes);
        head.push(part);
        headBytes += part.length;
      }
      cb(null, chunk);
    },
  });
  try {
    await pipeline(stream, tap, createWriteStream(tmp));
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { tmp, size, sha256: hash.digest('hex'), head: Buffer.concat(head) };
}

function quotaError(which: 'user' | 'app', limit: number): ApiError {
  return new ApiError(
    'QUOTA_EXCEEDED',
    which === 'user'
      ? 'This upload would take you past your storage quota'
      : 'This upload would take the app past its storage quota',
    { quota: which, limit_bytes: limit },
  );
}

/** Refuse at once, before reading a body, when the user or app is already at its quota. */
export async function checkQuotaRoom(svc: Services, appId: string, userId: string, adding = 0): Promise<void> {
  const { userQuotaBytes: uq, appQuotaBytes: aq } = svc.config;
  if (!uq && !aq) return;
  const used = await usage(svc.db, appId, userId);
  if (uq && used.user + adding > uq) throw quotaError('user', uq);
  if (aq && used.app + adding > aq) throw quotaError('app', aq);
}

/**
 * Store a received upload to channel `a` and answer its attachment object. The caller
 * already checked that `me` may post in the channel.
 */
export async function storeUpload(
  svc: Services,
  me: Caller & { kind: 'user' },
  a: ChannelAccess,
  got: Received,
  rawName: string | undefined,
  declared: string | undefined,
): Promise<Attachment> {
  const appId = me.app.id;
  const id = uuidv7();
  const name = sanitizeName(rawName);
  let file = got;
  let stripped: string | null = null;
  try {
    const sniffed = await sniff(got.head, name, declared);
    let kind = sniffed.kind;
    let width: number | null = null;
    let height: number | null = null;
    if (kind === 'image') {
      stripped = `${got.tmp}.clean`;
      const info = await cleanImage(got.tmp, sniffed.mime, stripped);
      if (!info)
        kind = 'file'; // magic number of an image, bytes that do not decode
      else {
        width = info.width;
        height = info.height;
        if (info.cleaned) {
          // What is stored (and served) is the copy without metadata.
          const data = await readMeta(stripped);
          file = { ...got, tmp: stripped, size: data.size, sha256: data.sha256 };
        }
      }
    }
    const key = `${appId}/${id}`;
    // Images get thumbnails; video and audio a duration (and video a poster) where ffmpeg is.
    const media = (kind === 'image' && THUMBNAILED.has(sniffed.mime)) || kind === 'video' || kind === 'audio';
    await svc.storage.store.putFile(key, file.tmp, { contentType: sniffed.mime, size: file.size });
    try {
      const row = await withTransaction(svc, async (tx) => {
        const { userQuotaBytes: uq, appQuotaBytes: aq } = svc.config;
        if (uq || aq) {
          // One upload of an app at a time past this point, so two cannot both fit in the room left.
          await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`parley.files.${appId}`}))`);
          const used = await usage(tx, appId, me.userId);
          if (uq && used.user + file.size > uq) throw quotaError('user', uq);
          if (aq && used.app + file.size > aq) throw quotaError('app', aq);
        }
        const [inserted] = await tx
          .insert(schema.files)
          .values({
            appId,
            id,
            cid: a.channel.cid,
            userId: me.userId,
            name,
            size: file.size,
            mimeType: sniffed.mime,
            declaredType: declared ? declared.slice(0, 200) : null,
            typeMismatch: sniffed.mismatch,
            kind,
            storageKey: key,
            sha256: file.sha256,
            width,
            height,
            processing: media ? 'pending' : 'none',
          })
          .returning();
        // Both jobs commit with the row: an upload nobody attaches is removed later, and
        // an image gets its thumbnails.
        await svc.jobs.enqueue(
          tx,
          expireUpload,
          { appId, fileId: id },
          {
            startAfterSeconds: svc.config.unattachedTtlSeconds,
          },
        );
        if (media) await svc.jobs.enqueue(tx, makeMedia, { appId, fileId: id });
        return inserted as FileRow;
      });
      if (media) svc.jobs.wake(makeMedia.name);
      return presentAttachment(row);
    } catch (err) {
      await svc.storage.store.remove(key).catch(() => {});
      throw err;
    }
  } finally {
    await rm(got.tmp, { force: true });
    if (stripped) await rm(stripped, { force: true });
  }
}

async function readMeta(p: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  for await (const c of createReadStream(p)) hash.update(c as Buffer);
  return { size: (await stat(p)).size, sha256: hash.digest('hex') };
}

/** A file row of the caller's app, not deleted; NOT_FOUND otherwise. */
export async function fileRow(svc: Services, appId: string, id: string): Promise<FileRow> {
  const [row] = await svc.db
    .select()
    .from(schema.files)
    .where(and(eq(schema.files.appId, appId), eq(schema.files.id, id), isNull(schema.files.deletedAt)));
  if (!row) throw notFound('File');
  return row;
}

/**
 * Who may download from a channel: its members (and server tokens). Reading a public channel's
 * messages is not enough — a reader who has not joined sees the attachment objects but gets
 * 403 for the bytes; a channel they cannot even read answers 404, as everywhere.
 */
export async function accessChannelFiles(svc: Services, caller: Caller, cid: string): Promise<void> {
  const a = await accessChannelRead(svc.db, caller, cid);
  if (!a.member && caller.kind !== 'server') throw new ApiError('FORBIDDEN', 'Join the channel to download its files');
}

/**
 * Who may read a file: the channel's members, once a message carries it; before that, only
 * its uploader. Others get NOT_FOUND, or FORBIDDEN when they can read the channel but are
 * not in it.
 */
export async function checkFileRead(svc: Services, caller: Caller, row: FileRow): Promise<void> {
  if (!row.messageId) {
    if (caller.kind === 'user' && caller.userId === row.userId) return;
    if (caller.kind !== 'server') throw notFound('File');
  }
  await accessChannelFiles(svc, caller, row.cid);
}

/** Cancel an upload no message carries yet (its uploader only); its bytes go with a job. */
export async function cancelUpload(svc: Services, me: Caller & { kind: 'user' }, id: string): Promise<void> {
  const appId = me.app.id;
  const row = await fileRow(svc, appId, id);
  if (row.userId !== me.userId) throw notFound('File');
  if (row.messageId) throw new ApiError('CONFLICT', 'This file is on a message; delete the message instead');
  await withTransaction(svc, async (tx) => {
    const gone = await tx
      .update(schema.files)
      .set({ deletedAt: new Date() })
      .where(and(eq(schema.files.appId, appId), eq(schema.files.id, id), isNull(schema.files.messageId)))
      .returning({ id: schema.files.id });
    if (gone.length === 0) throw new ApiError('CONFLICT', 'This file is on a message; delete the message instead');
    await svc.jobs.enqueue(tx, expireUpload, { appId, fileId: id });
  });
  svc.jobs.wake(expireUpload.name);
}

/** Signed URLs of the files (and their thumbnails) the caller may read; others are left out. */
export async function fileLinks(
  svc: Services,
  caller: Caller,
  ids: string[],
): Promise<Record<string, { url: string; thumbs: Record<string, string>; expires_at: string }>> {
  const appId = caller.app.id;
  const found = await svc.db
    .select()
    .from(schema.files)
    .where(and(eq(schema.files.appId, appId), inArray(schema.files.id, ids), isNull(schema.files.deletedAt)));
  const readable = new Map<string, boolean>();
  const out: Record<string, { url: string; thumbs: Record<string, string>; expires_at: string }> = {};
  const exp = svc.storage.urls.expiry();
  for (const row of found) {
    let ok: boolean;
    if (!row.messageId) ok = caller.kind === 'server' || caller.userId === row.userId;
    else {
      if (!readable.has(row.cid))
        readable.set(
          row.cid,
          await accessChannelFiles(svc, caller, row.cid).then(
            () => true,
            () => false,
          ),
        );
      ok = readable.get(row.cid) === true;
    }
    if (!ok) continue;
    const link = (variant: string) =>
      `/v1/files/${row.id}/signed?${svc.storage.urls.query({ app: appId, file: row.id, variant }, exp)}`;
    out[row.id] = {
      url: link('original'),
      thumbs: Object.fromEntries(Object.keys(row.thumbs).map((v) => [v, link(v)])),
      expires_at: new Date(exp * 1000).toISOString(),
    };
  }
  return out;
}

/** Thumbnail variants the media job makes, as strings (`"360"`, `"1280"`). */
export const THUMB_VARIANTS = THUMB_SIZES.map(String);
