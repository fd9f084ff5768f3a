/**
 * File writes and access: storing an upload (bytes first, then one transaction that checks
 * the quotas, inserts the row and enqueues its jobs), cancelling one, and deciding who may
 * read a file.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Attachment, THUMB_SIZES, uuidv7 } from '@parley/protocol';
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { ApiError, notFound } from '../../platform/errors.js';
import { withTransaction } from '../../platform/event-log.js';
import type { Received } from '../../platform/storage/received.js';
import type { Services } from '../../services.js';
import { accessChannelRead, type ChannelAccess } from '../channels/index.js';
import { usage } from './attach.js';
import { EXPIRE_UPLOAD as expireUpload, MAKE_MEDIA as makeMedia } from './job-names.js';
import { cleanImage, THUMBNAILED } from './media.js';
import { sanitizeName } from './names.js';
import { type FileRow, presentAttachment } from './present.js';
import { checkUploadRules } from './rules.js';
import { SNIFF_BYTES, sniff } from './sniff.js';

/** A received upload in a temporary file, before it is checked and stored (platform/storage/received.ts). */
export type { Received };

/** Where uploads are written while they arrive (inside the data folder: same disk as the store). */
export function uploadTmpDir(svc: Services): string {
  return path.join(svc.config.dataDir, 'tmp', 'uploads');
}

/** A cut-off upload: the client is told what happened, and nothing it sent is kept. */
function cutOff(why: string): ApiError {
  return new ApiError('VALIDATION_ERROR', `The upload was cut off: ${why}`);
}

/** How a received part can end other than by its own end: see `receive`. */
export interface UploadSource {
  /** The raw request the part arrives on. */
  request: IncomingMessage;
  /** Whether the body so far holds the multipart's closing delimiter (`--boundary--`). */
  closed(): boolean;
}

/**
 * The multipart boundary of a `Content-Type`, or null when it names none (RFC 2046: 1–70
 * characters, quoted or not).
 */
export function multipartBoundary(contentType: string | undefined): string | null {
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType ?? '');
  return m ? ((m[1] ?? m[2]) as string) : null;
}

/**
 * Watch a request's raw body for the multipart closing delimiter, without consuming it (a
 * second `data` listener beside the parser's pipe). Attach before the body is read. The part
 * parser treats a body that ends inside a part unevenly (it may end the part as if whole), so
 * `receive` asks this instead: no closing delimiter by the end of the body is a cut-off body.
 */
export function watchMultipart(request: IncomingMessage, boundary: string): UploadSource {
  const close = Buffer.from(`--${boundary}--`);
  let tail = Buffer.alloc(0);
  let seen = false;
  const onData = (chunk: Buffer) => {
    if (seen) return;
    const window = Buffer.concat([tail, chunk]);
    if (window.includes(close)) {
      seen = true;
      request.off('data', onData);
      return;
    }
    tail = window.subarray(Math.max(0, window.length - close.length + 1));
  };
  request.on('data', onData);
  return { request, closed: () => seen };
}

/**
 * Stream an upload to a temporary file, hashing it and keeping its first bytes for the type
 * check. The multipart stream's own size limit ends it with a 413 past `uploadMaxBytes`.
 *
 * A part can also stop without ending: the body ends before the part's closing boundary (the
 * parser then fails the part, sometimes before we read it), the client hangs up or half-closes
 * mid-file, or it goes quiet with the socket open. Each ends here as a 400 VALIDATION_ERROR —
 * the quiet one after `uploadIdleMs` without a byte — and the temporary file is removed, so a
 * cut-off try leaves nothing behind (they once hung for ever, an empty file each).
 */
