/**
 * Reminders, scheduled messages and webhooks in the web app, in real Chromium against a real
 * server: Ada schedules a message with `/schedule`, finds it in "Later", changes its text, and
 * sends it with "Send now" there and sees it arrive in #general as the job sends it;
 * she asks to be reminded about a message from its actions and finds the reminder listed; and,
 * as the workspace's owner, she adds a webhook (a real receiver here) and sees its deliveries in
 * the log.
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../../../packages/server/test/harness.js';
import { type Receiver, startReceiver } from '../../../packages/server/test/hooks/helpers.js';
import { api, buildWebApp, haveBrowser, launchChromium } from './browser.js';

const PASSWORD = 'correct horse battery';
const WAIT = { timeout: 30_000 };

let h: Harness;
let base: string;
let browser: Browser;
let rcv: Receiver;
let page: Page;
const errors: string[] = [];

const composer = (p: Page) => p.getByRole('combobox', { name: 'Message #general' });
const message = (p: Page, text: string) => p.locator('article.parley-message', { hasText: text }).first();

describe.skipIf(!haveBrowser)('later, in the web app', () => {
  beforeAll(async () => {
    rcv = await startReceiver();
    h = await startHarness({ webDir: await buildWebApp(), jobPollMs: 100, webhookAllowHosts: [rcv.host] });
    base = await h.listen();
    browser = await launchChromium();
    const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await rcv?.close();
  });

  it('schedules a message with /schedule, edits it in Later, and sends it now from there', async () => {
    await page.goto('/');
    await page.waitForURL(/\/signin/);
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.getByLabel('Full name').fill('Ada Lovelace');
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByLabel('Workspace name').fill('Acme');
    await page.getByRole('button', { name: 'Create workspace' }).click();
    await page.waitForURL(/\/w\/[^/]+\/c\/public:general$/);
    await composer(page).waitFor(WAIT);

    await composer(page).fill('/schedule 1h draft words');
    await composer(page).press('Enter');
    await page.getByRole('status').filter({ hasText: 'Message scheduled for' }).waitFor(WAIT);

    await page.getByTestId('workspace-name').click();
    await page.getByRole('menuitem', { name: 'Reminders and scheduled messages' }).click();
    const later = page.getByRole('dialog', { name: 'Later' });
    const item = later.getByTestId('scheduled-item').filter({ hasText: 'draft words' });
    await item.waitFor(WAIT);
    await item.getByRole('button', { name: 'Edit' }).click();
    await later.getByLabel('Scheduled text').fill('final words, sent later');
    await later.getByRole('button', { name: 'Save' }).click();
    const edited = later.getByTestId('scheduled-item').filter({ hasText: 'final words, sent later' });
    await edited.waitFor(WAIT);
    await page.keyboard.press('Escape');

    // Not there yet: it is an hour away, and the server agrees.
    expect(await message(page, 'final words, sent later').count()).toBe(0);
    const workspaceId = /\/w\/([^/]+)\//.exec(page.url())?.[1] as string;
    const list = await api(page, workspaceId, 'GET', '/v1/scheduled-messages');
    const [pending] = list.body.scheduled_messages as { id: string; text: string; send_at: string }[];
    expect(pending?.text).toBe('final words, sent later');
    expect(Date.parse(pending?.send_at as string) - Date.now()).toBeGreaterThan(50 * 60_000);

    // "Send now" in Later: the job sends it at once, it arrives live, and Later lets it go.
    await page.getByTestId('workspace-name').click();
    await page.getByRole('menuitem', { name: 'Reminders and scheduled messages' }).click();
    await edited.getByRole('button', { name: 'Send now' }).click();
    // It says "Sending…" until Later looks again 1.5 s on; a busy machine may take longer than
    // that to look, so gone already is as good.
    await expect
      .poll(async () => (await edited.getByText('Sending…').count()) > 0 || (await edited.count()) === 0, WAIT)
      .toBe(true);
    await expect
      .poll(() => message(page, 'final words, sent later').getAttribute('data-status'), { timeout: 60_000 })
      .toBe('sent');
    await later.getByText('Nothing scheduled.').waitFor(WAIT);
    await page.keyboard.press('Escape');
    expect(await message(page, 'draft words').count()).toBe(0);
  }, 120_000);

  it('sets a reminder from a message’s actions and lists it in Later', async () => {
    await composer(page).fill('remember the milk');
    await composer(page).press('Enter');
    const m = message(page, 'remember the milk');
    await expect.poll(() => m.getAttribute('data-status'), WAIT).toBe('sent');
    await m.hover();
    await m.getByRole('button', { name: 'Remind me about this message' }).click();
    await m.getByRole('button', { name: 'In 1 hour' }).click();
    await m.getByRole('status').filter({ hasText: "I'll remind you in 1 hour" }).waitFor(WAIT);

    await page.getByTestId('workspace-name').click();
    await page.getByRole('menuitem', { name: 'Reminders and scheduled messages' }).click();
    const later = page.getByRole('dialog', { name: 'Later' });
    const r = later.getByTestId('reminder-item').filter({ hasText: 'remember the milk' });
    await r.waitFor(WAIT);
    await r.getByRole('button', { name: 'Cancel reminder' }).click();
    await expect.poll(() => later.getByTestId('reminder-item').count(), WAIT).toBe(0);
    await page.keyboard.press('Escape');
  }, 60_000);

  it('adds a webhook as the owner and shows its deliveries', async () => {
    await page.getByTestId('workspace-name').click();
    await page.getByRole('menuitem', { name: 'Webhooks' }).click();
    const dialog = page.getByRole('dialog', { name: 'Webhooks' });
    await dialog.getByLabel('URL').fill(`${rcv.url}/web`);
    await dialog.getByRole('button', { name: 'Add webhook' }).click();
    await expect.poll(() => dialog.getByTestId('webhook-secret').inputValue(), WAIT).toMatch(/^whsec_/);
    await dialog
      .getByTestId('webhook-item')
      .filter({ hasText: `${rcv.url}/web` })
      .waitFor(WAIT);
    await page.keyboard.press('Escape');

    await composer(page).fill('hello, webhook');
    await composer(page).press('Enter');
    await expect.poll(() => rcv.on('/web').length, WAIT).toBeGreaterThan(0);
    expect(rcv.on('/web')[0]?.json.event.message.text).toBe('hello, webhook');

    await page.getByTestId('workspace-name').click();
    await page.getByRole('menuitem', { name: 'Webhooks' }).click();
    await dialog.getByRole('button', { name: 'Deliveries' }).click();
    const log = dialog.getByRole('table');
    await expect.poll(() => log.getByText('delivered (200)').count(), WAIT).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  }, 60_000);
});
