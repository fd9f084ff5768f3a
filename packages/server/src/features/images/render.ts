/**
 * A picture's square renditions: decoded once (upright by its orientation tag), cropped to the
 * centred square, and re-encoded as WebP at each size. Re-encoding is what drops the upload's
 * metadata (EXIF, GPS, XMP): sharp writes none unless asked. The browser already crops the square
 * the person chose; the centre crop here only makes a client that sent a rectangle safe.
 */
import { encode } from 'blurhash';
import { sharp } from '../../platform/lazy-deps.js';

/** Larger than this many pixels is not decoded (a decompression bomb guard, as for files). */
const MAX_PIXELS = 100_000_000;

export interface Renditions {
  /** Size → WebP bytes: every size up to the picture's own shorter side, and always the smallest. */
  sizes: Map<number, Buffer>;
  blurhash: string;
}

/** Render `input` at `sizes` (ascending); null when the bytes do not decode as an image. */
export async function renderSquare(input: string | Buffer, sizes: readonly number[]): Promise<Renditions | null> {
  let side: number;
  let square: Buffer;
  try {
    // First frame only: an animated GIF becomes a still picture, as avatars are.
    const upright = await sharp(input, { limitInputPixels: MAX_PIXELS, animated: false })
      .rotate()
      .toBuffer({ resolveWithObject: true });
    side = Math.min(upright.info.width, upright.info.height);
    if (side < 1) return null;
    square = await sharp(upright.data, { limitInputPixels: MAX_PIXELS })
      .resize(side, side, { fit: 'cover', position: 'centre' })
      .png()
      .toBuffer();
  } catch {
    return null;
  }
  const out = new Map<number, Buffer>();
  for (const size of sizes) {
    if (out.size > 0 && size > side) break;
    out.set(
      size,
      await sharp(square)
        .resize(size, size, { fit: 'cover' })
        .webp({ quality: size <= 96 ? 85 : 80 })
        .toBuffer(),
    );
  }
  const { data, info } = await sharp(square).resize(32, 32).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { sizes: out, blurhash: encode(new Uint8ClampedArray(data), info.width, info.height, 4, 4) };
}

/** The stored size to answer for a wanted width: the smallest at least as large, else the largest. */
export function pickSize(stored: readonly number[], wanted: number | undefined): number {
  const asc = [...stored].sort((a, b) => a - b);
  if (asc.length === 0) throw new Error('a picture without renditions');
  if (wanted === undefined) return asc.find((s) => s >= 192) ?? (asc[asc.length - 1] as number);
  return asc.find((s) => s >= wanted) ?? (asc[asc.length - 1] as number);
}
