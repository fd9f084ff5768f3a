/**
 * Pictures (profile pictures and workspace logos): storing an upload as square renditions in
 * place of the owner's last picture, and the URL a picture is served at. Dropping a picture
 * without a new one is platform/storage/pictures.ts, where its holders reach it.
 *
 * The order is the files feature's: bytes first (type read from them, the app's upload rules,
 * re-encoded renditions put in the store), then one transaction that checks the quota, swaps the
 * owner's row and sets the owner's `image` / `logo` through the caller's `apply`; events after
 * commit. The replaced picture's bytes are removed after the commit; a failed transaction removes
 * the new ones instead, so nothing is left behind either way.
 */
import { rm } from 'node:fs/promises';
import { IMAGE_MAX_BYTES, IMAGE_SIZES, type ImageUpload, uuidv7 } from '@parley/protocol';
import { and, eq, sql } from 'drizzle-orm';
import type { AppContext } from '../../platform/auth.js';
import { type Queryable, schema, type Tx } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import { type Outbox, withTransaction } from '../../platform/event-log.js';
import { type ImageOwner, type ImageRow, lockOwner, ownedBy, removeBytes } from '../../platform/storage/pictures.js';
import type { Services } from '../../services.js';
import type { Received } from '../files/index.js';
import { checkUploadRules, sanitizeName, sniff, THUMBNAILED, usage } from '../files/index.js';
import { renderSquare } from './render.js';

/** The public URL of a picture: `origin` is the deployment's public URL (or the request's own). */
export function imageUrl(origin: string, appId: string, id: string): string {
  return `${origin}/v1/images/${appId}/${id}`;
}

function quotaError(which: 'user' | 'app', limit: number): ApiError {
  return new ApiError(
    'QUOTA_EXCEEDED',
    which === 'user'
      ? 'This picture would take you past your storage quota'
      : 'This picture would take the app past its storage quota',
    { quota: which, limit_bytes: limit },
  );
}

/**
 * Store a received picture as `owner`'s, uploaded by `userId`, and in the same transaction let
 * `apply` point the owner at its URL (and queue its events). Refuses what is not a picture
 * (`415 INVALID_FILE_TYPE`), what is too large (`413 PAYLOAD_TOO_LARGE`) and what would pass a
 * quota (`413 QUOTA_EXCEEDED`, counting the picture it replaces as freed). Removes `got.tmp`.
 */
export async function storeImage<T>(
  svc: Services,
  app: AppContext,
  userId: string,
  owner: ImageOwner,
  got: Received,
  origin: string,
  declared: { name?: string | undefined; type?: string | undefined },
  apply: (tx: Tx, out: Outbox, url: string, blurhash: string | null) => Promise<T>,
): Promise<{ result: T; image: ImageUpload }> {
  const appId = app.id;
  const id = uuidv7();
  const keys: string[] = [];
  try {
    if (got.size > IMAGE_MAX_BYTES)
      throw new ApiError('PAYLOAD_TOO_LARGE', `A picture may be at most ${IMAGE_MAX_BYTES / 1024 / 1024} MB`, {
        limit_bytes: IMAGE_MAX_BYTES,
      });
    const sniffed = await sniff(got.head, sanitizeName(declared.name), declared.type);
    if (sniffed.kind !== 'image' || !THUMBNAILED.has(sniffed.mime))
      throw new ApiError('INVALID_FILE_TYPE', 'A picture must be a JPEG, PNG, WebP, AVIF, TIFF or GIF image', {
        type: sniffed.mime,
      });
    // The app's own rules apply to pictures as to any upload (an app may allow no images).
    checkUploadRules(svc, app, sniffed.mime, sniffed.kind, got.size);
    const made = await renderSquare(got.tmp, IMAGE_SIZES);
    if (!made)
      throw new ApiError('INVALID_FILE_TYPE', 'The picture could not be read as an image', { type: sniffed.mime });
    const sizes: Record<string, string> = {};
    let bytes = 0;
    for (const [size, webp] of made.sizes) {
      // The store takes `<app>/<uuid>.<suffix>` keys (as thumbnails: `.t360`).
      const key = `${appId}/${id}.a${size}`;
      await svc.storage.store.putBytes(key, webp, { contentType: 'image/webp' });
      keys.push(key);
      sizes[String(size)] = key;
      bytes += webp.length;
    }
    const url = imageUrl(origin, appId, id);
    const { result, old } = await withTransaction(svc, async (tx, out) => {
      // One change of an owner's picture at a time: two uploads at once would each delete the
      // row before either inserts, and the second insert would break the unique index. Waiting
      // here, the second finds the first's row and replaces it.
      await lockOwner(tx, appId, owner);
      const [prev] = await tx.delete(schema.images).where(ownedBy(appId, owner)).returning();
      // The replaced row is already gone in this transaction: its bytes count as freed.
      await checkQuota(svc, tx, appId, userId, bytes);
      await tx.insert(schema.images).values({
        appId,
        id,
        ownerKind: owner.kind,
        ownerId: owner.id,
        userId,
        sizes,
        bytes,
        blurhash: made.blurhash,
      });
      return { result: await apply(tx, out, url, made.blurhash ?? null), old: prev ?? null };
    });
    keys.length = 0; // committed: kept
    if (old) await removeBytes(svc, old);
    return {
      result,
      image: {
        url,
        blurhash: made.blurhash,
        sizes: Object.keys(sizes)
          .map(Number)
          .sort((a, b) => a - b),
      },
    };
  } finally {
    for (const key of keys) await svc.storage.store.remove(key).catch(() => {});
    await rm(got.tmp, { force: true });
  }
}

/** A picture row by id, in its app; null when there is none (replaced, removed, never). */
export async function imageRow(q: Queryable, appId: string, id: string): Promise<ImageRow | null> {
  const [row] = await q
    .select()
    .from(schema.images)
    .where(and(eq(schema.images.appId, appId), eq(schema.images.id, id)));
  return row ?? null;
}

/** The quota check of files, inside the transaction, under the same per-app lock. */
async function checkQuota(svc: Services, tx: Tx, appId: string, userId: string, adding: number): Promise<void> {
  const { userQuotaBytes: uq, appQuotaBytes: aq } = svc.config;
  if (!uq && !aq) return;
  // One upload of an app at a time past this point (files/actions.ts takes the same lock).
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`parley.files.${appId}`}))`);
  const used = await usage(tx, appId, userId);
  if (uq && used.user + adding > uq) throw quotaError('user', uq);
  if (aq && used.app + adding > aq) throw quotaError('app', aq);
}
