/**
 * A new group in one step, end to end in real Chromium against a real server (PGlite,
 * loopback): Olive opens "New group chat" from the sidebar, whose Create stays off with nobody
 * picked (a group of one is not made), picks Bea and Cal, names the group, gives it a photo and
 * writes its first message, and lands in the group with that message. Bea, in another browser
 * context with the workspace already open, sees the group arrive in her sidebar (live, as
 * `channel.added` with its first message) and reads the message in it, under the group's photo;
 * Cal, on a phone, sees it too, and the dialog is laid out for a phone.
 *
 * Screenshots of the dialog at desktop and phone width go to $TMPDIR/parley-new-group.
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1 (CI) makes that a failure.
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAccount, buildWorkspace, email, join } from '../../../packages/server/test/accounts/helpers.js';
import type { Harness } from '../../../packages/server/test/harness.js';
import { haveBrowser, startWebApp, type WebApp } from './browser.js';
import { layoutProblems, phoneContext } from './phone.js';

const WAIT = { timeout: 15_000 };
const SHOTS = path.join(tmpdir(), 'parley-new-group');
const FIRST = 'Kick-off tomorrow at 10, welcome aboard!';

let h: Harness;
let app: WebApp | undefined;

describe.skipIf(!haveBrowser)('a new group in Chromium', () => {
  beforeAll(async () => {
    app = await startWebApp();
    ({ h } = app);
    mkdirSync(SHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
  });

  it('creates a group with two people and a first message that its members see with it', {
    timeout: 120_000,
  }, async () => {
    const web = app as WebApp;
    const olive = await buildAccount(h, 'Olive Owner', email('olive'));
    const bea = await buildAccount(h, 'Bea Baker', email('bea'));
    const cal = await buildAccount(h, 'Cal Carter', email('cal'));
    const ws = await buildWorkspace(olive, 'Harbor');
    await join(olive, ws.id, bea);
    await join(olive, ws.id, cal);

    const owner = await web.as(olive.cookie);
    const member = await web.as(bea.cookie);
    const phone = await phoneContext(web.browser, web.base);
    const [name, value] = (cal.cookie as string).split('=') as [string, string];
    await phone.addCookies([{ name, value, url: web.base }]);
    const errors: string[] = [];
    try {
      // Bea has the workspace open before the group exists: it must arrive live.
      const b = await member.newPage();
      b.on('pageerror', (e) => errors.push(`bea: ${e.message}`));
      await b.setViewportSize({ width: 1280, height: 800 });
      await b.goto(`/w/${ws.id}`);
      await expect.poll(() => b.getByTestId('channel-name').textContent(), WAIT).toBe('general');

      const o = await owner.newPage();
      o.on('pageerror', (e) => errors.push(`olive: ${e.message}`));
      await o.setViewportSize({ width: 1280, height: 800 });
      await o.goto(`/w/${ws.id}`);
      await expect.poll(() => o.getByTestId('channel-name').textContent(), WAIT).toBe('general');
      await o.getByTestId('new-group-button').click();
      const dialog = o.getByRole('dialog', { name: 'New group chat' });
      await dialog.waitFor(WAIT);
      const create = dialog.getByTestId('new-group-create');
      await dialog.getByLabel('Group name').fill('Launch crew');
      await dialog.getByLabel('First message').fill(FIRST);
      // Nobody picked: a group of one is not offered.
      expect(await create.isDisabled()).toBe(true);
      await dialog.getByText('A group needs at least one other person besides you.').waitFor(WAIT);

      const picker = dialog.getByRole('combobox');
      for (const who of ['Bea', 'Cal']) {
        await picker.fill(who);
        await dialog
          .getByRole('option', { name: new RegExp(who) })
          .first()
          .waitFor(WAIT);
        await picker.press('Enter');
      }
      await dialog.locator('.app-chip', { hasText: 'Bea Baker' }).waitFor(WAIT);
      await dialog.locator('.app-chip', { hasText: 'Cal Carter' }).waitFor(WAIT);
      await dialog.getByLabel(/Photo/).fill(`${web.base}/icons/icon-192.png`);
      await expect
        .poll(() => dialog.locator('.app-new-group__photo img').evaluate((i: HTMLImageElement) => i.naturalWidth), WAIT)
        .toBeGreaterThan(0);
      expect(await create.isDisabled()).toBe(false);
      await o.screenshot({ path: path.join(SHOTS, 'new-group-desktop.png') });

      await create.click();
      await dialog.waitFor({ state: 'detached', ...WAIT });
      await expect.poll(() => o.getByTestId('channel-name').textContent(), WAIT).toBe('Launch crew');
      await o.locator('.app-channel .parley-message', { hasText: FIRST }).waitFor(WAIT);

      // Bea: the group arrives in the sidebar without a reload, and its first message is in it.
      const sidebar = b.getByRole('complementary', { name: 'Workspace sidebar' });
      const row = sidebar.locator('.parley-channel-row', { hasText: 'Launch crew' });
      await row.waitFor(WAIT);
      await row.click();
      await expect.poll(() => b.getByTestId('channel-name').textContent(), WAIT).toBe('Launch crew');
      // The photo chosen in the dialog is the group's picture in its header.
      await expect
        .poll(() => b.getByTestId('channel-photo').getAttribute('src'), WAIT)
        .toBe(`${web.base}/icons/icon-192.png`);
      const seen = b.locator('.app-channel .parley-message', { hasText: FIRST });
      await seen.waitFor(WAIT);
      expect(await seen.count()).toBe(1);
      await b.screenshot({ path: path.join(SHOTS, 'member-desktop.png') });

      // Cal, on a phone: the group is in the sidebar with its message; the dialog fits the screen.
      const c = await phone.newPage();
      c.on('pageerror', (e) => errors.push(`cal: ${e.message}`));
      await c.goto(`/w/${ws.id}`);
      const calSidebar = c.getByRole('complementary', { name: 'Workspace sidebar' });
      const calRow = calSidebar.locator('.parley-channel-row', { hasText: 'Launch crew' });
      await calRow.waitFor(WAIT);
      await calSidebar.getByTestId('new-group-button').tap();
      const phoneDialog = c.getByRole('dialog', { name: 'New group chat' });
      await phoneDialog.waitFor(WAIT);
      await phoneDialog.getByLabel('Group name').fill('Weekend plans');
      await phoneDialog.getByLabel('First message').fill('Hike on Saturday?');
      expect(await layoutProblems(c, { header: false }), 'the new-group dialog on a phone').toEqual([]);
      await c.screenshot({ path: path.join(SHOTS, 'new-group-phone.png') });
      await phoneDialog.getByRole('button', { name: 'Cancel' }).tap();
      await phoneDialog.waitFor({ state: 'detached', ...WAIT });
      await calRow.tap();
      await c.locator('.app-channel .parley-message', { hasText: FIRST }).waitFor(WAIT);
      await c.screenshot({ path: path.join(SHOTS, 'member-phone.png') });
      expect(errors).toEqual([]);
    } finally {
      await owner.close();
      await member.close();
      await phone.close();
    }
  });
});
