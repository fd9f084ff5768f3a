/** Helpers for the file tests: uploads over real HTTP, an S3-API server, test images. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';
import sharp from 'sharp';
import type { S3Options } from '../../src/platform/storage/index.js';
import type { TestApp } from '../harness.js';

export interface Http {
  status: number;
  headers: Headers;
  body: Buffer;
  json: any;
}

async function answer(r: Response): Promise<Http> {
  const body = Buffer.from(await r.arrayBuffer());
  let json: any;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, body, json };
}

/**
 * `n` random bytes that no sniffer takes for a known type. Bare `randomBytes` sometimes begins
 * with a magic number (0xFF 0xFB is an MP3 frame, 0x1F 0x8B gzip, `MZ` an executable…), which
 * made a test that expects an opaque file see audio about once in a few hundred runs.
 */
export function opaqueBytes(n: number): Buffer {
  const head = Buffer.from('\0parley-opaque\0', 'latin1');
  const b = randomBytes(Math.max(n, head.length));
  head.copy(b, 0);
  return b.subarray(0, n);
}

/** Upload `bytes` as `name` (declared `type`) to `cid` as `user`, over real HTTP. */
export async function upload(
  base: string,
  app: TestApp,
  user: string,
  cid: string,
  bytes: Buffer,
  name: string,
  type = 'application/octet-stream',
  field = 'file',
): Promise<Http> {
  const form = new FormData();
  form.append(field, new Blob([new Uint8Array(bytes)], { type }), name);
  return answer(
    await fetch(`${base}/v1/channels/${cid}/uploads`, { method: 'POST', headers: await app.user(user), body: form }),
  );
}

/** GET `url` (a path on `base` or an absolute URL), not following redirects. */
export async function get(base: string, url: string, headers: Record<string, string> = {}): Promise<Http> {
  return answer(await fetch(url.startsWith('http') ? url : `${base}${url}`, { headers, redirect: 'manual' }));
}

/** GET, following one redirect to an object store as a browser would (no credentials there). */
export async function download(base: string, url: string, headers: Record<string, string> = {}): Promise<Http> {
  const first = await get(base, url, headers);
  if (first.status !== 302) return first;
  const { authorization: _, 'x-api-key': __, ...rest } = headers;
  return get(base, first.headers.get('location') as string, rest);
}

/** An S3-API server on disk (s3rver) with one bucket, for the S3 store's tests. */
export async function startS3(): Promise<{ options: S3Options; close(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-s3-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: dir,
    configureBuckets: [{ name: 'parley-files', configs: [] }],
  });
  const { port } = (await server.run()) as { port: number };
  return {
    options: {
      bucket: 'parley-files',
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true,
      prefix: 'test/',
    },
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A PNG with EXIF carrying a GPS position (what a phone's photo carries). */
export async function pngWithGps(width = 1600, height = 1000): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 40, g: 120, b: 200 } } })
    .composite([
      {
        input: await sharp({ create: { width: width / 2, height: height / 2, channels: 3, background: '#f0a020' } })
          .png()
          .toBuffer(),
        top: 0,
        left: 0,
      },
    ])
    .withExif({
      IFD0: { Make: 'ParleyPhone', Model: 'GPS tracker' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '48/1 51/1 2400/100',
        GPSLongitudeRef: 'E',
        GPSLongitude: '2/1 21/1 300/100',
      },
    })
    .png()
    .toBuffer();
}

/** An animated GIF of `frames` frames. */
export async function animatedGif(frames = 3): Promise<Buffer> {
  const pics = await Promise.all(
    Array.from({ length: frames }, (_, f) =>
      sharp({ create: { width: 64, height: 48, channels: 3, background: { r: f * 80, g: 255 - f * 80, b: 128 } } })
        .png()
        .toBuffer(),
    ),
  );
  return sharp(pics, { join: { animated: true } })
    .gif({ loop: 0, delay: pics.map(() => 100) })
    .toBuffer();
}

/** The start of an ELF executable (what `file-type` recognises), padded. */
export function elfExecutable(): Buffer {
  const b = Buffer.alloc(4096);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).copy(b);
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(0x3e, 18); // x86-64
  return b;
}
