/**
 * Channel bookmarks and the Files tab through the public API: members add, rename, reorder and
 * remove links and files of the channel, live to the channel's subscribers; who may is the
 * `manage-bookmarks` row (an announcement channel keeps it to moderators; a reader who is not
 * a member reads the bar but changes nothing); a private channel's bar is NOT_FOUND to
 * outsiders and to other apps; bad input gets typed errors. The Files tab lists the files
 * messages there carry, by kind.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opaqueBytes, pngWithGps, upload } from '../files/helpers.js';
import { type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';

let h: Harness;
let app: TestApp;
let other: TestApp;
let base: string;

const as = async (
  user: string,
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  url: string,
  payload?: object,
  on = app,
) => h.call({ method, url, headers: await on.user(user), ...(payload ? { payload } : {}) });

beforeAll(async () => {
  h = await startHarness({ linkPreviews: false });
  base = await h.listen();
  app = await h.createApp();
  other = await h.createApp('other');
  await h.users(app, [{ id: 'alice' }, { id: 'bob' }, { id: 'carol' }, { id: 'dave' }]);
  await h.users(other, [{ id: 'alice' }]);
  for (const [type, id, members] of [
    ['public', 'dev', ['bob']],
    ['group', 'secret', ['bob']],
    ['announcement', 'news', ['bob', 'carol']],
  ] as const)
    expect((await as('alice', 'POST', '/v1/channels', { type, id, members: [...members] })).status).toBe(200);
  // Carol moderates the announcements.
  const r = await h.call({
    method: 'PATCH',
    url: '/v1/channels/announcement:news/members/carol',
    headers: await app.server(),
    payload: { role: 'moderator' },
  });
  expect(r.status).toBe(200);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('channel bookmarks', () => {
  it('are added, renamed, reordered and removed, live to the channel', async () => {
    const s1 = await TestSocket.connect(base, app, 'bob');
    const s2 = await TestSocket.connect(base, app, 'alice');
    const a = await as('bob', 'POST', '/v1/channels/public:dev/bookmarks', {
      url: 'https://example.com/Docs',
      title: 'Docs',
    });
    expect(a.status).toBe(201);
    expect(a.body.bookmark).toMatchObject({
      kind: 'link',
      url: 'https://example.com/Docs',
      title: 'Docs',
      position: 0,
    });
    const b = await as('alice', 'POST', '/v1/channels/public:dev/bookmarks', { url: 'https://status.example.org/' });
    expect(b.body.bookmark).toMatchObject({ title: 'status.example.org', position: 1 });
    const ids = [a.body.bookmark.id, b.body.bookmark.id];
    const re = await as('bob', 'PUT', '/v1/channels/public:dev/bookmarks/order', { bookmark_ids: [ids[1], ids[0]] });
    expect(re.body.bookmarks.map((x: { id: string }) => x.id)).toEqual([ids[1], ids[0]]);
    const rn = await as('bob', 'PATCH', `/v1/channels/public:dev/bookmarks/${ids[1]}`, { title: 'Status page' });
    expect(rn.body.bookmark.title).toBe('Status page');
    const rm = await as('alice', 'DELETE', `/v1/channels/public:dev/bookmarks/${ids[0]}`);
    expect(rm.body.bookmarks).toEqual([expect.objectContaining({ id: ids[1], title: 'Status page', position: 0 })]);
    for (const s of [s1, s2]) {
      await s.waitFor(
        (f) => f.type === 'bookmarks.updated' && f.bookmarks.length === 1 && f.bookmarks[0].title === 'Status page',
      );
      expect(s.events('bookmarks.updated').map((e) => e.bookmarks.length)).toEqual([1, 2, 2, 2, 1]);
    }
    const list = await as('bob', 'GET', '/v1/channels/public:dev/bookmarks');
    expect(list.body.bookmarks).toEqual(rm.body.bookmarks);
    s1.close();
    s2.close();
  });

  it('follow manage-bookmarks: members, moderators in announcements, never outsiders', async () => {
    const add = (user: string, cid: string) =>
      as(user, 'POST', `/v1/channels/${cid}/bookmarks`, { url: `https://example.com/${user}` });
    expect((await add('bob', 'announcement:news')).status).toBe(403);
    expect((await add('carol', 'announcement:news')).status).toBe(201);
    // Dave may read the public channel, but is no member: he reads the bar, adds nothing.
    expect((await as('dave', 'GET', '/v1/channels/public:dev/bookmarks')).status).toBe(200);
    expect((await add('dave', 'public:dev')).status).toBe(403);
    // A private channel is not there for him at all; nor for the same user id in another app.
    expect((await as('dave', 'GET', '/v1/channels/group:secret/bookmarks')).status).toBe(404);
    expect((await add('dave', 'group:secret')).status).toBe(404);
    expect((await as('alice', 'GET', '/v1/channels/group:secret/bookmarks', undefined, other)).status).toBe(404);
    const mine = (await add('bob', 'group:secret')).body.bookmark.id;
    expect((await as('alice', 'DELETE', `/v1/channels/group:secret/bookmarks/${mine}`, undefined, other)).status).toBe(
      404,
    );
    // A bookmark id of another channel is not this channel's.
    expect((await as('bob', 'DELETE', `/v1/channels/public:dev/bookmarks/${mine}`)).status).toBe(404);
  });

  it('answer bad input with typed errors and write nothing', async () => {
    const before = (await as('bob', 'GET', '/v1/channels/public:dev/bookmarks')).body.bookmarks;
    const id = before[0].id;
    for (const [what, method, url, body] of [
      ['no url or file', 'POST', '/v1/channels/public:dev/bookmarks', { title: 'x' }],
      ['both', 'POST', '/v1/channels/public:dev/bookmarks', { url: 'https://a.example', file_id: id }],
      ['not http', 'POST', '/v1/channels/public:dev/bookmarks', { url: 'javascript:alert(1)' }],
      ['blank title', 'POST', '/v1/channels/public:dev/bookmarks', { url: 'https://a.example', title: ' ' }],
      ['extra', 'POST', '/v1/channels/public:dev/bookmarks', { url: 'https://a.example', color: 1 }],
      ['order missing', 'PUT', '/v1/channels/public:dev/bookmarks/order', { bookmark_ids: [] }],
      ['bad id', 'PATCH', '/v1/channels/public:dev/bookmarks/7', { title: 'x' }],
    ] as const) {
      const r = await as('bob', method, url, body);
      expect([r.status, r.body.error?.code], what).toEqual([400, 'VALIDATION_ERROR']);
    }
    const unknownFile = await as('bob', 'POST', '/v1/channels/public:dev/bookmarks', { file_id: id });
    expect(unknownFile.status).toBe(404);
    expect((await as('bob', 'GET', '/v1/channels/public:dev/bookmarks')).body.bookmarks).toEqual(before);
  });
});

describe('a channel’s files', () => {
  it('lists the files messages carry, newest first, by kind; a file bookmarks where it was shared', async () => {
    const png = await upload(base, app, 'bob', 'public:dev', await pngWithGps(64, 48), 'shot.png', 'image/png');
    const bin = await upload(base, app, 'bob', 'public:dev', opaqueBytes(1000), 'notes.bin');
    const loose = await upload(base, app, 'bob', 'public:dev', opaqueBytes(500), 'unsent.bin');
    for (const f of [png, bin]) {
      const id = f.json.attachment.id;
      expect(
        (await as('bob', 'POST', '/v1/channels/public:dev/messages', { text: '', attachments: [id] })).status,
      ).toBe(200);
    }
    const all = await as('alice', 'GET', '/v1/channels/public:dev/files');
    expect(all.body.files.map((f: { name: string }) => f.name)).toEqual(['notes.bin', 'shot.png']);
    const images = await as('alice', 'GET', '/v1/channels/public:dev/files?kind=image');
    expect(images.body.files.map((f: { name: string }) => f.name)).toEqual(['shot.png']);
    const p1 = await as('alice', 'GET', '/v1/channels/public:dev/files?limit=1');
    const p2 = await as('alice', 'GET', `/v1/channels/public:dev/files?limit=1&cursor=${p1.body.next}`);
    expect(p2.body.files.map((f: { name: string }) => f.name)).toEqual(['shot.png']);
    expect(p2.body.next).toBeUndefined();
    // Dave reads the channel but may not download its files; the kind must be one there is.
    expect((await as('dave', 'GET', '/v1/channels/public:dev/files')).status).toBe(403);
    expect((await as('alice', 'GET', '/v1/channels/public:dev/files?kind=pdf')).status).toBe(400);

    const fb = await as('alice', 'POST', '/v1/channels/public:dev/bookmarks', { file_id: png.json.attachment.id });
    expect(fb.body.bookmark).toMatchObject({
      kind: 'file',
      title: 'shot.png',
      url: `/v1/files/${png.json.attachment.id}`,
    });
    // One no message carries, or one of another channel, is not a file of this channel.
    expect(
      (await as('bob', 'POST', '/v1/channels/public:dev/bookmarks', { file_id: loose.json.attachment.id })).status,
    ).toBe(404);
    expect(
      (await as('bob', 'POST', '/v1/channels/group:secret/bookmarks', { file_id: bin.json.attachment.id })).status,
    ).toBe(404);
  });
});

/** A one-entry ICO file holding `png` (as modern favicon.ico files do). */
function icoOf(png: Buffer, size: number): Buffer {
  const head = Buffer.alloc(22);
  head.writeUInt16LE(1, 2);
  head.writeUInt16LE(1, 4);
  head[6] = size;
  head[7] = size;
  head.writeUInt16LE(1, 10);
  head.writeUInt16LE(32, 12);
  head.writeUInt32LE(png.length, 14);
  head.writeUInt32LE(22, 18);
  return Buffer.concat([head, png]);
}
const solid = (background: string, size: number) =>
  sharp({ create: { width: size, height: size, channels: 4, background } })
    .png()
    .toBuffer();

