/**
 * Link previews end to end: pages served by a local HTTP server (the preview fetcher's test
 * allow-list names it; everything else private stays refused), a message with their URLs, the
 * unfurl job, and the cards on the message — Open Graph with a re-hosted image, oEmbed, a
 * title-only page, a page with nothing, an endless page and a slow one, removal by the author
 * (REST and socket) that survives an edit, the per-URL cache (per app), and private addresses.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/platform/db/index.js';
import { outboundAllowFromEnv } from '../../src/platform/outbound.js';
import { type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';
import { until } from '../jobs/helpers.js';

const cid = 'group:links';
let h: Harness;
let app: TestApp;
let base: string;
let pages: http.Server;
let outside: http.Server;
let site: string;
let outsideHits = 0;
const hits = new Map<string, number>();
const endless = { started: false, aborted: false };
let png: Buffer;

const page = (head: string, body = '<p>hello</p>') =>
  `<!doctype html><html><head>${head}</head><body>${body}</body></html>`;

function serveHtml(res: http.ServerResponse, html: string) {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'set-cookie': 'tracker=1' });
  res.end(html);
}

function startPages(): Promise<http.Server> {
  const s = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path === '/img.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      return res.end(png);
    }
    if (path.startsWith('/og')) {
      return serveHtml(
        res,
        page(`<title>Fallback title</title>
          <meta property="og:title" content="The &amp; Article">
          <meta property="og:description" content="What it is about">
          <meta property="og:site_name" content="Example News">
          <meta property="og:type" content="article">
          <meta property="og:image" content="/img.png">
          <meta name="twitter:title" content="not this one">`),
      );
    }
    if (path === '/twitter') {
      return serveHtml(
        res,
        page(`<meta name="twitter:card" content="summary">
          <meta name="twitter:title" content="Tweet card">
          <meta name="twitter:description" content="From the twitter tags">`),
      );
    }
    if (path === '/video') {
      return serveHtml(
        res,
        page(`<title>Video page</title>
          <link rel="alternate" type="application/json+oembed" href="/oembed.json?u=1" title="oEmbed">`),
      );
    }
    if (path === '/oembed.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(
        JSON.stringify({
          version: '1.0',
          type: 'video',
          title: 'An oEmbed video',
          provider_name: 'TubeSite',
          thumbnail_url: `${site}/img.png`,
          html: '<iframe src="https://evil.example"></iframe>',
        }),
      );
    }
    if (path === '/svg-image')
      return serveHtml(
        res,
        page('<meta property="og:title" content="Vector"><meta property="og:image" content="/pic.svg">'),
      );
    if (path === '/pic.svg') {
      // An SVG that claims to be a PNG: the bytes decide, and SVG is never taken.
      res.writeHead(200, { 'content-type': 'image/png' });
      return res.end(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="file:///etc/passwd"/></svg>',
      );
    }
    if (path === '/plain') return serveHtml(res, page('<title>  Just a\n title </title>'));
    if (path === '/nothing') return serveHtml(res, '<html><body>no metadata at all</body></html>');
    if (path === '/endless') {
      // A page that never ends: its head first, then body forever, until the reader hangs up.
      endless.started = true;
      res.writeHead(200, { 'content-type': 'text/html' });
      res.write(`<html><head><meta property="og:title" content="Endless page"></head><body>`);
      const chunk = `<p>${'x'.repeat(64 * 1024)}</p>`;
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {}
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => {
        if (!res.writableFinished) endless.aborted = true;
      });
      return pump();
    }
    if (path === '/slow') {
      // Headers, then a byte now and then: never done before the fetcher's time runs out.
      res.writeHead(200, { 'content-type': 'text/html' });
      res.write('<html><head>');
      const t = setInterval(() => res.write(' '), 100);
      res.on('close', () => clearInterval(t));
      return;
    }
    res.writeHead(404);
    res.end();
  });
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
}

const port = (s: http.Server) => (s.address() as AddressInfo).port;
const send = async (user: string, text: string, a = app) =>
  h.call({ method: 'POST', url: `/v1/channels/${cid}/messages`, headers: await a.user(user), payload: { text } });
const getMessage = async (id: string, user = 'alice', a = app) =>
  (await h.call({ method: 'GET', url: `/v1/messages/${id}`, headers: await a.user(user) })).body.message;

/** The unfurl job of message `id` has finished (whatever it found). */
async function unfurled(id: string, on: Harness = h): Promise<void> {
  await until(
    `the unfurl job of ${id}`,
    () =>
      rows<{ state: string }>(
        on.database.db,
        sql`select state::text as state from pgboss.job where name = 'links.unfurl' and data->>'messageId' = ${id}`,
      ),
    (r) => r.length > 0 && r.every((j) => j.state === 'completed'),
    30_000,
  );
}

