/**
 * The files feature's jobs. Both are idempotent: a run after a crash, a timeout or a release
 * finds the work done (or half done) and finishes it without doing anything twice.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { THUMB_SIZES } from '@parley/protocol';
import { and, eq, sql } from 'drizzle-orm';
import { schema } from '../../platform/db/index.js';
import { logEvents, takeSeqs, withTransaction } from '../../platform/event-log.js';
import type { JobKind } from '../../platform/jobs/queue.js';
import { sharp } from '../../platform/lazy-deps.js';
import type { Services } from '../../services.js';
import { posterFrame, probeDuration } from './av.js';
import { incomingKey } from './direct.js';
import { EXPIRE_DIRECT, EXPIRE_UPLOAD, type FileJob, MAKE_MEDIA } from './job-names.js';
import { thumbnails } from './media.js';
import { type FileRow, presentAttachment } from './present.js';

/** Define the files feature's kinds of job on the server's queue. */
export async function defineFileJobs(svc: Services): Promise<void> {
  const expire: JobKind<FileJob> = {
    name: EXPIRE_UPLOAD.name,
    retryLimit: 10,
    retryDelaySeconds: 30,
    run: async ({ appId, fileId }) => {
      // Claimed by a message meanwhile: kept. Otherwise marked deleted first, in one statement
      // that a concurrent send's claim waits for, so no message ever gets a file whose bytes go.
      const [row] = await svc.db
        .update(schema.files)
        .set({ deletedAt: sql`coalesce(${schema.files.deletedAt}, now())` })
        .where(
          and(
            eq(schema.files.appId, appId),
            eq(schema.files.id, fileId),
            sql`(${schema.files.messageId} is null or ${schema.files.deletedAt} is not null)`,
          ),
        )
        .returning();
      if (!row) return;
      for (const key of [row.storageKey, ...Object.values(row.thumbs)]) await svc.storage.store.remove(key);
      await svc.db.delete(schema.files).where(and(eq(schema.files.appId, appId), eq(schema.files.id, fileId)));
    },
  };

  // A direct upload's incoming object: removed whether or not it was completed (completion
  // removes it too; this catches a client that uploaded and never completed).
  const expireDirect: JobKind<FileJob> = {
    name: EXPIRE_DIRECT.name,
    retryLimit: 10,
    retryDelaySeconds: 30,
    run: async ({ appId, fileId }) => {
      await svc.storage.store.remove(incomingKey(appId, fileId));
    },
  };

  const media: JobKind<FileJob> = {
    name: MAKE_MEDIA.name,
    retryLimit: 3,
    retryDelaySeconds: 5,
    expireInSeconds: 120,
    concurrency: 2,
    run: async ({ appId, fileId }) => {
      const [row] = await svc.db
        .select()
        .from(schema.files)
        .where(and(eq(schema.files.appId, appId), eq(schema.files.id, fileId)));
      if (!row || row.deletedAt || row.processing === 'ready' || row.processing === 'failed') return;
      if (row.kind === 'video' || row.kind === 'audio') return videoOrAudio(svc, row);
      const bytes = await svc.storage.store.readAll(row.storageKey);
      let made: Awaited<ReturnType<typeof thumbnails>> | null = null;
      try {
        made = await thumbnails(bytes, THUMB_SIZES);
      } catch (err) {
        // Bytes sharp cannot decode will not decode on a retry either.
        svc.log.warn({ err, fileId }, 'could not make thumbnails');
      }
      const thumbs: Record<string, string> = {};
      if (made)
        for (const [size, webp] of made.thumbs) {
          const key = `${row.storageKey}.t${size}`;
          await svc.storage.store.putBytes(key, webp, { contentType: 'image/webp' });
          thumbs[String(size)] = key;
        }
      await finishMedia(svc, row, {
        thumbs,
        blurhash: made?.blurhash ?? null,
        processing: made ? 'ready' : 'failed',
      });
    },
  };

  await svc.jobs.define(expire);
  await svc.jobs.define(expireDirect);
  await svc.jobs.define(media);
}

/** Duration and (video) a poster with its thumbnails, when ffmpeg is installed; else nothing. */
async function videoOrAudio(svc: Services, row: FileRow): Promise<void> {
  await mkdir(path.join(svc.config.dataDir, 'tmp'), { recursive: true });
  const dir = await mkdtemp(path.join(svc.config.dataDir, 'tmp', 'media-'));
  try {
    // ffmpeg reads a file: the store's bytes are copied out (S3) or read where they are.
    const file = path.join(dir, 'input');
    await pipeline(await svc.storage.store.read(row.storageKey), createWriteStream(file));
    const durationMs = await probeDuration(file);
    const thumbs: Record<string, string> = {};
    let blurhash: string | null = null;
    let size: { width: number | null; height: number | null } = { width: row.width, height: row.height };
    if (row.kind === 'video') {
      const poster = await posterFrame(file, durationMs);
      if (poster) {
        const made = await thumbnails(poster, THUMB_SIZES);
        blurhash = made.blurhash;
        for (const [px, webp] of made.thumbs) {
          const key = `${row.storageKey}.t${px}`;
          await svc.storage.store.putBytes(key, webp, { contentType: 'image/webp' });
          thumbs[String(px)] = key;
        }
        const meta = await sharp(poster).metadata();
        size = { width: meta.width ?? null, height: meta.height ?? null };
      }
    }
    await finishMedia(svc, row, {
      thumbs,
      blurhash,
      processing: durationMs === null && !blurhash ? 'none' : 'ready',
      durationMs,
      ...size,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Record what the media job made and, when a message carries the file, update the message's
 * copy and tell its channel (`message.updated`, with a seq like every channel event). The
 * channel row is locked first, as the send path does, so the two never wait on each other in
 * opposite orders.
 */
async function finishMedia(
  svc: Services,
  row: FileRow,
  made: {
    thumbs: Record<string, string>;
    blurhash: string | null;
    processing: 'ready' | 'failed' | 'none';
    durationMs?: number | null;
    width?: number | null;
    height?: number | null;
  },
): Promise<void> {
  const { appId, cid } = row;
  await withTransaction(svc, async (tx, out) => {
    await tx.execute(sql`select 1 from ${schema.channels} where app_id = ${appId} and cid = ${cid} for update`);
    const [file] = await tx
      .update(schema.files)
      .set({
        thumbs: made.thumbs,
        blurhash: made.blurhash,
        processing: made.processing,
        ...(made.durationMs !== undefined ? { durationMs: made.durationMs } : {}),
        ...(made.width !== undefined ? { width: made.width, height: made.height ?? null } : {}),
      })
      .where(and(eq(schema.files.appId, appId), eq(schema.files.id, row.id)))
      .returning();
    if (!file?.messageId) return;
    const [message] = await tx
      .select()
      .from(schema.messages)
      .where(and(eq(schema.messages.appId, appId), eq(schema.messages.id, file.messageId)));
    if (!message || message.deletedAt) return;
    const attachments = message.attachments.map((x) => (x.id === file.id ? presentAttachment(file) : x));
    const [updated] = await tx
      .update(schema.messages)
      .set({ attachments })
      .where(and(eq(schema.messages.appId, appId), eq(schema.messages.id, message.id)))
      .returning();
    const seq = await takeSeqs(tx, appId, cid, 1);
    const [presented] = await svc.enrichMessages(tx, appId, null, [updated ?? message]);
    if (presented)
      await logEvents(tx, out, appId, [
        { type: 'message.updated', cid, seq, created_at: new Date().toISOString(), message: presented },
      ]);
  });
}
