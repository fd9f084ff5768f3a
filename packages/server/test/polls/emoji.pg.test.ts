/**
 * Custom emoji over real HTTP: the upload pipeline (type read from the bytes, size limits,
 * resized to 128 px, animation kept), shortcode and alias rules, who may manage them (audited),
 * the live app-wide event, use in reactions and text, deletion leaving messages readable, and
 * another app seeing none of it.
 */
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NO_LIMITS } from '../../src/platform/config.js';
import { outboundAllowFromEnv } from '../../src/platform/outbound.js';
import { animatedGif, type Http, opaqueBytes } from '../files/helpers.js';
import { eventually, type Harness, startHarness, type TestApp } from '../harness.js';
import { type Received, type Receiver, startReceiver } from '../hooks/helpers.js';
import { expectError, makeWorld, type World } from '../messaging/world.js';

let h: Harness;
let w: World;
let base: string;
let rcv: Receiver;

beforeAll(async () => {
  rcv = await startReceiver();
  h = await startHarness({ outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_WEBHOOKS: rcv.host }) });
  w = await makeWorld(h, [{ id: 'admin', role: 'admin' }, { id: 'bob' }, { id: 'carol' }]);
  base = await h.listen();
});
afterEach(async () => {
  await w.closeSockets();
});
afterAll(async () => {
  await h.close();
  await rcv.close();
});

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

async function addEmoji(
  app: TestApp,
  user: string,
  shortcode: string,
  bytes: Buffer,
  opts: { aliases?: string; type?: string; name?: string } = {},
): Promise<Http> {
  const form = new FormData();
  form.append('shortcode', shortcode);
  if (opts.aliases) form.append('aliases', opts.aliases);
  form.append('file', new Blob([new Uint8Array(bytes)], { type: opts.type ?? 'image/png' }), opts.name ?? 'e.png');
  return answer(await fetch(`${base}/v1/emoji`, { method: 'POST', headers: await app.user(user), body: form }));
}
const png = (size = 300) =>
  sharp({ create: { width: size, height: size / 2, channels: 4, background: '#ff8800' } })
    .png()
    .toBuffer();

