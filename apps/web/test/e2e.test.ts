/**
 * The team web app end to end, in real Chromium against a real server (PGlite, a loopback
 * port), the app freshly built and served by the server itself. Two browser contexts are two
 * people: Ada signs up, creates a workspace and an invite link; Bob joins by the link; they
 * talk, reply in threads, react, mention, type; hostile message text; Ada sees Bob go offline.
 * Then the account screens (a password change, signing out everywhere, removing members and
 * leaving), and a channel with 10,000 messages scrolled back to its first.
 *
 * Needs Debian's chromium at /usr/bin/chromium (never a downloaded browser). Without it the
 * suite is skipped, unless PARLEY_REQUIRE_BROWSER=1 (CI) makes that a failure.
 *
 * Its screenshots go to apps/web/test/screenshots/; PARLEY_DOCS_SHOT=1 also copies the chat's to
 * docs/screenshot.png (the README's picture). Without it a run changes no tracked file,
 * and the docs site's build stays the one `npm ci` made (scripts/build-key.mjs).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Message, uuidv7 } from '@parley/protocol';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { presentMessage } from '../../../packages/server/src/features/messages/present.js';
import { schema } from '../../../packages/server/src/platform/db/index.js';
import { logEvents, takeSeqs, withTransaction } from '../../../packages/server/src/platform/event-log.js';
import { type Harness, startHarness } from '../../../packages/server/test/harness.js';
import { APP_ROOT, buildWebApp, haveBrowser, launchChromium } from './browser.js';

const SHOTS = path.join(APP_ROOT, 'test', 'screenshots');
const DOCS_SHOT = fileURLToPath(new URL('../../../docs/screenshot.png', import.meta.url));

const PASSWORD = 'correct horse battery';
const WAIT = { timeout: 10_000 };

interface Person {
  name: string;
  email: string;
  context: BrowserContext;
  page: Page;
  /** `alert`/`confirm`/`prompt` dialogs seen: a message that runs script would land here. */
  dialogs: string[];
  errors: string[];
  /** The page's console, printed when a test fails. */
  console: string[];
  /** Content-Security-Policy violations the page saw (the server's CSP is enforced). */
  violations: string[];
}

let h: Harness;
let base: string;
let browser: Browser;
let ada: Person;
let bob: Person;
let workspaceId: string;
let inviteUrl: string;

