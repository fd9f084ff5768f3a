/**
 * Forgot password, end to end in real Chromium against a real server (PGlite, loopback) and a
 * real SMTP server (smtp-server) the test reads the mail from: Cleo signs up and confirms her
 * email from the mailed link; elsewhere, wrong passwords lock her out (the lockout message);
 * she asks for a reset link, opens it from the mail, is refused a breached password, sets a
 * new one and signs in with it; the browser she signed up in is signed out.
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1 (CI) makes that a failure.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../packages/server/src/platform/config.js';
import { startSmtp, type TestSmtp } from '../../../packages/server/test/accounts/smtp.js';
import { type Harness, startHarness } from '../../../packages/server/test/harness.js';
import { buildWebApp, haveBrowser, launchChromium, openWindow } from './browser.js';

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a fresh spring morning';
const EMAIL = 'cleo@example.com';
const WAIT = { timeout: 10_000 };

let h: Harness;
let smtp: TestSmtp;
let base: string;
let browser: Browser;

describe.skipIf(!haveBrowser)('forgot password in Chromium', () => {
  beforeAll(async () => {
    smtp = await startSmtp();
    h = await startHarness({
      webDir: await buildWebApp(),
      smtpUrl: smtp.url,
      signin: { ...defaultConfig().signin, perIp: 100_000, perAccount: 100_000, lockAfter: 3 },
    });
    base = await h.listen();
    // Links in mail lead to this server (the port is known only now).
    h.config.publicUrl = base;
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await smtp?.close();
  });

  it('locked out → forgot password → the mail → a new password → signed in', { timeout: 90_000 }, async () => {
    // Cleo signs up in one tab, which stays signed in.
    const first = await browser.newContext({ baseURL: base });
    const tab = await first.newPage();
    await tab.goto('/signup');
    await tab.getByLabel('Full name').fill('Cleo Pink');
    await tab.getByLabel('Email').fill(EMAIL);
    await tab.getByLabel('Password').fill(PASSWORD);
    await tab.getByRole('button', { name: 'Create account' }).click();
    await tab.getByRole('heading', { name: 'Welcome, Cleo' }).waitFor(WAIT);
    // The sign-up mail's link confirms the email (one request, in this signed-in tab).
    const welcome = await smtp.waitFor(EMAIL, { subject: /Confirm your email/ });
    const verify = /https?:\/\/\S+\/verify-email\?token=\S+/.exec(welcome.text)?.[0];
    expect(verify?.startsWith(`${base}/verify-email?token=`)).toBe(true);
    await tab.goto(verify as string);
    await tab.getByRole('heading', { name: 'Email confirmed' }).waitFor(WAIT);
    await tab.goto('/');
    await tab.getByRole('heading', { name: 'Welcome, Cleo' }).waitFor(WAIT);

    // Elsewhere, wrong passwords lock the account: the page says so, with the time left.
    const context = await browser.newContext({ baseURL: base });
    const page = await context.newPage();
    await page.goto('/signin');
    const form = page.getByRole('form', { name: 'Sign in' });
    await form.getByLabel('Email').fill(EMAIL);
    const alert = form.getByRole('alert');
    for (let i = 0; i < 3; i++) {
      await form.getByLabel('Password').fill(`wrong password ${i}`);
      await form.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => alert.textContent(), WAIT).toMatch(i < 2 ? /do not match/ : /locked for 1 minute/);
      if (i < 2) await expect.poll(() => form.getByRole('button', { name: 'Sign in' }).isEnabled(), WAIT).toBe(true);
    }
    await smtp.waitFor(EMAIL, { subject: /was locked/ });

    // Forgot password: the page never says whether the email has an account.
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.waitForURL(/\/forgot-password$/);
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await expect.poll(() => page.getByRole('status').textContent(), WAIT).toContain(`If an account uses ${EMAIL}`);

    // The mail, read from the SMTP server; its link opens the reset page.
    const mail = await smtp.waitFor(EMAIL, { subject: /Reset your Parley password/ });
    const link = /https?:\/\/\S+\/reset-password\?token=\S+/.exec(mail.text)?.[0];
    expect(link?.startsWith(`${base}/reset-password?token=`)).toBe(true);
    await page.goto(link as string);

    const reset = page.getByRole('form', { name: 'Choose a new password' });
    const choose = async (pw: string) => {
      await reset.getByLabel(/^New password/).fill(pw);
      await reset.getByLabel('Confirm new password').fill(pw);
      await reset.getByRole('button', { name: 'Set new password' }).click();
    };
    // A breached password is refused, in words; the link still works.
    await choose('iloveyou123');
    await expect.poll(() => reset.getByRole('alert').textContent(), WAIT).toContain('data breaches');
    await choose(NEW_PASSWORD);
    await page.waitForURL(/\/signin\?reset=1$/);
    await expect.poll(() => page.getByRole('status').textContent(), WAIT).toContain('signed out everywhere');

    // Signed in with the new password (the reset lifted the lock).
    const signin = page.getByRole('form', { name: 'Sign in' });
    await signin.getByLabel('Email').fill(EMAIL);
    await signin.getByLabel('Password').fill(NEW_PASSWORD);
    await signin.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Welcome, Cleo' }).waitFor(WAIT);

    // The browser signed in before the reset is signed out. (A new tab at `/`, which this
    // browser has cached: it revalidates the page, a 304 that must not change its CSP.)
    const again = await openWindow(first);
    await again.goto('/');
    await again.getByRole('form', { name: 'Sign in' }).waitFor(WAIT);
    expect(new URL(again.url()).pathname).toBe('/signin');

    // The link worked once: opened again, it is refused.
    await page.goto(link as string);
    await page.getByRole('form', { name: 'Choose a new password' }).waitFor(WAIT);
    await choose('yet another new passphrase');
    await page.getByRole('heading', { name: 'This link does not work' }).waitFor(WAIT);

    await context.close();
    await first.close();
  });
});
