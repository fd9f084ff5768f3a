/**
 * The React Native kit through react-native-web in Chromium, two people on phone-sized screens
 * against a live server: Bob writes in #lunch, Alice sees it in her list and opens it, Bob sees
 * her read it; Alice types (Bob sees it), mentions Bob from the composer's suggestions; Bob
 * reacts from the actions sheet and answers in a thread; Alice opens the thread, answers, and
 * sends a picture through the web's file picker; Bob's screen with a custom `MessageUI`.
 * With PARLEY_RN_SHOTS=DIR it saves a screenshot of each component (docs/screens/react-native/
 * holds the ones docs/react-native.md shows).
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless PARLEY_REQUIRE_BROWSER=1.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveBrowser, launchChromium } from '../../../apps/web/test/browser.js';
import { type Harness, startHarness, type TestApp } from '../../server/test/harness.js';

const WEB = path.resolve(import.meta.dirname, '../web');
const SHOTS = process.env.PARLEY_RN_SHOTS;
const WAIT = { timeout: 15_000 };

/** A small PNG (an orange square), made here: what Alice sends as a picture. */
function png(size: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = (crcTable[(c ^ x) & 0xff] as number) ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(size * 3, Buffer.from([0xf5, 0x9e, 0x0b]))]);
  const raw = Buffer.concat(Array.from({ length: size }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe.skipIf(!haveBrowser)('the React Native kit through react-native-web, two people', () => {
  let dir = '';
  let h: Harness;
  let app: TestApp;
  /** The page's own origin (a static server of the build), and the Parley server's. */
  let base = '';
  let api = '';
  let pages: Server;
  let browser: Browser;
  let alice: Page;
  let bob: Page;
  const errors: string[] = [];

  const shot = async (p: Page, name: string) => {
    if (SHOTS) await p.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  };
  const open = async (user: string, extra = '', before?: (page: Page) => Promise<unknown>) => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    await before?.(page);
    page.on('pageerror', (e) => errors.push(`${user}: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${user}: ${m.text()}`);
    });
    const token = await app.token(user);
    await page.goto(`${base}/?server=${encodeURIComponent(api)}&key=${app.apiKey}&user=${user}&token=${token}${extra}`);
    return page;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'parley-rnw-'));
    const env = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await build({
        configFile: path.join(WEB, 'vite.config.ts'),
        logLevel: 'error',
        build: { outDir: dir, emptyOutDir: true },
      });
    } finally {
      process.env.NODE_ENV = env;
    }
    h = await startHarness();
    api = await h.listen();
    // The build on an origin of its own, as an embedder serves their app.
    const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
    pages = createServer((req, res) => {
      const rel = (req.url ?? '/').split('?')[0] === '/' ? 'index.html' : (req.url ?? '').split('?')[0]?.slice(1);
      const file = path.join(dir, path.normalize(rel ?? '').replace(/^(\.\.[/\\])+/, ''));
      try {
        const body = readFileSync(file);
        res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
        res.end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => pages.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(pages.address() as { port: number }).port}`;
    app = await h.createApp('rnw');
    await h.users(app, [
      { id: 'alice', name: 'Alice Martin', username: 'alice' },
      { id: 'bob', name: 'Bob Chen', username: 'bob' },
      { id: 'carol', name: 'Carol Diaz', username: 'carol' },
    ]);
    const made = await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers: await app.server(),
      payload: { type: 'group', id: 'lunch', name: 'lunch', members: ['alice', 'bob', 'carol'], created_by: 'carol' },
    });
    expect(made.status).toBe(200);
    const welcome = await h.call({
      method: 'POST',
      url: '/v1/channels/group:lunch/messages',
      headers: await app.user('carol'),
      payload: { text: 'Lunch plans go here 🍜' },
    });
    expect(welcome.status).toBe(200);
    const dm = await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers: await app.user('carol'),
      payload: { type: 'dm', members: ['alice', 'carol'] },
    });
    expect(dm.status).toBe(200);
    const dmSent = await h.call({
      method: 'POST',
      url: `/v1/channels/${dm.body.channel.cid}/messages`,
      headers: await app.user('carol'),
      payload: { text: 'Are you coming to the demo at 3?' },
    });
    expect(dmSent.status).toBe(200);
    browser = await launchChromium();
    if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((r) => (pages ? pages.close(() => r()) : r()));
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('both see #lunch in their list; Bob writes, Alice sees it unread, opens it, and Bob sees her read it', async () => {
    alice = await open('alice');
    bob = await open('bob');
    await bob.getByRole('button', { name: /^#lunch/ }).click(WAIT);
    await bob.getByText('Lunch plans go here 🍜').waitFor(WAIT);
    await bob.getByLabel('Message', { exact: true }).fill("Who's in for ramen at 12:30?");
    await bob.getByRole('button', { name: 'Send' }).click();
    const row = alice.getByRole('button', { name: '#lunch, 2 unread' });
    await row.waitFor(WAIT);
    await alice.getByText("Bob Chen: Who's in for ramen at 12:30?").waitFor(WAIT);
    await alice.getByRole('button', { name: 'Carol Diaz, 1 unread' }).waitFor(WAIT);
    expect(await alice.getByRole('alert').count()).toBe(0);
    await shot(alice, 'channel-list');
    await row.click();
    await alice.getByText("Who's in for ramen at 12:30?").waitFor(WAIT);
    await bob.getByText('Seen by Alice Martin').waitFor(WAIT);
  });

  it('Alice types and Bob sees it; she mentions him from the suggestions', async () => {
    const input = alice.getByLabel('Message', { exact: true });
    await input.pressSequentially('Me! @bo');
    await bob.getByText('Alice Martin is typing…').waitFor(WAIT);
    await shot(bob, 'typing-indicator');
    await alice.getByRole('button', { name: 'Mention Bob Chen' }).waitFor(WAIT);
    await shot(alice, 'composer-mentions');
    await alice.getByRole('button', { name: 'Mention Bob Chen' }).click();
    expect(await input.inputValue()).toBe('Me! @bob ');
    await input.pressSequentially('save me a seat');
    await alice.getByRole('button', { name: 'Send' }).click();
    // The mention is resolved by the server: on Bob's screen it is marked.
    await bob.getByText('Me! @bob save me a seat', { exact: false }).waitFor(WAIT);
    await bob.getByText('@bob', { exact: true }).waitFor(WAIT);
  });

  it('Bob reacts from the actions sheet and replies in a thread; Alice sees both', async () => {
    const hers = bob.getByLabel('Message from Alice Martin').last();
    await hers.getByRole('button', { name: 'Message actions' }).click();
    await bob.getByRole('button', { name: 'React with love' }).waitFor(WAIT);
    // The sheet fades in: shown once its animation has finished.
    await bob.waitForFunction(() => document.getAnimations().every((a) => a.playState === 'finished'), undefined, WAIT);
    await shot(bob, 'message-actions');
    await bob.getByRole('button', { name: 'React with love' }).click();
    await alice.getByRole('button', { name: 'love reaction, 1' }).waitFor(WAIT);
    await hers.getByRole('button', { name: 'Message actions' }).click();
    await bob.getByRole('menuitem', { name: 'Reply in thread' }).click();
    await bob.getByLabel('Reply', { exact: true }).fill('Done, window seat');
    await bob.getByLabel('Thread').getByRole('button', { name: 'Send' }).click();
    await bob.getByLabel('Thread').getByText('Done, window seat').waitFor(WAIT);
    await bob.getByRole('button', { name: 'Close thread' }).click();
    await alice.getByText('1 reply').waitFor(WAIT);
  });

  it('Alice opens the thread, answers, and sends a picture; Bob sees the file', async () => {
    await alice.getByText('1 reply').click();
    await alice.getByLabel('Thread').getByText('Done, window seat').waitFor(WAIT);
    await alice.getByLabel('Reply', { exact: true }).fill('Perfect, thanks!');
    await alice.getByLabel('Thread').getByRole('button', { name: 'Send' }).click();
    await alice.getByLabel('Thread').getByText('Perfect, thanks!').waitFor(WAIT);
    await bob.getByText('2 replies').waitFor(WAIT);
    await shot(alice, 'thread');
    await alice.getByRole('button', { name: 'Close thread' }).click();

    const chooser = alice.waitForEvent('filechooser');
    await alice.getByRole('button', { name: 'Attach files' }).click();
    await (await chooser).setFiles({ name: 'ramen.png', mimeType: 'image/png', buffer: png(64) });
    await alice.getByRole('button', { name: 'Remove ramen.png' }).waitFor(WAIT);
    await alice.getByLabel('Message', { exact: true }).fill('Our table');
    await alice.getByRole('button', { name: 'Send' }).click();
    await bob.getByText('Our table').waitFor(WAIT);
    await bob.getByRole('button', { name: 'Image ramen.png' }).waitFor(WAIT);
    // The picture is shown from its signed link once it has loaded.
    await bob.waitForFunction(
      () => [...document.querySelectorAll('img')].some((i) => i.complete && i.naturalWidth > 0),
      undefined,
      WAIT,
    );
    await alice.getByText('Seen by Bob Chen').waitFor(WAIT);
    await shot(bob, 'message-list');
  });

  it('the MessageUI slot: Bob’s screen with bubbles, files kept on the kit’s row', async () => {
    // The first loads of the list and of #lunch's messages fail on the network (as a phone
    // changing networks, or Chromium's ERR_NETWORK_CHANGED when a container network came up
    // beside this test): each is asked again by itself, with no reconnect to prompt it.
    let cut = 0;
    let cutHistory = 0;
    const custom = await open('bob', '&ui=bubble', async (page) => {
      await page.route('**/v1/channels/query', (route) =>
        cut++ < 2 ? route.abort('internetdisconnected') : route.continue(),
      );
      await page.route(/\/v1\/channels\/group:lunch\/messages\?/, (route) =>
        cutHistory++ < 2 ? route.abort('internetdisconnected') : route.continue(),
      );
    });
    await custom.getByRole('button', { name: /^#lunch/ }).click(WAIT);
    expect(cut).toBeGreaterThan(2);
    // Meanwhile the screen says why it is empty, and that it is not giving up.
    await custom.getByText(/^Could not open this channel: .+ \(trying again…\)$/).waitFor(WAIT);
    await custom.getByLabel('My bubble').first().waitFor(WAIT);
    await custom.getByLabel('Their bubble').first().waitFor(WAIT);
    expect(cutHistory).toBeGreaterThan(2);
    // The aborted loads' console lines are the test's doing, not the page's.
    for (let i = errors.length - 1; i >= 0; i--)
      if (errors[i]?.includes('ERR_INTERNET_DISCONNECTED')) errors.splice(i, 1);
    await custom.getByRole('button', { name: 'Image ramen.png' }).waitFor(WAIT);
    await shot(custom, 'message-ui');
    const dark = await open('alice', '&theme=dark');
    await dark.getByRole('button', { name: /^#lunch/ }).click(WAIT);
    await dark.getByText('Our table').waitFor(WAIT);
    await dark.waitForFunction(
      () => [...document.querySelectorAll('img')].some((i) => i.complete && i.naturalWidth > 0),
      undefined,
      WAIT,
    );
    await shot(dark, 'dark');
    expect(errors).toEqual([]);
  });
});
