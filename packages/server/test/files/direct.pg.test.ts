/**
 * Direct uploads to S3 (s3rver, a real S3 API on loopback): ask, POST the form to the bucket as
 * a browser would, complete; the file is checked as any upload is (type from the bytes, the
 * app's rules, EXIF stripped, quota) and only then attachable. A client that lies about the
 * size or the type, uploads nothing, or completes another's upload gets a typed error, and no
 * incoming object is left behind. Without S3 the server says so.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, type TestApp } from '../harness.js';
import { download, opaqueBytes, pngWithGps, startS3 } from './helpers.js';

const MB = 1024 * 1024;
let h: Harness;
let app: TestApp;
let base: string;
let s3: Awaited<ReturnType<typeof startS3>>;

beforeAll(async () => {
  s3 = await startS3();
  h = await startHarness({ jobPollMs: 100, uploadMaxBytes: 1 * MB, userQuotaBytes: 3 * MB, s3: s3.options });
  base = await h.listen();
  app = await h.createApp();
  await h.users(app, [{ id: 'alice' }, { id: 'bob' }, { id: 'eve' }]);
  await h.call({
    method: 'POST',
    url: '/v1/channels',
    headers: await app.user('alice'),
    payload: { type: 'group', id: 'direct', members: ['bob'] },
  });
});
afterAll(async () => {
  await h?.close();
  await s3?.close();
});

const ask = async (user: string, body: Record<string, unknown>, cid = 'group:direct') =>
  h.call({ method: 'POST', url: `/v1/channels/${cid}/uploads/direct`, headers: await app.user(user), payload: body });
const complete = async (user: string, id: string, token: string) =>
  h.call({ method: 'POST', url: `/v1/uploads/${id}/complete`, headers: await app.user(user), payload: { token } });

/** The browser's part: a multipart form POST of the fields, then the file, to the bucket. */
async function postToBucket(upload: { url: string; fields: Record<string, string> }, bytes: Buffer, type: string) {
  const form = new FormData();
  for (const [k, v] of Object.entries(upload.fields)) form.append(k, v);
  form.append('file', new Blob([new Uint8Array(bytes)], { type }), 'upload');
  const r = await fetch(upload.url, { method: 'POST', body: form });
  await r.arrayBuffer();
  return r.status;
}

