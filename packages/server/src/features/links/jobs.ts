/**
 * The unfurl job: a message's preview URLs become cards on the message.
 *
 * For each URL the cache (`link_previews`, per app and URL) answers while it is fresh;
 * otherwise the page is fetched and read (unfurl.ts), its image fetched, re-encoded to WebP
 * thumbnails and stored under a new random id (clients load it from us, never from the linked
 * site), and the result cached — a failure or an empty page too, for a shorter time. Then one
 * transaction, the channel row locked first as every writer of the channel does, puts the
 * cards on the message as its text is *now* (an edit meanwhile has its own job) and logs
 * `message.updated`, published after commit. Idempotent: a second run finds the cards cached
 * and the message already carrying them, and writes nothing.
 */

import { createHash } from 'node:crypto';
import { type LinkPreview, type PreviewImage, THUMB_SIZES } from '@parley/protocol';
import { and, eq, gt, sql } from 'drizzle-orm';
import type { Metadata } from 'sharp';
import { schema } from '../../platform/db/index.js';
import { logEvents, takeSeqs, withTransaction } from '../../platform/event-log.js';
import type { JobKind } from '../../platform/jobs/queue.js';
import { sharp } from '../../platform/lazy-deps.js';
import { allowFor } from '../../platform/outbound.js';
import type { Services } from '../../services.js';
import { thumbnails } from '../files/index.js';
import { ICON_MAX_BYTES, iconUrlOf, icoToPng, isIco } from './favicon.js';
import { UNFURL, type UnfurlJob } from './job-names.js';
import { FetchRefused, type SafeFetchOptions, safeFetch } from './safe-fetch.js';
import { IMAGE_MAX_BYTES, type PageMeta, unfurl } from './unfurl.js';
import { normalizeUrl, previewUrls } from './urls.js';

type CacheRow = typeof schema.linkPreviews.$inferSelect;

/** The path a re-hosted preview image's thumbnail is served at (no credentials: see routes.ts). */
export function linkImagePath(appId: string, imageId: string, size: string): string {
  return `/v1/link-images/${appId}/${imageId}?v=${size}`;
}

/** Where a preview image's thumbnail is stored (the same key shape as a file's thumbnail). */
export function linkImageKey(appId: string, imageId: string, size: string): string {
  return `${appId}/${imageId}.t${size}`;
}

const hashOf = (key: string) => createHash('sha256').update(key).digest('hex');

function fetchOptions(svc: Services): SafeFetchOptions {
  return { allow: allowFor(svc.config, 'previews'), timeoutMs: svc.config.previewTimeoutMs };
}

/**
 * Raster formats a preview image may be, by its magic number. Never SVG (or anything else a
 * decoder might follow references out of): the picture is decided from its bytes, whatever the
 * site said it was.
 */
const RASTER = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif']);

/**
 * A preview image's id, in the shape of a UUID: a keyed digest (the server's own key) of its
 * app and its bytes. The same picture — one og:image behind many pages, or a page fetched again
 * when its card expires — is stored once per app, so re-hosting does not grow the store with
 * every refresh of the cache; and as only the server can compute it, the path stays a
 * capability that someone holding the picture cannot derive.
 */
export function contentId(svc: Services, appId: string, bytes: Buffer): string {
  const h = svc.sealer.mac('link-image', appId, bytes).toString('hex');
  const variant = (8 | (Number.parseInt(h[16] as string, 16) & 3)).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Decode and store an image as WebP thumbnails; null when it is not a raster image that decodes. */
async function rehost(svc: Services, appId: string, bytes: Buffer): Promise<PreviewImage | null> {
  const { fileTypeFromBuffer } = await import('file-type');
  const type = await fileTypeFromBuffer(bytes.subarray(0, 4100));
  if (!type || !RASTER.has(type.mime)) return null;
  let made: Awaited<ReturnType<typeof thumbnails>>;
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: 100_000_000 }).metadata();
    made = await thumbnails(bytes, THUMB_SIZES);
  } catch {
    return null; // not an image sharp can read: the card goes without one
  }
  const id = contentId(svc, appId, bytes);
  const thumbs: Record<string, string> = {};
  for (const [size, webp] of made.thumbs) {
    await svc.storage.store.putBytes(linkImageKey(appId, id, String(size)), webp, { contentType: 'image/webp' });
    thumbs[String(size)] = linkImagePath(appId, id, String(size));
  }
  const largest = Object.keys(thumbs).sort((a, b) => Number(b) - Number(a))[0];
  if (!largest) return null;
  const upright = (meta.orientation ?? 1) >= 5;
  const w = meta.width ?? null;
  const h = meta.pageHeight ?? meta.height ?? null;
  return {
    url: thumbs[largest] as string,
    width: upright ? h : w,
    height: upright ? w : h,
    blurhash: made.blurhash,
    thumbs,
  };
}

