/**
 * Files end to end, on both stores (a folder in the data folder, and S3 through a real
 * S3-API server): upload → attach → download the same bytes; the type from the bytes; EXIF
 * and GPS stripped; thumbnails by the media job and `message.updated` to a second client;
 * signed links, Range, ETag; quotas; non-members; validation of the send's attachments.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/platform/db/index.js';
import type { S3Options } from '../../src/platform/storage/index.js';
import { type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';
import { until } from '../jobs/helpers.js';
import { animatedGif, download, elfExecutable, get, opaqueBytes, pngWithGps, startS3, upload } from './helpers.js';

const MB = 1024 * 1024;

describe.each(['local', 's3'] as const)('files on the %s store', (store) => {
  let h: Harness;
  let app: TestApp;
  let base: string;
  let s3: { options: S3Options; close(): Promise<void> } | undefined;
  const cid = 'group:files';
  const send = async (user: string, body: Record<string, unknown>, channel = cid) =>
    h.call({ method: 'POST', url: `/v1/channels/${channel}/messages`, headers: await app.user(user), payload: body });
  const links = async (user: string, ids: string[]) =>
    h.call({ method: 'POST', url: '/v1/files/links', headers: await app.user(user), payload: { ids } });

  beforeAll(async () => {
    if (store === 's3') s3 = await startS3();
    h = await startHarness({
      jobPollMs: 100,
      uploadMaxBytes: 1 * MB,
      userQuotaBytes: 2 * MB,
      appQuotaBytes: 0,
      ...(s3 ? { s3: s3.options } : {}),
    });
    base = await h.listen();
    app = await h.createApp();
    await h.users(app, [{ id: 'alice' }, { id: 'bob' }, { id: 'eve' }, { id: 'dave' }]);
    const ch = await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers: await app.user('alice'),
      payload: { type: 'group', id: 'files', members: ['bob', 'dave'] },
    });
    expect(ch.status).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
    await s3?.close();
  });

  it('upload → attach → download gives the same bytes, to members only', async () => {
    const bytes = opaqueBytes(300_000);
    const up = await upload(base, app, 'alice', cid, bytes, 'data.bin');
    expect(up.status).toBe(200);
    const a = up.json.attachment;
    expect(a).toMatchObject({
      cid,
      user_id: 'alice',
      kind: 'file',
      name: 'data.bin',
      size: bytes.length,
      mime_type: 'application/octet-stream',
      type_mismatch: false,
      url: `/v1/files/${a.id}`,
      processing: 'none',
    });

    // Before a message carries it, only its uploader can read it.
    expect((await get(base, a.url, await app.user('bob'))).status).toBe(404);
    expect((await links('bob', [a.id])).body.links).toEqual({});

    const sent = await send('alice', { text: 'the data', attachments: [a.id] });
    expect(sent.status).toBe(200);
    expect(sent.body.message.attachments).toEqual([a]);
    const hist = await h.call({ method: 'GET', url: `/v1/channels/${cid}/messages`, headers: await app.user('bob') });
    expect(hist.body.messages.at(-1).attachments).toEqual([a]);

    const got = await download(base, a.url, await app.user('bob'));
    expect(got.status).toBe(200);
    expect(got.body.equals(bytes)).toBe(true);
    expect(got.headers.get('content-disposition')).toMatch(/^attachment; filename="data.bin"/);

    // A signed link works without credentials (as in <img src>); a tampered one does not.
    const l = (await links('bob', [a.id])).body.links[a.id];
    expect(l.url).toMatch(new RegExp(`^/v1/files/${a.id}/signed\\?app=`));
    expect(Date.parse(l.expires_at)).toBeGreaterThan(Date.now());
    const signed = await download(base, l.url);
    expect(signed.status).toBe(200);
    expect(signed.body.equals(bytes)).toBe(true);
    // The signature's first character changed (to another one: a signature starting with `x`
    // once stayed the same and was rightly accepted).
    const tampered = l.url.replace(/sig=(.)/, (_: string, c: string) => `sig=${c === 'x' ? 'y' : 'x'}`);
    expect(tampered).not.toBe(l.url);
    expect((await get(base, tampered)).status).toBe(403);
    expect((await get(base, l.url.replace(/exp=\d+/, 'exp=1000'))).status).toBe(403);
    expect((await get(base, l.url.replace('v=original', 'v=360'))).status).toBe(403);

    // Non-members: 404 for the file and no link; an outsider's upload to the channel is refused.
    expect((await get(base, a.url, await app.user('eve'))).status).toBe(404);
    expect((await links('eve', [a.id])).body.links).toEqual({});
    const outsider = await upload(base, app, 'eve', cid, opaqueBytes(10), 'x.bin');
    expect(outsider.status).toBe(404);
    expect(outsider.json.error.code).toBe('NOT_FOUND');
    // Another app's credentials never reach it.
    const other = await h.createApp('other');
    await h.users(other, [{ id: 'alice' }]);
    expect((await get(base, a.url, await other.user('alice'))).status).toBe(404);
    expect((await get(base, a.url)).status).toBe(401);
  });

  it('answers Range requests, ETag revalidation and cache headers (local) or redirects to S3', async () => {
    const bytes = opaqueBytes(50_000);
    const { json } = await upload(base, app, 'alice', cid, bytes, 'range.bin');
    await send('alice', { text: 'range', attachments: [json.attachment.id] });
    const headers = await app.user('bob');
    if (store === 's3') {
      const r = await get(base, json.attachment.url, headers);
      expect(r.status).toBe(302);
      expect(r.headers.get('location')).toContain('X-Amz-Signature=');
      const part = await get(base, r.headers.get('location') as string, { range: 'bytes=100-199' });
      expect(part.status).toBe(206);
      expect(part.body.equals(bytes.subarray(100, 200))).toBe(true);
      return;
    }
    const part = await get(base, json.attachment.url, { ...headers, range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${bytes.length}`);
    expect(part.body.equals(bytes.subarray(100, 200))).toBe(true);
    const tail = await get(base, json.attachment.url, { ...headers, range: 'bytes=-10' });
    expect(tail.body.equals(bytes.subarray(bytes.length - 10))).toBe(true);
    const bad = await get(base, json.attachment.url, { ...headers, range: `bytes=${bytes.length}-` });
    expect(bad.status).toBe(416);
    const full = await get(base, json.attachment.url, headers);
    const etag = full.headers.get('etag') as string;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    expect(full.headers.get('cache-control')).toBe('private, no-cache');
    expect((await get(base, json.attachment.url, { ...headers, 'if-none-match': etag })).status).toBe(304);
    const l = (await links('bob', [json.attachment.id])).body.links[json.attachment.id];
    const viaLink = await get(base, l.url);
    expect(viaLink.headers.get('cache-control')).toMatch(/^private, max-age=\d+, immutable$/);
  });

  it('decides the type from the bytes: a renamed executable and active content are downloads', async () => {
    const exe = await upload(base, app, 'alice', cid, elfExecutable(), 'cute-cat.png', 'image/png');
    expect(exe.status).toBe(200);
    expect(exe.json.attachment).toMatchObject({ kind: 'file', mime_type: 'application/x-elf', type_mismatch: true });
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>',
    );
    const s = await upload(base, app, 'alice', cid, svg, 'logo.png', 'image/png');
    expect(s.json.attachment).toMatchObject({ kind: 'file', mime_type: 'image/svg+xml', type_mismatch: true });
    const html = await upload(
      base,
      app,
      'alice',
      cid,
      Buffer.from('<!doctype html><h1>hi</h1>'),
      'page.html',
      'text/html',
    );
    expect(html.json.attachment).toMatchObject({ mime_type: 'text/html', type_mismatch: false });
    const text = await upload(base, app, 'alice', cid, Buffer.from('just words\n'), 'notes.txt', 'text/plain');
    expect(text.json.attachment).toMatchObject({ kind: 'file', mime_type: 'text/plain', type_mismatch: false });
    const ids = [exe, s, html, text].map((u) => u.json.attachment.id);
    expect((await send('alice', { text: '', attachments: ids })).status).toBe(200);
    for (const [i, id] of ids.entries()) {
      const first = await get(base, `/v1/files/${id}`, await app.user('bob'));
      // The server's answer (the bytes, or the redirect to the object store) runs nothing.
      expect(first.headers.get('x-content-type-options')).toBe('nosniff');
      expect(first.headers.get('content-security-policy')).toContain("default-src 'none'; sandbox");
      const r = await download(base, `/v1/files/${id}`, await app.user('bob'));
      expect(r.status).toBe(200);
      if (i < 3) {
        expect(r.headers.get('content-disposition')).toMatch(/^attachment;/);
        expect(r.headers.get('content-type')).toBe('application/octet-stream');
      } else {
        expect(r.headers.get('content-disposition')).toMatch(/^inline;/);
        expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      }
    }
  });

  it('sanitizes names: paths, control and bidi characters, very long names', async () => {
    const cases: [string, string][] = [
      ['../../etc/passwd', 'passwd'],
      ['C:\\Users\\me\\report.txt', 'report.txt'],
      ['invoice\u202Efdp.exe', 'invoicefdp.exe'],
      ['a\u0000b\u0007c.txt', 'abc.txt'],
      ['...', 'file'],
    ];
    for (const [raw, want] of cases) {
      const r = await upload(base, app, 'alice', cid, Buffer.from('x'), raw, 'text/plain');
      expect(r.status, raw).toBe(200);
      expect(r.json.attachment.name, raw).toBe(want);
    }
    const long = await upload(base, app, 'alice', cid, Buffer.from('x'), `${'é'.repeat(300)}.txt`, 'text/plain');
    expect(Buffer.byteLength(long.json.attachment.name)).toBeLessThanOrEqual(200);
    expect(long.json.attachment.name.endsWith('.txt')).toBe(true);
  });

  it('strips EXIF and GPS from a PNG, makes thumbnails in a job, and tells a second client', async () => {
    const png = await pngWithGps();
    expect((await sharp(png).metadata()).exif).toBeDefined();
    const bob = await TestSocket.connect(base, app, 'bob');
    try {
      const up = await upload(base, app, 'alice', cid, png, 'holiday.png', 'image/png');
      expect(up.status).toBe(200);
      const a = up.json.attachment;
      expect(a).toMatchObject({ kind: 'image', mime_type: 'image/png', width: 1600, height: 1000 });
      expect(['pending', 'ready']).toContain(a.processing);
      const sent = await send('alice', { text: 'look', attachments: [a.id] });
      const id = sent.body.message.id;
      // The thumbnails arrive as message.updated on the other client's socket.
      const ev = await bob.waitFor(
        (f) => f.type === 'message.updated' && f.message.id === id && f.message.attachments[0].processing === 'ready',
        30_000,
      );
      const done = ev.message.attachments[0];
      expect(done.blurhash).toMatch(/^[0-9A-Za-z#$%*+,\-.:;=?@[\]^_{|}~]{20,}$/);
      expect(Object.keys(done.thumbs).sort()).toEqual(['1280', '360']);
      expect(ev.seq).toBeGreaterThan(sent.body.message.seq);

      const original = await download(base, a.url, await app.user('bob'));
      expect(original.status).toBe(200);
      const meta = await sharp(original.body).metadata();
      expect(meta.exif).toBeUndefined();
      expect(original.body.toString('latin1')).not.toContain('ParleyPhone');
      expect(original.headers.get('content-disposition')).toMatch(/^inline;/);
      expect(original.headers.get('content-type')).toBe('image/png');

      const l = (await links('bob', [a.id])).body.links[a.id];
      const small = await download(base, l.thumbs['360']);
      expect(small.status).toBe(200);
      const sm = await sharp(small.body).metadata();
      expect(sm.format).toBe('webp');
      expect(Math.max(sm.width ?? 0, sm.height ?? 0)).toBe(360);
      expect(sm.exif).toBeUndefined();
      // Later readers see the thumbnails in history too.
      const msg = await h.call({ method: 'GET', url: `/v1/messages/${id}`, headers: await app.user('bob') });
      expect(msg.body.message.attachments[0].processing).toBe('ready');
    } finally {
      bob.close();
    }
  });

  it('keeps an animated GIF animated, in the original and in its thumbnail', async () => {
    const gif = await animatedGif(3);
    const up = await upload(base, app, 'alice', cid, gif, 'dance.gif', 'image/gif');
    const a = up.json.attachment;
    expect(a).toMatchObject({ kind: 'image', mime_type: 'image/gif', width: 64, height: 48 });
    await send('alice', { text: 'gif', attachments: [a.id] });
    const [row] = await until(
      'the thumbnail',
      () => rows<{ processing: string }>(h.database.db, sql`select processing from files where id = ${a.id}`),
      (r) => r[0]?.processing === 'ready',
    );
    expect(row?.processing).toBe('ready');
    const original = await download(base, a.url, await app.user('bob'));
    expect(original.body.equals(gif)).toBe(true);
    const l = (await links('bob', [a.id])).body.links[a.id];
    const thumb = await download(base, l.thumbs['360']);
    expect((await sharp(thumb.body, { animated: true }).metadata()).pages).toBe(3);
  });

  it.skipIf(!existsSync('/usr/bin/ffmpeg'))("reads a video's duration and makes a poster with ffmpeg", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'parley-video-'));
    try {
      const file = path.join(dir, 'clip.mp4');
      execFileSync('/usr/bin/ffmpeg', [
        ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=duration=2:size=320x240:rate=10'],
        ...['-pix_fmt', 'yuv420p', file],
      ]);
      const up = await upload(base, app, 'alice', cid, readFileSync(file), 'clip.mp4', 'video/mp4');
      expect(up.json.attachment).toMatchObject({ kind: 'video', mime_type: 'video/mp4', processing: 'pending' });
      const id = up.json.attachment.id;
      const [row] = await until(
        'the poster',
        () =>
          rows<{ processing: string; duration_ms: number | null; width: number | null }>(
            h.database.db,
            sql`select processing, duration_ms, width from files where id = ${id}`,
          ),
        (r) => r[0]?.processing !== 'pending',
        30_000,
      );
      expect(row).toMatchObject({ processing: 'ready', width: 320 });
      expect(Math.abs((row?.duration_ms ?? 0) - 2000)).toBeLessThan(200);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a file over the size limit (413) and past the user quota (QUOTA_EXCEEDED)', async () => {
    const big = await upload(base, app, 'dave', cid, opaqueBytes(MB + 1), 'big.bin');
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect((await upload(base, app, 'dave', cid, opaqueBytes(900_000), 'one.bin')).status).toBe(200);
    expect((await upload(base, app, 'dave', cid, opaqueBytes(900_000), 'two.bin')).status).toBe(200);
    const over = await upload(base, app, 'dave', cid, opaqueBytes(900_000), 'three.bin');
    expect(over.status).toBe(413);
    expect(over.json.error).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { quota: 'user', limit_bytes: 2 * MB } });
    const [count] = await rows<{ n: number }>(
      h.database.db,
      sql`select count(*)::int as n from files where user_id = 'dave' and deleted_at is null`,
    );
    expect(count?.n).toBe(2);
  });

  it('validates attachments on send: at most 10, own uploads to this channel, once', async () => {
    const mine = (await upload(base, app, 'alice', cid, Buffer.from('a'), 'a.txt', 'text/plain')).json.attachment.id;
    const bobs = (await upload(base, app, 'bob', cid, Buffer.from('b'), 'b.txt', 'text/plain')).json.attachment.id;
    const eleven = Array.from({ length: 11 }, () => crypto.randomUUID());
    expect((await send('alice', { text: 'x', attachments: eleven })).status).toBe(400);
    const notMine = await send('alice', { text: 'x', attachments: [bobs] });
    expect(notMine.status).toBe(400);
    expect(notMine.body.error.details.missing).toEqual([bobs]);
    expect((await send('alice', { text: '' })).status).toBe(400); // empty text needs files
    const id = crypto.randomUUID();
    const first = await send('alice', { id, text: 'once', attachments: [mine] });
    expect(first.status).toBe(200);
    // The same send again (a retry) answers the same message; another message cannot take the file.
    const again = await send('alice', { id, text: 'once', attachments: [mine] });
    expect(again.body.message).toMatchObject({ id, seq: first.body.message.seq });
    expect((await send('alice', { text: 'twice', attachments: [mine] })).status).toBe(400);
    // Over the socket too.
    const s = await TestSocket.connect(base, app, 'bob');
    try {
      const r = await s.request('message.send', { cid, message: { text: 'from the socket', attachments: [bobs] } });
      expect(r.ok).toBe(true);
      expect(r.message.attachments.map((x: { id: string }) => x.id)).toEqual([bobs]);
    } finally {
      s.close();
    }
  });

  it('cancels an upload (a job removes it) and queues the removal of every unattached one', async () => {
    const up = (await upload(base, app, 'alice', cid, opaqueBytes(1000), 'gone.bin')).json.attachment;
    const [job] = await rows<{ delay: number }>(
      h.database.db,
      sql`select extract(epoch from start_after - created_on)::int as delay from pgboss.job
          where name = 'files.expire' and data->>'fileId' = ${up.id}`,
    );
    // Removed a day later unless a message claims it.
    expect(job?.delay).toBeGreaterThan(23 * 3600);
    const bobTry = await h.call({ method: 'DELETE', url: `/v1/uploads/${up.id}`, headers: await app.user('bob') });
    expect(bobTry.status).toBe(404);
    const del = await h.call({ method: 'DELETE', url: `/v1/uploads/${up.id}`, headers: await app.user('alice') });
    expect(del).toEqual({ status: 200, body: { ok: true } });
    expect((await get(base, up.url, await app.user('alice'))).status).toBe(404);
    expect((await send('alice', { text: 'x', attachments: [up.id] })).status).toBe(400);
    await until(
      'the row to go',
      () => rows(h.database.db, sql`select 1 from files where id = ${up.id}`),
      (r) => r.length === 0,
    );
  });

  it('deleting a message removes its files', async () => {
    const up = (await upload(base, app, 'alice', cid, opaqueBytes(2000), 'secret.bin')).json.attachment;
    const sent = await send('alice', { text: 'oops', attachments: [up.id] });
    expect((await download(base, up.url, await app.user('bob'))).status).toBe(200);
    const l = (await links('bob', [up.id])).body.links[up.id];
    const del = await h.call({
      method: 'DELETE',
      url: `/v1/messages/${sent.body.message.id}`,
      headers: await app.user('alice'),
    });
    expect(del.status).toBe(200);
    expect(del.body.message.attachments).toEqual([]);
    expect((await get(base, up.url, await app.user('bob'))).status).toBe(404);
    expect((await get(base, l.url)).status).toBe(404);
    await until(
      'the row to go',
      () => rows(h.database.db, sql`select 1 from files where id = ${up.id}`),
      (r) => r.length === 0,
    );
  });

  it('answers bad uploads with typed errors', async () => {
    const json = await h.call({
      method: 'POST',
      url: `/v1/channels/${cid}/uploads`,
      headers: await app.user('alice'),
      payload: { file: 'x' },
    });
    expect(json.status).toBe(415);
    expect(json.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const wrongField = await upload(base, app, 'alice', cid, Buffer.from('x'), 'x.txt', 'text/plain', 'document');
    expect(wrongField.status).toBe(400);
    const noAuth = await fetch(`${base}/v1/channels/${cid}/uploads`, { method: 'POST', body: new FormData() });
    expect(noAuth.status).toBe(401);
    const missing = await upload(base, app, 'alice', 'group:nope', Buffer.from('x'), 'x.txt');
    expect(missing.status).toBe(404);
  });
});
