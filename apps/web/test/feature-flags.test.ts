/**
 * The admin console's Feature flags tab in real Chromium against a real server (PGlite,
 * loopback): an owner adds a flag with a percentage and a named person, the named person has it
 * at once, the owner edits and then deletes it, and each change is in the audit log. A bad key
 * is refused in the form, with nothing written.
 *
 * Each step waits on what the page shows or the server answers (locators, `expect.poll`), never
 * on time. Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1 (CI) makes that a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildAccount,
  buildWorkspace,
  chatHeaders,
  email,
  join,
  ok,
} from '../../../packages/server/test/accounts/helpers.js';
import { haveBrowser, startWebApp, type WebApp } from './browser.js';

const WAIT = { timeout: 20_000 };
let app: WebApp | undefined;

describe.skipIf(!haveBrowser)('the Feature flags tab in Chromium', () => {
  beforeAll(async () => {
    app = await startWebApp();
  }, 180_000);
  afterAll(async () => {
    await app?.close();
  });

  it('adds, edits and deletes a flag with a percentage and a named person', { timeout: 120_000 }, async () => {
    const { h } = app as WebApp;
    const olive = await buildAccount(h, 'Olive Owner', email('olive'));
    const mia = await buildAccount(h, 'Mia Member', email('mia'));
    const ws = await buildWorkspace(olive, 'Flagship');
    await join(olive, ws.id, mia);
    const miaSession = ok(await mia.session(ws.id));
    const miaChat = chatHeaders(miaSession);
    const oliveChat = chatHeaders(ok(await olive.session(ws.id)));
    const miaFlags = async () =>
      (await h.call({ method: 'GET', url: '/v1/me/flags', headers: miaChat })).body.flags as Record<string, boolean>;
    const actions = async () =>
      (await h.call({ method: 'GET', url: '/v1/audit?action=feature_flag.', headers: oliveChat })).body.entries.map(
        (e: { action: string }) => e.action,
      ) as string[];

    const context = await (app as WebApp).as(olive.cookie);
    try {
      const page = await context.newPage();
      await page.goto(`/w/${ws.id}`);
      await page.getByTestId('workspace-name').click(WAIT);
      await page.getByRole('menuitem', { name: 'Admin console' }).click(WAIT);
      const dialog = page.getByRole('dialog', { name: `Admin console · ${ws.name}` });
      await dialog.getByRole('tab', { name: 'Feature flags' }).click(WAIT);
      const tab = dialog.getByTestId('flags-admin');
      await tab.getByText('No feature flags yet.').waitFor(WAIT);

      // A bad key is refused in the form.
      const add = tab.getByRole('form', { name: 'Add a feature flag' });
      await add.getByLabel('Key').fill('Bad Key');
      await add.getByRole('button', { name: 'Add flag' }).click();
      await tab.getByRole('alert').waitFor(WAIT);
      expect(await tab.getByRole('alert').textContent()).toContain('A key is');

      // Added: on, at 30 %, with Mia named — so Mia has it whatever her bucket.
      await add.getByLabel('Key').fill('new-composer');
      await add.getByLabel('Description').fill('The new composer');
      await add.getByLabel('Rollout percentage').fill('30');
      await add.getByLabel(/Named people/).fill(miaSession.user_id);
      await add.getByLabel('Enabled').check();
      await add.getByRole('button', { name: 'Add flag' }).click();
      const row = tab.getByTestId('flag-new-composer');
      await expect.poll(async () => (await row.count()) && row.textContent(), WAIT).toContain('30 %');
      expect(await row.textContent()).toContain('On');
      expect(await row.textContent()).toContain(miaSession.user_id);
      expect(await miaFlags()).toEqual({ 'new-composer': true });

      // Edited: off.
      await row.getByRole('button', { name: 'Edit new-composer' }).click();
      const edit = tab.getByRole('form', { name: 'Edit new-composer' });
      await edit.getByLabel('Enabled').uncheck();
      await edit.getByLabel('Rollout percentage').fill('100');
      await edit.getByRole('button', { name: 'Save flag' }).click();
      await expect.poll(async () => row.textContent(), WAIT).toContain('100 %');
      expect(await row.textContent()).toContain('Off');
      expect(await miaFlags()).toEqual({ 'new-composer': false });

      // Deleted.
      await row.getByRole('button', { name: 'Delete new-composer' }).click();
      await tab.getByText('No feature flags yet.').waitFor(WAIT);
      expect(await miaFlags()).toEqual({});
      expect(await actions()).toEqual(['feature_flag.deleted', 'feature_flag.updated', 'feature_flag.created']);
    } finally {
      await context.close();
    }
  });
});
