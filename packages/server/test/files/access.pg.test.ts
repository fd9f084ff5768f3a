/**
 * Who may download from a channel, and the per-app quota.
 *
 * - A public channel's messages (and their attachment objects) are readable by anyone in the
 *   app, but its files only by its members: a reader who has not joined gets 403 for the bytes
 *   and no signed link; joining opens them, leaving closes them again. A private channel's
 *   outsiders get 404. Server tokens may read every file.
 * - The app's quota counts every user's stored bytes: past it, 413 QUOTA_EXCEEDED with
 *   `details.quota = "app"`, nothing stored; another app is not affected.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/platform/db/index.js';
import { type Harness, startHarness, type TestApp } from '../harness.js';
import { download, get, opaqueBytes, upload } from './helpers.js';

const KB = 1024;
let h: Harness;
let app: TestApp;
let base: string;

const call = async (user: string, method: 'POST' | 'GET', url: string, payload?: Record<string, unknown>) =>
  h.call({ method, url, headers: await app.user(user), ...(payload ? { payload } : {}) });

beforeAll(async () => {
  h = await startHarness({ jobPollMs: 100, uploadMaxBytes: 2048 * KB, userQuotaBytes: 0, appQuotaBytes: 1500 * KB });
  base = await h.listen();
  app = await h.createApp();
  await h.users(app, [{ id: 'alice' }, { id: 'bob' }, { id: 'eve' }]);
  for (const [type, id] of [
    ['public', 'open'],
    ['group', 'closed'],
  ])
    expect((await call('alice', 'POST', '/v1/channels', { type, id, members: ['bob'] })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('downloads are for channel members', () => {
  it('a reader of a public channel who has not joined gets 403, until they join', async () => {
    const bytes = opaqueBytes(2000);
    const up = await upload(base, app, 'alice', 'public:open', bytes, 'notes.bin');
    expect(up.status).toBe(200);
    const a = up.json.attachment;
    const sent = await call('alice', 'POST', '/v1/channels/public:open/messages', {
      text: 'file',
      attachments: [a.id],
    });
    expect(sent.status).toBe(200);

    // Eve can read the channel's messages, attachment objects included…
    const hist = await call('eve', 'GET', '/v1/channels/public:open/messages');
    expect(hist.status).toBe(200);
    expect(hist.body.messages.at(-1).attachments[0].id).toBe(a.id);
    // …but not the bytes, nor a signed link, nor a thumbnail.
    const refused = await get(base, a.url, await app.user('eve'));
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('FORBIDDEN');
    expect((await get(base, `${a.url}?v=360`, await app.user('eve'))).status).toBe(403);
    expect((await call('eve', 'POST', '/v1/files/links', { ids: [a.id] })).body.links).toEqual({});

    // Members and server tokens can.
    expect((await download(base, a.url, await app.user('bob'))).body.equals(bytes)).toBe(true);
    expect((await download(base, a.url, await app.server())).status).toBe(200);

    // Joining opens the files; leaving closes them again.
    expect((await call('eve', 'POST', '/v1/channels/public:open/join')).status).toBe(200);
    const got = await download(base, a.url, await app.user('eve'));
    expect(got.status).toBe(200);
    expect(got.body.equals(bytes)).toBe(true);
    expect(Object.keys((await call('eve', 'POST', '/v1/files/links', { ids: [a.id] })).body.links)).toEqual([a.id]);
    expect((await call('eve', 'POST', '/v1/channels/public:open/leave')).status).toBe(200);
    expect((await get(base, a.url, await app.user('eve'))).status).toBe(403);
  });

  it('an outsider of a private channel gets 404', async () => {
    const up = await upload(base, app, 'bob', 'group:closed', opaqueBytes(100), 'secret.bin');
    const a = up.json.attachment;
    expect(
      (await call('bob', 'POST', '/v1/channels/group:closed/messages', { text: '', attachments: [a.id] })).status,
    ).toBe(200);
    const r = await get(base, a.url, await app.user('eve'));
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe('NOT_FOUND');
    expect((await call('eve', 'POST', '/v1/files/links', { ids: [a.id] })).body.links).toEqual({});
    expect((await get(base, a.url, await app.user('alice'))).status).toBe(200);
  });
});

describe('the per-app quota', () => {
  it('counts every user of the app: past it, 413 QUOTA_EXCEEDED (app) and nothing stored', async () => {
    const used = async (appId: string) =>
      (
        await rows<{ n: number }>(
          h.database.db,
          sql`select coalesce(sum(size), 0)::int as n from files where app_id = ${appId} and deleted_at is null`,
        )
      )[0]?.n ?? 0;
    const before = await used(app.id);
    const room = 1500 * KB - before;
    expect(room).toBeGreaterThan(1000 * KB);
    // Alice takes most of the room; Bob's upload would pass the app's limit, though he has
    // stored little himself (there is no per-user quota in this server).
    expect((await upload(base, app, 'alice', 'group:closed', opaqueBytes(room - 100 * KB), 'big.bin')).status).toBe(
      200,
    );
    const over = await upload(base, app, 'bob', 'group:closed', opaqueBytes(200 * KB), 'more.bin');
    expect(over.status).toBe(413);
    expect(over.json.error).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      details: { quota: 'app', limit_bytes: 1500 * KB },
    });
    expect(await used(app.id)).toBe(1500 * KB - 100 * KB);
    // What still fits, fits.
    expect((await upload(base, app, 'bob', 'group:closed', opaqueBytes(50 * KB), 'small.bin')).status).toBe(200);

    // Another app has its own quota.
    const other = await h.createApp('other');
    await h.users(other, [{ id: 'bob' }]);
    const ch = await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers: await other.user('bob'),
      payload: { type: 'group', id: 'closed', members: [] },
    });
    expect(ch.status).toBe(200);
    expect((await upload(base, other, 'bob', 'group:closed', opaqueBytes(200 * KB), 'more.bin')).status).toBe(200);
  });
});
