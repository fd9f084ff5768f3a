/**
 * Link preview images on the S3 store (a real S3-API server, s3rver): the unfurl job stores the
 * thumbnails in the bucket, and the image path answers with a redirect to a pre-signed URL that
 * serves the WebP bytes without credentials.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Options } from '../../src/platform/storage/index.js';
import { startS3 } from '../files/helpers.js';
import { type Harness, startHarness, type TestApp } from '../harness.js';
import { until } from '../jobs/helpers.js';

let h: Harness;
let app: TestApp;
let base: string;
let pages: http.Server;
let site: string;
let s3: { options: S3Options; close(): Promise<void> } | undefined;

beforeAll(async () => {
  const png = await sharp({ create: { width: 500, height: 500, channels: 3, background: '#5050f0' } })
    .png()
    .toBuffer();
  pages = http.createServer((req, res) => {
    if (req.url === '/p.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      return res.end(png);
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(
      '<html><head><meta property="og:title" content="In the bucket"><meta property="og:image" content="/p.png">',
    );
  });
  await new Promise<void>((r) => pages.listen(0, '127.0.0.1', () => r()));
  const port = (pages.address() as AddressInfo).port;
  site = `http://127.0.0.1:${port}`;
  s3 = await startS3();
  h = await startHarness({ jobPollMs: 100, s3: s3.options, previewAllowHosts: [`127.0.0.1:${port}`] });
  base = await h.listen();
  app = await h.createApp();
  await h.users(app, [{ id: 'alice' }]);
  const ch = await h.call({
    method: 'POST',
    url: '/v1/channels',
    headers: await app.user('alice'),
    payload: { type: 'group', id: 's3links', members: [] },
  });
  expect(ch.status).toBe(200);
}, 60_000);

afterAll(async () => {
  await h?.close();
  await s3?.close();
  pages?.closeAllConnections();
  await new Promise((r) => (pages ? pages.close(r) : r(null)));
});

describe('link preview images on S3', () => {
  it('are stored in the bucket and served through a pre-signed redirect', async () => {
    const sent = await h.call({
      method: 'POST',
      url: '/v1/channels/group:s3links/messages',
      headers: await app.user('alice'),
      payload: { text: `${site}/page` },
    });
    expect(sent.status).toBe(200);
    const id = sent.body.message.id;
    const m = await until(
      'the card',
      async () =>
        (await h.call({ method: 'GET', url: `/v1/messages/${id}`, headers: await app.user('alice') })).body.message,
      (msg) => msg.previews?.length === 1,
      30_000,
    );
    expect(m.previews[0]).toMatchObject({ title: 'In the bucket', image: { width: 500, height: 500 } });
    const first = await fetch(`${base}${m.previews[0].image.thumbs['360']}`, { redirect: 'manual' });
    expect(first.status).toBe(302);
    const location = first.headers.get('location') as string;
    expect(location.startsWith(s3?.options.endpoint as string)).toBe(true);
    const img = await fetch(location);
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toBe('image/webp');
    const meta = await sharp(Buffer.from(await img.arrayBuffer())).metadata();
    expect(meta).toMatchObject({ format: 'webp', width: 360, height: 360 });
  });
});
