/**
 * Files in the web app, in real Chromium against a real server: Ada drops an image into
 * #general; Bob sees the message live, its thumbnail arrives (the media job, then
 * message.updated), and he opens it in the lightbox and leaves it with the keyboard. Also the
 * attach button with a non-image file (a file card with a download link). Then a link becomes a
 * card (the page comes from a local server the preview fetcher's test allow-list names), and
 * Ada removes it. Last, the composer's emoji picker: Ada searches, moves with the arrow keys,
 * picks with Enter, and the emoji goes in at the caret and out to Bob.
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../../../packages/server/test/harness.js';
import { APP_ROOT, buildWebApp, createWorkspace, haveBrowser, inviteLink, launchChromium, signUp } from './browser.js';

const WAIT = { timeout: 20_000 };

let h: Harness;
let base: string;
let browser: Browser;
let pages: http.Server;
let site: string;
/** Ada's and Bob's pages, signed in by the first test; later tests go on from there. */
let ada: { page: Page; errors: string[] };
let bob: { page: Page; errors: string[] };

const composer = (page: Page) => page.getByRole('combobox', { name: 'Message #general' });
const message = (page: Page, text: string) => page.locator('article.parley-message', { hasText: text }).first();

async function newPage(): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/.test(m.text())) errors.push(m.text());
  });
  return { page, errors };
}

