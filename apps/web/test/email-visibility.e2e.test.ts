/**
 * Who sees email addresses, in real Chromium against a real server: Mia (a member) sees no
 * emails in the People directory or the members list; Olive (the owner) sets "Who sees email
 * addresses" to every member in Manage members; Mia then sees them in both places, and the
 * setting holds after a reload. Screenshots go to /tmp/shots-email-visibility/.
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAccount, buildWorkspace, join, ok } from '../../../packages/server/test/accounts/helpers.js';
import type { Harness } from '../../../packages/server/test/harness.js';
import { haveBrowser, startWebApp, type WebApp } from './browser.js';
import { layoutProblems, phoneContext } from './phone.js';

const WAIT = { timeout: 30_000 };
const SHOTS = process.env.PARLEY_SHOTS ?? '/tmp/shots-email-visibility';

let h: Harness;
let app: WebApp | undefined;
const errors: string[] = [];

/** The People page's rows as "name | email" (email empty when not shown). */
async function directory(page: Page, wsId: string): Promise<string[]> {
  await page.goto(`/w/${wsId}/people`);
  const rows = page.getByTestId('people-list').locator('.app-person');
  await expect.poll(() => rows.count(), WAIT).toBe(2);
  return rows.evaluateAll((els) =>
    els.map(
      (e) =>
        `${e.querySelector('.app-person__name')?.firstChild?.textContent} | ${e.querySelector('.app-person__email')?.textContent ?? ''}`,
    ),
  );
}

describe.skipIf(!haveBrowser)('email visibility in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    app = await startWebApp();
    ({ h } = app);
  }, 180_000);

  afterAll(async () => {
    await app?.close();
  });

  it('an owner shows emails to every member; the People page and the members list follow', {
    timeout: 150_000,
  }, async () => {
    const olive = await buildAccount(h, 'Olive Owner', 'olive@example.com');
    const mia = await buildAccount(h, 'Mia Member', 'mia@example.com');
    const ws = await buildWorkspace(olive, 'Letterbox');
    await join(olive, ws.id, mia);
    const oc = await (app as WebApp).as(olive.cookie);
    const mc = await (app as WebApp).as(mia.cookie);
    const o = await oc.newPage();
    const m = await mc.newPage();
    for (const p of [o, m]) p.on('pageerror', (e) => errors.push(e.message));
    await o.setViewportSize({ width: 1280, height: 800 });
    await m.setViewportSize({ width: 1280, height: 800 });

    // By default Mia sees no one's email; Olive, an owner, sees everyone's.
    expect(await directory(m, ws.id)).toEqual(['Mia Member | ', 'Olive Owner | ']);
    expect(await m.getByTestId('people-search').getAttribute('placeholder')).toBe('Search by name, username or title');
    expect(await directory(o, ws.id)).toEqual(['Mia Member | mia@example.com', 'Olive Owner | olive@example.com']);

    // Olive opens Manage members and lets every member see emails.
    await o.goto(`/w/${ws.id}`);
    await o.getByTestId('workspace-name').click(WAIT);
    await o.getByRole('menuitem', { name: 'Manage members' }).click();
    const dialog = o.getByRole('dialog', { name: 'Members of Letterbox' });
    const setting = dialog.getByLabel('Who sees email addresses');
    expect(await setting.inputValue()).toBe('admins');
    await setting.selectOption('members');
    // Saved: the workspace says so (the select is not enabled again before the answer).
    await expect
      .poll(async () => ok(await olive.get(`/v1/workspaces/${ws.id}`)).workspace.email_visibility, WAIT)
      .toBe('members');
    await expect.poll(() => setting.isEnabled(), WAIT).toBe(true);
    await dialog.screenshot({ path: `${SHOTS}/email-visibility-setting.png` });

    // Mia now sees the emails in the directory…
    expect(await directory(m, ws.id)).toEqual(['Mia Member | mia@example.com', 'Olive Owner | olive@example.com']);
    // Her search box says emails are searched too.
    expect(await m.getByTestId('people-search').getAttribute('placeholder')).toBe(
      'Search by name, username, title or email',
    );
    await m.screenshot({ path: `${SHOTS}/email-visibility-people.png` });
    // …and in the members list.
    await m.goto(`/w/${ws.id}`);
    await m.getByTestId('workspace-name').click(WAIT);
    await m.getByRole('menuitem', { name: 'Members', exact: true }).click();
    const list = m.getByRole('dialog', { name: 'Members of Letterbox' });
    await expect
      .poll(() => list.locator('.app-roster__email').allTextContents(), WAIT)
      .toEqual(['olive@example.com', 'mia@example.com']);
    // A member has no control over it.
    expect(await list.getByLabel('Who sees email addresses').count()).toBe(0);

    // After a reload Olive's dialog shows the saved choice.
    await o.reload();
    await o.getByTestId('workspace-name').click(WAIT);
    await o.getByRole('menuitem', { name: 'Manage members' }).click();
    await expect.poll(() => dialog.getByLabel('Who sees email addresses').inputValue(), WAIT).toBe('members');

    // On a phone the dialog passes the phone layout checks (nothing wider than the screen,
    // every control big enough for a finger).
    const phone = await phoneContext((app as WebApp).browser, (app as WebApp).base);
    const [name, value] = (olive.cookie as string).split('=') as [string, string];
    await phone.addCookies([{ name, value, url: (app as WebApp).base }]);
    try {
      const p = await phone.newPage();
      p.on('pageerror', (e) => errors.push(`phone: ${e.message}`));
      await p.goto(`/w/${ws.id}`);
      await p.getByTestId('workspace-name').tap(WAIT);
      await p.getByRole('menuitem', { name: 'Manage members' }).tap();
      const phoneDialog = p.getByRole('dialog', { name: 'Members of Letterbox' });
      await expect.poll(() => phoneDialog.getByLabel('Who sees email addresses').inputValue(), WAIT).toBe('members');
      expect(await layoutProblems(p, { header: false }), 'the members dialog on a phone').toEqual([]);
      await p.screenshot({ path: `${SHOTS}/email-visibility-phone.png` });
    } finally {
      await phone.close();
    }

    // Back to owners and admins: Mia's directory shows none again.
    await dialog.getByLabel('Who sees email addresses').selectOption('admins');
    await expect
      .poll(async () => ok(await olive.get(`/v1/workspaces/${ws.id}`)).workspace.email_visibility, WAIT)
      .toBe('admins');
    expect(await directory(m, ws.id)).toEqual(['Mia Member | ', 'Olive Owner | ']);
    expect(errors).toEqual([]);
  });
});
