/**
 * Claiming one's imported history, end to end in real Chromium against a real server (PGlite,
 * loopback) and a real SMTP server: a workspace is imported from Slack; Ada, whose Slack profile
 * had her address, signs up with it in the web app, confirms it from the mailed link, follows an
 * invite and joins — and finds #general in her sidebar, her old message as her own (she may
 * edit it) and her reaction as hers, under her Slack @name. Bea joins first and confirms later:
 * what she wrote meanwhile and her Slack history are both hers once she has.
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1 (CI) makes that a failure.
 */
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importSlackExport } from '../../../packages/server/src/features/imports/index.js';
import { buildAccount, buildWorkspace, ok } from '../../../packages/server/test/accounts/helpers.js';
import { startSmtp, type TestSmtp } from '../../../packages/server/test/accounts/smtp.js';
import { type Harness, startHarness } from '../../../packages/server/test/harness.js';
import { buildWebApp, haveBrowser, launchChromium } from './browser.js';

const WAIT = { timeout: 15_000 };
const T0 = 1_700_000_000;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

let h: Harness;
let smtp: TestSmtp;
let base: string;
let browser: Browser;

describe.skipIf(!haveBrowser)('claiming imported history in Chromium', () => {
  beforeAll(async () => {
    smtp = await startSmtp();
    h = await startHarness({ webDir: await buildWebApp(), smtpUrl: smtp.url });
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

  it('an imported person signs up with their Slack address and finds their history as their own', {
    timeout: 120_000,
  }, async () => {
    const owner = await buildAccount(h, 'Olive Owner', 'olive@example.com');
    const ws = await buildWorkspace(owner, 'Moved');
    const ADA = 'ada.lovelace@example.com';
    await importSlackExport(
      h.database,
      ws.id,
      new Map<string, Uint8Array>([
        [
          'users.json',
          json([
            { id: 'UADA', name: 'ada', real_name: 'Ada Lovelace', profile: { email: 'Ada.Lovelace@example.com' } },
            { id: 'UCAT', name: 'cat', real_name: 'Cat Hopper', profile: { email: 'cat@example.com' } },
          ]),
        ],
        ['channels.json', json([{ id: 'CGEN', name: 'general', created: T0, members: ['UADA', 'UCAT'] }])],
        [
          'general/2023-11-14.json',
          json([
            { type: 'message', user: 'UADA', text: 'Notes from before the move', ts: `${T0 + 10}.000100` },
            {
              type: 'message',
              user: 'UCAT',
              text: 'Welcome to the new place',
              ts: `${T0 + 20}.000100`,
              reactions: [{ name: 'tada', users: ['UADA', 'UCAT'], count: 2 }],
            },
          ]),
        ],
      ]),
    );
    const invite = ok(await owner.invite(ws.id));

    const context = await browser.newContext({ baseURL: base });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      // Ada signs up with the address her Slack profile had, and confirms it from the mail.
      await page.goto('/signup');
      await page.getByLabel('Full name').fill('Ada L.');
      await page.getByLabel('Email').fill(ADA);
      await page.getByLabel('Password').fill('correct horse battery');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.getByRole('heading', { name: /Welcome, Ada/ }).waitFor(WAIT);
      const mail = await smtp.waitFor(ADA, { subject: /Confirm your email/ });
      const verify = /https?:\/\/\S+\/verify-email\?token=\S+/.exec(mail.text)?.[0];
      expect(verify).toBeDefined();
      await page.goto(verify as string);
      await page.getByRole('heading', { name: 'Email confirmed' }).waitFor(WAIT);

      // The invite: she joins, and the workspace is the one she left in Slack.
      await page.goto(invite.url_path);
      await page.getByRole('button', { name: 'Join Moved' }).click(WAIT);
      const sidebar = page.getByRole('complementary', { name: 'Workspace sidebar' });
      await sidebar.getByText('general').first().click(WAIT);
      await expect.poll(() => page.getByTestId('channel-name').textContent(), WAIT).toBe('general');

      // Her message is hers: marked as her own, and hers to edit.
      const own = page.locator('.parley-message', { hasText: 'Notes from before the move' });
      await own.waitFor(WAIT);
      await expect.poll(() => own.getAttribute('class'), WAIT).toContain('parley-message--mine');
      const theirs = page.locator('.parley-message', { hasText: 'Welcome to the new place' });
      expect(await theirs.getAttribute('class')).not.toContain('parley-message--mine');
      // Her reaction on Cat's message is hers.
      const tada = theirs.getByRole('button', { name: /^tada: 2, including you$/ });
      await tada.waitFor(WAIT);
      expect(await tada.getAttribute('aria-pressed')).toBe('true');
      await page.screenshot({ path: path.join(tmpdir(), 'parley-claimed-history.png') });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('someone who joined before confirming finds old and new history as their own after confirming', {
    timeout: 120_000,
  }, async () => {
    const owner = await buildAccount(h, 'Olive Owner', 'olive.late@example.com');
    const ws = await buildWorkspace(owner, 'Late');
    const BEA = 'bea.late@example.com';
    await importSlackExport(
      h.database,
      ws.id,
      new Map<string, Uint8Array>([
        ['users.json', json([{ id: 'UBEA', name: 'bea', real_name: 'Bea', profile: { email: BEA } }])],
        ['channels.json', json([{ id: 'CGEN', name: 'general', created: T0, members: ['UBEA'] }])],
        [
          'general/2023-11-14.json',
          json([{ type: 'message', user: 'UBEA', text: 'Bea from Slack', ts: `${T0}.000100` }]),
        ],
      ]),
    );
    const invite = ok(await owner.invite(ws.id));
    const context = await browser.newContext({ baseURL: base });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      // Bea signs up and joins at once, her address not confirmed yet: a person of her own.
      await page.goto('/signup');
      await page.getByLabel('Full name').fill('Bea B.');
      await page.getByLabel('Email').fill(BEA);
      await page.getByLabel('Password').fill('correct horse battery');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.getByRole('heading', { name: /Welcome, Bea/ }).waitFor(WAIT);
      await page.goto(invite.url_path);
      await page.getByRole('button', { name: 'Join Late' }).click(WAIT);
      await page.getByRole('complementary', { name: 'Workspace sidebar' }).waitFor(WAIT);
      // Meanwhile she joins #general and writes there (with the app's own chat token).
      const session = await (
        await page.request.post(`/v1/workspaces/${ws.id}/session`, { headers: { origin: base }, data: {} })
      ).json();
      expect(session.user_id).toMatch(/^a_/);
      const chat = { 'x-api-key': session.api_key, authorization: `Bearer ${session.token}` };
      expect((await page.request.post('/v1/channels/public:general/join', { headers: chat, data: {} })).ok()).toBe(
        true,
      );
      const sent = await page.request.post('/v1/channels/public:general/messages', {
        headers: chat,
        data: { text: 'Bea before confirming' },
      });
      expect(sent.ok()).toBe(true);

      // She confirms her address from the mail: the Slack person becomes hers, with what she wrote.
      const mail = await smtp.waitFor(BEA, { subject: /Confirm your email/ });
      const verify = /https?:\/\/\S+\/verify-email\?token=\S+/.exec(mail.text)?.[0];
      await page.goto(verify as string);
      await page.getByRole('heading', { name: 'Email confirmed' }).waitFor(WAIT);
      await page.goto(`/w/${ws.id}`);
      const sidebar = page.getByRole('complementary', { name: 'Workspace sidebar' });
      await sidebar.getByText('general').first().click(WAIT);
      for (const text of ['Bea from Slack', 'Bea before confirming']) {
        const m = page.locator('.parley-message', { hasText: text });
        await m.waitFor(WAIT);
        await expect.poll(() => m.getAttribute('class'), WAIT).toContain('parley-message--mine');
      }
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
