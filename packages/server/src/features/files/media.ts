/**
 * Image work with sharp: at upload, metadata (EXIF, GPS, XMP) stripped from what will be
 * served and the size read; in the media job, a blurhash placeholder and WebP thumbnails.
 * Animated GIF and WebP keep every frame (thumbnails of an animation are animated WebP).
 */
import { encode } from 'blurhash';
import type { Metadata } from 'sharp';
import { sharp } from '../../platform/lazy-deps.js';

/** Images larger than this many pixels are not decoded (a decompression bomb guard). */
const MAX_PIXELS = 100_000_000;

/** Types re-encoded at upload to drop their metadata (GIF carries none worth the re-encode). */
const STRIP = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/avif', 'image/tiff']);

/** Types sharp decodes for thumbnails. */
export const THUMBNAILED = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/avif', 'image/tiff', 'image/gif']);

export interface ImageInfo {
  width: number | null;
  height: number | null;
  animated: boolean;
}

/**
 * Read an image's size and, for the types that carry metadata, write a copy without it to
 * `to` (rotated upright first, since the orientation tag goes too). Answers null when the
 * bytes do not decode: then the upload is kept as a plain file.
 */
export async function cleanImage(
  from: string,
  mime: string,
  to: string,
): Promise<(ImageInfo & { cleaned: boolean }) | null> {
  let meta: Metadata;
  try {
    meta = await sharp(from, { limitInputPixels: MAX_PIXELS, animated: true }).metadata();
  } catch {
    return null;
  }
  const animated = (meta.pages ?? 1) > 1;
  const upright = (meta.orientation ?? 1) >= 5;
  const width = meta.width ?? null;
  const frameHeight = meta.pageHeight ?? meta.height ?? null;
  const info = {
    width: upright ? frameHeight : width,
    height: upright ? width : frameHeight,
    animated,
  };
  if (!STRIP.has(mime)) return { ...info, cleaned: false };
  try {
    // sharp writes no metadata unless asked to (`keepMetadata`); the ICC profile is kept so
    // colours do not shift. Same format out as in; JPEG at high quality.
    let img = sharp(from, { limitInputPixels: MAX_PIXELS, animated }).rotate().keepIccProfile();
    if (mime === 'image/jpeg') img = img.jpeg({ quality: 92, mozjpeg: false });
    else if (mime === 'image/png') img = img.png({ compressionLevel: 6 });
    else if (mime === 'image/webp') img = img.webp({ quality: 92 });
    else if (mime === 'image/avif') img = img.avif({ quality: 70 });
    else img = img.tiff();
    await img.toFile(to);
    return { ...info, cleaned: true };
  } catch {
    return null;
  }
}

export interface Thumbnails {
  blurhash: string;
  /** Longest side → WebP bytes (only sizes smaller than the image are made). */
  thumbs: Map<number, Buffer>;
}

/** A blurhash and WebP thumbnails of an image. */
export async function thumbnails(bytes: Buffer, sizes: readonly number[]): Promise<Thumbnails> {
  const base = sharp(bytes, { limitInputPixels: MAX_PIXELS });
  const meta = await base.metadata();
  const animated = (meta.pages ?? 1) > 1;
  const { data, info } = await sharp(bytes, { limitInputPixels: MAX_PIXELS })
    .rotate()
    .resize(32, 32, { fit: 'inside' })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const blurhash = encode(new Uint8ClampedArray(data), info.width, info.height, 4, 3);
  const longest = Math.max(meta.width ?? 0, meta.pageHeight ?? meta.height ?? 0);
  const thumbs = new Map<number, Buffer>();
  for (const size of sizes) {
    // Always the smallest size (a small image still gets one, so clients have one path to
    // ask for); larger sizes only when the image is larger than the one before.
    if (thumbs.size > 0 && longest <= (sizes[sizes.indexOf(size) - 1] ?? 0)) break;
    const out = await sharp(bytes, { limitInputPixels: MAX_PIXELS, animated })
      .rotate()
      .resize(size, size, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer();
    thumbs.set(size, out);
  }
  return { blurhash, thumbs };
}
