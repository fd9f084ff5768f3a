/**
 * Profile pictures: `PUT /v1/me/avatar` stores a square picture at every size the UI uses, with
 * none of the upload's metadata, behind one public URL that serves the right size; `user.updated`
 * carries it to everyone who shares a channel; removal goes back to initials; non-images,
 * oversized pictures and a full quota are refused with typed errors and leave nothing behind.
 * Over real HTTP (multipart) and real sockets.
 */
import { IMAGE_SIZES } from '@parley/protocol';
import { sql } from 'drizzle-orm';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/platform/db/index.js';
import { expectError, ok } from '../accounts/helpers.js';
import { get, type Http, opaqueBytes, pngWithGps, startS3 } from '../files/helpers.js';
import { eventually, type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';

const MB = 1024 * 1024;
let h: Harness;
let app: TestApp;
let other: TestApp;
let base: string;

async function putAvatar(who: string, bytes: Buffer, name = 'me.png', type = 'image/png', on = app): Promise<Http> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)], { type }), name);
  const r = await fetch(`${base}/v1/me/avatar`, { method: 'PUT', headers: await on.user(who), body: form });
  const body = Buffer.from(await r.arrayBuffer());
  let json: any;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {}
  return { status: r.status, headers: r.headers, body, json };
}
const as = async (who: string, method: 'GET' | 'PATCH' | 'DELETE' | 'POST', url: string, payload?: object) =>
  h.call({ method, url, headers: await app.user(who), ...(payload ? { payload } : {}) });
const imagesOf = async (appId: string) =>
  rows<{ id: string; bytes: number }>(h.database.db, sql`select id, bytes::int from images where app_id = ${appId}`);

beforeAll(async () => {
  h = await startHarness({ userQuotaBytes: 1 * MB, appQuotaBytes: 0 });
  base = await h.listen();
  app = await h.createApp('avatars');
  other = await h.createApp('avatars-other');
  await h.users(app, [
    { id: 'ada', name: 'Ada' },
    { id: 'bob', name: 'Bob' },
    { id: 'eve', name: 'Eve' },
    { id: 'max', name: 'Max' },
  ]);
  await h.users(other, [{ id: 'ada', name: 'Other Ada' }]);
  ok(await as('ada', 'POST', '/v1/channels', { type: 'group', id: 'pictures', members: ['ada', 'bob'] }));
});
afterAll(async () => {
  await h?.close();
});

