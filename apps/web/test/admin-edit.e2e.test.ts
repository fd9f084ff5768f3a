/**
 * An admin corrects a member's name and title, end to end in real Chromium against a real server
 * (PGlite, loopback): Olive (the workspace's owner) opens Bea's card from her message, tries a
 * blank name (the server's error shows in the dialog), then saves a new name and title. Bea, in
 * another browser context with the workspace open, sees her new name on her message without a
 * reload. Bea, a member, is offered no such action on Olive's card; the audit log holds the
 * change, and the admin console's Audit log tab says it in words. Olive does it again on a phone
 * (390 px), where the dialog fits the screen. Made an admin, Bea is offered the action on Cy's
 * card (a member) but not on Olive's (an owner outranks her).
 *
 * Screenshots at desktop and phone width go to PARLEY_SHOTS (default $TMPDIR/parley-admin-edit).
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1 (CI) makes that a failure.
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAccount, buildWorkspace, email, join, ok } from '../../../packages/server/test/accounts/helpers.js';
import type { Harness } from '../../../packages/server/test/harness.js';
import { api, haveBrowser, startWebApp, type WebApp } from './browser.js';
import { layoutProblems, phoneContext } from './phone.js';

const WAIT = { timeout: 20_000 };
const SHOTS = process.env.PARLEY_SHOTS ?? path.join(tmpdir(), 'parley-admin-edit');
const HELLO = 'morning all, new here';

let h: Harness;
let app: WebApp | undefined;

describe.skipIf(!haveBrowser)("an admin edits a member's name and title in Chromium", () => {
  beforeAll(async () => {
    app = await startWebApp();
    ({ h } = app);
    mkdirSync(SHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
  });

  it('the owner renames Bea from her card; Bea sees it live; a member has no such action, an admin none on an owner', {
    timeout: 150_000,
  }, async () => {
    const web = app as WebApp;
    const olive = await buildAccount(h, 'Olive Owner', email('olive'));
    const bea = await buildAccount(h, 'Bea Baker', email('bea'));
    const cy = await buildAccount(h, 'Cy Cole', email('cy'));
    const ws = await buildWorkspace(olive, 'Harbor');
    await join(olive, ws.id, bea);
    await join(olive, ws.id, cy);

    const owner = await web.as(olive.cookie);
    const member = await web.as(bea.cookie);
    const phone = await phoneContext(web.browser, web.base);
    const [name, value] = (olive.cookie as string).split('=') as [string, string];
    await phone.addCookies([{ name, value, url: web.base }]);
    const errors: string[] = [];
    try {
      const b = await member.newPage();
      b.on('pageerror', (e) => errors.push(`bea: ${e.message}`));
      await b.setViewportSize({ width: 1280, height: 800 });
      await b.goto(`/w/${ws.id}`);
      await expect.poll(() => b.getByTestId('channel-name').textContent(), WAIT).toBe('general');
      const composer = b.getByRole('combobox', { name: 'Message #general' });
      await composer.fill(HELLO);
      await composer.press('Enter');
      const mine = b.locator('article.parley-message', { hasText: HELLO }).first();
      await mine.getByRole('button', { name: 'Bea Baker', exact: true }).waitFor(WAIT);

      const o = await owner.newPage();
      o.on('pageerror', (e) => errors.push(`olive: ${e.message}`));
      await o.setViewportSize({ width: 1280, height: 800 });
      await o.goto(`/w/${ws.id}`);
      const msg = o.locator('article.parley-message', { hasText: HELLO }).first();
      await msg.waitFor(WAIT);
      await msg.getByRole('button', { name: 'Bea Baker', exact: true }).click();
      const card = o.locator('.app-profile', { hasText: 'Bea Baker' });
      await card.getByRole('button', { name: 'Message' }).waitFor(WAIT);
      await card.getByRole('button', { name: 'Edit name and title' }).click();
      const dialog = o.getByRole('dialog', { name: 'Edit name and title of Bea Baker' });
      await dialog.waitFor(WAIT);

      // A blank name: the dialog says why and stays open; nothing changes.
      await dialog.getByLabel('Display name').fill('   ');
      await dialog.getByRole('button', { name: 'Save' }).click();
      await expect.poll(() => dialog.getByRole('alert').textContent(), WAIT).toBe('A name cannot be blank.');
      await o.screenshot({ path: path.join(SHOTS, 'admin-edit-error-desktop.png') });

      await dialog.getByLabel('Display name').fill('Beatrice Baker');
      await dialog.getByLabel('Title').fill('Head of Pastry');
      await o.screenshot({ path: path.join(SHOTS, 'admin-edit-desktop.png') });
      await dialog.getByRole('button', { name: 'Save' }).click();
      await expect
        .poll(
          async () => ((await dialog.count()) === 0 ? 'closed' : await dialog.getByRole('alert').allTextContents()),
          WAIT,
        )
        .toBe('closed');
      const renamed = o.locator('.app-profile', { hasText: 'Beatrice Baker' });
      await renamed.getByText('Head of Pastry').waitFor(WAIT);

      // Bea, without a reload: her message is under her new name.
      await mine.getByRole('button', { name: 'Beatrice Baker', exact: true }).waitFor(WAIT);
      await b.screenshot({ path: path.join(SHOTS, 'member-sees-rename-desktop.png') });

      // Bea, a member, opens Olive's card: no admin action there.
      const oliveSays = 'welcome Beatrice';
      const oc = o.getByRole('combobox', { name: 'Message #general' });
      await oc.fill(oliveSays);
      await oc.press('Enter');
      const theirs = b.locator('article.parley-message', { hasText: oliveSays }).first();
      await theirs.getByRole('button', { name: 'Olive Owner', exact: true }).click();
      const oliveCard = b.locator('.app-profile', { hasText: 'Olive Owner' });
      await oliveCard.getByRole('button', { name: 'Message' }).waitFor(WAIT);
      expect(await oliveCard.getByRole('button', { name: 'Edit name and title' }).count()).toBe(0);

      // The change is in the audit log, with who did it and what it was.
      const log = await api(o, ws.id, 'GET', '/v1/audit?action=user.profile_updated');
      expect(log.status).toBe(200);
      expect(log.body.entries).toHaveLength(1);
      expect(log.body.entries[0]).toMatchObject({
        actor: { name: 'Olive Owner' },
        target: { kind: 'user' },
        details: {
          name: { from: 'Bea Baker', to: 'Beatrice Baker' },
          title: { from: null, to: 'Head of Pastry' },
        },
      });

      // And on the admin console's Audit log tab, in words.
      await o.getByTestId('workspace-name').click(WAIT);
      await o.getByRole('menuitem', { name: 'Admin console' }).click(WAIT);
      const console_ = o.getByRole('dialog', { name: /Admin console/ });
      await console_.getByRole('tab', { name: 'Audit log' }).click();
      const entry = console_.getByTestId('audit-entry').first();
      await expect.poll(() => entry.getAttribute('data-action'), WAIT).toBe('user.profile_updated');
      expect((await entry.locator('td').allTextContents()).slice(1, 5)).toEqual([
        'Olive Owner',
        'User profile updated',
        'Beatrice Baker',
        'name: Bea Baker → Beatrice Baker; title: — → Head of Pastry',
      ]);
      await o.screenshot({ path: path.join(SHOTS, 'admin-edit-audit-desktop.png') });
      await o.keyboard.press('Escape');

      // Olive on a phone: the card's action and the dialog fit a 390 px screen.
      const p = await phone.newPage();
      p.on('pageerror', (e) => errors.push(`olive phone: ${e.message}`));
      await p.goto(`/w/${ws.id}/c/public:general`);
      const phoneMsg = p.locator('article.parley-message', { hasText: HELLO }).first();
      await phoneMsg.waitFor(WAIT);
      await phoneMsg.getByRole('button', { name: 'Beatrice Baker', exact: true }).tap();
      const phoneCard = p.locator('.app-profile', { hasText: 'Beatrice Baker' });
      await phoneCard.getByRole('button', { name: 'Edit name and title' }).tap();
      const phoneDialog = p.getByRole('dialog', { name: 'Edit name and title of Beatrice Baker' });
      await phoneDialog.waitFor(WAIT);
      expect(await phoneDialog.getByLabel('Title').inputValue()).toBe('Head of Pastry');
      await phoneDialog.getByLabel('Title').fill('Pastry chef');
      expect(await layoutProblems(p, { header: false }), 'the dialog on a phone').toEqual([]);
      await p.screenshot({ path: path.join(SHOTS, 'admin-edit-phone.png') });
      await phoneDialog.getByRole('button', { name: 'Save' }).tap();
      await phoneDialog.waitFor({ state: 'detached', ...WAIT });
      await p.locator('.app-profile', { hasText: 'Pastry chef' }).waitFor(WAIT);
      await p.screenshot({ path: path.join(SHOTS, 'admin-edit-phone-card.png') });

      // Bea made an admin: she may correct Cy, a member, but is offered nothing on Olive, an owner
      // (the server would refuse it: outranked).
      ok(await olive.setRole(ws.id, bea.account.id, 'admin'));
      await b.goto(`/w/${ws.id}/people`);
      const list = b.getByTestId('people-list');
      await list.locator('.app-person', { hasText: 'Cy Cole' }).click();
      const cyCard = b.locator('.app-profile', { hasText: 'Cy Cole' });
      await cyCard.getByRole('button', { name: 'Edit name and title' }).waitFor(WAIT);
      await list.locator('.app-person', { hasText: 'Olive Owner' }).click();
      const ownerCard = b.locator('.app-profile', { hasText: 'Olive Owner' });
      await ownerCard.getByRole('button', { name: 'Message' }).waitFor(WAIT);
      await ownerCard.getByRole('button', { name: 'Mute' }).waitFor(WAIT);
      expect(await ownerCard.getByRole('button', { name: 'Edit name and title' }).count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await owner.close();
      await member.close();
      await phone.close();
    }
  });
});