describe('a link bookmark’s title, site and favicon, from the link preview pipeline', () => {
  it('fill in by the job (a title a member gave stays), live to the channel', async () => {
    // /runbook names its icon (red) and an og:image (green, never the icon); /named names no
    // icon, so /favicon.ico (blue, an ICO) is the site's.
    const icon = await solid('#ff0000', 32);
    const picture = await solid('#00ff00', 600);
    const favicon = icoOf(await solid('#0000ff', 16), 16);
    const hits: string[] = [];
    const pages = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0] as string;
      hits.push(path);
      if (path === '/icon.png' || path === '/og.png') {
        res.writeHead(200, { 'content-type': 'image/png' });
        return res.end(path === '/icon.png' ? icon : picture);
      }
      if (path === '/favicon.ico') {
        res.writeHead(200, { 'content-type': 'image/x-icon' });
        return res.end(favicon);
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<html><head><meta property="og:title" content="The Runbook"><meta property="og:site_name" content="Ops Wiki">${
          path === '/runbook'
            ? '<meta property="og:image" content="/og.png"><link rel="icon" href="/icon.png" sizes="32x32">'
            : ''
        }</head><body>x</body></html>`,
      );
    });
    await new Promise<void>((r) => pages.listen(0, '127.0.0.1', () => r()));
    const port = (pages.address() as AddressInfo).port;
    const h2 = await startHarness({ jobPollMs: 100, previewAllowHosts: [`127.0.0.1:${port}`] });
    try {
      const url2 = await h2.listen();
      const a2 = await h2.createApp();
      await h2.users(a2, [{ id: 'alice' }]);
      const call = async (method: 'GET' | 'POST', url: string, payload?: object) =>
        h2.call({ method, url, headers: await a2.user('alice'), ...(payload ? { payload } : {}) });
      expect((await call('POST', '/v1/channels', { type: 'public', id: 'ops', members: [] })).status).toBe(200);
      const s = await TestSocket.connect(url2, a2, 'alice');
      const plain = await call('POST', '/v1/channels/public:ops/bookmarks', {
        url: `http://127.0.0.1:${port}/runbook`,
      });
      const named = await call('POST', '/v1/channels/public:ops/bookmarks', {
        url: `http://127.0.0.1:${port}/named`,
        title: 'Ours',
      });
      expect(plain.body.bookmark.title).toBe(`127.0.0.1:${port}`);
      const ev = await s.waitFor(
        (f) =>
          f.type === 'bookmarks.updated' &&
          f.bookmarks.length === 2 &&
          f.bookmarks.every((b: { site_name: string | null }) => b.site_name === 'Ops Wiki'),
        30_000,
      );
      expect(ev.bookmarks.map((b: { id: string; title: string }) => [b.id, b.title])).toEqual([
        [plain.body.bookmark.id, 'The Runbook'],
        [named.body.bookmark.id, 'Ours'],
      ]);
      // Each icon is the site's favicon, re-hosted and served without credentials like preview
      // images: the page's <link rel="icon"> (red, not the green og:image), else /favicon.ico.
      const colours: number[][] = [];
      for (const b of ev.bookmarks as { icon_url: string | null }[]) {
        expect(b.icon_url).toMatch(/^\/v1\/link-images\//);
        const img = await fetch(`${url2}${b.icon_url}`);
        expect(img.status).toBe(200);
        expect(img.headers.get('content-type')).toBe('image/webp');
        const { data, info } = await sharp(Buffer.from(await img.arrayBuffer()))
          .raw()
          .toBuffer({ resolveWithObject: true });
        expect(info.width).toBeLessThanOrEqual(32);
        colours.push([data[0] as number, data[1] as number, data[2] as number]);
      }
      const near = (c: number[], want: number[]) => c.every((v, i) => Math.abs(v - (want[i] as number)) < 12);
      expect(near(colours[0] as number[], [255, 0, 0]), JSON.stringify(colours)).toBe(true);
      expect(near(colours[1] as number[], [0, 0, 255]), JSON.stringify(colours)).toBe(true);
      // All through the one fetcher, from the pages' own server.
      expect(hits).toEqual(expect.arrayContaining(['/icon.png', '/favicon.ico']));
      s.close();
    } finally {
      await h2.close();
      pages.close();
    }
  });
});
