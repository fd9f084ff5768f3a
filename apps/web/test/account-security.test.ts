/**
 * The account's security, end to end in real Chromium against a real server (PGlite,
 * loopback).
 *
 * Two-factor sign-in and the sessions list: Dee signs up and makes a workspace; a second browser signs in as her;
 * she sees both sessions in Preferences and signs the other one out, whose open tab goes to
 * sign-in at once. She sets up two-factor sign-in — QR code, a first code computed here with
 * otplib from the key the page shows, ten backup codes shown once — signs out, and signs in
 * again: the password, a wrong code (refused in words), then a TOTP code computed here.
 *
 * Deactivation: an owner deactivates a member from the members dialog; the member's open tab
 * leaves the workspace at once; reactivated, they open it again. Then the owner requires
 * two-factor sign-in: the member's open tab shows how to set it up, and they are back in; and
 * the owner makes them an admin.
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1 (CI) makes that a failure.
 */
import { generate } from 'otplib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAccount, buildWorkspace, join, ok } from '../../../packages/server/test/accounts/helpers.js';
import { type Harness, startHarness } from '../../../packages/server/test/harness.js';
import { buildWebApp, haveBrowser, launchChromium } from './browser.js';

/** A code that none of the windows the server takes (one step either side of now) shows. */
async function wrongCode(secret: string): Promise<string> {
  const at = Math.floor(Date.now() / 1000);
  const taken = new Set(await Promise.all([-60, -30, 0, 30, 60].map((d) => generate({ secret, epoch: at + d }))));
  let n = 0;
  while (taken.has(String(n).padStart(6, '0'))) n++;
  return String(n).padStart(6, '0');
}

const PASSWORD = 'correct horse battery';
const EMAIL = 'dee@example.com';
const WAIT = { timeout: 15_000 };

let h: Harness;
let base: string;
let browser: Browser;

async function signIn(page: Page): Promise<void> {
  const form = page.getByRole('form', { name: 'Sign in' });
  await form.getByLabel('Email').fill(EMAIL);
  await form.getByLabel('Password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Sign in' }).click();
}

async function openPreferences(page: Page): Promise<void> {
  await page.getByRole('button', { name: /Open your menu/ }).click();
  await page.getByRole('menuitem', { name: 'Preferences' }).click();
}