describe('custom emoji', () => {
  it('an admin adds a PNG: resized to 128 px, listed, served, told live to the app', async () => {
    const bob = await w.socket('bob');
    const r = await addEmoji(w.app, 'admin', 'party', await png(), { aliases: 'hooray, celebrate' });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.emoji).toMatchObject({
      shortcode: 'party',
      aliases: ['hooray', 'celebrate'],
      content_type: 'image/png',
      animated: false,
      width: 128,
      height: 64,
      created_by: 'admin',
    });
    const ev = await bob.waitFor((f) => f.type === 'emoji.updated' && f.shortcode === 'party');
    expect(ev).toMatchObject({ change: 'added', emoji: { shortcode: 'party' } });
    const list = await w.rest('bob', 'GET', '/v1/emoji');
    expect(list.body.emoji.map((e: any) => e.shortcode)).toContain('party');
    // The image needs no credentials (an <img> shows it) and is the resized PNG.
    const img = await answer(await fetch(`${base}${r.json.emoji.url}`));
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toBe('image/png');
    expect(img.headers.get('x-content-type-options')).toBe('nosniff');
    const meta = await sharp(img.body).metadata();
    expect([meta.width, meta.height]).toEqual([128, 64]);
  });

  it('an animated GIF keeps its frames', async () => {
    const r = await addEmoji(w.app, 'admin', 'blink', await animatedGif(4), { type: 'image/gif', name: 'b.gif' });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.emoji).toMatchObject({ content_type: 'image/gif', animated: true });
    const img = await answer(await fetch(`${base}${r.json.emoji.url}`));
    const meta = await sharp(img.body, { animated: true }).metadata();
    expect(meta.format).toBe('gif');
    expect(meta.pages).toBe(4);
  });

  it('a wrong type, a lying type and an oversized image are refused; nothing is kept', async () => {
    const before = (await w.rest('admin', 'GET', '/v1/emoji')).body.emoji.length;
    const junk = await addEmoji(w.app, 'admin', 'junk', opaqueBytes(2000));
    expectError({ status: junk.status, body: junk.json }, 415, 'INVALID_FILE_TYPE');
    const jpeg = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#123456' } })
      .jpeg()
      .toBuffer();
    const j = await addEmoji(w.app, 'admin', 'jpeg', jpeg, { type: 'image/png', name: 'x.png' });
    expectError({ status: j.status, body: j.json }, 415, 'INVALID_FILE_TYPE');
    // Uncompressed pixels: 1200×1200 RGBA is far past the 512 KiB limit.
    const big = await sharp({ create: { width: 1200, height: 1200, channels: 4, background: '#336699' } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    expect(big.length).toBeGreaterThan(512 * 1024);
    const b = await addEmoji(w.app, 'admin', 'huge', big);
    expectError({ status: b.status, body: b.json }, 413, 'PAYLOAD_TOO_LARGE');
    expect((await w.rest('admin', 'GET', '/v1/emoji')).body.emoji.length).toBe(before);
  });

  it("the app's upload rules apply: a type they refuse, or an image past their size", async () => {
    const other = await makeWorld(h, [{ id: 'admin', role: 'admin' }]);
    const set = async (rules: unknown) =>
      expect(
        (
          await h.call({
            method: 'PUT',
            url: '/v1/files/rules',
            headers: await other.app.server(),
            payload: rules as object,
          })
        ).status,
      ).toBe(200);
    await set({ allowed_types: ['image/png'], max_bytes: { image: null, video: null, audio: null, file: null } });
    const gif = await addEmoji(other.app, 'admin', 'anim', await animatedGif(2), { type: 'image/gif', name: 'a.gif' });
    expectError({ status: gif.status, body: gif.json }, 415, 'INVALID_FILE_TYPE');
    await set({ allowed_types: null, max_bytes: { image: 100, video: null, audio: null, file: null } });
    const big = await addEmoji(other.app, 'admin', 'big', await png(64));
    expectError({ status: big.status, body: big.json }, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('shortcode rules: pattern, aliases, unique per app across shortcodes and aliases', async () => {
    const img = await png(64);
    for (const bad of ['A', 'has space', 'UPPER', 'x', 'a'.repeat(33), 'emoji!'])
      expectError(
        await (async () => {
          const r = await addEmoji(w.app, 'admin', bad, img);
          return { status: r.status, body: r.json };
        })(),
        400,
        'VALIDATION_ERROR',
      );
    const ok = await addEmoji(w.app, 'admin', ':blobcat:', img, { aliases: 'kitty' });
    expect(ok.json.emoji.shortcode).toBe('blobcat');
    const dup = await addEmoji(w.app, 'admin', 'blobcat', img);
    expectError({ status: dup.status, body: dup.json }, 409, 'CONFLICT');
    const alias = await addEmoji(w.app, 'admin', 'kitty', img);
    expectError({ status: alias.status, body: alias.json }, 409, 'CONFLICT');
    const viaAlias = await addEmoji(w.app, 'admin', 'doge', img, { aliases: 'blobcat' });
    expectError({ status: viaAlias.status, body: viaAlias.json }, 409, 'CONFLICT');
    // The failed add kept no name: `doge` is free.
    expect((await addEmoji(w.app, 'admin', 'doge', img)).status).toBe(200);
  });

  it("refuses a standard emoji's name as a shortcode or an alias, as Slack does, keeping nothing", async () => {
    // `smile` is an id of the picker's data (@emoji-mart/data), `satisfied` one of its aliases,
    // `+1` a name with a sign; `:smile:` means the standard emoji, never an app's image.
    const img = await png(64);
    for (const [code, aliases, names] of [
      ['smile', undefined, ['smile']],
      ['+1', undefined, ['+1']],
      ['grin-custom', 'satisfied, thumbsup', ['satisfied', 'thumbsup']],
    ] as const) {
      const r = await addEmoji(w.app, 'admin', code, img, aliases ? { aliases } : {});
      expectError({ status: r.status, body: r.json }, 409, 'CONFLICT');
      expect(r.json.error.details).toEqual({ reason: 'standard_emoji', names });
    }
    const list = await w.rest('admin', 'GET', '/v1/emoji');
    expect(list.body.emoji.map((e: any) => e.shortcode)).not.toContain('grin-custom');
    // Its own name, not a standard one, is free.
    expect((await addEmoji(w.app, 'admin', 'grin-custom', img)).status).toBe(200);
  });

  it('only admins manage by default; the app setting opens it to everyone; both audited', async () => {
    const img = await png(64);
    const no = await addEmoji(w.app, 'bob', 'bobs', img);
    expectError({ status: no.status, body: no.json }, 403, 'FORBIDDEN');
    expectError(await w.rest('bob', 'PATCH', '/v1/emoji/settings', { who_can_manage: 'everyone' }), 403, 'FORBIDDEN');
    expectError(
      await w.rest('admin', 'PATCH', '/v1/emoji/settings', { who_can_manage: 'nobody' }),
      400,
      'VALIDATION_ERROR',
    );
    const set = await w.rest('admin', 'PATCH', '/v1/emoji/settings', { who_can_manage: 'everyone' });
    expect(set.body.settings.who_can_manage).toBe('everyone');
    expect((await addEmoji(w.app, 'bob', 'bobs', img)).status).toBe(200);
    // Everyone removes their own, not someone else's.
    expectError(await w.rest('bob', 'DELETE', '/v1/emoji/blobcat'), 403, 'FORBIDDEN');
    expect((await w.rest('bob', 'DELETE', '/v1/emoji/bobs')).status).toBe(200);
    await w.rest('admin', 'PATCH', '/v1/emoji/settings', { who_can_manage: 'admins' });
    expectError(await w.rest('bob', 'DELETE', '/v1/emoji/blobcat'), 403, 'FORBIDDEN');
    const audit = await w.rest(null, 'GET', '/v1/audit?limit=100');
    const actions = audit.body.entries.map((e: any) => `${e.action}:${e.target?.id ?? ''}`);
    expect(actions).toContain('emoji.added:bobs');
    expect(actions).toContain('emoji.removed:bobs');
    expect(actions).toContain('emoji.settings_updated:' + w.app.id);
  });

  it('used as a reaction and in text; deleting it leaves messages readable; webhooks hear both', async () => {
    const hook = await w.rest(null, 'POST', '/v1/webhooks', { url: `${rcv.url}/emoji`, events: ['emoji.*'] });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    const img = await png(64);
    expect((await addEmoji(w.app, 'admin', 'partyparrot', img)).status).toBe(200);
    const cid = await w.channel('admin', 'group', 'emoji-use', ['bob', 'carol']);
    const m = await w.send('bob', cid, 'hello :partyparrot: world');
    const react = await w.rest('carol', 'POST', `/v1/messages/${m.id}/reactions`, { type: ':partyparrot:' });
    expect(react.status, JSON.stringify(react.body)).toBe(200);
    expect(react.body.message.reactions).toEqual({ ':partyparrot:': 1 });
    const carol = await w.socket('carol');
    expect((await w.rest('admin', 'DELETE', '/v1/emoji/partyparrot')).status).toBe(200);
    await carol.waitFor((f) => f.type === 'emoji.updated' && f.change === 'removed' && f.shortcode === 'partyparrot');
    expectError(await w.rest('admin', 'DELETE', '/v1/emoji/partyparrot'), 404, 'NOT_FOUND');
    const after = (await w.rest('carol', 'GET', `/v1/messages/${m.id}`)).body.message;
    expect(after.text).toBe('hello :partyparrot: world');
    expect(after.reactions).toEqual({ ':partyparrot:': 1 });
    // The name is free again.
    expect((await addEmoji(w.app, 'admin', 'partyparrot', img)).status).toBe(200);
    // Webhook endpoints got each change, in order, in the app's lane.
    const got = (await eventually(() => {
      const bodies = rcv.on('/emoji').filter((r) => r.json?.event?.shortcode === 'partyparrot');
      return bodies.length >= 3 ? bodies : null;
    }, 20_000)) as Received[];
    expect(got.map((r) => `${r.json.type}:${r.json.event.change}`)).toEqual([
      'emoji.updated:added',
      'emoji.updated:removed',
      'emoji.updated:added',
    ]);
  });

  it('adding counts against the uploads rate limit', async () => {
    const limits = structuredClone(NO_LIMITS);
    limits.uploads.user = 1;
    const rl = await startHarness({ limits });
    try {
      const rlBase = await rl.listen();
      const app = await rl.createApp();
      await rl.users(app, [{ id: 'admin', role: 'admin' }]);
      const form = async (code: string) => {
        const f = new FormData();
        f.append('shortcode', code);
        f.append('file', new Blob([new Uint8Array(await png(64))], { type: 'image/png' }), 'e.png');
        return answer(await fetch(`${rlBase}/v1/emoji`, { method: 'POST', headers: await app.user('admin'), body: f }));
      };
      expect((await form('first')).status).toBe(200);
      const second = await form('second');
      expectError({ status: second.status, body: second.json }, 429, 'RATE_LIMITED');
      expect(second.json.error.details).toMatchObject({ limit: 'uploads', scope: 'user' });
    } finally {
      await rl.close();
    }
  });

  it('another app sees none of them and cannot remove them', async () => {
    const other = await makeWorld(h, [{ id: 'admin', role: 'admin' }]);
    expect((await other.rest('admin', 'GET', '/v1/emoji')).body.emoji).toEqual([]);
    expectError(await other.rest('admin', 'DELETE', '/v1/emoji/blobcat'), 404, 'NOT_FOUND');
    // The same shortcode is free there.
    expect((await addEmoji(other.app, 'admin', 'blobcat', await png(64))).status).toBe(200);
    expect(
      (await w.rest('bob', 'GET', '/v1/emoji')).body.emoji.filter((e: any) => e.shortcode === 'blobcat').length,
    ).toBe(1);
  });
});