/** The site's icon, re-hosted as a preview image is (an ICO unpacked to PNG first); null when none decodes. */
async function fetchIcon(svc: Services, appId: string, url: string): Promise<PreviewImage | null> {
  try {
    const got = await safeFetch(url, { ...fetchOptions(svc), maxBytes: ICON_MAX_BYTES, accept: 'image/*' });
    if (got.status !== 200) return null;
    const png = isIco(got.body) ? await icoToPng(got.body) : got.body;
    return png ? await rehost(svc, appId, png) : null;
  } catch (err) {
    if (err instanceof FetchRefused) return null;
    throw err;
  }
}

async function fetchImage(svc: Services, appId: string, url: string): Promise<PreviewImage | null> {
  try {
    const got = await safeFetch(url, { ...fetchOptions(svc), maxBytes: IMAGE_MAX_BYTES, accept: 'image/*' });
    if (got.status !== 200) return null;
    return await rehost(svc, appId, got.body);
  } catch (err) {
    if (err instanceof FetchRefused) return null;
    throw err;
  }
}

/** What the cache keeps for one URL after reading it. */
type Fresh = Pick<
  CacheRow,
  'status' | 'finalUrl' | 'title' | 'description' | 'siteName' | 'kind' | 'image' | 'icon' | 'error'
>;

async function readLink(svc: Services, appId: string, url: string): Promise<Fresh> {
  const none = { finalUrl: null, title: null, description: null, siteName: null, kind: null, image: null, icon: null };
  let meta: PageMeta;
  try {
    const got = await unfurl(url, fetchOptions(svc));
    if (got.type === 'image') {
      const image = await rehost(svc, appId, got.bytes);
      if (!image) return { ...none, status: 'failed', error: 'The image does not decode' };
      return { ...none, status: 'ok', finalUrl: got.finalUrl, kind: 'image', image, error: null };
    }
    meta = got.meta;
  } catch (err) {
    if (!(err instanceof FetchRefused)) throw err; // a bug or the store: the job retries
    return { ...none, status: 'failed', error: `${err.reason}: ${err.message}`.slice(0, 500) };
  }
  const image = meta.imageUrl ? await fetchImage(svc, appId, meta.imageUrl) : null;
  // The icon the page names, else (missing, or not a picture that decodes) the origin's /favicon.ico.
  const fallback = iconUrlOf([], meta.finalUrl);
  let icon = meta.iconUrl ? await fetchIcon(svc, appId, meta.iconUrl) : null;
  if (!icon && fallback && fallback !== meta.iconUrl) icon = await fetchIcon(svc, appId, fallback);
  const empty = !meta.title && !meta.description && !image;
  return {
    status: empty ? 'empty' : 'ok',
    finalUrl: meta.finalUrl,
    title: meta.title,
    description: meta.description,
    siteName: meta.siteName,
    kind: meta.kind,
    image,
    icon,
    error: null,
  };
}

/**
 * The cached card of `key` (a normalized URL) in `appId`, fetched and cached when there is no
 * fresh one — if `userId`, whose message it is, has fetches left this minute; else null (no
 * card, nothing cached: a later message may still get one).
 */
