/**
 * Profiles in the web app, in real Chromium, two browser contexts against a real server: Ada
 * (the workspace's owner) defines custom profile fields in the admin console — one for admins
 * only; Bob edits his profile in one dialog (username checked while he types, title, pronouns,
 * time zone, a custom field); Ada has Bob's profile card open from his message and sees each
 * change arrive live, with his local time, and Bob never sees the admins-only value Ada set.
 * Screenshots of the card, the edit dialog and the admin tab go to /tmp/shots-profiles/.
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless PARLEY_REQUIRE_BROWSER=1.
 */
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../../../packages/server/test/harness.js';
import { buildWebApp, createWorkspace, haveBrowser, inviteLink, joinByInvite, launchChromium } from './browser.js';

const WAIT = { timeout: 30_000 };
const SHOTS = '/tmp/shots-profiles';

let h: Harness;
let base: string;
let browser: Browser;

async function newPage(): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({
    baseURL: base,
    viewport: { width: 1280, height: 860 },
    timezoneId: 'Europe/Paris',
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

/** The time now in `tz` as the app's card shows it (en-US in Chromium here). */
const timeIn = (tz: string) =>
  new Intl.DateTimeFormat('en-US', { hour: 'numeric', minute: '2-digit', timeZone: tz }).format(new Date());

describe.skipIf(!haveBrowser)('profiles in the web app', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    h = await startHarness({ webDir: await buildWebApp(), jobPollMs: 200 });
    base = await h.listen();
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it("Ada defines fields; Bob edits his profile; Ada's open card follows live", async () => {
    const ada = await newPage();
    const bob = await newPage();
    const a = ada.page;
    const b = bob.page;
    await createWorkspace(a, 'Ada Lovelace', 'ada@example.com', 'Acme');
    await joinByInvite(b, await inviteLink(a), 'Bob Builder', 'bob@example.com');

    // Ada defines two custom fields: a choice for everyone, a text for admins only.
    await a.getByTestId('workspace-name').click(WAIT);
    await a.getByRole('menuitem', { name: 'Admin console' }).click(WAIT);
    const console_ = a.getByRole('dialog', { name: /Admin console/ });
    await console_.getByRole('tab', { name: 'Profile fields' }).click();
    await console_.getByLabel('Field name').fill('Team');
    await console_.getByLabel('Kind').selectOption('choice');
    await console_.getByLabel('Options (one a line)').fill('Core\nWeb\nDesign');
    await console_.getByRole('button', { name: 'Add field' }).click();
    await console_.getByTestId('profile-field-Team').waitFor(WAIT);
    await console_.getByLabel('Field name').fill('Badge');
    await console_.getByLabel('Kind').selectOption('text');
    await console_.getByLabel('Visible to admins only').check();
    await console_.getByRole('button', { name: 'Add field' }).click();
    await console_.getByTestId('profile-field-Badge').waitFor(WAIT);
    await a.screenshot({ path: `${SHOTS}/admin-profile-fields.png` });
    await a.keyboard.press('Escape');

    // Bob says hello; Ada opens his card from the message.
    const composerB = b.getByRole('combobox', { name: 'Message #general' });
    await composerB.fill('hello from bob');
    await composerB.press('Enter');
    const msg = a.locator('article.parley-message', { hasText: 'hello from bob' }).first();
    await msg.waitFor(WAIT);
    await msg.getByRole('button', { name: 'Bob Builder', exact: true }).click();
    const card = a.locator('.parley-profile', { hasText: 'Bob Builder' });
    await card.waitFor(WAIT);
    await card.getByRole('button', { name: 'Message' }).waitFor(WAIT);
    await card.getByRole('button', { name: 'Call' }).waitFor(WAIT);

    // Bob edits his profile in one dialog.
    await b.getByRole('button', { name: /Open your menu/ }).click();
    await b.getByRole('menuitem', { name: 'Edit profile' }).click();
    const dialog = b.getByRole('dialog', { name: 'Edit your profile' });
    await dialog.getByLabel('Username').fill('admin');
    await expect.poll(() => dialog.getByTestId('username-check').textContent(), WAIT).toBe('Reserved');
    // The web app gave each person a username from their name (ada.lovelace, bob.builder).
    await dialog.getByLabel('Username').fill('Ada.Lovelace');
    await expect
      .poll(() => dialog.getByTestId('username-check').textContent(), WAIT)
      .toBe('Taken by someone else or a group');
    await dialog.getByLabel('Username').fill('bob.the.builder');
    await expect.poll(() => dialog.getByTestId('username-check').textContent(), WAIT).toBe('Available');
    await dialog.getByLabel('Full name').fill('Robert the Builder');
    await dialog.getByLabel('Title').fill('Site Foreman');
    await dialog.getByLabel('Pronouns').fill('he/him');
    await dialog.getByLabel('Time zone').selectOption('Asia/Tokyo');
    await dialog.getByLabel('Team').selectOption('Core');
    await dialog.getByLabel('About').fill('Can we fix it? Yes we can.');
    // The admins-only field is not in Bob's form at all.
    expect(await dialog.getByLabel('Badge', { exact: true }).count()).toBe(0);
    await b.screenshot({ path: `${SHOTS}/edit-dialog.png` });
    await dialog.getByRole('button', { name: 'Save' }).click();
    // A refused save stays open with its error in an alert: say which.
    await expect
      .poll(
        async () => ((await dialog.count()) === 0 ? 'closed' : await dialog.getByRole('alert').allTextContents()),
        WAIT,
      )
      .toBe('closed');

    // Ada's open card follows: title, pronouns, full name, local time, the Team value.
    await card.getByText('Site Foreman').waitFor(WAIT);
    await card.getByText('(he/him)').waitFor(WAIT);
    await card.getByText('Robert the Builder').waitFor(WAIT);
    await card.getByText('@bob.the.builder').waitFor(WAIT);
    await card.locator('dd', { hasText: 'Core' }).waitFor(WAIT);
    // The card's clock ticks each minute: compare with the time at each look, not at the first.
    await expect
      .poll(async () => {
        const shown = await card.locator('.parley-profile__local-time').textContent();
        return shown === `${timeIn('Asia/Tokyo')} local time` ? 'Tokyo time' : shown;
      }, WAIT)
      .toBe('Tokyo time');
    await a.screenshot({ path: `${SHOTS}/card.png` });
    await card.screenshot({ path: `${SHOTS}/card-only.png` });

    // Bob's own card: his profile, an Edit button, and no admins-only field.
    await b
      .locator('article.parley-message', { hasText: 'hello from bob' })
      .first()
      .getByRole('button', { name: 'Bob Builder', exact: true })
      .click();
    const own = b.locator('.parley-profile', { hasText: 'Site Foreman' });
    await own.waitFor(WAIT);
    expect(await own.textContent()).not.toContain('Badge');
    await own.getByRole('button', { name: 'Edit profile' }).waitFor(WAIT);

    expect(ada.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  }, 180_000);
});
