/**
 * Hidden read receipts in real Chromium against a real server: Ada, Bob and Cy in a private
 * group. Bob reads Ada's message and her "Seen by" names him; he turns off "Let others see when
 * I've read messages" in Preferences and her line drops him, live; Cy reads, and Ada sees Cy
 * alone — never Bob, though he reads her next message too, while his own unread state clears.
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1. Screenshots go to PARLEY_SHOTS (default a temporary folder).
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, haveBrowser, startTeam, startWebApp, type WebApp } from './browser.js';

const WAIT = { timeout: 30_000 };
const SHOTS = process.env.PARLEY_SHOTS ?? mkdtempSync(join(tmpdir(), 'shots-read-privacy-'));

let web: WebApp;
const errors: string[] = [];

const message = (p: Page, text: string) => p.locator('article.parley-message', { hasText: text }).first();

describe.skipIf(!haveBrowser)('hidden read receipts', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    web = await startWebApp();
  }, 180_000);

  afterAll(async () => {
    await web?.close();
  });

  it('a reader who turns the setting on leaves the others’ "Seen by", live, and stays out', async () => {
    const { workspaceId, members } = await startTeam(web, errors, [
      { name: 'Bob Babbage', email: 'bob@example.com' },
      { name: 'Cy Cerf', email: 'cy@example.com' },
    ]);
    const [a, b, c] = members.map((m) => m.page) as [Page, Page, Page];
    const made = await api(a, workspaceId, 'POST', '/v1/channels', {
      type: 'group',
      id: 'trio',
      name: 'trio',
      members: members.slice(1).map((m) => m.userId),
    });
    expect(made.status).toBe(200);
    const group = (p: Page) => p.goto(`/w/${workspaceId}/c/group:trio`);

    await group(a);
    const composer = a.getByRole('combobox', { name: /^Message / });
    await composer.fill('Lunch at noon?');
    await composer.press('Enter');
    await expect.poll(() => message(a, 'Lunch at noon?').getAttribute('data-status'), WAIT).toBe('sent');
    const seen = message(a, 'Lunch at noon?').locator('.parley-seen-by');

    // Bob reads: Ada's line names him.
    await group(b);
    await message(b, 'Lunch at noon?').waitFor(WAIT);
    await expect.poll(() => seen.textContent(), WAIT).toContain('Seen by Bob Babbage');

    // Bob turns his read receipts off in Preferences.
    await b.getByRole('button', { name: /Open your menu/ }).click();
    await b.getByRole('menuitem', { name: 'Preferences' }).click();
    const toggle = b.getByRole('checkbox', { name: "Let others see when I've read messages" });
    await expect.poll(() => toggle.isEnabled(), WAIT).toBe(true);
    expect(await toggle.isChecked()).toBe(true);
    await toggle.uncheck();
    await expect.poll(() => toggle.isChecked(), WAIT).toBe(false);
    await expect.poll(() => toggle.isEnabled(), WAIT).toBe(true);
    await b.getByRole('region', { name: 'Privacy' }).screenshot({ path: `${SHOTS}/privacy-toggle.png` });
    await b.screenshot({ path: `${SHOTS}/preferences.png` });
    expect((await api(b, workspaceId, 'GET', '/v1/me/privacy')).body.privacy.hide_read_receipts).toBe(true);
    await b.getByRole('button', { name: 'Close' }).first().click();

    // Ada's line drops him, live: nobody has seen it now.
    await expect.poll(() => seen.count(), WAIT).toBe(0);

    // Cy reads: Ada sees Cy alone.
    await group(c);
    await message(c, 'Lunch at noon?').waitFor(WAIT);
    await expect.poll(() => seen.textContent(), WAIT).toContain('Seen by Cy Cerf');
    expect(await seen.textContent()).not.toContain('Bob');

    // Ada's next message: Cy reads it first, then Bob (his page is open on the group). Ada's
    // line names Cy only, and Bob's own unread state clears.
    await composer.fill('Or one?');
    await composer.press('Enter');
    await expect.poll(() => message(a, 'Or one?').getAttribute('data-status'), WAIT).toBe('sent');
    const seen2 = message(a, 'Or one?').locator('.parley-seen-by');
    await expect.poll(() => seen2.textContent(), WAIT).toContain('Seen by Cy Cerf');
    await message(b, 'Or one?').waitFor(WAIT);
    await expect
      .poll(
        async () =>
          (await api(b, workspaceId, 'POST', '/v1/channels/query', { filter: { cid: 'group:trio' } })).body.channels[0]
            .unread_count,
        WAIT,
      )
      .toBe(0);
    // Bob's read is stored (his unread count is 0); a fresh page of Ada's agrees: Cy alone.
    await a.reload();
    await message(a, 'Or one?').waitFor(WAIT);
    await expect.poll(() => seen2.textContent(), WAIT).toContain('Seen by Cy Cerf');
    expect(await seen2.textContent()).not.toContain('Bob');
    expect(await seen2.textContent()).not.toContain('everyone');
    await a.screenshot({ path: `${SHOTS}/seen-without-bob.png` });
    expect(errors).toEqual([]);
  }, 240_000);
});
