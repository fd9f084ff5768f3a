/**
 * What every importer does with an export's pictures: people's profile pictures become avatars
 * as uploaded ones do (square WebP renditions, features/images), and custom emoji are checked and
 * stored as an uploaded emoji is (features/emoji). Both are prepared before the import's
 * transaction and written inside it; whatever cannot be imported is reported with its reason.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { IMAGE_MAX_BYTES, IMAGE_SIZES, MAX_EMOJI_ALIASES, uuidv7 } from '@parley/protocol';
import { and, eq, inArray } from 'drizzle-orm';
import { type Queryable, schema } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import type { BlobStore } from '../../platform/storage/index.js';
import { checkShortcode, prepareEmojiImage, standardShortcodes } from '../emoji/index.js';
import { imageUrl, renderSquare } from '../images/index.js';
import type { ExportBlob } from './zip.js';

/** Where pictures go: without a store or a public URL to serve them at, none is imported. */
export interface PictureTarget {
  store?: BlobStore | undefined;
  /** `PARLEY_PUBLIC_URL`: an avatar's URL starts with it. */
  publicUrl?: string | undefined;
}

/** A created person's picture: `row` is their users row, which gets the avatar's URL. */
export interface PersonPicture {
  row: typeof schema.users.$inferInsert;
  /** How the report names them (`@name`). */
  handle: string;
  blob: ExportBlob;
}

/** Why `blob` cannot become an avatar here, or null when it can (its bytes are read later). */
export function pictureRefusal(blob: ExportBlob | undefined, to: PictureTarget): string | null {
  if (!blob) return 'not in the export';
  if (!to.store) return 'no file store given';
  if (!to.publicUrl) return 'no public URL (PARLEY_PUBLIC_URL) to serve it at';
  if (blob.size > IMAGE_MAX_BYTES) return `larger than ${IMAGE_MAX_BYTES / 1024 / 1024} MB`;
  return null;
}

/**
 * Render and store each picture, and point its person's row at it; answers the `images` rows to
 * insert once the users are. A picture that does not decode is skipped (`skipped(handle, why)`).
 */
export async function storePictures(
  appId: string,
  pictures: readonly PersonPicture[],
  to: PictureTarget,
  skipped: (handle: string, why: string) => void,
): Promise<(typeof schema.images.$inferInsert)[]> {
  const out: (typeof schema.images.$inferInsert)[] = [];
  if (!to.store || !to.publicUrl) return out;
  for (const p of pictures) {
    const made = await renderSquare(await p.blob.read(), IMAGE_SIZES);
    if (!made) {
      skipped(p.handle, 'not a picture');
      continue;
    }
    const id = uuidv7();
    const sizes: Record<string, string> = {};
    let bytes = 0;
    for (const [size, webp] of made.sizes) {
      const k = `${appId}/${id}.a${size}`;
      await to.store.putBytes(k, webp, { contentType: 'image/webp' });
      sizes[String(size)] = k;
      bytes += webp.length;
    }
    const userId = p.row.id as string;
    out.push({ appId, id, ownerKind: 'user', ownerId: userId, userId, sizes, bytes, blurhash: made.blurhash });
    p.row.image = imageUrl(to.publicUrl.replace(/\/+$/, ''), appId, id);
    p.row.imageBlurhash = made.blurhash;
  }
  return out;
}

/** A custom emoji of an export: its name, its image (the file's name tells the type), its aliases. */
export interface ExportEmoji {
  name: string;
  file: string;
  blob: ExportBlob | undefined;
  aliases?: readonly string[];
}

export interface PreparedEmoji {
  shortcode: string;
  aliases: string[];
  imageId: string;
  image: Awaited<ReturnType<typeof prepareEmojiImage>>;
}

/**
 * The export's custom emoji, each checked and its image re-encoded as an upload's would be,
 * before the transaction. A name the workspace has is left as it is (a re-run adds none twice:
 * `existing`); a name that is a standard emoji's, an image not in the export or not an image an
 * emoji may have is skipped with its reason (`skipped(name, why)`). An alias that is no
 * shortcode, a standard emoji's or already taken is dropped, and said.
 */
export async function prepareEmoji(
  db: Queryable,
  appId: string,
  list: readonly ExportEmoji[],
  hasStore: boolean,
  skipped: (name: string, why: string) => void,
): Promise<{ emoji: PreparedEmoji[]; existing: number }> {
  if (list.length === 0) return { emoji: [], existing: 0 };
  const lower = (s: string) => s.toLowerCase();
  const names = [...new Set(list.flatMap((e) => [e.name, ...(e.aliases ?? [])].map(lower)))];
  const taken = new Set(
    (
      await db
        .select({ name: schema.emojiNames.name })
        .from(schema.emojiNames)
        .where(and(eq(schema.emojiNames.appId, appId), inArray(schema.emojiNames.name, names)))
    ).map((r) => r.name),
  );
  const emoji: PreparedEmoji[] = [];
  let existing = 0;
  for (const e of list) {
    const no = (why: string) => skipped(e.name, why);
    let shortcode: string;
    try {
      shortcode = checkShortcode(lower(e.name));
    } catch {
      no('(not a shortcode here: 2–32 of a-z, 0-9, _, - and +)');
      continue;
    }
    if (taken.has(shortcode)) {
      existing++;
      continue;
    }
    if (standardShortcodes().has(shortcode)) {
      no("(a standard emoji's name)");
      continue;
    }
    if (!e.blob || !hasStore) {
      no(e.blob ? '(no file store given)' : '(image not in the export)');
      continue;
    }
    let image: PreparedEmoji['image'];
    try {
      image = await prepareEmojiImage(await e.blob.read(), path.posix.basename(e.file));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      no(`(${err.message})`);
      continue;
    }
    taken.add(shortcode);
    const aliases: string[] = [];
    for (const a of e.aliases ?? []) {
      let alias: string;
      try {
        alias = checkShortcode(lower(a), 'alias');
      } catch {
        no(`(alias :${a}: is not a shortcode here)`);
        continue;
      }
      if (taken.has(alias) || standardShortcodes().has(alias) || aliases.length >= MAX_EMOJI_ALIASES) {
        no(
          `(alias :${alias}: ${aliases.length >= MAX_EMOJI_ALIASES ? `past the ${MAX_EMOJI_ALIASES} an emoji may have` : 'is taken'})`,
        );
        continue;
      }
      taken.add(alias);
      aliases.push(alias);
    }
    // Random, as an upload's: the image's public URL must not be guessable from the name.
    emoji.push({ shortcode, aliases, imageId: randomUUID(), image });
  }
  return { emoji, existing };
}

/** Store the emoji's images, then their rows and names, in the import's transaction. */
export async function writeEmoji(q: Queryable, appId: string, emoji: PreparedEmoji[], store: BlobStore | undefined) {
  if (emoji.length === 0 || !store) return;
  for (const e of emoji)
    await store.putBytes(`${appId}/${e.imageId}.emoji`, e.image.data, { contentType: e.image.contentType });
  await q
    .insert(schema.emojiNames)
    .values(emoji.flatMap((e) => [e.shortcode, ...e.aliases].map((name) => ({ appId, name, shortcode: e.shortcode }))))
    .onConflictDoNothing();
  await q.insert(schema.customEmoji).values(
    emoji.map((e) => ({
      appId,
      shortcode: e.shortcode,
      aliases: e.aliases,
      imageId: e.imageId,
      storageKey: `${appId}/${e.imageId}.emoji`,
      contentType: e.image.contentType,
      animated: e.image.animated,
      width: e.image.width,
      height: e.image.height,
      createdBy: 'server',
    })),
  );
}