async function cacheRow(url: string, appId = app.id) {
  const [r] = await rows<{ status: string; error: string | null }>(
    h.database.db,
    sql`select status, error from link_previews where app_id = ${appId} and url = ${url}`,
  );
  return r;
}

beforeAll(async () => {
  png = await sharp({ create: { width: 800, height: 400, channels: 3, background: { r: 200, g: 60, b: 30 } } })
    .png()
    .toBuffer();
  pages = await startPages();
  site = `http://127.0.0.1:${port(pages)}`;
  outside = http.createServer((_req, res) => {
    outsideHits++;
    serveHtml(res, page('<meta property="og:title" content="should never be read">'));
  });
  await new Promise<void>((r) => outside.listen(0, '127.0.0.1', () => r()));
  h = await startHarness({
    jobPollMs: 100,
    // Only the test page server is let through; the other loopback server is not.
    outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_PREVIEWS: `127.0.0.1:${port(pages)}` }),
    previewTimeoutMs: 3_000,
  });
  base = await h.listen();
  app = await h.createApp();
  await h.users(app, [{ id: 'alice' }, { id: 'bob' }, { id: 'eve' }]);
  const ch = await h.call({
    method: 'POST',
    url: '/v1/channels',
    headers: await app.user('alice'),
    payload: { type: 'group', id: 'links', members: ['bob'] },
  });
  expect(ch.status).toBe(200);
}, 60_000);

afterAll(async () => {
  await h?.close();
  pages?.closeAllConnections();
  outside?.closeAllConnections();
  await new Promise((r) => (pages ? pages.close(r) : r(null)));
  await new Promise((r) => (outside ? outside.close(r) : r(null)));
});