describe.skipIf(!haveBrowser)('two-factor sign-in, sessions and deactivation in Chromium', () => {
  beforeAll(async () => {
    h = await startHarness({ webDir: await buildWebApp() });
    base = await h.listen();
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('sessions: sign out another browser; 2FA: set up, sign out, sign in with a TOTP code', {
    timeout: 120_000,
  }, async () => {
    const context = await browser.newContext({ baseURL: base });
    const other = await browser.newContext({ baseURL: base });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));

      // Dee signs up and makes a workspace.
      await page.goto('/signup');
      await page.getByLabel('Full name').fill('Dee Two');
      await page.getByLabel('Email').fill(EMAIL);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.getByLabel('Workspace name').fill('Two Steps');
      await page.getByRole('button', { name: 'Create workspace' }).click();
      await page.waitForURL(/\/w\/[^/]+\/c\/public:general$/, WAIT);
      const here = new URL(page.url()).pathname;

      // A second browser signs in as her and opens the workspace.
      const tab = await other.newPage();
      await tab.goto(here);
      await tab.waitForURL(/\/signin/, WAIT);
      await signIn(tab);
      await tab.waitForURL((u) => u.pathname === here, WAIT);
      await expect.poll(() => tab.getByTestId('channel-name').textContent(), WAIT).toBe('general');

      // Preferences list both sessions; she signs the other one out and its open tab follows.
      await openPreferences(page);
      const sessions = page.getByRole('list', { name: 'Sessions' });
      await expect.poll(() => sessions.getByRole('listitem').count(), WAIT).toBe(2);
      await expect.poll(() => sessions.getByText('This browser').count(), WAIT).toBe(1);
      const otherRow = sessions.getByRole('listitem').filter({ hasNot: page.getByText('This browser') });
      expect(await otherRow.textContent()).toMatch(/Chrome/);
      await otherRow.getByRole('button', { name: 'Sign out' }).click();
      await tab.waitForURL(/\/signin/, WAIT);
      await expect.poll(() => sessions.getByRole('listitem').count(), WAIT).toBe(1);

      // Two-factor sign-in: the password, then the QR code and the key to type in.
      const section = page.getByRole('region', { name: 'Two-factor sign-in' });
      await section.getByRole('button', { name: 'Set up' }).click();
      await section.getByLabel('Your password').fill(PASSWORD);
      await section.getByRole('button', { name: 'Continue' }).click();
      const qr = section.getByRole('img', { name: 'QR code for your authenticator app' });
      await qr.waitFor(WAIT);
      expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml;base64,/);
      const secret = (await section.locator('.app-secret').textContent())?.trim() ?? '';
      expect(secret).toMatch(/^[A-Z2-7]{32}$/);
      // A wrong first code is refused; the code the app shows now turns it on.
      await section.getByLabel('Code from the app').fill(await wrongCode(secret));
      await section.getByRole('button', { name: 'Turn on' }).click();
      await expect.poll(() => section.getByRole('alert').textContent(), WAIT).toMatch(/not right/);
      const enabledAt = Date.now();
      await section.getByLabel('Code from the app').fill(await generate({ secret }));
      await section.getByRole('button', { name: 'Turn on' }).click();
      const codes = section.getByRole('list', { name: 'Your backup codes' });
      await codes.waitFor(WAIT);
      expect(await codes.getByRole('listitem').count()).toBe(10);
      await section.getByRole('button', { name: 'I saved my backup codes' }).click();
      await expect.poll(() => section.getByText(/10 backup codes left/).count(), WAIT).toBe(1);
      await page.getByRole('button', { name: 'Close', exact: true }).last().click();

      // Signed out, she signs in again: the password, then a code.
      await page.getByRole('button', { name: /Open your menu/ }).click();
      await page.getByRole('menuitem', { name: 'Sign out' }).click();
      await page.waitForURL(/\/signin/, WAIT);
      await signIn(page);
      const step = page.getByRole('form', { name: 'Two-step verification' });
      await step.waitFor(WAIT);
      await step.getByLabel('Authentication code').fill(await wrongCode(secret));
      await step.getByRole('button', { name: 'Verify' }).click();
      await expect.poll(() => step.getByRole('alert').textContent(), WAIT).toMatch(/not right/);
      // The code of the window after the one that turned it on: the app's next code, which the
      // server takes (one window of drift) and which no earlier code used.
      const next = await generate({ secret, epoch: Math.floor(Math.max(Date.now(), enabledAt) / 1000) + 30 });
      await step.getByLabel('Authentication code').fill(next);
      await step.getByRole('button', { name: 'Verify' }).click();
      await page.waitForURL((u) => u.pathname !== '/signin', WAIT);
      await page.goto(here);
      await expect.poll(() => page.getByTestId('channel-name').textContent(), WAIT).toBe('general');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await other.close();
    }
  });
  it('an owner deactivates a member, whose open tab leaves at once; reactivated, they are back; 2FA required', {
    timeout: 90_000,
  }, async () => {
    // Set up through the API; the browsers get the accounts' session cookies.
    const oli = await buildAccount(h, 'Oli Owner', 'oli@example.com');
    const mo = await buildAccount(h, 'Mo Member', 'mo@example.com');
    const ws = await buildWorkspace(oli, 'Deck');
    await join(oli, ws.id, mo);
    const as = async (cookie: string | null) => {
      const context = await browser.newContext({ baseURL: base });
      const [name, value] = (cookie ?? '').split('=') as [string, string];
      await context.addCookies([{ name, value, url: base }]);
      return context;
    };
    const owner = await as(oli.cookie);
    const member = await as(mo.cookie);
    try {
      const o = await owner.newPage();
      await o.goto(`/w/${ws.id}`);
      await expect.poll(() => o.getByTestId('channel-name').textContent(), WAIT).toBe('general');
      const m = await member.newPage();
      await m.goto(`/w/${ws.id}`);
      await expect.poll(() => m.getByTestId('channel-name').textContent(), WAIT).toBe('general');

      await o.getByTestId('workspace-name').click();
      await o.getByRole('menuitem', { name: 'Manage members' }).click();
      const dialog = o.getByRole('dialog', { name: 'Members of Deck' });
      const row = dialog.locator('.app-roster__row', { hasText: 'Mo Member' });
      await row.getByRole('button', { name: 'Deactivate Mo Member' }).click();
      await row.getByText('Deactivate Mo Member?').waitFor(WAIT);
      await row.getByRole('button', { name: 'Deactivate', exact: true }).click();
      await row.getByText('Deactivated', { exact: true }).waitFor(WAIT);
      // The server closed Mo's socket; no token is to be had: the app leaves the workspace.
      await m.waitForURL((u) => u.pathname === '/', WAIT);
      await m.getByText('You are not in any workspace yet').waitFor(WAIT);

      await row.getByRole('button', { name: 'Reactivate Mo Member' }).click();
      await expect.poll(() => row.getByText('Deactivated', { exact: true }).count(), WAIT).toBe(0);
      await m.goto(`/w/${ws.id}`);
      await expect.poll(() => m.getByTestId('channel-name').textContent(), WAIT).toBe('general');

      // Oli (who has two-factor sign-in, set up through the API) requires it of everyone:
      // Mo's open tab is shown how to set it up, does so with a code computed here, and is back.
      const setup = ok(await oli.post('/v1/auth/2fa/setup', { password: 'correct horse battery' }));
      ok(await oli.post('/v1/auth/2fa/enable', { code: await generate({ secret: setup.secret }) }));
      await dialog.getByLabel('Require two-factor sign-in').check();
      await expect.poll(() => dialog.getByLabel('Require two-factor sign-in').isChecked(), WAIT).toBe(true);
      await m.getByRole('heading', { name: 'Two-factor sign-in required' }).waitFor(WAIT);
      const section = m.getByRole('region', { name: 'Two-factor sign-in' });
      await section.getByRole('button', { name: 'Set up' }).click();
      await section.getByLabel('Your password').fill('correct horse battery');
      await section.getByRole('button', { name: 'Continue' }).click();
      const secret = (await section.locator('.app-secret').textContent())?.trim() ?? '';
      await section.getByLabel('Code from the app').fill(await generate({ secret }));
      await section.getByRole('button', { name: 'Turn on' }).click();
      await section.getByRole('button', { name: 'I saved my backup codes' }).click();
      await m.getByRole('button', { name: 'Open the workspace' }).click();
      await expect.poll(() => m.getByTestId('channel-name').textContent(), WAIT).toBe('general');

      // Oli makes Mo an admin from the same dialog.
      await row.getByRole('button', { name: 'Change the role of Mo Member' }).click();
      await row.getByLabel('Role of Mo Member').selectOption('admin');
      await row.getByRole('button', { name: 'Save role' }).click();
      await expect.poll(() => row.locator('.app-role').first().textContent(), WAIT).toBe('Admin');
    } finally {
      await owner.close();
      await member.close();
    }
  });
});
