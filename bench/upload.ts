/**
 * Upload throughput: files posted over real HTTP (multipart, streamed to disk, hashed, the
 * type sniffed, stored in the local store, one transaction with its jobs) beside a plain copy
 * of the same bytes on the same disk; and thumbnails per second through the media job's own
 * function (sharp: blurhash, 360 and 1280 px WebP).
 *
 *   node --conditions=@parley/source --import tsx bench/upload.ts [--mb 8] [--files 8]
 *        [--concurrency 2] [--images 20] [--json FILE]
 *
 * Embedded PGlite, loopback only, bounded by the counts. Timings on a shared machine swing
 * 2–5×: compare the rows of one run with each other, not runs with runs.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { THUMB_SIZES } from '@parley/protocol';
import sharp from 'sharp';
import { buildServer } from '../packages/server/src/app.js';
import { thumbnails } from '../packages/server/src/features/files/media.js';
import { signToken } from '../packages/server/src/platform/auth.js';
import { defaultConfig, NO_HTTP_LIMITS } from '../packages/server/src/platform/config.js';

const run = promisify(execFile);

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '8' },
    files: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '2' },
    images: { type: 'string', default: '20' },
    json: { type: 'string' },
  },
});
const MB = Number(values.mb);
const FILES = Number(values.files);
const CONCURRENCY = Math.max(1, Number(values.concurrency));
const IMAGES = Number(values.images);

const dir = mkdtempSync(path.join(tmpdir(), 'parley-bench-upload-'));
const rows: Record<string, unknown>[] = [];
const fmt = (n: number) => n.toFixed(1);

try {
  // 1. A plain copy of the same bytes on the same disk: the floor the upload path is measured against.
  const src = path.join(dir, 'source.bin');
  const bytes = randomBytes(MB * 1024 * 1024);
  writeFileSync(src, bytes);
  let t = performance.now();
  for (let i = 0; i < FILES; i++) copyFileSync(src, path.join(dir, `copy-${i}.bin`));
  const copySec = (performance.now() - t) / 1000;
  for (let i = 0; i < FILES; i++) rmSync(path.join(dir, `copy-${i}.bin`));
  const copyRate = (MB * FILES) / copySec;
  rows.push({ what: 'file copy (same disk)', files: FILES, mb_each: MB, seconds: copySec, mb_per_s: copyRate });

  // 2. Uploads over HTTP to a real server on loopback.
  const config = defaultConfig({
    port: 0,
    dataDir: path.join(dir, 'data'),
    logLevel: 'silent',
    adminToken: 'bench-admin',
    uploadMaxBytes: (MB + 1) * 1024 * 1024,
    userQuotaBytes: 0,
    rateMessages: 0,
    httpLimits: NO_HTTP_LIMITS,
    webDir: undefined,
  });
  const server = await buildServer(config, { logger: false });
  try {
    const base = await server.app.listen({ port: 0, host: '127.0.0.1' });
    const app = await server.svc.apps.create('bench');
    const secret = (await server.svc.apps.secretOf(app.id)) as string;
    const headers = { 'x-api-key': app.api_key, authorization: `Bearer ${await signToken(secret, 'bench')}` };
    const created = await fetch(`${base}/v1/channels`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'group', id: 'bench', members: [] }),
    });
    if (!created.ok) throw new Error(`channel: ${created.status} ${await created.text()}`);
    const blob = new Blob([new Uint8Array(bytes)], { type: 'application/octet-stream' });
    const one = async () => {
      const form = new FormData();
      form.append('file', blob, 'bench.bin');
      const r = await fetch(`${base}/v1/channels/group:bench/uploads`, { method: 'POST', headers, body: form });
      if (!r.ok) throw new Error(`upload: ${r.status} ${await r.text()}`);
      await r.arrayBuffer();
    };
    await one(); // warm-up (not counted)
    t = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < FILES) {
          next++;
          await one();
        }
      }),
    );
    const upSec = (performance.now() - t) / 1000;
    const upRate = (MB * FILES) / upSec;
    rows.push({
      what: `upload over HTTP, in-process fetch client (concurrency ${CONCURRENCY})`,
      files: FILES,
      mb_each: MB,
      seconds: upSec,
      mb_per_s: upRate,
      of_copy: upRate / copyRate,
    });
    // The same with curl as the client, in its own process: what the server takes when the
    // client's multipart encoding does not share its event loop and cores.
    if (existsSync('/usr/bin/curl')) {
      const file = path.join(dir, 'source.bin');
      const curl = () =>
        run('/usr/bin/curl', [
          ...['-sf', '-o', '/dev/null', '-H', `x-api-key: ${headers['x-api-key']}`],
          ...['-H', `authorization: ${headers.authorization}`, '-F', `file=@${file}`],
          `${base}/v1/channels/group:bench/uploads`,
        ]);
      await curl();
      t = performance.now();
      let k = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (k < FILES) {
            k++;
            await curl();
          }
        }),
      );
      const curlSec = (performance.now() - t) / 1000;
      rows.push({
        what: `upload over HTTP, curl client (concurrency ${CONCURRENCY})`,
        files: FILES,
        mb_each: MB,
        seconds: curlSec,
        mb_per_s: (MB * FILES) / curlSec,
        of_copy: (MB * FILES) / curlSec / copyRate,
      });
    }
  } finally {
    await server.app.close();
  }

  // 3. Thumbnails per second (the media job's work, without the queue around it).
  const photo = await sharp({
    create: { width: 3000, height: 2000, channels: 3, noise: { type: 'gaussian', mean: 128, sigma: 40 } },
  } as never)
    .jpeg({ quality: 90 })
    .toBuffer();
  await thumbnails(photo, THUMB_SIZES); // warm-up
  t = performance.now();
  for (let i = 0; i < IMAGES; i++) await thumbnails(photo, THUMB_SIZES);
  const thumbSec = (performance.now() - t) / 1000;
  rows.push({
    what: 'thumbnails (3000×2000 JPEG → blurhash + 360 + 1280 WebP)',
    images: IMAGES,
    seconds: thumbSec,
    images_per_s: IMAGES / thumbSec,
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

for (const r of rows) {
  const parts = [`${r.what}:`];
  if (r.mb_per_s !== undefined) parts.push(`${fmt(r.mb_per_s as number)} MB/s`);
  if (r.of_copy !== undefined) parts.push(`(${Math.round((r.of_copy as number) * 100)}% of the copy)`);
  if (r.images_per_s !== undefined) parts.push(`${fmt(r.images_per_s as number)} images/s`);
  parts.push(`[${fmt(r.seconds as number)} s]`);
  console.log(parts.join(' '));
}
if (values.json) writeFileSync(values.json, JSON.stringify(rows, null, 2));
