/**
 * A site's icon for a link's card (a channel bookmark shows it): the page's
 * `<link rel="icon">` (or `shortcut icon`, then `apple-touch-icon`), the largest by `sizes`,
 * else `/favicon.ico` at the page's origin — fetched through the same SSRF-safe fetcher as the
 * page. ICO files are unpacked here (sharp reads no ICO): the largest embedded PNG, or a 32- or
 * 24-bit BMP entry turned into raw pixels; palette BMPs give no icon. The result is a PNG, which
 * the preview pipeline re-hosts like any preview image.
 */
import { sharp } from '../../platform/lazy-deps.js';

/** Largest icon fetched. */
export const ICON_MAX_BYTES = 256 * 1024;

export interface IconLink {
  rel: string[];
  href: string;
  sizes: string | undefined;
}

/** The icon URL a page names (absolute), else its origin's `/favicon.ico`; null for a non-http page. */
export function iconUrlOf(links: readonly IconLink[], pageUrl: string): string | null {
  const score = (l: IconLink) => {
    const px = Math.max(0, ...(l.sizes ?? '').split(/\s+/).map((s) => Number.parseInt(s, 10) || 0));
    const kind = l.rel.includes('icon') ? 2 : l.rel.includes('apple-touch-icon') ? 1 : 0;
    // An SVG (`sizes="any"`, `.svg`) is never taken as a picture here: after every raster.
    if (l.sizes?.toLowerCase() === 'any' || /\.svg(\?|#|$)/i.test(l.href)) return kind - 10;
    // The rasters: `icon` before `apple-touch-icon`, the largest up to 256 px.
    return kind * 1000 + Math.min(px, 256);
  };
  const candidates = links.filter((l) => l.rel.includes('icon') || l.rel.includes('apple-touch-icon'));
  candidates.sort((a, b) => score(b) - score(a));
  for (const l of candidates) {
    try {
      const u = new URL(l.href.trim(), pageUrl);
      if (u.protocol === 'http:' || u.protocol === 'https:') return u.toString();
    } catch {
      // a malformed href: the next one
    }
  }
  try {
    const page = new URL(pageUrl);
    if (page.protocol !== 'http:' && page.protocol !== 'https:') return null;
    return new URL('/favicon.ico', page.origin).toString();
  } catch {
    return null;
  }
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Whether `bytes` is an ICO file (reserved 0, type 1, at least one image). */
export function isIco(bytes: Buffer): boolean {
  return bytes.length >= 22 && bytes.readUInt16LE(0) === 0 && bytes.readUInt16LE(2) === 1 && bytes.readUInt16LE(4) > 0;
}

/** The largest image of an ICO file as PNG bytes, or null when none can be read. */
export async function icoToPng(bytes: Buffer): Promise<Buffer | null> {
  if (!isIco(bytes)) return null;
  const count = Math.min(bytes.readUInt16LE(4), 64);
  const entries: { size: number; offset: number; length: number }[] = [];
  for (let i = 0; i < count; i++) {
    const at = 6 + i * 16;
    if (at + 16 > bytes.length) break;
    const w = bytes[at] || 256;
    const length = bytes.readUInt32LE(at + 8);
    const offset = bytes.readUInt32LE(at + 12);
    if (offset + length > bytes.length || length < 40) continue;
    entries.push({ size: w, offset, length });
  }
  entries.sort((a, b) => b.size - a.size);
  for (const e of entries) {
    const data = bytes.subarray(e.offset, e.offset + e.length);
    if (data.subarray(0, 8).equals(PNG)) return Buffer.from(data);
    const png = await bmpToPng(data);
    if (png) return png;
  }
  return null;
}

/** A 32- or 24-bit ICO BMP entry (BITMAPINFOHEADER, rows bottom-up, height doubled) as PNG. */
async function bmpToPng(dib: Buffer): Promise<Buffer | null> {
  const header = dib.readUInt32LE(0);
  if (header < 40) return null;
  const width = dib.readInt32LE(4);
  const height = Math.abs(dib.readInt32LE(8)) / 2;
  const bpp = dib.readUInt16LE(14);
  const compression = dib.readUInt32LE(16);
  if (width <= 0 || width > 256 || height <= 0 || height > 256 || compression !== 0) return null;
  if (bpp !== 32 && bpp !== 24) return null;
  const stride = Math.ceil((width * bpp) / 32) * 4;
  if (header + stride * height > dib.length) return null;
  const rgba = Buffer.alloc(width * height * 4);
  let anyAlpha = false;
  for (let y = 0; y < height; y++) {
    const row = header + (height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const p = row + x * (bpp / 8);
      const o = (y * width + x) * 4;
      rgba[o] = dib[p + 2] as number;
      rgba[o + 1] = dib[p + 1] as number;
      rgba[o + 2] = dib[p] as number;
      const a = bpp === 32 ? (dib[p + 3] as number) : 255;
      rgba[o + 3] = a;
      if (bpp === 32 && a !== 0) anyAlpha = true;
    }
  }
  // Old 32-bit icons leave alpha at 0 and use the AND mask: treat them as opaque.
  if (bpp === 32 && !anyAlpha) for (let o = 3; o < rgba.length; o += 4) rgba[o] = 255;
  return sharp(rgba, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
}