describe('PUT /v1/me/avatar', () => {
  it('stores square WebP renditions without EXIF, serves the right size, and tells who shares a channel', async () => {
    const bob = await TestSocket.connect(base, app, 'bob');
    const eve = await TestSocket.connect(base, app, 'eve');
    try {
      const photo = await pngWithGps(1200, 800);
      expect((await sharp(photo).metadata()).exif).toBeDefined();
      const r = await putAvatar('ada', photo, 'IMG_0001.png');
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      const { user, image } = r.json;
      expect(image.sizes).toEqual([...IMAGE_SIZES]);
      expect(image.blurhash).toEqual(expect.any(String));
      expect(image.url).toMatch(new RegExp(`^${base}/v1/images/${app.id}/[0-9a-f-]{36}$`));
      expect(user).toMatchObject({ id: 'ada', image: image.url });

      for (const [asked, served] of [
        [24, 48],
        [48, 48],
        [64, 96],
        [192, 192],
        [400, 512],
        [2000, 512],
      ] as const) {
        const got = await get(base, `${image.url}?size=${asked}`);
        expect(got.status).toBe(200);
        expect(got.headers.get('content-type')).toBe('image/webp');
        expect(got.headers.get('cache-control')).toContain('immutable');
        const meta = await sharp(got.body).metadata();
        expect([meta.format, meta.width, meta.height]).toEqual(['webp', served, served]);
        expect(meta.exif).toBeUndefined();
        expect(meta.xmp).toBeUndefined();
      }
      // No size: the profile card's 192.
      expect((await sharp((await get(base, image.url)).body).metadata()).width).toBe(192);

      // Public, like Slack's: an <img src> needs no credentials; the URL names the app.
      const seen = await bob.waitFor(
        (f) => f.type === 'user.updated' && f.user.id === 'ada' && f.user.image === image.url,
      );
      expect(seen.user.image).toBe(image.url);
      expect((await as('bob', 'GET', '/v1/users/ada')).body.user.image).toBe(image.url);
      // Eve shares no channel with Ada: a later event to Eve proves none came about Ada.
      ok(await as('eve', 'PATCH', '/v1/me', { title: 'Marker' }));
      await eve.waitFor((f) => f.type === 'user.updated' && f.user.id === 'eve');
      expect(eve.events('user.updated').filter((e) => e.user.id === 'ada')).toEqual([]);
    } finally {
      bob.close();
      eve.close();
    }
  });

  it('crops a rectangle to its centre square', async () => {
    // Left half red, right half blue, 300×100: the centre square is the middle third.
    const wide = await sharp({ create: { width: 300, height: 100, channels: 3, background: '#ff0000' } })
      .composite([
        {
          input: await sharp({ create: { width: 100, height: 100, channels: 3, background: '#00ff00' } })
            .png()
            .toBuffer(),
          left: 100,
          top: 0,
        },
      ])
      .png()
      .toBuffer();
    const r = await putAvatar('max', wide);
    expect(r.status).toBe(200);
    // Smaller than the larger sizes: only those up to its side are made (and the smallest always).
    expect(r.json.image.sizes).toEqual([48, 96]);
    const px = await sharp((await get(base, `${r.json.image.url}?size=96`)).body)
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([px.info.width, px.info.height]).toEqual([96, 96]);
    const at = (x: number, y: number) => [
      ...px.data.subarray((y * 96 + x) * px.info.channels, (y * 96 + x) * px.info.channels + 3),
    ];
    for (const [x, y] of [
      [2, 2],
      [93, 93],
      [48, 48],
    ] as const) {
      const [r0, g0, b0] = at(x, y) as [number, number, number];
      expect(g0).toBeGreaterThan(200);
      expect(r0).toBeLessThan(60);
      expect(b0).toBeLessThan(60);
    }
  });

  it('replaces the picture: a new URL, the old one gone and its bytes no longer counted', async () => {
    const first = (await putAvatar('bob', await pngWithGps(400, 400))).json.image.url as string;
    const second = await putAvatar('bob', await pngWithGps(500, 500));
    expect(second.status).toBe(200);
    expect(second.json.image.url).not.toBe(first);
    expect((await get(base, first)).status).toBe(404);
    expect((await get(base, second.json.image.url)).status).toBe(200);
    const held = await rows<{ n: number }>(
      h.database.db,
      sql`select count(*)::int as n from images where app_id = ${app.id} and owner_id = 'bob'`,
    );
    expect(held[0]?.n).toBe(1);
  });

  it('two uploads at once: both succeed, one picture stays, and it is the one the user now shows', async () => {
    // On PostgreSQL the two transactions overlap (the per-owner lock in images/actions.ts keeps the
    // second from breaking the unique index); on PGlite they run one after the other.
    await h.users(app, [{ id: 'twin', name: 'Twin' }]);
    const [x, y] = await Promise.all([
      putAvatar('twin', await pngWithGps(300, 300)),
      putAvatar('twin', await pngWithGps(320, 320)),
    ]);
    expect([x.status, y.status]).toEqual([200, 200]);
    const held = await rows<{ id: string }>(
      h.database.db,
      sql`select id from images where app_id = ${app.id} and owner_id = 'twin'`,
    );
    expect(held).toHaveLength(1);
    const shown = (await as('twin', 'GET', '/v1/users/twin')).body.user.image as string;
    expect(shown.endsWith(held[0]?.id as string)).toBe(true);
    const other = [x.json.image.url, y.json.image.url].find((u) => u !== shown) as string;
    expect((await get(base, other)).status).toBe(404);
    expect((await get(base, shown)).status).toBe(200);
  });

  it('refuses what is not a picture, with a typed error and nothing stored', async () => {
    const before = (await imagesOf(app.id)).length;
    // Bytes that are no image, even with an image's name and type.
    const notImage = await putAvatar('eve', opaqueBytes(5000), 'photo.png', 'image/png');
    expect(notImage.status).toBe(415);
    expect(notImage.json.error.code).toBe('INVALID_FILE_TYPE');
    // SVG is never a picture (it can carry script).
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    expect((await putAvatar('eve', svg, 'a.svg', 'image/svg+xml')).json.error.code).toBe('INVALID_FILE_TYPE');
    // A PNG's magic number, then nothing that decodes.
    const broken = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), opaqueBytes(3000)]);
    expect((await putAvatar('eve', broken)).json.error.code).toBe('INVALID_FILE_TYPE');
    // Not multipart, or a part with another name.
    const json = await h.call({
      method: 'PUT',
      url: '/v1/me/avatar',
      headers: await app.user('eve'),
      payload: { image: 'x' },
    });
    expect(json.status).toBe(415);
    const form = new FormData();
    form.append('photo', new Blob([new Uint8Array(await pngWithGps(100, 100))], { type: 'image/png' }), 'a.png');
    const wrong = await fetch(`${base}/v1/me/avatar`, { method: 'PUT', headers: await app.user('eve'), body: form });
    expect(wrong.status).toBe(400);
    expect((await wrong.json()).error.code).toBe('VALIDATION_ERROR');
    expect((await imagesOf(app.id)).length).toBe(before);
    expect((await as('eve', 'GET', '/v1/users/eve')).body.user.image).toBeNull();
  });

  it('refuses a picture over 10 MB (413 PAYLOAD_TOO_LARGE) and past the quota (413 QUOTA_EXCEEDED)', async () => {
    const huge = Buffer.concat([await pngWithGps(64, 64), opaqueBytes(10 * MB + 10)]);
    const big = await putAvatar('eve', huge);
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe('PAYLOAD_TOO_LARGE');

    // Eve fills her 1 MB quota with a file; then no picture fits.
    ok(await as('eve', 'POST', '/v1/channels', { type: 'group', id: 'eve-files', members: ['eve'] }));
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(opaqueBytes(MB - 100))]), 'fill.bin');
    const filled = await fetch(`${base}/v1/channels/group:eve-files/uploads`, {
      method: 'POST',
      headers: await app.user('eve'),
      body: form,
    });
    expect(filled.status).toBe(200);
    const full = await putAvatar('eve', await pngWithGps(600, 600));
    expect(full.status).toBe(413);
    expect(full.json.error).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { quota: 'user' } });
    expect((await as('eve', 'GET', '/v1/users/eve')).body.user.image).toBeNull();
  });

  it("counts pictures toward the quota: a user's pictures and files together", async () => {
    const [held] = await rows<{ user: number }>(
      h.database.db,
      sql`select coalesce(sum(bytes), 0)::int as user from images where app_id = ${app.id} and user_id = 'ada'`,
    );
    expect(held?.user).toBeGreaterThan(0);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(opaqueBytes(MB - (held?.user ?? 0) + 10))]), 'big.bin');
    const r = await fetch(`${base}/v1/channels/group:pictures/uploads`, {
      method: 'POST',
      headers: await app.user('ada'),
      body: form,
    });
    expect(r.status).toBe(413);
    expect((await r.json()).error.code).toBe('QUOTA_EXCEEDED');
  });
});