describe.skipIf(!haveBrowser)('files in the web app', () => {
  beforeAll(async () => {
    const png = await sharp({ create: { width: 640, height: 320, channels: 3, background: '#e07020' } })
      .png()
      .toBuffer();
    pages = http.createServer((req, res) => {
      if (req.url === '/cover.png') {
        res.writeHead(200, { 'content-type': 'image/png' });
        return res.end(png);
      }
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        '<html><head><title>Launch notes</title><meta property="og:title" content="We launched">' +
          '<meta property="og:site_name" content="Acme Blog"><meta property="og:description" content="Everything new.">' +
          '<meta property="og:image" content="/cover.png"></head><body></body></html>',
      );
    });
    await new Promise<void>((r) => pages.listen(0, '127.0.0.1', () => r()));
    const pagesPort = (pages.address() as AddressInfo).port;
    site = `http://127.0.0.1:${pagesPort}`;
    h = await startHarness({
      webDir: await buildWebApp(),
      jobPollMs: 100,
      previewAllowHosts: [`127.0.0.1:${pagesPort}`],
    });
    base = await h.listen();
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
    pages?.closeAllConnections();
    await new Promise((r) => (pages ? pages.close(r) : r(null)));
  });

  it('Ada drops an image, Bob sees the thumbnail live and opens the lightbox', async () => {
    ada = await newPage();
    bob = await newPage();
    const a = ada.page;
    const b = bob.page;
    await createWorkspace(a, 'Ada Lovelace', 'ada@example.com', 'Acme');
    await b.goto(await inviteLink(a));
    await signUp(b, 'Bob Builder', 'bob@example.com');
    await b.getByRole('button', { name: 'Create account and join' }).click();
    await b.waitForURL(/\/c\/public:general$/);
    await composer(b).waitFor(WAIT);

    // Ada drags a photo onto the composer and sends it with a caption.
    const png = await sharp({ create: { width: 1600, height: 900, channels: 3, background: '#2a7fd4' } })
      .png()
      .toBuffer();
    const drop = await a.evaluateHandle((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'lake.png', { type: 'image/png' }));
      return dt;
    }, png.toString('base64'));
    await a.locator('form.parley-input').first().dispatchEvent('drop', { dataTransfer: drop });
    await a.getByRole('list', { name: 'Files to send' }).getByText('lake.png').waitFor(WAIT);
    await composer(a).fill('the lake');
    await composer(a).press('Enter');
    await expect.poll(() => message(a, 'the lake').getAttribute('data-status'), WAIT).toBe('sent');

    // Bob: the message arrives live, then its thumbnail (blurhash placeholder before it).
    const m = message(b, 'the lake');
    await m.waitFor(WAIT);
    const thumb = m.locator('.parley-attachment-image');
    await expect.poll(() => thumb.getAttribute('data-processing'), WAIT).toBe('ready');
    const img = thumb.locator('img');
    await expect.poll(() => img.getAttribute('src'), WAIT).toMatch(/\/v1\/files\/[^/]+\/signed\?.*v=360/);
    await expect
      .poll(
        () => img.evaluate((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth),
        WAIT,
      )
      .toBe(360);

    // The lightbox opens on a click, shows the large thumbnail, and Escape closes it.
    await thumb.click();
    const box = b.getByRole('dialog', { name: /lake\.png/ });
    await box.waitFor(WAIT);
    const big = box.locator('img');
    await expect
      .poll(
        () => big.evaluate((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth),
        WAIT,
      )
      .toBe(1280);
    await b.keyboard.press('Escape');
    await expect.poll(() => box.count(), WAIT).toBe(0);

    // The attach button: a text file becomes a file card with a download link.
    await a
      .getByTestId('parley-file-input')
      .first()
      .setInputFiles({
        name: 'notes.txt',
        mimeType: 'text/plain',
        buffer: Buffer.from('meeting notes\n'),
      });
    await composer(a).press('Enter');
    const card = b.locator('.parley-file-card', { hasText: 'notes.txt' });
    await card.waitFor(WAIT);
    const href = await card.getByRole('link', { name: 'Download' }).getAttribute('href');
    const got = await fetch(href as string);
    expect(await got.text()).toBe('meeting notes\n');

    expect(ada.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  }, 120_000);

  it('a link becomes a card, with the image from our server; Ada removes it', async () => {
    const a = ada.page;
    const b = bob.page;
    await composer(a).fill(`release notes: ${site}/launch`);
    await composer(a).press('Enter');
    await expect.poll(() => message(a, 'release notes').getAttribute('data-status'), WAIT).toBe('sent');

    // Bob sees the card arrive (the unfurl job, then message.updated), its thumbnail loaded.
    const card = message(b, 'release notes').locator('.parley-link-preview');
    await card.waitFor(WAIT);
    await expect.poll(() => card.locator('.parley-link-preview__site').textContent(), WAIT).toBe('Acme Blog');
    const title = card.getByRole('link', { name: 'We launched' });
    expect(await title.getAttribute('href')).toBe(`${site}/launch`);
    expect(await title.getAttribute('target')).toBe('_blank');
    await expect(card.getByText('Everything new.').count()).resolves.toBe(1);
    const img = card.locator('img');
    expect(await img.getAttribute('src')).toMatch(new RegExp(`^${base}/v1/link-images/`));
    await expect
      .poll(
        () => img.evaluate((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth),
        WAIT,
      )
      .toBe(360);
    expect(await card.getByRole('button', { name: /Remove preview/ }).count()).toBe(0);
    await b.screenshot({ path: path.join(APP_ROOT, 'test', 'screenshots', 'link-preview.png') });

    // Ada removes it; it goes on both sides.
    const mine = message(a, 'release notes').locator('.parley-link-preview');
    await mine.waitFor(WAIT);
    await mine.getByRole('button', { name: 'Remove preview of 127.0.0.1' }).click();
    await expect.poll(() => mine.count(), WAIT).toBe(0);
    await expect.poll(() => card.count(), WAIT).toBe(0);

    expect(ada.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  }, 120_000);

  it('the emoji picker: search, arrow keys, Enter inserts at the caret, and it is sent', async () => {
    const a = ada.page;
    const b = bob.page;
    const box = composer(a);
    await box.fill('ship it today');
    // The caret after "ship it".
    await box.evaluate((el) => (el as HTMLTextAreaElement).setSelectionRange(7, 7));
    await a.getByRole('button', { name: 'Insert emoji' }).click();
    const search = a.getByRole('combobox', { name: 'Search emoji' });
    await expect.poll(() => search.evaluate((el) => el === document.activeElement), WAIT).toBe(true);
    const picked = () =>
      a.getByRole('dialog', { name: 'Emoji' }).getByRole('option', { selected: true }).getAttribute('aria-label');
    await search.pressSequentially('rocket');
    await expect.poll(picked, WAIT).toBe('Rocket');
    await a.screenshot({ path: path.join(APP_ROOT, 'test', 'screenshots', 'emoji-picker.png') });
    // Arrow keys move through the results and back.
    await search.press('ArrowRight');
    await expect.poll(picked, WAIT).not.toBe('Rocket');
    await search.press('ArrowLeft');
    await expect.poll(picked, WAIT).toBe('Rocket');
    await search.press('Enter');
    await expect.poll(() => a.getByRole('dialog', { name: 'Emoji' }).count(), WAIT).toBe(0);
    expect(await box.inputValue()).toBe('ship it🚀 today');
    expect(await box.evaluate((el) => (el as HTMLTextAreaElement).selectionStart)).toBe('ship it🚀'.length);
    await box.press('Enter');
    await message(b, 'ship it🚀 today').waitFor(WAIT);
    await expect.poll(() => message(a, 'ship it🚀 today').getAttribute('data-status'), WAIT).toBe('sent');

    expect(ada.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  }, 120_000);
});