export async function receive(svc: Services, stream: Readable, source?: UploadSource): Promise<Received> {
  const dir = uploadTmpDir(svc);
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, randomUUID());
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let headBytes = 0;
  let size = 0;
  const abort = new AbortController();
  const stop = (why: string) => {
    if (!abort.signal.aborted) abort.abort(cutOff(why));
  };
  let idle: NodeJS.Timeout | undefined;
  const quiet = () => stop(`no bytes for ${Math.round(svc.config.uploadIdleMs / 1000)} s`);
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(quiet, svc.config.uploadIdleMs);
  };
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      arm();
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
  const request = source?.request;
  const out = createWriteStream(tmp);
  const onClose = () => {
    if (request && !request.complete) stop('the client closed the connection mid-file');
  };
  const onError = (err: Error) => stop(err.message);
  // The parser may leave a part that the body cut short neither ended nor failed: decide here.
  // A part cut at the size limit is answered 413 by the route, whatever follows it.
  const truncated = () => (stream as Readable & { truncated?: boolean }).truncated === true;
  const onEnd = () => {
    if (source && !source.closed() && !truncated()) stop('the body ended before the closing boundary');
  };
  // `readableEnded`, not `complete`: the parser may have taken the whole body while some of it
  // still waits in the stream, unseen by the watcher.
  request?.once('end', onEnd);
  if (request?.readableEnded) onEnd();
  request?.once('close', onClose);
  request?.once('aborted', onClose);
  stream.once('error', onError);
  arm();
  try {
    if (request?.destroyed && !request.complete) stop('the client closed the connection mid-file');
    await pipeline(stream, tap, out, { signal: abort.signal });
    if (request && source && !truncated()) {
      // The part ended: the rest of the body (its closing delimiter) follows at once, or it was
      // cut off. Waits on the same idle timer and hang-up as the part did.
      if (!request.readableEnded) {
        await new Promise<void>((resolve) => {
          const done = () => resolve();
          request.once('end', done);
          abort.signal.addEventListener('abort', done, { once: true });
          if (request.readableEnded) done();
        });
      }
      if (!abort.signal.aborted && !source.closed()) stop('the body ended before the closing boundary');
    }
    if (abort.signal.aborted) throw abort.signal.reason;
  } catch (err) {
    // The file may still be opening: removed before it is created, it would be created after.
    if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
    await rm(tmp, { force: true });
    if (abort.signal.aborted) throw abort.signal.reason;
    throw err;
  } finally {
    clearTimeout(idle);
    request?.off('end', onEnd);
    request?.off('close', onClose);
    request?.off('aborted', onClose);
    stream.off('error', onError);
  }
  return { tmp, size, sha256: hash.digest('hex'), head: Buffer.concat(head) };
}

/**
 * Remove temporary uploads older than an hour: what a crash or a kill left mid-upload. Runs
 * at start and on a schedule (features/files/jobs.ts); a file still arriving is younger, since
 * an upload that sends no byte for `uploadIdleMs` is ended. Returns how many it removed.
 */
export async function sweepUploadTmp(svc: Services, olderThanMs = TMP_MAX_AGE_MS): Promise<number> {
  const dir = uploadTmpDir(svc);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  const before = Date.now() - Math.max(olderThanMs, svc.config.uploadIdleMs * 2);
  let removed = 0;
  for (const name of names) {
    const p = path.join(dir, name);
    const st = await stat(p).catch(() => null);
    if (st && st.mtimeMs < before) {
      await rm(p, { force: true, recursive: true });
      removed++;
    }
  }
  return removed;
}
const TMP_MAX_AGE_MS = 3_600_000;
const SWEEP_EVERY_MS = 10 * 60_000;

/** Sweep the temporary uploads now and every ten minutes; returns the stop. */
export function startUploadSweep(svc: Services): () => void {
  const sweep = () => {
    sweepUploadTmp(svc)
      .then((n) => {
        if (n > 0) svc.log.info({ removed: n }, 'removed stale temporary uploads');
      })
      .catch((err) => svc.log.warn({ err }, 'could not sweep temporary uploads'));
  };
  sweep();
  const timer = setInterval(sweep, SWEEP_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
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
  /** The file's id: a direct upload's, else a new one. */
  id: string = uuidv7(),
): Promise<Attachment> {
  const appId = me.app.id;
  const name = sanitizeName(rawName);
  let file = got;
  let stripped: string | null = null;
  try {
    const sniffed = await sniff(got.head, name, declared);
    // The app's rules, by what the bytes are: a refused file keeps nothing (the finally below).
    checkUploadRules(svc, me.app, sniffed.mime, sniffed.kind, got.size);
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
