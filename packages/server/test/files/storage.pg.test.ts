/**
 * `GET /v1/me/storage`: the caller's storage use and the app's, against the quotas — exactly
 * what the quota check counts (uploads not deleted, profile pictures), never another app's,
 * dropping when a file goes; the limits are the ones a `QUOTA_EXCEEDED` error names.
 */
import { sql } from 'drizzle-orm';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/platform/db/index.js';
import { type Harness, startHarness, type TestApp } from '../harness.js';
import { opaqueBytes, upload } from './helpers.js';

const KB = 1024;
const MB = 1024 * KB;
let h: Harness;
let one: TestApp;
let two: TestApp;
let base: string;

const storage = async (on: TestApp, who: string) => {
  const r = await h.call({ method: 'GET', url: '/v1/me/storage', headers: await on.user(who) });
  expect(r.status).toBe(200);
  return r.body.storage;
};
const zero = { count: 0, bytes: 0 };

beforeAll(async () => {
  h = await startHarness({ uploadMaxBytes: 1 * MB, userQuotaBytes: 1 * MB, appQuotaBytes: 0 });
  base = await h.listen();
  one = await h.createApp('storage-one');
  two = await h.createApp('storage-two');
  // The same user ids in both apps: a tenant's files are its own whatever the ids.
  for (const a of [one, two]) {
    await h.users(a, [{ id: 'ada' }, { id: 'bob' }]);
    const ch = await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers: await a.user('ada'),
      payload: { type: 'group', id: 'files', members: ['bob'] },
    });
    expect(ch.status).toBe(200);
  }
});
afterAll(async () => {
  await h?.close();
});

describe('GET /v1/me/storage', () => {
  it('counts nothing before any upload, with the configured limits (null: none)', async () => {
    expect(await storage(one, 'ada')).toEqual({
      user: {
        used_bytes: 0,
        limit_bytes: MB,
        files: 0,
        by_kind: { image: zero, video: zero, audio: zero, file: zero, picture: zero },
      },
      app: { used_bytes: 0, limit_bytes: null },
    });
  });

  it('counts exactly each user’s uploads and pictures, and the app’s total, never another app’s', async () => {
    const cid = 'group:files';
    const a1 = await upload(base, one, 'ada', cid, opaqueBytes(100_000), 'a.bin');
    const a2 = await upload(base, one, 'ada', cid, opaqueBytes(50_000), 'b.bin');
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3366aa' } })
      .png()
      .toBuffer();
    const a3 = await upload(base, one, 'ada', cid, png, 'p.png', 'image/png');
    const b1 = await upload(base, one, 'bob', cid, opaqueBytes(70_000), 'c.bin');
    // The other app: same ids, more bytes, never counted in the first.
    const o1 = await upload(base, two, 'ada', cid, opaqueBytes(300_000), 'd.bin');
    for (const r of [a1, a2, a3, b1, o1]) expect(r.status).toBe(200);
    expect(a3.json.attachment.kind).toBe('image');
    const imageBytes = a3.json.attachment.size as number;

    // A profile picture counts too (all its renditions), as the quota check counts it.
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'me.png');
    const pic = await fetch(`${base}/v1/me/avatar`, { method: 'PUT', headers: await one.user('bob'), body: form });
    expect(pic.status).toBe(200);
    const [picture] = await rows<{ bytes: number }>(
      h.database.db,
      sql`select bytes::int from images where app_id = ${one.id} and user_id = 'bob'`,
    );
    const pictureBytes = picture?.bytes as number;
    expect(pictureBytes).toBeGreaterThan(0);

    const ada = await storage(one, 'ada');
    expect(ada).toEqual({
      user: {
        used_bytes: 150_000 + imageBytes,
        limit_bytes: MB,
        files: 3,
        by_kind: {
          image: { count: 1, bytes: imageBytes },
          video: zero,
          audio: zero,
          file: { count: 2, bytes: 150_000 },
          picture: zero,
        },
      },
      app: { used_bytes: 150_000 + imageBytes + 70_000 + pictureBytes, limit_bytes: null },
    });
    const bob = await storage(one, 'bob');
    expect(bob.user).toMatchObject({
      used_bytes: 70_000 + pictureBytes,
      files: 1,
      by_kind: { file: { count: 1, bytes: 70_000 }, picture: { count: 1, bytes: pictureBytes } },
    });
    expect(bob.app).toEqual(ada.app);
    expect(await storage(two, 'ada')).toMatchObject({
      user: { used_bytes: 300_000, files: 1 },
      app: { used_bytes: 300_000 },
    });

    // The quota check refuses by the same numbers: what is left is limit − used.
    const room = MB - ada.user.used_bytes;
    const over = await upload(base, one, 'ada', cid, opaqueBytes(room + 1), 'over.bin');
    expect(over.status).toBe(413);
    expect(over.json.error).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      details: { quota: 'user', limit_bytes: ada.user.limit_bytes },
    });
    expect((await storage(one, 'ada')).user.used_bytes).toBe(ada.user.used_bytes);
    const fits = await upload(base, one, 'ada', cid, opaqueBytes(room), 'fits.bin');
    expect(fits.status).toBe(200);
    expect((await storage(one, 'ada')).user.used_bytes).toBe(MB);

    // A file deleted (an upload cancelled, a message deleted) no longer counts.
    const cancel = await h.call({
      method: 'DELETE',
      url: `/v1/uploads/${fits.json.attachment.id}`,
      headers: await one.user('ada'),
    });
    expect(cancel.status).toBe(200);
    expect((await storage(one, 'ada')).user).toMatchObject({ used_bytes: ada.user.used_bytes, files: 3 });
    const sent = await h.call({
      method: 'POST',
      url: `/v1/channels/${cid}/messages`,
      headers: await one.user('ada'),
      payload: { text: 'files', attachments: [a1.json.attachment.id] },
    });
    expect(sent.status).toBe(200);
    expect((await storage(one, 'ada')).user.used_bytes).toBe(ada.user.used_bytes);
    const gone = await h.call({
      method: 'DELETE',
      url: `/v1/messages/${sent.body.message.id}`,
      headers: await one.user('ada'),
    });
    expect(gone.status).toBe(200);
    const after = await storage(one, 'ada');
    expect(after.user).toMatchObject({
      used_bytes: 50_000 + imageBytes,
      files: 2,
      by_kind: { file: { count: 1, bytes: 50_000 } },
    });
    expect(after.app.used_bytes).toBe(ada.app.used_bytes - 100_000);
    expect((await storage(two, 'ada')).user.used_bytes).toBe(300_000);
  });

  it('is a user’s: a server token is refused as the privacy settings refuse it', async () => {
    const headers = await one.server();
    const r = await h.call({ method: 'GET', url: '/v1/me/storage', headers });
    const privacy = await h.call({ method: 'GET', url: '/v1/me/privacy', headers });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('FORBIDDEN');
    expect(privacy.status).toBe(403);
    expect(r.body.error).toEqual(privacy.body.error);
  });
});

