/**
 * Polls and custom emoji in the web app, in real Chromium against a real server. Olive (the
 * workspace's owner) starts a poll with `/poll` in #general; she and Mia vote, and each sees the
 * other's vote arrive live (counts, bars, her own vote marked). Then Olive adds a custom emoji
 * in the admin console; Mia's picker offers it at once (emoji.updated), she reacts with it and
 * uses it in text, and Olive sees the image in both places live.
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1. Screenshots go to /tmp/shots-polls/.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAccount, buildWorkspace, email, join } from '../../../packages/server/test/accounts/helpers.js';
import type { Harness } from '../../../packages/server/test/harness.js';
import { haveBrowser, startWebApp, type WebApp } from './browser.js';

const WAIT = { timeout: 20_000 };
const SHOTS = '/tmp/shots-polls';

let h: Harness;
let app: WebApp | undefined;
let olive: Page;
let mia: Page;
let wsId: string;

const composer = (page: Page) => page.getByRole('combobox', { name: 'Message #general' });
const message = (page: Page, text: string) => page.locator('article.parley-message', { hasText: text }).first();
const option = (page: Page, text: string) =>
  message(page, 'Where shall we eat').getByRole('button', { name: new RegExp(`^${text}: `) });

describe.skipIf(!haveBrowser)('polls and custom emoji in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    app = await startWebApp({ jobPollMs: 100 });
    h = app.h;
    const o = await buildAccount(h, 'Olive Owner', email('olive'));
    const m = await buildAccount(h, 'Mia Member', email('mia'));
    const ws = await buildWorkspace(o, 'Harbor');
    wsId = ws.id;
    await join(o, ws.id, m);
    olive = await (await app.as(o.cookie)).newPage();
    mia = await (await app.as(m.cookie)).newPage();
    for (const p of [olive, mia]) {
      await p.setViewportSize({ width: 1280, height: 800 });
      await p.goto(`/w/${wsId}/c/public:general`);
      await composer(p).waitFor(WAIT);
    }
  }, 180_000);

  afterAll(async () => {
    await app?.close();
  });

  it('a poll made with /poll, voted by two people, live in both browsers', { timeout: 120_000 }, async () => {
    const errors: string[] = [];
    for (const p of [olive, mia]) p.on('pageerror', (e) => errors.push(e.message));
    await composer(olive).fill('/poll Where shall we eat?');
    await composer(olive).press('Enter');
    const dialog = olive.getByRole('dialog', { name: 'Create a poll' });
    await dialog.waitFor(WAIT);
    expect(await dialog.getByLabel('Question').inputValue()).toBe('Where shall we eat?');
    await dialog.getByLabel('Option 1', { exact: true }).fill('Pizza');
    await dialog.getByLabel('Option 2', { exact: true }).fill('Sushi');
    await dialog.getByRole('button', { name: 'Add option' }).click();
    await dialog.getByLabel('Option 3', { exact: true }).fill('Tacos');
    await dialog.screenshot({ path: `${SHOTS}/poll-dialog.png` });
    await dialog.getByRole('button', { name: 'Create poll' }).click();

    // Both see it; Olive votes Pizza, Mia Sushi then Pizza too.
    await option(mia, 'Pizza').waitFor(WAIT);
    await option(olive, 'Pizza').click();
    await expect.poll(() => option(mia, 'Pizza').getAttribute('aria-label'), WAIT).toBe('Pizza: 1 vote');
    await expect.poll(() => option(olive, 'Pizza').getAttribute('aria-pressed'), WAIT).toBe('true');
    await option(mia, 'Sushi').click();
    await expect.poll(() => option(olive, 'Sushi').getAttribute('aria-label'), WAIT).toBe('Sushi: 1 vote');
    await expect.poll(() => option(mia, 'Sushi').getAttribute('aria-pressed'), WAIT).toBe('true');
    // Mia changes her mind: a single-choice poll moves her vote.
    await option(mia, 'Pizza').click();
    await expect.poll(() => option(olive, 'Pizza').getAttribute('aria-label'), WAIT).toBe('Pizza: 2 votes, your vote');
    await expect.poll(() => option(olive, 'Sushi').getAttribute('aria-label'), WAIT).toBe('Sushi: 0 votes');
    expect(await option(olive, 'Pizza').getAttribute('aria-pressed')).toBe('true');
    expect(await option(mia, 'Pizza').getAttribute('aria-label')).toBe('Pizza: 2 votes, your vote');
    await expect.poll(() => message(mia, 'Where shall we eat').getByText('2 people voted').count(), WAIT).toBe(1);
    await message(olive, 'Where shall we eat').screenshot({ path: `${SHOTS}/poll-olive.png` });
    await message(mia, 'Where shall we eat').screenshot({ path: `${SHOTS}/poll-mia.png` });

    // Olive closes it: Mia's options turn read-only at once, the results stay.
    await message(olive, 'Where shall we eat').getByRole('button', { name: 'Close poll' }).click();
    await expect.poll(() => option(mia, 'Tacos').isDisabled(), WAIT).toBe(true);
    expect(await option(mia, 'Pizza').getAttribute('aria-label')).toBe('Pizza: 2 votes, your vote');
    await message(mia, 'Where shall we eat').screenshot({ path: `${SHOTS}/poll-closed.png` });
    expect(errors).toEqual([]);
  });

  it('a custom emoji added by an admin, used as a reaction by another user', { timeout: 120_000 }, async () => {
    await composer(olive).fill('Who shipped it?');
    await composer(olive).press('Enter');
    await message(mia, 'Who shipped it?').waitFor(WAIT);

    // Olive adds :partyparrot: (an animated GIF) in the admin console.
    await olive.getByTestId('workspace-name').click(WAIT);
    await olive.getByRole('menuitem', { name: 'Admin console' }).click(WAIT);
    const dialog = olive.getByRole('dialog', { name: 'Admin console · Harbor' });
    await dialog.getByRole('tab', { name: 'Emoji' }).click(WAIT);
    const frames = await Promise.all(
      ['#e53935', '#43a047', '#1e88e5'].map((c) =>
        sharp({ create: { width: 96, height: 96, channels: 3, background: c } })
          .png()
          .toBuffer(),
      ),
    );
    const gif = await sharp(frames, { join: { animated: true } })
      .gif({ delay: [200, 200, 200] })
      .toBuffer();
    // A standard emoji's name is refused, as Slack does, and the console says why.
    await dialog.getByLabel('Shortcode').fill('parrot');
    await dialog.locator('input[type=file]').setInputFiles({ name: 'parrot.gif', mimeType: 'image/gif', buffer: gif });
    await dialog.getByRole('button', { name: 'Add emoji' }).click();
    await dialog.getByRole('alert').getByText(":parrot: is a standard emoji's name").waitFor(WAIT);
    await dialog.getByLabel('Shortcode').fill('partyparrot');
    await dialog.getByLabel('Aliases (optional)').fill('party');
    await dialog.getByRole('button', { name: 'Add emoji' }).click();
    await dialog.getByRole('img', { name: ':partyparrot:' }).waitFor(WAIT);
    await dialog.screenshot({ path: `${SHOTS}/emoji-admin.png` });
    await dialog.getByRole('button', { name: 'Close' }).first().click();

    // Mia's reaction picker offers it (no reload: the list came live) and she reacts with it.
    const row = message(mia, 'Who shipped it?');
    await row.hover();
    await row.getByRole('button', { name: 'Add reaction' }).click();
    await mia
      .getByRole('toolbar', { name: 'Add a reaction' })
      .getByRole('button', { name: ':partyparrot:' })
      .click(WAIT);
    const reaction = message(olive, 'Who shipped it?').getByRole('button', { name: ':partyparrot:: 1' });
    await reaction.waitFor(WAIT);
    expect(await reaction.locator('img.parley-emoji').count()).toBe(1);

    // The composer's emoji picker has a Custom tab, searched by alias; the pick goes in as text.
    await composer(mia).fill('Ship it ');
    await mia.getByRole('button', { name: 'Insert emoji' }).click();
    const picker = mia.getByRole('dialog', { name: 'Emoji' });
    await picker.getByRole('tab', { name: 'Custom' }).click();
    await picker.getByRole('combobox', { name: 'Search emoji' }).fill('part');
    await picker.getByRole('option', { name: 'partyparrot' }).waitFor(WAIT);
    await picker.screenshot({ path: `${SHOTS}/emoji-picker-custom.png` });
    await picker.getByRole('combobox', { name: 'Search emoji' }).press('Enter');
    await expect.poll(() => composer(mia).inputValue(), WAIT).toBe('Ship it :partyparrot:');
    // And in text, through an alias: shown as the image for everyone.
    await composer(mia).fill('Ship it :party:');
    await composer(mia).press('Enter');
    const img = message(olive, 'Ship it').locator('.parley-markdown img.parley-emoji');
    await img.waitFor(WAIT);
    expect(await img.getAttribute('alt')).toBe(':party:');
    await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth), WAIT).toBeGreaterThan(0);
    await olive
      .locator('.parley-message-list, main')
      .first()
      .screenshot({ path: `${SHOTS}/emoji-used.png` });

    // Mia, a member, sees the workspace's emoji from the workspace menu; adding is for admins here.
    // The list is the SDK's (already here); who may add comes from a request: held here, the
    // dialog says it is checking and offers no form until the answer comes.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await mia.route('**/v1/emoji/settings', async (route) => {
      await held;
      await route.continue();
    });
    await mia.getByTestId('workspace-name').click(WAIT);
    await mia.getByRole('menuitem', { name: 'Custom emoji' }).click(WAIT);
    const list = mia.getByRole('dialog', { name: 'Custom emoji' });
    await list.getByRole('img', { name: ':partyparrot:' }).waitFor(WAIT);
    await list.getByText('Checking who may add emoji…').waitFor(WAIT);
    expect(await list.getByText('Only admins add custom emoji in this workspace.').count()).toBe(0);
    release();
    await list.getByText('Only admins add custom emoji in this workspace.').waitFor(WAIT);
    await mia.unroute('**/v1/emoji/settings');
    expect(await list.getByText('Checking who may add emoji…').count()).toBe(0);
    expect(await list.getByRole('button', { name: 'Add emoji' }).count()).toBe(0);
    expect(await list.getByRole('button', { name: 'Remove :partyparrot:' }).count()).toBe(0);
    await list.screenshot({ path: `${SHOTS}/emoji-member.png` });
  });
});