export async function cardOf(svc: Services, appId: string, key: string, userId: string): Promise<CacheRow | null> {
  const urlHash = hashOf(key);
  const [cached] = await svc.db
    .select()
    .from(schema.linkPreviews)
    .where(
      and(
        eq(schema.linkPreviews.appId, appId),
        eq(schema.linkPreviews.urlHash, urlHash),
        gt(schema.linkPreviews.expiresAt, sql`now()`),
      ),
    );
  if (cached) return cached;
  const budget = svc.config.previewFetchesPerMinute;
  if (budget > 0 && !(await svc.limiter.hit(`unfurl:${appId}:${userId}`, budget, 60_000)).ok) return null;
  const fresh = await readLink(svc, appId, key);
  const ttl = fresh.status === 'ok' ? svc.config.previewTtlSeconds : svc.config.previewFailureTtlSeconds;
  const values = { ...fresh, fetchedAt: sql`now()`, expiresAt: sql`now() + make_interval(secs => ${ttl})` };
  const [row] = await svc.db
    .insert(schema.linkPreviews)
    .values({ appId, urlHash, url: key, ...values })
    .onConflictDoUpdate({ target: [schema.linkPreviews.appId, schema.linkPreviews.urlHash], set: values })
    .returning();
  return row as CacheRow;
}

/** A cache row as the card of `url` (as the message writes it), or null when it has none. */
export function presentPreview(url: string, row: CacheRow): LinkPreview | null {
  if (row.status !== 'ok') return null;
  return {
    url,
    final_url: row.finalUrl ?? row.url,
    title: row.title,
    description: row.description,
    site_name: row.siteName,
    kind: row.kind,
    image: row.image ?? null,
  };
}

/** The URLs of `text` that should carry a card: its preview URLs less those the author removed. */
export function wantedUrls(text: string, hidden: readonly string[]): { url: string; key: string }[] {
  const gone = new Set(hidden);
  return previewUrls(text)
    .map((url) => ({ url, key: normalizeUrl(url) as string }))
    .filter((u) => !gone.has(u.key));
}

/** Define the links feature's job on the server's queue (only when previews are on). */
export async function defineLinkJobs(svc: Services): Promise<void> {
  if (!svc.config.linkPreviews) return;
  const kind: JobKind<UnfurlJob> = {
    name: UNFURL.name,
    retryLimit: 3,
    retryDelaySeconds: 10,
    expireInSeconds: 120,
    concurrency: 4,
    run: async ({ appId, messageId }) => {
      const [msg] = await svc.db
        .select()
        .from(schema.messages)
        .where(and(eq(schema.messages.appId, appId), eq(schema.messages.id, messageId)));
      if (!msg || msg.deletedAt || msg.type !== 'regular') return;
      const cards = new Map<string, CacheRow | null>();
      for (const { key } of wantedUrls(msg.text, msg.hiddenPreviews))
        if (!cards.has(key)) cards.set(key, await cardOf(svc, appId, key, msg.userId));
      await putPreviews(svc, appId, msg.cid, messageId, cards);
    },
  };
  await svc.jobs.define(kind);
}

/** JSON with sorted keys: jsonb gives objects back in its own key order. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(
          Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : x,
  );
}

async function putPreviews(
  svc: Services,
  appId: string,
  cid: string,
  messageId: string,
  cards: Map<string, CacheRow | null>,
): Promise<void> {
  await withTransaction(svc, async (tx, out) => {
    // The channel row first, as the send path and every other writer of the channel lock it.
    await tx.execute(sql`select 1 from ${schema.channels} where app_id = ${appId} and cid = ${cid} for update`);
    const [cur] = await tx
      .select()
      .from(schema.messages)
      .where(and(eq(schema.messages.appId, appId), eq(schema.messages.id, messageId)));
    if (!cur || cur.deletedAt || cur.type !== 'regular') return;
    // The text as it is now: a URL an edit added meanwhile keeps what it has (its own job
    // comes); a URL the edit or the author removed gets nothing.
    const had = new Map(cur.previews.map((p) => [normalizeUrl(p.url), p]));
    const next: LinkPreview[] = [];
    for (const { url, key } of wantedUrls(cur.text, cur.hiddenPreviews)) {
      const row = cards.get(key);
      const card = row ? presentPreview(url, row) : (had.get(key) ?? null);
      if (card) next.push(card);
    }
    if (canonical(next) === canonical(cur.previews)) return;
    const [row] = await tx
      .update(schema.messages)
      .set({ previews: next })
      .where(and(eq(schema.messages.appId, appId), eq(schema.messages.id, messageId)))
      .returning();
    const seq = await takeSeqs(tx, appId, cid, 1);
    const [message] = await svc.enrichMessages(tx, appId, null, [row ?? cur]);
    if (message)
      await logEvents(tx, out, appId, [
        { type: 'message.updated', cid, seq, created_at: new Date().toISOString(), message },
      ]);
  });
}