async function person(name: string, email: string): Promise<Person> {
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const p: Person = { name, email, context, page, dialogs: [], errors: [], console: [], violations: [] };
  // Injected by the browser's debugger protocol, so the page's CSP does not apply to it.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error(
        `CSP violation: ${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`,
      ),
    );
  });
  page.on('console', (m) => {
    p.console.push(`${m.type()}: ${m.text()}`);
    if (/CSP violation|Content Security Policy|Refused to/.test(m.text())) p.violations.push(m.text());
  });
  page.on('dialog', (d) => {
    p.dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  page.on('pageerror', (e) => p.errors.push(e.message));
  // Which request a "Failed to load resource" was: the console does not say.
  page.on('response', (r) => {
    if (r.status() >= 400) p.console.push(`http: ${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
  return p;
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
const composer = (page: Page, channel: string) => page.getByRole('combobox', { name: `Message ${channel}` });
const message = (page: Page, text: string) => page.locator('article.parley-message', { hasText: text }).first();
const row = (page: Page, cid: string) => page.locator(`.parley-channel-row[data-cid="${cid}"]`);

/** Send from the composer and wait until the server stored it (`shown`: the text as rendered). */
async function send(page: Page, channel: string, text: string, shown = text): Promise<void> {
  const box = composer(page, channel);
  await box.fill(text);
  await box.press('Enter');
  await expect.poll(() => message(page, shown).getAttribute('data-status'), WAIT).toBe('sent');
}

/** Hover a message and press one of its actions (they show on hover, as in Slack). */
async function act(m: Locator, action: string): Promise<void> {
  await m.hover();
  await m.getByRole('button', { name: action }).click();
}

async function signUp(p: Person, page: Page): Promise<void> {
  await page.getByLabel('Full name').fill(p.name);
  await page.getByLabel('Email').fill(p.email);
  await page.getByLabel('Password').fill(PASSWORD);
}

/**
 * Console errors of `p` (from its `from`th line on) other than the failed requests a test
 * asked for: Chromium logs every 4xx answer as an error, so a test that expects a refusal
 * names its status, and everything else still fails the test.
 */
function unexpected(p: Person, statuses: number[], from = 0): string[] {
  return p.console
    .slice(from)
    .filter((l) => l.startsWith('error:'))
    .filter(
      (l) => !statuses.some((s) => l.includes(`Failed to load resource: the server responded with a status of ${s}`)),
    );
}

/** Sign `p` up through a fresh invite link of Ada's workspace, and wait until #general shows. */
async function join(p: Person): Promise<void> {
  const token = await ada.page.evaluate(async (id) => {
    const r = await fetch(`/v1/workspaces/${id}/invites`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    return ((await r.json()) as { token: string }).token;
  }, workspaceId);
  await p.page.goto(`/invite/${encodeURIComponent(token)}`);
  await signUp(p, p.page);
  await p.page.getByRole('button', { name: 'Create account and join' }).click();
  await p.page.waitForURL(new RegExp(`/w/${workspaceId}/c/public:general$`));
  await message(p.page, 'Welcome to Acme, everyone!').waitFor(WAIT);
}

describe.skipIf(!haveBrowser)('the web app in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // Build from the current sources into a folder of our own, then serve that.
    h = await startHarness({ webDir: await buildWebApp() });
    base = await h.listen();
    browser = await launchChromium();
    ada = await person('Ada Lovelace', 'ada@example.com');
    bob = await person('Bob Builder', 'bob@example.com');
  }, 120_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    for (const p of [ada, bob]) {
      if (!p || p.page.isClosed()) continue;
      await shot(p.page, `failed-${p.name.split(' ')[0]?.toLowerCase()}`).catch(() => {});
      console.log(`${p.name} at ${p.page.url()}:\n  ${p.console.slice(-15).join('\n  ')}`);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('serves the app at / with its manifest, and pages fall back to index.html', async () => {
    const page = await fetch(`${base}/w/anything/c/public:general`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    // The strict CSP is on: every test below runs under it (and fails on a violation).
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    // …enforced, and seen: an inline script a page adds is refused, and reported to the test.
    const probe = await person('Probe', 'probe@example.com');
    try {
      await probe.page.goto('/signin');
      await probe.page.evaluate(() => {
        const s = document.createElement('script');
        s.textContent = 'window.__ran = 1';
        document.body.append(s);
      });
      await expect.poll(() => probe.violations.join('\n'), WAIT).toContain('script-src');
      expect(await probe.page.evaluate(() => (window as { __ran?: number }).__ran)).toBeUndefined();
    } finally {
      await probe.context.close();
    }
    expect(await page.text()).toContain('<div id="root">');
    const manifest = await fetch(`${base}/manifest.webmanifest`);
    expect(manifest.status).toBe(200);
    const m = (await manifest.json()) as { icons: { src: string }[] };
    for (const icon of m.icons) expect((await fetch(`${base}${icon.src}`)).status).toBe(200);
    // The API keeps its JSON 404s, even for a browser.
    const api = await fetch(`${base}/v1/nothing`, { headers: { accept: 'text/html' } });
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });

  it('a fresh visit, sign-up, a new workspace and signing out log no console error and no failed request', async () => {
    const cleo = await person('Cleo Fresh', 'cleo@example.com');
    const failed: string[] = [];
    const c = cleo.page;
    c.on('requestfailed', (r) => failed.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
    c.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.request().method()} ${r.url()}: ${r.status()}`);
    });
    try {
      await c.goto('/');
      await c.waitForURL(/\/signin/);
      await c.getByRole('button', { name: 'Create an account' }).click();
      await signUp(cleo, c);
      await c.getByRole('button', { name: 'Create account' }).click();
      await c.getByLabel('Workspace name').fill('Fresh');
      await c.getByRole('button', { name: 'Create workspace' }).click();
      await c.waitForURL(/\/w\/[^/]+\/c\/public:general$/);
      await expect.poll(() => c.getByTestId('channel-name').textContent(), WAIT).toBe('general');
      await send(c, '#general', 'first words');
      // …and signing out (which ends the workspace's chat token and closes its socket) too.
      await c.getByRole('button', { name: /Open your menu/ }).click();
      await c.getByRole('menuitem', { name: 'Sign out' }).click();
      await c.waitForURL(/\/signin/);
      await c.getByRole('button', { name: 'Create an account' }).waitFor(WAIT);
      expect(failed).toEqual([]);
      expect(cleo.console.filter((l) => l.startsWith('error:'))).toEqual([]);
      expect(cleo.violations).toEqual([]);
      expect(cleo.errors).toEqual([]);
    } finally {
      await cleo.context.close();
    }
  });

  it('Ada signs up, creates a workspace and an invite link; Bob joins by the link', async () => {
    const a = ada.page;
    await a.goto('/');
    await a.waitForURL(/\/signin/);
    await a.getByRole('button', { name: 'Create an account' }).click();
    await signUp(ada, a);
    await shot(a, 'signup');
    await a.getByRole('button', { name: 'Create account' }).click();
    await a.getByLabel('Workspace name').fill('Acme');
    await shot(a, 'workspaces');
    await a.getByRole('button', { name: 'Create workspace' }).click();
    await a.waitForURL(/\/w\/[^/]+\/c\/public:general$/);
    workspaceId = decodeURIComponent(new URL(a.url()).pathname.split('/')[2] as string);
    await expect.poll(() => a.getByTestId('channel-name').textContent(), WAIT).toBe('general');
    await send(a, '#general', 'Welcome to **Acme**, everyone!', 'Welcome to Acme, everyone!');
    // Installable as an app: Chromium finds nothing missing in the manifest, icons or worker
    // (Playwright's contexts are incognito ones, which Chromium never installs from).
    const cdp = await a.context().newCDPSession(a);
    const installability = async () => {
      const r = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: { errorId: string }[] };
      return r.installabilityErrors.map((e) => e.errorId).filter((id) => id !== 'in-incognito');
    };
    await expect.poll(installability, WAIT).toEqual([]);
    await cdp.detach();

    await a.getByRole('button', { name: 'Invite people' }).click();
    const link = a.getByTestId('invite-link');
    await expect.poll(() => link.inputValue(), WAIT).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/invite\/.+/);
    inviteUrl = await link.inputValue();
    await shot(a, 'invite-dialog');
    await a.getByRole('button', { name: 'Done' }).click();

    const b = bob.page;
    await b.goto(inviteUrl);
    await expect
      .poll(() => b.getByTestId('invite-title').textContent(), WAIT)
      .toBe('Ada Lovelace invited you to join Acme');
    await signUp(bob, b);
    await shot(b, 'invite-preview');
    await b.getByRole('button', { name: 'Create account and join' }).click();
    await b.waitForURL(new RegExp(`/w/${workspaceId}/c/public:general$`));
    await message(b, 'Welcome to Acme, everyone!').waitFor(WAIT);
  }, 60_000);

  it('they chat both ways in real time, reply in a thread, react, edit and delete', async () => {
    const a = ada.page;
    const b = bob.page;
    await send(b, '#general', 'Thanks Ada! Happy to be here.');
    await message(a, 'Happy to be here').waitFor(WAIT);
    await send(a, '#general', 'Could you look at the launch checklist today?');
    await message(b, 'launch checklist').waitFor(WAIT);

    // Bob replies in a thread; Ada sees the thread summary under her message.
    await act(message(b, 'launch checklist'), 'Reply in thread');
    const reply = b.getByRole('combobox', { name: 'Reply in thread' });
    await reply.fill('On it — I will post notes in this thread.');
    await reply.press('Enter');
    await expect.poll(() => message(a, 'launch checklist').getByText('1 reply').count(), WAIT).toBe(1);

    // Ada reacts to Bob's message; Bob sees it.
    await act(message(a, 'Happy to be here'), 'Add reaction');
    await a.getByRole('toolbar', { name: 'Add a reaction' }).getByRole('button', { name: 'celebrate' }).click();
    await message(b, 'Happy to be here').getByRole('button', { name: 'celebrate: 1' }).waitFor(WAIT);

    // Edit and delete your own messages.
    await send(a, '#general', 'The standup moves to 10:30 tomorow');
    await act(message(a, 'tomorow'), 'Edit message');
    const box = a.getByRole('combobox', { name: 'Edit message' });
    await box.fill('The standup moves to 10:30 tomorrow');
    await box.press('Enter');
    await message(b, '10:30 tomorrow').getByText('(edited)').waitFor(WAIT);
    await send(a, '#general', 'Oops, wrong channel');
    await act(message(a, 'wrong channel'), 'Delete message');
    await a.getByRole('button', { name: 'Delete', exact: true }).click();
    await b.getByText('This message was deleted').waitFor(WAIT);

    // Chromium's sockets carried their tokens with the upgrade (the `parley` subprotocol was
    // selected); none fell back to the auth frame.
    const metrics = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
    const via = (v: string) =>
      Number(new RegExp(`^parley_ws_handshakes_total\\{[^}]*via="${v}"[^}]*\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0);
    expect(via('upgrade')).toBeGreaterThanOrEqual(2);
    expect(via('frame')).toBe(0);
  }, 60_000);

  it('shows Ada that Bob is typing, and stops when he clears the box', async () => {
    const a = ada.page;
    const box = composer(bob.page, '#general');
    await box.click();
    await box.pressSequentially('Let me check', { delay: 20 });
    const typing = a.locator('.parley-channel > .parley-typing');
    await expect.poll(() => typing.textContent(), WAIT).toBe('Bob Builder is typing…');
    await box.fill('');
    await expect.poll(() => typing.textContent(), WAIT).toBe('');
  }, 30_000);

  it('a mention in a channel Bob is not viewing shows a badge that clears when he opens it', async () => {
    const a = ada.page;
    const b = bob.page;
    await a.getByRole('button', { name: 'Add a channel' }).click();
    await a.getByLabel('Name').fill('Design');
    await a.getByLabel(/Topic/).fill('Mockups, reviews and the design system');
    await a.getByRole('button', { name: 'Create', exact: true }).click();
    await a.waitForURL(/c\/public:design$/);

    await b.getByRole('button', { name: 'Browse channels' }).click();
    await b.getByRole('button', { name: 'Join #design' }).waitFor(WAIT);
    await shot(b, 'channel-browser');
    await b.getByRole('button', { name: 'Join #design' }).click();
    await b.waitForURL(/c\/public:design$/);
    await row(b, 'public:general').click();
    await b.waitForURL(/c\/public:general$/);

    // Ada picks Bob from the @ suggestions.
    const box = composer(a, '#design');
    await box.pressSequentially('@bo');
    await a.getByRole('option', { name: /Bob Builder/ }).waitFor(WAIT);
    await box.press('Tab');
    await box.pressSequentially('could you review the new mockups?');
    await expect.poll(() => box.inputValue()).toBe('@bob.builder could you review the new mockups?');
    await box.press('Enter');

    const badge = row(b, 'public:design').getByTestId('mention-badge');
    await expect.poll(() => badge.textContent(), WAIT).toBe('@1');
    await shot(b, 'mention-badge');
    await row(b, 'public:design').click();
    await message(b, 'review the new mockups').waitFor(WAIT);
    await expect.poll(() => badge.count(), WAIT).toBe(0);
    await expect.poll(() => b.title(), WAIT).not.toMatch(/^\(/);
  }, 60_000);

  it('Bob starts a direct message with Ada from "New message"', async () => {
    const a = ada.page;
    const b = bob.page;
    await b.getByRole('button', { name: 'New message' }).first().click();
    await b.getByLabel('To:').pressSequentially('Ad');
    await b.getByRole('option', { name: /Ada Lovelace/ }).click();
    await b.getByRole('button', { name: 'Start conversation' }).click();
    await b.waitForURL(/c\/dm:/);
    const dm = decodeURIComponent(new URL(b.url()).pathname.split('/c/')[1] as string);
    await send(b, 'Ada Lovelace', 'Quick question: is the launch still on Thursday?');
    await expect.poll(() => row(a, dm).getByTestId('unread-badge').textContent(), WAIT).toBe('1');
    // Ada sees Bob's presence on the DM row.
    await expect.poll(() => row(a, dm).getAttribute('aria-label'), WAIT).toMatch(/Bob Builder, online/);
  }, 30_000);

  it('sets a custom status and away, and switches to the dark theme', async () => {
    const a = ada.page;
    await a.getByRole('button', { name: /Open your menu/ }).click();
    await a.getByRole('menuitem', { name: 'Set a status' }).click();
    await a.getByRole('button', { name: /In a meeting/ }).click();
    await a.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => a.getByTestId('my-status').textContent(), WAIT).toBe('📅 In a meeting');

    // The main screen, with a thread open, for the README.
    await row(a, 'public:general').click();
    await message(a, 'launch checklist').getByRole('button', { name: '1 reply' }).click();
    await a.locator('.parley-thread').getByText('I will post notes').waitFor(WAIT);
    await a.mouse.move(640, 790);
    await shot(a, 'chat');
    if (process.env.PARLEY_DOCS_SHOT === '1') copyFileSync(path.join(SHOTS, 'chat.png'), DOCS_SHOT);
    await a.getByRole('button', { name: 'Close thread' }).click();

    await a.getByRole('button', { name: /Open your menu/ }).click();
    await a.getByRole('menuitem', { name: 'Set yourself as away' }).click();
    await a.getByRole('button', { name: /Ada Lovelace, away/ }).waitFor(WAIT);

    await a.getByRole('button', { name: /Open your menu/ }).click();
    await a.getByRole('menuitem', { name: 'Preferences' }).click();
    await a.getByText('Dark', { exact: true }).click();
    await expect.poll(() => a.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await shot(a, 'settings-dark');
    await a.getByRole('button', { name: 'Close', exact: true }).last().click();
    await a.getByTestId('members-button').click();
    await a.mouse.move(640, 760);
    await shot(a, 'chat-dark');
    await a.getByRole('button', { name: 'Close panel' }).click();

    // On a phone one pane shows at a time: back from the conversation to the sidebar, and on
    // (phone.e2e.test.ts goes through the phone layout with touch).
    await a.setViewportSize({ width: 390, height: 844 });
    await shot(a, 'mobile');
    await a.getByRole('button', { name: 'Back' }).click();
    await row(a, 'public:design').waitFor({ state: 'visible' });
    await shot(a, 'mobile-sidebar');
    await row(a, 'public:design').click();
    await a.waitForURL(/c\/public:design$/);
    await a.setViewportSize({ width: 1280, height: 800 });
  }, 30_000);

  it('renders hostile message text as text: no script runs, no script element, no javascript: link', async () => {
    const a = ada.page;
    const b = bob.page;
    await row(a, 'public:general').click();
    await row(b, 'public:general').click();
    const payloads = ['<script>alert(1)</script>', '[x](javascript:alert(1))', '<img src=x onerror=alert(1)>'];
    for (const text of payloads) await send(a, '#general', text);
    for (const page of [a, b]) {
      for (const text of payloads) await message(page, text).waitFor(WAIT);
      const list = page.locator('.parley-message-list');
      expect(await list.locator('script').count()).toBe(0);
      expect(await list.locator('img').count()).toBe(0);
      expect(await list.locator('a[href^="javascript:"]').count()).toBe(0);
    }
    // Give an onerror or a script every chance to fire before checking that none did.
    await a.waitForTimeout(300);
    expect(ada.dialogs).toEqual([]);
    expect(bob.dialogs).toEqual([]);
  }, 30_000);

  it('shows Bob offline to Ada once he closes his page', async () => {
    const a = ada.page;
    await a.getByTestId('members-button').click();
    const bobRow = a.locator('.app-member', { hasText: 'Bob Builder' });
    await expect.poll(() => bobRow.getAttribute('data-presence'), WAIT).toBe('online');
    await bob.page.close();
    await expect.poll(() => bobRow.getAttribute('data-presence'), WAIT).toBe('offline');
    await a.getByRole('button', { name: 'Close panel' }).click();
    expect(bob.errors).toEqual([]);
    await bob.context.close();
  }, 30_000);

  it('changes the password: other sessions end, the new password signs in and the old one does not', async () => {
    const gus = await person('Gus Keys', 'gus@example.com');
    const other = await person('Gus Keys', 'gus@example.com'); // the same account, on a second device
    const NEW = 'a much longer passphrase';
    try {
      const g = gus.page;
      await g.goto('/signup');
      await signUp(gus, g);
      await g.getByRole('button', { name: 'Create account' }).click();
      await g.getByLabel('Workspace name').fill('Keys');
      await g.getByRole('button', { name: 'Create workspace' }).click();
      await g.waitForURL(/\/w\/[^/]+\/c\/public:general$/);
      const here = new URL(g.url()).pathname;

      const o = other.page;
      await o.goto(here);
      await o.waitForURL(/\/signin/);
      await o.getByLabel('Email').fill(gus.email);
      await o.getByLabel('Password').fill(PASSWORD);
      await o.getByRole('button', { name: 'Sign in' }).click();
      await o.waitForURL((u) => u.pathname === here, WAIT);
      await expect.poll(() => o.getByTestId('channel-name').textContent(), WAIT).toBe('general');

      await g.getByRole('button', { name: /Open your menu/ }).click();
      await g.getByRole('menuitem', { name: 'Preferences' }).click();
      const form = g.getByRole('form', { name: 'Change password' });
      const change = async (current: string, next: string, again = next) => {
        await form.getByLabel('Current password').fill(current);
        await form.getByLabel(/^New password/).fill(next);
        await form.getByLabel('Confirm new password').fill(again);
        await form.getByRole('button', { name: 'Change password' }).click();
      };
      const alert = form.getByRole('alert');
      // The server's typed errors, in words: a wrong current password (403), the policy (400).
      await change('not my password', NEW);
      await expect.poll(() => alert.textContent(), WAIT).toBe('Your current password is not right.');
      await change(PASSWORD, 'short');
      await expect.poll(() => alert.textContent(), WAIT).toBe('Choose a new password of 10 to 200 characters.');
      await shot(g, 'settings-password-error');
      // …and the one thing only the page can see.
      await change(PASSWORD, NEW, `${NEW}!`);
      await expect.poll(() => alert.textContent(), WAIT).toBe('The new passwords do not match.');
      await change(PASSWORD, NEW);
      await expect
        .poll(() => form.getByRole('status').textContent(), WAIT)
        .toBe('Password changed. You were signed out on every other device.');
      await shot(g, 'settings-password');

      // The other device's session ended, its chat socket with it: back to sign-in.
      await o.waitForURL(/\/signin/, WAIT);
      await o.getByLabel('Email').fill(gus.email);
      await o.getByLabel('Password').fill(PASSWORD);
      await o.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => o.getByRole('alert').textContent(), WAIT).toBe('That email and password do not match.');
      await o.getByLabel('Password').fill(NEW);
      await o.getByRole('button', { name: 'Sign in' }).click();
      await o.waitForURL((u) => u.pathname === here, WAIT);
      await expect.poll(() => o.getByTestId('channel-name').textContent(), WAIT).toBe('general');
      // This device kept its session through the change.
      await g.getByRole('button', { name: 'Close', exact: true }).last().click();
      await send(g, '#general', 'still here after the change');

      // Sign out everywhere, from the second device: both end up at sign-in.
      await o.getByRole('button', { name: /Open your menu/ }).click();
      await o.getByRole('menuitem', { name: 'Preferences' }).click();
      await o.getByRole('button', { name: 'Sign out everywhere' }).click();
      await o.waitForURL(/\/signin/, WAIT);
      await g.waitForURL(/\/signin/, WAIT);

      // Failed requests the steps above asked for, and nothing else.
      expect(unexpected(gus, [400, 401, 403])).toEqual([]);
      expect(unexpected(other, [401])).toEqual([]);
      for (const p of [gus, other]) {
        expect(p.errors).toEqual([]);
        expect(p.violations).toEqual([]);
      }
    } finally {
      await gus.context.close();
      await other.context.close();
    }
  }, 90_000);

  it('an owner removes a member, whose open tab is sent to the workspace list', async () => {
    const a = ada.page;
    const dan = await person('Dan Gone', 'dan@example.com');
    try {
      await join(dan);
      const d = dan.page;
      const seen = ada.console.length;

      await a.getByTestId('workspace-name').click();
      await a.getByRole('menuitem', { name: 'Manage members' }).click();
      const dialog = a.getByRole('dialog', { name: 'Members of Acme' });
      const adaRow = dialog.locator('.app-roster__row', { hasText: 'Ada Lovelace' });
      const danRow = dialog.locator('.app-roster__row', { hasText: 'Dan Gone' });
      await danRow.waitFor(WAIT);
      // Roles and emails (an owner sees them); you leave rather than remove yourself.
      expect(await adaRow.locator('.app-role').textContent()).toBe('Owner');
      expect(await danRow.locator('.app-role').textContent()).toBe('Member');
      expect(await danRow.textContent()).toContain('dan@example.com');
      expect(await adaRow.getByRole('button', { name: /Remove/ }).count()).toBe(0);
      await adaRow.getByRole('button', { name: 'Leave workspace' }).waitFor(WAIT);
      await shot(a, 'members');

      // Remove asks first.
      await danRow.getByRole('button', { name: 'Remove Dan Gone' }).click();
      await danRow.getByText('Remove Dan Gone from Acme?').waitFor(WAIT);
      await shot(a, 'members-remove');
      await danRow.getByRole('button', { name: 'Remove', exact: true }).click();
      await expect.poll(() => danRow.count(), WAIT).toBe(0);
      // His socket is closed by the server; the app finds no token to be had and leaves.
      await d.waitForURL((u) => u.pathname === '/', WAIT);
      await d.getByText('You are not in any workspace yet').waitFor(WAIT);
      await dialog.getByRole('button', { name: 'Done' }).click();
      // Dan's one failed request is the token he can no longer get (404).
      expect(unexpected(dan, [404]), dan.console.filter((l) => l.startsWith('http:')).join('\n')).toEqual([]);
      expect(dan.errors).toEqual([]);
      expect(dan.violations).toEqual([]);
      expect(unexpected(ada, [], seen)).toEqual([]);
    } finally {
      await dan.context.close();
    }
  }, 60_000);

  it('an admin may remove members but not owners, and leaves the workspace', async () => {
    const a = ada.page;
    const fay = await person('Fay Admin', 'fay@example.com');
    try {
      await join(fay);
      const f = fay.page;
      // No screen changes roles yet: Ada makes Fay an admin through the API.
      const status = await a.evaluate(async (id) => {
        const { members } = (await (await fetch(`/v1/workspaces/${id}/members`)).json()) as {
          members: { name: string; account_id: string }[];
        };
        const fayId = members.find((m) => m.name === 'Fay Admin')?.account_id;
        const r = await fetch(`/v1/workspaces/${id}/members/${fayId}`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ role: 'admin' }),
        });
        return r.status;
      }, workspaceId);
      expect(status).toBe(200);

      await f.getByTestId('workspace-name').click();
      await f.getByRole('menuitem', { name: /Members$/ }).click();
      const dialog = f.getByRole('dialog', { name: 'Members of Acme' });
      const rowOf = (name: string) => dialog.locator('.app-roster__row', { hasText: name });
      await rowOf('Bob Builder').waitFor(WAIT);
      expect(await rowOf('Fay Admin').locator('.app-role').textContent()).toBe('Admin');
      await rowOf('Bob Builder').getByRole('button', { name: 'Remove Bob Builder' }).waitFor(WAIT);
      expect(await rowOf('Ada Lovelace').getByRole('button').count()).toBe(0);
      await shot(f, 'members-admin');
      await f.setViewportSize({ width: 390, height: 844 });
      await shot(f, 'members-mobile');

      await rowOf('Fay Admin').getByRole('button', { name: 'Leave workspace' }).click();
      await rowOf('Fay Admin').getByText('Leave Acme?').waitFor(WAIT);
      await rowOf('Fay Admin').getByRole('button', { name: 'Leave', exact: true }).click();
      await f.waitForURL((u) => u.pathname === '/', WAIT);
      await f.getByText('You are not in any workspace yet').waitFor(WAIT);
      // Leaving on purpose asks for no token it cannot have: no failed request at all.
      expect(unexpected(fay, []), fay.console.filter((l) => l.startsWith('http:')).join('\n')).toEqual([]);
      expect(fay.errors).toEqual([]);
      expect(fay.violations).toEqual([]);
    } finally {
      await fay.context.close();
    }
  }, 60_000);

  it('the last owner cannot leave: the server says why, and the workspace stays open', async () => {
    const a = ada.page;
    const seen = ada.console.length;
    await a.getByTestId('workspace-name').click();
    await a.getByRole('menuitem', { name: 'Leave Acme' }).click();
    const dialog = a.getByRole('dialog', { name: 'Leave Acme?' });
    await dialog.getByRole('button', { name: 'Leave workspace' }).click();
    await expect
      .poll(() => dialog.getByRole('alert').textContent(), WAIT)
      .toBe('A workspace needs at least one owner: make someone else an owner first.');
    await shot(a, 'leave-refused');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(new URL(a.url()).pathname).toMatch(new RegExp(`^/w/${workspaceId}`));
    await row(a, 'public:general').click();
    await send(a, '#general', 'Still the owner here');
    expect(unexpected(ada, [409], seen)).toEqual([]);
    expect(ada.errors).toEqual([]);
  }, 30_000);

  it('opens a channel of 10,000 messages and scrolls back to the first', async () => {
    const a = ada.page;
    // A chat token for Ada, from her own session, to create the channel through the API.
    const session = (await a.evaluate(async (id) => {
      const r = await fetch(`/v1/workspaces/${id}/session`, {
        method: 'POST',
        credentials: 'include',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      return r.json();
    }, workspaceId)) as { api_key: string; token: string; user_id: string };
    const headers = { 'x-api-key': session.api_key, authorization: `Bearer ${session.token}` };
    const created = await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers,
      payload: { type: 'public', id: 'history', name: 'history', topic: 'Ten thousand messages' },
    });
    expect(created.status).toBe(200);
    // Leave the app while seeding, so no open page applies 10,000 live events.
    await a.goto('about:blank');

    const started = Date.now();
    await seed(workspaceId, 'public:history', session.user_id, 10_000);
    const seededMs = Date.now() - started;
    const log = await h.call({ method: 'GET', url: '/v1/channels/public:history/events?after=9990', headers });
    expect(log.body.events.map((e: { seq: number }) => e.seq).at(-1)).toBe(10_000);

    const t0 = Date.now();
    await a.goto(`/w/${workspaceId}/c/public:history`);
    await message(a, 'Message 10000').waitFor({ timeout: 20_000 });
    const openMs = Date.now() - t0;

    // Scroll to the top again and again: each time the list nears its start it loads the 50
    // messages before and keeps the view where it was. (It fetches before the very top: with
    // virtuoso's startReached, which waits 200 ms at rest, this loop took 40 s, not ~13.)
    const t1 = Date.now();
    const pages = await a.evaluate(async () => {
      const scroller = document.querySelector('.parley-message-list__scroller') as HTMLElement;
      const bodies = () => [...document.querySelectorAll('.parley-message__body')].map((el) => el.textContent?.trim());
      /** The oldest message shown, by its number: what each older page moves down. */
      const oldest = () => Math.min(...bodies().map((t) => Number(/^Message (\d+)$/.exec(t ?? '')?.[1] ?? Infinity)));
      let rounds = 0;
      // No deadline on the whole climb (a loaded machine makes 200 pages slow), but one on each
      // step: the list that stops loading older pages fails here, naming where it stopped.
      let seen = oldest();
      let moved = performance.now();
      while (seen !== 1) {
        if (performance.now() - moved > 30_000)
          throw new Error(`no older page for 30 s; oldest shown: Message ${seen}`);
        scroller.scrollTop = 0;
        rounds++;
        await new Promise((r) => setTimeout(r, 25));
        const now = oldest();
        if (now < seen) [seen, moved] = [now, performance.now()];
      }
      return rounds;
    });
    const firstMs = Date.now() - t1;
    await message(a, 'Message 1').scrollIntoViewIfNeeded();
    await a.getByText('This is the beginning of #history.').waitFor(WAIT);
    await shot(a, 'long-channel-top');
    const rendered = await a.locator('article.parley-message').count();
    expect(rendered).toBeLessThan(400); // virtualized: only what is near the view is in the DOM
    console.log(
      `long channel: seeded 10,000 messages in ${seededMs} ms; opened in ${openMs} ms; ` +
        `first message reached in ${firstMs} ms (${pages} scrolls to the top, ${rendered} rows in the DOM)`,
    );
    expect(ada.errors).toEqual([]);
    expect(ada.dialogs).toEqual([]);
  }, 420_000);

  it('searches, filters, opens a hit deep in history and lands on it highlighted', async () => {
    const a = ada.page;
    await a.goto(`/w/${workspaceId}/c/public:history`);
    await message(a, 'Message 10000').waitFor({ timeout: 20_000 });
    await a.keyboard.press('Control+Shift+F');
    const dialog = a.getByRole('dialog', { name: 'Search messages' });
    await dialog.waitFor(WAIT);
    const box = dialog.getByRole('searchbox', { name: 'Search messages' });
    await box.fill('message 4321');
    await box.press('Enter');
    const hit = dialog.locator('.parley-search__hit', { hasText: 'Message 4321' });
    await hit.waitFor(WAIT);
    await expect.poll(() => hit.locator('mark').allTextContents(), WAIT).toEqual(['Message', '4321']);
    // A filter chip narrows the query: this conversation only.
    const chip = dialog.getByRole('button', { name: 'In #history', exact: true });
    await chip.click();
    await expect.poll(() => chip.getAttribute('aria-pressed'), WAIT).toBe('true');
    await expect.poll(() => box.inputValue(), WAIT).toBe('message 4321 in:public:history');
    await hit.waitFor(WAIT);
    await shot(a, 'search');
    await hit.click();
    await a.waitForURL(/\?m=/);
    const target = message(a, 'Message 4321');
    await target.waitFor({ timeout: 20_000 });
    await expect.poll(() => target.getAttribute('class'), WAIT).toContain('parley-message--highlighted');
    await expect.poll(() => target.isVisible(), WAIT).toBe(true);
    await shot(a, 'search-jump');
    // Back to the live end of the channel. The button floats over the list: reaching the end
    // loads newer pages below the window, and the button stays where it was (in the list's
    // footer it moved down with each page, away from the pointer: a click under load missed).
    const jumpButton = a.getByRole('button', { name: 'Jump to latest' });
    const where = await jumpButton.boundingBox();
    const nextPage = a.waitForResponse((r) => /\/messages\?after=/.test(r.url()), WAIT);
    await a.locator('.parley-message-list__scroller').evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await nextPage;
    await expect
      .poll(() => a.locator('.parley-message-list__footer').getByRole('button').textContent(), WAIT)
      .toBe('Load newer messages');
    expect(await jumpButton.boundingBox()).toEqual(where);
    await jumpButton.click();
    // The live end is a fresh page of the 10,000-message channel, as on the way in (line above).
    await message(a, 'Message 10000').waitFor({ timeout: 20_000 });
    // Recent searches are remembered on this device.
    await a.keyboard.press('Control+Shift+F');
    await a
      .getByRole('list', { name: 'Recent searches' })
      .getByRole('button', { name: 'message 4321 in:public:history' })
      .waitFor(WAIT);
    await a.keyboard.press('Escape');
    expect(ada.errors).toEqual([]);
    expect(ada.dialogs).toEqual([]);
  }, 60_000);

  it('saw no Content-Security-Policy violation on any page', () => {
    expect(ada.violations).toEqual([]);
    expect(bob.violations).toEqual([]);
  });
});

/**
 * Seed a channel the way the send path writes: per batch one transaction that takes the
 * seqs from the channel's counter (so `last_seq` stays right), inserts the messages and
 * appends their `message.new` events to the log.
 */
async function seed(appId: string, cid: string, userId: string, n: number): Promise<void> {
  const svc = h.server.svc;
  const batch = 1_000;
  const start = Date.now() - n * 1_000;
  for (let done = 0; done < n; done += batch) {
    const count = Math.min(batch, n - done);
    await withTransaction(svc, async (tx, out) => {
      const last = new Date(start + (done + count) * 1_000);
      const first = await takeSeqs(tx, appId, cid, count, last);
      const rows = await tx
        .insert(schema.messages)
        .values(
          Array.from({ length: count }, (_, i) => {
            const at = new Date(start + (done + i + 1) * 1_000);
            return {
              appId,
              id: uuidv7(at.getTime()),
              cid,
              seq: first + i,
              userId,
              text: `Message ${done + i + 1}`,
              createdAt: at,
              updatedAt: at,
            };
          }),
        )
        .returning();
      const events = rows.map((r) => ({
        type: 'message.new' as const,
        cid,
        seq: r.seq,
        created_at: r.createdAt.toISOString(),
        message: presentMessage(r) as Message,
      }));
      await logEvents(tx, out, appId, events);
    });
  }
}
