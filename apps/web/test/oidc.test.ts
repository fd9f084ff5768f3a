/**
 * Sign-in with an OpenID Connect provider, end to end in real Chromium: the sign-in page shows
 * "Sign in with Test IdP" (the server's auth options say so), the click goes to a real provider
 * (oidc-provider on loopback, its own login and consent pages), and the return lands signed
 * in. A person whose email the provider does not call verified comes back to the sign-in page
 * with the refusal in words; one with two-factor sign-in gets the code form after the
 * provider, and is signed in by a code.
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1 (CI) makes that a failure.
 */
import { sql } from 'drizzle-orm';
import { generate } from 'otplib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAccount, ok, PASSWORD } from '../../../packages/server/test/accounts/helpers.js';
import { startProvider, type TestProvider } from '../../../packages/server/test/accounts/oidc-provider.js';
import { freePort } from '../../../packages/server/test/free-port.js';
import { type Harness, startHarness } from '../../../packages/server/test/harness.js';
import { buildWebApp, haveBrowser, launchChromium } from './browser.js';

const WAIT = { timeout: 15_000 };

let h: Harness;
let idp: TestProvider;
let base: string;
let browser: Browser;
/** The server's clock runs this far ahead, so a later TOTP step exists without waiting. */
let offset = 0;
const clock = () => Date.now() + offset;

describe.skipIf(!haveBrowser)('sign in with an OpenID Connect provider in Chromium', () => {
  beforeAll(async () => {
    // A free loopback port: the provider must know the redirect URI before the server listens.
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    idp = await startProvider([`${base}/v1/auth/oidc/callback`]);
    h = await startHarness(
      {
        webDir: await buildWebApp(),
        publicUrl: base,
        oidc: {
          issuer: idp.issuer,
          clientId: idp.clientId,
          clientSecret: idp.clientSecret,
          name: 'Test IdP',
          signup: true,
          timeoutMs: 10_000,
        },
      },
      { clock },
    );
    expect(await h.listen(port)).toBe(base);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await idp?.stop();
  });

  /** From our sign-in page through the provider's login and consent pages, as `subject`. */
  async function viaProvider(page: Page, subject: string): Promise<void> {
    await page.goto('/signin');
    await page.getByRole('button', { name: 'Sign in with Test IdP' }).click();
    // The provider's own pages (their look is theirs; their fields are named login and password).
    const login = page.locator('input[name="login"]');
    await login.waitFor(WAIT);
    expect(new URL(page.url()).origin).toBe(idp.issuer);
    await login.fill(subject);
    await page.locator('input[name="password"]').fill('any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click(WAIT);
  }

  it('clicks "Sign in with Test IdP" and comes back signed in', { timeout: 90_000 }, async () => {
    idp.people.set('sub-wendy', { email: 'wendy@example.com', email_verified: true, name: 'Wendy Web' });
    const context = await browser.newContext({ baseURL: base });
    const page = await context.newPage();
    await viaProvider(page, 'sub-wendy');
    await page.getByRole('heading', { name: 'Welcome, Wendy' }).waitFor(WAIT);
    expect(new URL(page.url()).origin).toBe(base);
    // The session is an ordinary one: it is in the account's sessions list.
    const sessions = await page.evaluate(async () => (await fetch('/v1/auth/sessions')).json());
    expect(sessions.sessions).toHaveLength(1);
    await context.close();
  });

  it('comes back to the sign-in page with the refusal in words', { timeout: 90_000 }, async () => {
    idp.people.set('sub-unverified', { email: 'unverified@example.com', email_verified: false });
    const context = await browser.newContext({ baseURL: base });
    const page = await context.newPage();
    await viaProvider(page, 'sub-unverified');
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent(), WAIT).toContain('does not say your email address is verified');
    // The refusal is taken out of the URL: a reload does not show it again.
    await expect.poll(() => new URL(page.url()).search, WAIT).toBe('');
    await context.close();
  });

  it('asks for the authenticator code after the provider when the account has it on', { timeout: 90_000 }, async () => {
    const who = await buildAccount(h, 'Tom', 'tom@example.com');
    await h.database.db.execute(sql`update accounts set email_verified_at = now() where id = ${who.account.id}`);
    const setup = ok(await who.post('/v1/auth/2fa/setup', { password: PASSWORD }));
    const code = () => generate({ secret: setup.secret, epoch: Math.floor(clock() / 1000) });
    ok(await who.post('/v1/auth/2fa/enable', { code: await code() }));
    idp.people.set('sub-tom', { email: 'tom@example.com', email_verified: true });
    const context = await browser.newContext({ baseURL: base });
    const page = await context.newPage();
    await viaProvider(page, 'sub-tom');
    const step = page.getByRole('form', { name: 'Two-step verification' });
    await step.waitFor(WAIT);
    // The challenge was taken out of the address bar once read.
    await expect.poll(() => new URL(page.url()).hash, WAIT).toBe('');
    offset += 60_000; // a later TOTP step than the one that turned it on
    await step.getByLabel('Authentication code').fill(await code());
    await step.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Welcome, Tom' }).waitFor(WAIT);
    await context.close();
  });
});
