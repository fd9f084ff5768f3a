import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { iconUrlOf, icoToPng, isIco } from './favicon.js';

/** An ICO file holding the given entries (PNG bytes, or a BMP DIB as written below). */
function ico(entries: { size: number; data: Buffer }[]): Buffer {
  const head = Buffer.alloc(6 + entries.length * 16);
  head.writeUInt16LE(0, 0);
  head.writeUInt16LE(1, 2);
  head.writeUInt16LE(entries.length, 4);
  let offset = head.length;
  entries.forEach((e, i) => {
    const at = 6 + i * 16;
    head[at] = e.size >= 256 ? 0 : e.size;
    head[at + 1] = e.size >= 256 ? 0 : e.size;
    head.writeUInt16LE(1, at + 4);
    head.writeUInt16LE(32, at + 6);
    head.writeUInt32LE(e.data.length, at + 8);
    head.writeUInt32LE(offset, at + 12);
    offset += e.data.length;
  });
  return Buffer.concat([head, ...entries.map((e) => e.data)]);
}

/** A 32-bit BMP icon entry of one colour (BGRA, rows bottom-up, height doubled, AND mask after). */
function bmpEntry(size: number, [r, g, b]: [number, number, number], alpha = 255): Buffer {
  const header = Buffer.alloc(40);
  header.writeUInt32LE(40, 0);
  header.writeInt32LE(size, 4);
  header.writeInt32LE(size * 2, 8);
  header.writeUInt16LE(1, 12);
  header.writeUInt16LE(32, 14);
  const pixels = Buffer.alloc(size * size * 4);
  for (let i = 0; i < size * size; i++) pixels.set([b, g, r, alpha], i * 4);
  const mask = Buffer.alloc(Math.ceil(size / 32) * 4 * size);
  return Buffer.concat([header, pixels, mask]);
}

const colourOf = async (png: Buffer) => {
  const { data } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return [data[0], data[1], data[2]];
};

describe('iconUrlOf', () => {
  const page = 'https://example.com/docs/page';
  it('takes the largest raster icon the page names, then apple-touch-icon, else /favicon.ico', () => {
    expect(
      iconUrlOf(
        [
          { rel: ['icon'], href: '/small.png', sizes: '16x16' },
          { rel: ['icon'], href: 'big.png', sizes: '32x32 64x64' },
          { rel: ['icon'], href: '/any.svg', sizes: 'any' },
          { rel: ['apple-touch-icon'], href: '/touch.png', sizes: '180x180' },
        ],
        page,
      ),
    ).toBe('https://example.com/docs/big.png');
    expect(iconUrlOf([{ rel: ['shortcut', 'icon'], href: '/favicon.png', sizes: undefined }], page)).toBe(
      'https://example.com/favicon.png',
    );
    expect(iconUrlOf([{ rel: ['apple-touch-icon'], href: '/t.png', sizes: undefined }], page)).toBe(
      'https://example.com/t.png',
    );
    // An SVG icon comes after the apple-touch-icon (it would not decode).
    expect(
      iconUrlOf(
        [
          { rel: ['icon'], href: '/logo.svg', sizes: undefined },
          { rel: ['apple-touch-icon'], href: '/touch.png', sizes: undefined },
        ],
        page,
      ),
    ).toBe('https://example.com/touch.png');
    expect(iconUrlOf([], page)).toBe('https://example.com/favicon.ico');
    // A javascript: or data: href is not fetched: the origin's favicon instead.
    expect(iconUrlOf([{ rel: ['icon'], href: 'javascript:alert(1)', sizes: undefined }], page)).toBe(
      'https://example.com/favicon.ico',
    );
  });
});

describe('icoToPng', () => {
  it('takes the largest embedded PNG', async () => {
    const red = await sharp({ create: { width: 32, height: 32, channels: 4, background: '#ff0000' } })
      .png()
      .toBuffer();
    const blue = await sharp({ create: { width: 16, height: 16, channels: 4, background: '#0000ff' } })
      .png()
      .toBuffer();
    const file = ico([
      { size: 16, data: blue },
      { size: 32, data: red },
    ]);
    expect(isIco(file)).toBe(true);
    const png = (await icoToPng(file)) as Buffer;
    expect((await sharp(png).metadata()).width).toBe(32);
    expect(await colourOf(png)).toEqual([255, 0, 0]);
  });

  it('reads a 32-bit BMP entry, with or without alpha, and refuses what is not an icon', async () => {
    const png = (await icoToPng(ico([{ size: 16, data: bmpEntry(16, [0, 128, 255]) }]))) as Buffer;
    expect((await sharp(png).metadata()).width).toBe(16);
    expect(await colourOf(png)).toEqual([0, 128, 255]);
    // An old icon with alpha 0 everywhere (the AND mask's era) is shown opaque.
    const old = (await icoToPng(ico([{ size: 16, data: bmpEntry(16, [10, 20, 30], 0) }]))) as Buffer;
    const { data } = await sharp(old).raw().toBuffer({ resolveWithObject: true });
    expect(data[3]).toBe(255);
    expect(await icoToPng(Buffer.from('<html>not an icon</html>'))).toBeNull();
    // An entry pointing past the end of the file is skipped.
    const broken = ico([{ size: 16, data: bmpEntry(16, [1, 2, 3]) }]);
    broken.writeUInt32LE(broken.length + 10, 6 + 12);
    expect(await icoToPng(broken)).toBeNull();
  });
});