/** Incoming objects still in the bucket. */
async function incoming(): Promise<number> {
  const { ListObjectsV2Command, S3Client } = await import('@aws-sdk/client-s3');
  const c = new S3Client({
    region: s3.options.region,
    endpoint: s3.options.endpoint as string,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  const r = await c.send(new ListObjectsV2Command({ Bucket: s3.options.bucket }));
  return (r.Contents ?? []).filter((o) => o.Key?.endsWith('.incoming')).length;
}

describe('direct uploads to S3', () => {
  it('the rules say direct uploads are offered', async () => {
    const r = await h.call({ method: 'GET', url: '/v1/files/rules', headers: await app.user('alice') });
    expect(r.body.direct_uploads).toBe(true);
  });

  it('ask → POST to the bucket → complete: a photo without its GPS, attachable, downloadable', async () => {
    const png = await pngWithGps(800, 500);
    const asked = await ask('alice', { name: 'beach.png', size: png.length, type: 'image/png' });
    expect(asked.status).toBe(200);
    const up = asked.body.upload;
    expect(up.fields).toMatchObject({ 'Content-Type': 'image/png', Policy: expect.any(String) });
    expect(up.url).toContain('127.0.0.1');
    expect([200, 201, 204]).toContain(await postToBucket(up, png, 'image/png'));
    expect(await incoming()).toBe(1);
    // Not a file yet: it cannot be attached before it is checked.
    const early = await h.call({
      method: 'POST',
      url: '/v1/channels/group:direct/messages',
      headers: await app.user('alice'),
      payload: { text: 'too soon', attachments: [up.id] },
    });
    expect(early.status).toBeGreaterThanOrEqual(400);

    const done = await complete('alice', up.id, up.token);
    expect(done.status).toBe(200);
    expect(done.body.attachment).toMatchObject({ id: up.id, kind: 'image', mime_type: 'image/png', name: 'beach.png' });
    // A retry of the completion answers the same file.
    expect((await complete('alice', up.id, up.token)).body.attachment.id).toBe(up.id);
    expect(await incoming()).toBe(0);

    const sent = await h.call({
      method: 'POST',
      url: '/v1/channels/group:direct/messages',
      headers: await app.user('alice'),
      payload: { text: 'look', attachments: [up.id] },
    });
    expect(sent.status).toBe(200);
    const got = await download(base, `/v1/files/${up.id}`, await app.user('bob'));
    expect(got.status).toBe(200);
    const meta = await sharp(got.body).metadata();
    expect(meta.width).toBe(800);
    expect(meta.exif).toBeUndefined();
  });

  it('refuses what the bytes say, whatever the client announced, and keeps nothing', async () => {
    // Announced as a PNG, is an opaque blob: the rules allow only images here.
    await h.call({
      method: 'PUT',
      url: '/v1/files/rules',
      headers: await app.server(),
      payload: { allowed_types: ['image/*'], max_bytes: {} },
    });
    try {
      const bytes = opaqueBytes(5_000);
      const up = (await ask('alice', { name: 'x.png', size: bytes.length, type: 'image/png' })).body.upload;
      await postToBucket(up, bytes, 'image/png');
      const r = await complete('alice', up.id, up.token);
      expect(r.status).toBe(415);
      expect(r.body.error.code).toBe('INVALID_FILE_TYPE');
      expect(await incoming()).toBe(0);
      // A type the rules refuse is refused when asked.
      const no = await ask('alice', { name: 'a.zip', size: 10, type: 'application/zip' });
      expect(no.status).toBe(415);
    } finally {
      await h.call({
        method: 'PUT',
        url: '/v1/files/rules',
        headers: await app.server(),
        payload: { allowed_types: null, max_bytes: {} },
      });
    }
  });

  it('a size other than announced, nothing uploaded, another user, a forged token: typed errors', async () => {
    const bytes = opaqueBytes(4_000);
    const up = (await ask('alice', { name: 'a.bin', size: 1_000, type: 'application/octet-stream' })).body.upload;
    // The policy's exact size is S3's to enforce; s3rver does not, so the server checks again.
    await postToBucket(up, bytes, 'application/octet-stream');
    const wrong = await complete('alice', up.id, up.token);
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.message).toMatch(/4000 bytes, not the 1000 announced/);

    const empty = (await ask('alice', { name: 'b.bin', size: 10, type: 'application/octet-stream' })).body.upload;
    expect((await complete('alice', empty.id, empty.token)).body.error.code).toBe('NOT_FOUND');
    const other = await complete('bob', empty.id, empty.token);
    expect(other.status).toBe(400);
    expect(other.body.error.message).toMatch(/not valid/);
    const forged = await complete('alice', empty.id, `${empty.token.slice(0, -4)}AAAA`);
    expect(forged.status).toBe(400);
    const swapped = await complete('alice', up.id, empty.token);
    expect(swapped.body.error.message).toMatch(/another upload/);
    expect(await incoming()).toBe(0);
  });

  it('asking is checked: a non-member, too large, past the quota, bad bodies', async () => {
    expect((await ask('eve', { name: 'a', size: 10, type: 'text/plain' })).status).toBe(404);
    const big = await ask('alice', { name: 'a', size: 2 * MB, type: 'application/octet-stream' });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    for (const body of [
      { name: '', size: 1, type: 'text/plain' },
      { name: 'a', size: 0, type: 'text/plain' },
      { name: 'a', size: 1, type: 'nonsense' },
      { name: 'a', size: 1 },
    ])
      expect((await ask('alice', body)).body.error.code).toBe('VALIDATION_ERROR');
  });
});

describe('direct uploads without S3', () => {
  it('say so, and the rules say they are not offered', async () => {
    const local = await startHarness();
    try {
      const a = await local.createApp();
      await local.users(a, [{ id: 'alice' }]);
      await local.call({
        method: 'POST',
        url: '/v1/channels',
        headers: await a.user('alice'),
        payload: { type: 'group', id: 'x' },
      });
      const r = await local.call({
        method: 'POST',
        url: '/v1/channels/group:x/uploads/direct',
        headers: await a.user('alice'),
        payload: { name: 'a', size: 1, type: 'text/plain' },
      });
      expect(r.status).toBe(409);
      expect(r.body.error.message).toMatch(/need S3 storage/);
      const rules = await local.call({ method: 'GET', url: '/v1/files/rules', headers: await a.user('alice') });
      expect(rules.body.direct_uploads).toBe(false);
    } finally {
      await local.close();
    }
  });
});
