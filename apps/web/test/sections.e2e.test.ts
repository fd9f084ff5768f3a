/**
 * Sidebar sections and saved messages in real Chromium against a real server: Olive makes a
 * section, drags a channel into it (HTML5 drag and drop) and sees it there after a reload and,
 * live, in her second tab; she stars a channel from its row's menu with the keyboard; she
 * saves a message from its actions and finds it in Saved, and opens it from there. Ben adds a
 * bookmark to #general's header bar (live in his other tab), browses its Files panel (images
 * as a gallery) and stars it from the header.
 * Screenshots go to /tmp/shots-sections/.
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAccount, buildWorkspace, chatHeaders, ok } from '../../../packages/server/test/accounts/helpers.js';
import type { Harness } from '../../../packages/server/test/harness.js';
import { haveBrowser, openWindow, startWebApp, type WebApp } from './browser.js';

const WAIT = { timeout: 30_000 };
const SHOTS = '/tmp/shots-sections';

let h: Harness;
let app: WebApp | undefined;
const errors: string[] = [];

/** The cids listed in a sidebar section (by its title), in order. */
const cidsIn = (p: Page, title: string) =>
  p
    .locator('.app-sidebar section.parley-channel-list__section', {
      has: p.locator('.parley-channel-list__title', { hasText: title }),
    })
    .locator('[data-cid]')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-cid')));
const section = (p: Page, title: string) =>
  p.locator('.app-sidebar section.parley-channel-list__section', {
    has: p.locator('.parley-channel-list__title', { hasText: title }),
  });