describe('GET /v1/me/files', () => {
  it('lists your stored files largest first, by pages, with the message that carries each; never another app’s', async () => {
    const cid = 'group:files';
    // Bob's own, in the second app: a fresh set of sizes (his first-app files are elsewhere).
    const sizes = [20_000, 90_000, 5_000, 60_000, 60_000];
    const ids: string[] = [];
    for (const [i, n] of sizes.entries()) {
      const r = await upload(base, two, 'bob', cid, opaqueBytes(n), `f${i}.bin`);
      expect(r.status).toBe(200);
      ids.push(r.json.attachment.id);
    }
    const sent = await h.call({
      method: 'POST',
      url: `/v1/channels/${cid}/messages`,
      headers: await two.user('bob'),
      payload: { text: 'big one', attachments: [ids[1]] },
    });
    expect(sent.status).toBe(200);
    const page = async (query: string) => {
      const r = await h.call({ method: 'GET', url: `/v1/me/files${query}`, headers: await two.user('bob') });
      expect(r.status).toBe(200);
      return r.body as { files: { id: string; size: number; message_id: string | null }[]; next: string | null };
    };
    const first = await page('?limit=2');
    expect(first.files.map((f) => f.size)).toEqual([90_000, 60_000]);
    expect(first.files[0]).toMatchObject({ id: ids[1], message_id: sent.body.message.id, name: 'f1.bin' });
    expect(first.files[1]?.message_id).toBeNull();
    const second = await page(`?limit=2&cursor=${encodeURIComponent(first.next as string)}`);
    expect(second.files.map((f) => f.size)).toEqual([60_000, 20_000]);
    const third = await page(`?limit=2&cursor=${encodeURIComponent(second.next as string)}`);
    expect(third).toEqual({ files: [expect.objectContaining({ size: 5_000 })], next: null });
    // Every file once, and what is listed adds up to the storage use (no pictures here).
    const all = [...first.files, ...second.files, ...third.files];
    expect(new Set(all.map((f) => f.id))).toEqual(new Set(ids));
    expect(all.reduce((n, f) => n + f.size, 0)).toBe((await storage(two, 'bob')).user.used_bytes);

    // Deleted files are not listed; another app's never are.
    expect(
      (await h.call({ method: 'DELETE', url: `/v1/uploads/${ids[0]}`, headers: await two.user('bob') })).status,
    ).toBe(200);
    expect((await page('')).files.map((f) => f.id)).not.toContain(ids[0]);
    const theirs = await h.call({ method: 'GET', url: '/v1/me/files', headers: await one.user('bob') });
    expect(theirs.body.files.map((f: { id: string }) => f.id).filter((id: string) => ids.includes(id))).toEqual([]);

    const bad = await h.call({ method: 'GET', url: '/v1/me/files?cursor=nope', headers: await two.user('bob') });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_ERROR');
    const server = await h.call({ method: 'GET', url: '/v1/me/files', headers: await two.server() });
    expect(server.status).toBe(403);
    expect(server.body.error.code).toBe('FORBIDDEN');
  });
});