describe('link previews', () => {
  it('turns an Open Graph page into a card with a re-hosted image, told to others by message.updated', async () => {
    const bob = await TestSocket.connect(base, app, 'bob');
    try {
      const sent = await send('alice', `read this: ${site}/og-1#section.`);
      expect(sent.status).toBe(200);
      expect(sent.body.message.previews).toEqual([]);
      const id = sent.body.message.id;
      const ev = await bob.waitFor((f) => f.type === 'message.updated' && f.message.id === id, 30_000);
      expect(ev.seq).toBeGreaterThan(sent.body.message.seq);
      const [card] = ev.message.previews;
      expect(card).toMatchObject({
        url: `${site}/og-1#section`,
        final_url: `${site}/og-1`,
        title: 'The & Article',
        description: 'What it is about',
        site_name: 'Example News',
        kind: 'article',
      });
      // The image is ours: a path on this server, never the site's URL.
      expect(card.image).toMatchObject({ width: 800, height: 400 });
      expect(card.image.url).toMatch(new RegExp(`^/v1/link-images/${app.id}/[0-9a-f-]{36}\\?v=1280$`));
      expect(Object.keys(card.image.thumbs).sort()).toEqual(['1280', '360']);
      expect(card.image.blurhash).toEqual(expect.any(String));
      expect(JSON.stringify(ev.message)).not.toContain('/img.png');

      // Served without credentials (an <img src>), as WebP, with nosniff.
      const img = await fetch(`${base}${card.image.thumbs['360']}`);
      expect(img.status).toBe(200);
      expect(img.headers.get('content-type')).toBe('image/webp');
      expect(img.headers.get('x-content-type-options')).toBe('nosniff');
      const meta = await sharp(Buffer.from(await img.arrayBuffer())).metadata();
      expect(meta).toMatchObject({ format: 'webp', width: 360, height: 180 });
      expect((await fetch(`${base}${card.image.url.replace('v=1280', 'v=999')}`)).status).toBe(400);
      const large = await sharp(Buffer.from(await (await fetch(`${base}${card.image.url}`)).arrayBuffer())).metadata();
      expect(large).toMatchObject({ format: 'webp', width: 800, height: 400 });
      expect((await fetch(`${base}/v1/link-images/${app.id}/00000000-0000-4000-8000-000000000000?v=360`)).status).toBe(
        404,
      );
      expect((await fetch(`${base}/v1/link-images/..%2f..%2fetc/passwd?v=360`)).status).toBe(400);

      // History shows the card too.
      expect((await getMessage(id, 'bob')).previews).toEqual(ev.message.previews);
    } finally {
      bob.close();
    }
  });

  it('reads oEmbed (discovered in the page) and Twitter cards; a bare page gives a title-only card', async () => {
    const sent = await send('alice', `${site}/video and ${site}/twitter and ${site}/plain`);
    const id = sent.body.message.id;
    await unfurled(id);
    const m = await getMessage(id);
    expect(m.previews).toHaveLength(3);
    expect(m.previews[0]).toMatchObject({
      url: `${site}/video`,
      title: 'An oEmbed video',
      site_name: 'TubeSite',
      kind: 'video',
      description: null,
    });
    expect(m.previews[0].image).toMatchObject({ width: 800, height: 400 });
    expect(JSON.stringify(m.previews[0])).not.toContain('iframe'); // oEmbed html is never taken
    expect(m.previews[1]).toMatchObject({
      title: 'Tweet card',
      description: 'From the twitter tags',
      image: null,
    });
    expect(m.previews[2]).toMatchObject({
      url: `${site}/plain`,
      title: 'Just a title',
      description: null,
      site_name: null,
      image: null,
    });
  });

  it('takes no image that is not a raster picture by its bytes (an SVG sent as image/png)', async () => {
    const sent = await send('alice', `${site}/svg-image`);
    await unfurled(sent.body.message.id);
    const m = await getMessage(sent.body.message.id);
    expect(m.previews).toHaveLength(1);
    expect(m.previews[0]).toMatchObject({ title: 'Vector', image: null });
    expect(hits.get('/pic.svg')).toBe(1);
  });

  it('gives no card for a page with nothing, caps an endless page, and gives up on a slow one', async () => {
    const sent = await send('alice', `${site}/nothing ${site}/endless ${site}/slow`);
    const id = sent.body.message.id;
    await unfurled(id);
    const m = await getMessage(id);
    // Only the endless page has a card: its head came first, and the rest was never read.
    expect(m.previews.map((p: { url: string }) => p.url)).toEqual([`${site}/endless`]);
    expect(m.previews[0].title).toBe('Endless page');
    // The fetcher hung up on it (the server hears of it a moment later).
    await until(
      'the endless page to be cut off',
      async () => endless,
      (e) => e.started && e.aborted,
      10_000,
    );
    expect(await cacheRow(`${site}/nothing`)).toMatchObject({ status: 'empty' });
    expect(await cacheRow(`${site}/slow`)).toMatchObject({ status: 'failed' });
    expect((await cacheRow(`${site}/slow`))?.error).toMatch(/^timeout/);
  });

  it('caches per URL: a second message does not fetch again; another app fetches its own', async () => {
    const first = await send('alice', `${site}/og-cached`);
    await unfurled(first.body.message.id);
    expect(hits.get('/og-cached')).toBe(1);
    const imageHits = hits.get('/img.png');
    const second = await send('bob', `again: ${site}/og-cached`);
    await unfurled(second.body.message.id);
    const m = await getMessage(second.body.message.id);
    expect(m.previews[0]).toMatchObject({ url: `${site}/og-cached`, title: 'The & Article' });
    expect(hits.get('/og-cached')).toBe(1);
    expect(hits.get('/img.png')).toBe(imageHits);

    // Another page with the same og:image: fetched, but its picture is stored once — the same
    // content-addressed image as the first card's, not a copy per page or per cache refresh.
    const third = await send('alice', `${site}/og-same-image`);
    await unfurled(third.body.message.id);
    const again = await getMessage(third.body.message.id);
    expect(hits.get('/og-same-image')).toBe(1);
    expect(again.previews[0].image.url).toBe(m.previews[0].image.url);

    // The cache belongs to the app: another tenant's message is fetched for it.
    const other = await h.createApp('other');
    await h.users(other, [{ id: 'alice' }]);
    const ch = await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers: await other.user('alice'),
      payload: { type: 'group', id: 'links', members: [] },
    });
    expect(ch.status).toBe(200);
    const theirs = await send('alice', `${site}/og-cached`, other);
    await unfurled(theirs.body.message.id);
    expect(hits.get('/og-cached')).toBe(2);
    const theirCards = (await getMessage(theirs.body.message.id, 'alice', other)).previews;
    expect(theirCards).toHaveLength(1);
    // The same picture in another app is that app's own object.
    expect(theirCards[0].image.url).toMatch(new RegExp(`^/v1/link-images/${other.id}/`));
  });

  it('fetches nothing from private addresses that are not on the test allow-list', async () => {
    const sent = await send(
      'alice',
      `http://127.0.0.1/admin http://127.0.0.1:${port(outside)}/page http://169.254.169.254/latest/meta-data/`,
    );
    const id = sent.body.message.id;
    await unfurled(id);
    expect((await getMessage(id)).previews).toEqual([]);
    expect(outsideHits).toBe(0);
    expect(await cacheRow('http://127.0.0.1/admin')).toMatchObject({ status: 'failed' });
    expect((await cacheRow('http://127.0.0.1/admin'))?.error).toMatch(/^blocked-address/);
    expect((await cacheRow(`http://127.0.0.1:${port(outside)}/page`))?.error).toMatch(/^port/);
    expect((await cacheRow('http://169.254.169.254/latest/meta-data/'))?.error).toMatch(/^blocked-address/);
  });

  it('with the test allow-list off (the default), even the test page server is never fetched', async () => {
    const off = await startHarness({ jobPollMs: 100 });
    try {
      expect(off.config.previewAllowHosts).toEqual([]);
      const other = await off.createApp();
      await off.users(other, [{ id: 'alice' }]);
      const headers = await other.user('alice');
      const ch = await off.call({
        method: 'POST',
        url: '/v1/channels',
        headers,
        payload: { type: 'group', id: 'off', members: [] },
      });
      expect(ch.status).toBe(200);
      const before = hits.get('/og-off') ?? 0;
      const sent = await off.call({
        method: 'POST',
        url: '/v1/channels/group:off/messages',
        headers,
        payload: { text: `${site}/og-off` },
      });
      await unfurled(sent.body.message.id, off);
      const m = await off.call({ method: 'GET', url: `/v1/messages/${sent.body.message.id}`, headers });
      expect(m.body.message.previews).toEqual([]);
      expect(hits.get('/og-off') ?? 0).toBe(before);
      const [row] = await rows<{ status: string; error: string }>(
        off.database.db,
        sql`select status, error from link_previews where url = ${`${site}/og-off`}`,
      );
      expect(row).toMatchObject({ status: 'failed' });
      expect(row?.error).toMatch(/^port/);
    } finally {
      await off.close();
    }
  });

  it("limits the links one user's messages make the server fetch; others still get theirs", async () => {
    const tight = await startHarness({
      jobPollMs: 100,
      outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_PREVIEWS: `127.0.0.1:${port(pages)}` }),
      previewFetchesPerMinute: 2,
    });
    try {
      const other = await tight.createApp();
      await tight.users(other, [{ id: 'alice' }, { id: 'bob' }]);
      const post = async (user: string, text: string) =>
        tight.call({
          method: 'POST',
          url: '/v1/channels/group:tight/messages',
          headers: await other.user(user),
          payload: { text },
        });
      const ch = await tight.call({
        method: 'POST',
        url: '/v1/channels',
        headers: await other.user('alice'),
        payload: { type: 'group', id: 'tight', members: ['bob'] },
      });
      expect(ch.status).toBe(200);
      const read = async (id: string) =>
        (await tight.call({ method: 'GET', url: `/v1/messages/${id}`, headers: await other.user('alice') })).body
          .message;
      const three = await post('alice', `${site}/og-budget-1 ${site}/og-budget-2 ${site}/og-budget-3`);
      await unfurled(three.body.message.id, tight);
      expect((await read(three.body.message.id)).previews.map((p: { url: string }) => p.url)).toEqual([
        `${site}/og-budget-1`,
        `${site}/og-budget-2`,
      ]);
      expect(hits.get('/og-budget-3')).toBeUndefined();
      // Nothing was cached for the third, so Bob's message (his own budget) gets its card.
      const his = await post('bob', `${site}/og-budget-3`);
      await unfurled(his.body.message.id, tight);
      expect((await read(his.body.message.id)).previews).toHaveLength(1);
      // Cached links cost nothing: Alice may still repeat them.
      const again = await post('alice', `${site}/og-budget-1`);
      await unfurled(again.body.message.id, tight);
      expect((await read(again.body.message.id)).previews).toHaveLength(1);
    } finally {
      await tight.close();
    }
  });

  it('lets the author remove a preview (REST and socket); it does not come back after an edit', async () => {
    const sent = await send('alice', `${site}/og-remove ${site}/plain?remove=1`);
    const id = sent.body.message.id;
    await unfurled(id);
    expect((await getMessage(id)).previews).toHaveLength(2);
    const del = async (user: string, url: string) =>
      h.call({
        method: 'DELETE',
        url: `/v1/messages/${id}/previews?url=${encodeURIComponent(url)}`,
        headers: await app.user(user),
      });

    // Bad paths: not the author, not a member, not one of its preview URLs, not a URL.
    expect((await del('bob', `${site}/og-remove`)).body.error.code).toBe('FORBIDDEN');
    expect((await del('eve', `${site}/og-remove`)).body.error.code).toBe('NOT_FOUND');
    expect((await del('alice', `${site}/elsewhere`)).body.error.code).toBe('NOT_FOUND');
    expect((await del('alice', 'not a url')).body.error.code).toBe('NOT_FOUND');
    const unauth = await h.call({ method: 'DELETE', url: `/v1/messages/${id}/previews?url=x` });
    expect(unauth.status).toBe(401);
    const noUrl = await h.call({
      method: 'DELETE',
      url: `/v1/messages/${id}/previews`,
      headers: await app.user('alice'),
    });
    expect(noUrl.body.error.code).toBe('VALIDATION_ERROR');
    expect((await getMessage(id)).previews).toHaveLength(2);

    const bob = await TestSocket.connect(base, app, 'bob');
    try {
      const removed = await del('alice', `${site}/og-remove`);
      expect(removed.status).toBe(200);
      expect(removed.body.message.previews.map((p: { url: string }) => p.url)).toEqual([`${site}/plain?remove=1`]);
      const ev = await bob.waitFor((f) => f.type === 'message.updated' && f.message.id === id, 10_000);
      expect(ev.message.previews).toHaveLength(1);
      // Again: nothing changes, no event, no seq.
      const again = await del('alice', `${site}/og-remove`);
      expect(again.status).toBe(200);
      expect(again.body.message.seq).toBe(removed.body.message.seq);

      // Over the socket: the same action.
      const alice = await TestSocket.connect(base, app, 'alice');
      try {
        const r = await alice.request('preview.remove', { message_id: id, url: `${site}/plain?remove=1` });
        expect(r.ok).toBe(true);
        expect(r.message.previews).toEqual([]);
        const bad = await alice.request('preview.remove', { message_id: id, url: 42 });
        expect(bad.ok).toBe(false);
        expect(bad.error.code).toBe('VALIDATION_ERROR');
      } finally {
        alice.close();
      }
    } finally {
      bob.close();
    }

    // An edit that keeps both URLs and adds one: only the new one gets a card.
    const edited = await h.call({
      method: 'PATCH',
      url: `/v1/messages/${id}`,
      headers: await app.user('alice'),
      payload: { text: `${site}/og-remove ${site}/plain?remove=1 and ${site}/twitter` },
    });
    expect(edited.status).toBe(200);
    await until(
      'the edit to be unfurled',
      () => getMessage(id),
      (m) => m.previews.length > 0,
      30_000,
    );
    await until(
      'every unfurl job of the message',
      () =>
        rows<{ state: string }>(
          h.database.db,
          sql`select state::text as state from pgboss.job where name = 'links.unfurl' and data->>'messageId' = ${id}`,
        ),
      (r) => r.length === 2 && r.every((j) => j.state === 'completed'),
      30_000,
    );
    const m = await getMessage(id);
    expect(m.previews.map((p: { url: string }) => p.url)).toEqual([`${site}/twitter`]);

    // An edit that drops a URL drops its card at once.
    const dropped = await h.call({
      method: 'PATCH',
      url: `/v1/messages/${id}`,
      headers: await app.user('alice'),
      payload: { text: 'no more links' },
    });
    expect(dropped.body.message.previews).toEqual([]);
  });

  it('a preview removed before its card arrived never shows (whichever comes first)', async () => {
    const sent = await send('alice', `${site}/og-early`);
    const id = sent.body.message.id;
    const removed = await h.call({
      method: 'DELETE',
      url: `/v1/messages/${id}/previews?url=${encodeURIComponent(`${site}/og-early`)}`,
      headers: await app.user('alice'),
    });
    expect(removed.status).toBe(200);
    expect(removed.body.message.previews).toEqual([]);
    await unfurled(id);
    expect((await getMessage(id)).previews).toEqual([]);
  });

  it('deleting a message hides its previews', async () => {
    const sent = await send('alice', `${site}/og-delete`);
    const id = sent.body.message.id;
    await unfurled(id);
    expect((await getMessage(id)).previews).toHaveLength(1);
    const del = await h.call({ method: 'DELETE', url: `/v1/messages/${id}`, headers: await app.user('alice') });
    expect(del.body.message.previews).toEqual([]);
  });
});