describe.skipIf(!haveBrowser)('sidebar sections and saved items in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    app = await startWebApp();
    ({ h } = app);
  }, 180_000);

  afterAll(async () => {
    await app?.close();
  });

  it('a channel dragged into a section stays there after a reload and shows live in a second tab', {
    timeout: 150_000,
  }, async () => {
    const olive = await buildAccount(h, 'Olive Owner', 'olive@example.com');
    const ws = await buildWorkspace(olive, 'Harbor');
    const chat = chatHeaders(ok(await olive.session(ws.id)));
    for (const id of ['general', 'design', 'ops'])
      ok(
        await h.call({
          method: 'POST',
          url: '/v1/channels',
          headers: chat,
          payload: { type: 'public', id, name: id, members: [] },
        }),
      );
    const context = await (app as WebApp).as(olive.cookie);
    const a = await context.newPage();
    const b = await openWindow(context);
    for (const p of [a, b]) {
      p.on('pageerror', (e) => errors.push(e.message));
      await p.setViewportSize({ width: 1280, height: 800 });
      await p.goto(`/w/${ws.id}/c/public:general`);
      await p.locator('.app-sidebar [data-cid="public:design"]').waitFor(WAIT);
    }

    // A new section, from the list's own button.
    await a.getByRole('button', { name: '+ New section' }).click();
    await a.getByLabel('New section name').fill('Projects');
    await a.getByLabel('New section name').press('Enter');
    await section(a, 'Projects').waitFor(WAIT);
    await section(b, 'Projects').waitFor(WAIT);

    // Drag #design into it (HTML5 drag and drop).
    await a
      .locator('.app-sidebar [data-cid="public:design"]')
      .dragTo(section(a, 'Projects').locator('.parley-channel-list__empty'));
    await expect.poll(() => cidsIn(a, 'Projects'), WAIT).toEqual(['public:design']);
    // Live in the other tab, and no longer under Channels.
    await expect.poll(() => cidsIn(b, 'Projects'), WAIT).toEqual(['public:design']);
    expect(await cidsIn(b, 'Channels')).not.toContain('public:design');
    // And drag #ops in above it.
    await a
      .locator('.app-sidebar [data-cid="public:ops"]')
      .dragTo(a.locator('.app-sidebar [data-cid="public:design"]'), { targetPosition: { x: 20, y: 3 } });
    await expect.poll(() => cidsIn(a, 'Projects'), WAIT).toEqual(['public:ops', 'public:design']);
    await expect.poll(() => cidsIn(b, 'Projects'), WAIT).toEqual(['public:ops', 'public:design']);

    await a.reload();
    await section(a, 'Projects').waitFor(WAIT);
    await expect.poll(() => cidsIn(a, 'Projects'), WAIT).toEqual(['public:ops', 'public:design']);

    // The keyboard's way: a row's menu (Shift+F10) stars #general.
    const general = a.locator('.app-sidebar [data-cid="public:general"]');
    await general.focus();
    await a.keyboard.press('Shift+F10');
    await a.getByRole('menuitem', { name: 'Star' }).click();
    await expect.poll(() => cidsIn(a, 'Starred'), WAIT).toEqual(['public:general']);
    await expect.poll(() => cidsIn(b, 'Starred'), WAIT).toEqual(['public:general']);
    // Collapse Projects from its header: kept on the server, so the other tab folds it too.
    await section(a, 'Projects').getByRole('button', { name: 'Projects', exact: true }).click();
    await expect.poll(() => cidsIn(b, 'Projects'), WAIT).toEqual([]);
    await section(a, 'Projects').getByRole('button', { name: 'Projects', exact: true }).click();
    await expect.poll(() => cidsIn(b, 'Projects'), WAIT).toEqual(['public:ops', 'public:design']);
    await section(a, 'Projects').getByRole('button', { name: 'Projects section options' }).click();
    await a.screenshot({ path: `${SHOTS}/sections-menu.png` });
    await a.keyboard.press('Escape');
    await a.locator('.app-sidebar').screenshot({ path: `${SHOTS}/sections-sidebar.png` });

    // Save a message from its actions; find it in Saved; open it from there.
    const composer = a.getByRole('combobox', { name: 'Message #general' });
    await composer.waitFor(WAIT);
    await composer.fill('remember the harbor fees');
    await composer.press('Enter');
    const m = a.locator('article.parley-message', { hasText: 'remember the harbor fees' }).first();
    await expect.poll(() => m.getAttribute('data-status'), WAIT).toBe('sent');
    await m.hover();
    await m.getByRole('button', { name: 'Save message' }).click();
    await expect
      .poll(() => m.getByRole('button', { name: 'Remove from saved' }).getAttribute('aria-pressed'), WAIT)
      .toBe('true');
    await b.getByTestId('saved-button').click();
    const saved = b.getByRole('dialog', { name: 'Saved' });
    const item = saved.getByTestId('saved-item').filter({ hasText: 'remember the harbor fees' });
    await item.waitFor(WAIT);
    expect(await item.textContent()).toContain('#general');
    await item.getByRole('button', { name: 'Remind me' }).click();
    await item.getByRole('button', { name: 'Every weekday from tomorrow' }).click();
    await expect.poll(() => item.textContent(), WAIT).toContain('every weekday');
    await b.screenshot({ path: `${SHOTS}/saved-view.png` });
    await item.getByRole('button', { name: 'Open' }).click();
    await b.waitForURL(/\/c\/public:general\?m=/);
    await b.locator('article.parley-message', { hasText: 'remember the harbor fees' }).first().waitFor(WAIT);

    // Done: it leaves the list in both tabs.
    await a.getByTestId('saved-button').click();
    const aSaved = a.getByRole('dialog', { name: 'Saved' });
    await aSaved.getByTestId('saved-item').first().getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => aSaved.getByTestId('saved-item').count(), WAIT).toBe(0);
    expect(errors).toEqual([]);
  });

  it('a section dragged above another stays there after a reload and moves live in a second tab', {
    timeout: 150_000,
  }, async () => {
    const olive = await buildAccount(h, 'Olive Owner', 'olive-order@example.com');
    const ws = await buildWorkspace(olive, 'Quayside');
    const chat = chatHeaders(ok(await olive.session(ws.id)));
    for (const name of ['Projects', 'Later'])
      expect(
        (await h.call({ method: 'POST', url: '/v1/me/sidebar/sections', headers: chat, payload: { name } })).status,
      ).toBe(201);
    const titles = (p: Page) =>
      p.locator('.app-sidebar .parley-channel-list__title').evaluateAll((els) => els.map((e) => e.textContent));
    const context = await (app as WebApp).as(olive.cookie);
    const a = await context.newPage();
    const b = await openWindow(context);
    for (const p of [a, b]) {
      p.on('pageerror', (e) => errors.push(e.message));
      await p.setViewportSize({ width: 1280, height: 800 });
      await p.goto(`/w/${ws.id}/c/public:general`);
      await section(p, 'Later').waitFor(WAIT);
    }
    expect((await titles(a)).slice(0, 2)).toEqual(['Projects', 'Later']);
    // Drag Later by its header onto the upper edge of Projects: it lands above.
    await section(a, 'Later')
      .locator('.parley-channel-list__head')
      .dragTo(section(a, 'Projects'), { targetPosition: { x: 40, y: 4 } });
    await expect.poll(async () => (await titles(a)).slice(0, 2), WAIT).toEqual(['Later', 'Projects']);
    await a.locator('.app-sidebar').screenshot({ path: `${SHOTS}/section-dragged.png` });
    // Live in the other tab, and kept on the server: the same after a reload.
    await expect.poll(async () => (await titles(b)).slice(0, 2), WAIT).toEqual(['Later', 'Projects']);
    await a.reload();
    await section(a, 'Later').waitFor(WAIT);
    expect((await titles(a)).slice(0, 2)).toEqual(['Later', 'Projects']);
    // And back below, onto the lower edge of Projects.
    const box = await section(a, 'Projects').boundingBox();
    await section(a, 'Later')
      .locator('.parley-channel-list__head')
      .dragTo(section(a, 'Projects'), { targetPosition: { x: 40, y: Math.max(1, (box?.height ?? 10) - 3) } });
    await expect.poll(async () => (await titles(b)).slice(0, 2), WAIT).toEqual(['Projects', 'Later']);
    expect(errors).toEqual([]);
  });

  it('a bookmark added in the header shows live in the other tab; the Files panel shows images as a gallery', {
    timeout: 150_000,
  }, async () => {
    const ben = await buildAccount(h, 'Ben Builder', 'ben@example.com');
    const ws = await buildWorkspace(ben, 'Dockside');
    const session = ok(await ben.session(ws.id));
    const chat = chatHeaders(session);
    ok(
      await h.call({
        method: 'POST',
        url: '/v1/channels',
        headers: chat,
        payload: { type: 'public', id: 'general', name: 'general', members: [] },
      }),
    );
    // Two pictures shared in #general, for its Files panel.
    for (const [i, color] of ['#3558d6', '#e5484d'].entries()) {
      const png = await sharp({ create: { width: 120, height: 80, channels: 3, background: color } })
        .png()
        .toBuffer();
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), `pic-${i}.png`);
      const up = await fetch(`${(app as WebApp).base}/v1/channels/public:general/uploads`, {
        method: 'POST',
        headers: chat,
        body: form,
      });
      const { attachment } = (await up.json()) as { attachment: { id: string } };
      ok(
        await h.call({
          method: 'POST',
          url: '/v1/channels/public:general/messages',
          headers: chat,
          payload: { text: `picture ${i}`, attachments: [attachment.id] },
        }),
      );
    }
    const context = await (app as WebApp).as(ben.cookie);
    const a = await context.newPage();
    const b = await openWindow(context);
    for (const p of [a, b]) {
      p.on('pageerror', (e) => errors.push(e.message));
      await p.setViewportSize({ width: 1280, height: 800 });
      await p.goto(`/w/${ws.id}/c/public:general`);
      await p.getByRole('navigation', { name: 'Bookmarks' }).waitFor(WAIT);
    }
    await a.getByRole('button', { name: '+ Add a bookmark' }).click();
    await a.getByLabel('Link').fill('https://example.com/harbor-schedule');
    await a.getByLabel('Title (optional)').fill('Harbor schedule');
    await a.getByRole('button', { name: 'Add', exact: true }).click();
    const link = (p: Page) =>
      p.getByRole('navigation', { name: 'Bookmarks' }).getByRole('link', { name: 'Harbor schedule' });
    await link(a).waitFor(WAIT);
    await link(b).waitFor(WAIT);
    expect(await link(b).getAttribute('href')).toBe('https://example.com/harbor-schedule');

    await b.getByTestId('files-button').click();
    const panel = b.getByRole('complementary', { name: 'Files' });
    await expect.poll(() => panel.locator('.parley-gallery__item img').count(), WAIT).toBe(2);
    await panel.getByRole('button', { name: 'Other files' }).click();
    await panel.getByText('No files shared here of this kind yet.').waitFor(WAIT);
    await panel.getByRole('button', { name: 'Images' }).click();
    await expect.poll(() => panel.locator('.parley-gallery__item img').count(), WAIT).toBe(2);
    await b.screenshot({ path: `${SHOTS}/bookmarks-files.png` });

    // Removed in one tab, gone from the other.
    await a.getByRole('button', { name: 'Remove bookmark Harbor schedule' }).click();
    await expect.poll(() => link(b).count(), WAIT).toBe(0);

    // The header's star puts the channel into Starred, on every tab.
    await a.getByTestId('star-button').click();
    await expect.poll(() => cidsIn(b, 'Starred'), WAIT).toEqual(['public:general']);
    expect(await b.getByTestId('star-button').getAttribute('aria-pressed')).toBe('true');
    expect(errors).toEqual([]);
  });
});