describe('DELETE /v1/me/avatar', () => {
  it('goes back to initials (image null), tells who shares a channel, and the picture is gone', async () => {
    const url = (await as('ada', 'GET', '/v1/users/ada')).body.user.image as string;
    expect(url).toContain('/v1/images/');
    const bob = await TestSocket.connect(base, app, 'bob');
    try {
      const r = await as('ada', 'DELETE', '/v1/me/avatar');
      expect(ok(r).user.image).toBeNull();
      await bob.waitFor((f) => f.type === 'user.updated' && f.user.id === 'ada' && f.user.image === null);
      expect((await get(base, url)).status).toBe(404);
      // Removing again is harmless.
      expect(ok(await as('ada', 'DELETE', '/v1/me/avatar')).user.image).toBeNull();
    } finally {
      bob.close();
    }
  });

  it('drops the stored picture when PATCH /v1/me sets another image, and keeps it when it names the same', async () => {
    const up = await putAvatar('max', await pngWithGps(200, 200));
    const url = up.json.image.url as string;
    ok(await as('max', 'PATCH', '/v1/me', { image: url, title: 'Same picture' }));
    expect((await get(base, url)).status).toBe(200);
    ok(await as('max', 'PATCH', '/v1/me', { image: 'https://example.com/max.png' }));
    expect((await get(base, url)).status).toBe(404);
  });

  it('carries the picture’s blurhash on the user (a placeholder while it loads), gone with the picture', async () => {
    const bob = await TestSocket.connect(base, app, 'bob');
    const up = await putAvatar('ada', await pngWithGps(200, 200));
    expect(up.status).toBe(200);
    const { url, blurhash } = up.json.image as { url: string; blurhash: string };
    expect(blurhash).toMatch(/^[0-9A-Za-z#$%*+,-.:;=?@[\]^_{|}~]{6,}$/);
    expect(up.json.user).toMatchObject({ image: url, image_blurhash: blurhash });
    // Who shares a channel hears it with the picture; a read of the user has it too.
    const heard = await bob.waitFor((f) => f.type === 'user.updated' && f.user.id === 'ada' && f.user.image === url);
    expect(heard.user.image_blurhash).toBe(blurhash);
    expect(ok(await as('bob', 'GET', '/v1/users?q=Ada')).users.find((u: any) => u.id === 'ada')?.image_blurhash).toBe(
      blurhash,
    );
    // The same URL sent again keeps it; another picture by URL, or removal, clears it.
    expect(ok(await as('ada', 'PATCH', '/v1/me', { image: url })).user.image_blurhash).toBe(blurhash);
    expect(
      ok(await as('ada', 'PATCH', '/v1/me', { image: 'https://example.com/a.png' })).user.image_blurhash,
    ).toBeNull();
    await putAvatar('ada', await pngWithGps(200, 200));
    expect(ok(await as('ada', 'DELETE', '/v1/me/avatar')).user).toMatchObject({ image: null, image_blurhash: null });
    bob.close();
  });
});

describe('deleting a user', () => {
  it('takes their picture with them', async () => {
    await h.users(app, [{ id: 'gone', name: 'Gone' }]);
    const url = (await putAvatar('gone', await pngWithGps(120, 120))).json.image.url as string;
    expect((await get(base, url)).status).toBe(200);
    // Deletion is a job (202): wait for it to have run.
    expect((await h.call({ method: 'DELETE', url: '/v1/users/gone', headers: await app.server() })).status).toBe(202);
    await eventually(async () => (await get(base, url)).status === 404);
    const [left] = await rows<{ n: number }>(
      h.database.db,
      sql`select count(*)::int as n from images where app_id = ${app.id} and owner_id = 'gone'`,
    );
    expect(left?.n).toBe(0);
  });
});

describe('tenancy and bad paths', () => {
  it("keeps each app's pictures to its own URLs, and answers bad ids and sizes with typed errors", async () => {
    const r = await putAvatar('ada', await pngWithGps(100, 100), 'a.png', 'image/png', other);
    expect(r.status).toBe(200);
    const id = r.json.image.url.split('/').pop();
    // The same id under another app's id is not found.
    expectError(await h.call({ method: 'GET', url: `/v1/images/${app.id}/${id}` }), 'NOT_FOUND');
    expect((await get(base, `/v1/images/${other.id}/${id}`)).status).toBe(200);
    expectError(await h.call({ method: 'GET', url: `/v1/images/${app.id}/not-a-uuid` }), 'VALIDATION_ERROR');
    expectError(await h.call({ method: 'GET', url: `/v1/images/${other.id}/${id}?size=0` }), 'VALIDATION_ERROR');
    expectError(await h.call({ method: 'GET', url: `/v1/images/${other.id}/${id}?size=abc` }), 'VALIDATION_ERROR');
    // Ada of the first app was not touched.
    expect((await as('ada', 'GET', '/v1/users/ada')).body.user.image).toBeNull();
    // Uploading needs a user token.
    const anon = await fetch(`${base}/v1/me/avatar`, { method: 'PUT', headers: { 'x-api-key': app.apiKey } });
    expect(anon.status).toBe(401);
  });
});

describe('on an S3 store', () => {
  it('stores, serves and removes the renditions through the object store', async () => {
    const s3 = await startS3();
    const hs = await startHarness({ s3: s3.options });
    try {
      const url = await hs.listen();
      const a = await hs.createApp('avatars-s3');
      await hs.users(a, [{ id: 'ada', name: 'Ada' }]);
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(await pngWithGps(640, 480))], { type: 'image/png' }), 'a.png');
      const r = await fetch(`${url}/v1/me/avatar`, { method: 'PUT', headers: await a.user('ada'), body: form });
      expect(r.status).toBe(200);
      const { image } = (await r.json()) as { image: { url: string; sizes: number[] } };
      // Its shorter side is 480: no 512 rendition (pictures are not enlarged past the smallest).
      expect(image.sizes).toEqual([48, 96, 192]);
      expect((await sharp((await get(url, `${image.url}?size=512`)).body).metadata()).width).toBe(192);
      const got = await get(url, `${image.url}?size=96`);
      expect(got.status).toBe(200);
      const meta = await sharp(got.body).metadata();
      expect([meta.format, meta.width, meta.exif]).toEqual(['webp', 96, undefined]);
      ok(await hs.call({ method: 'DELETE', url: '/v1/me/avatar', headers: await a.user('ada') }));
      expect((await get(url, image.url)).status).toBe(404);
    } finally {
      await hs.close();
      await s3.close();
    }
  });
});
