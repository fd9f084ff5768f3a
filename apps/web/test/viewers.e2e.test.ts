/**
 * Who is viewing, in real Chromium against a real server: Ada and Bob in a private group. When
 * both have it open, each sees the other "viewing" in the header (the other's face, never their
 * own), live; at phone width too; and when Bob goes to another channel, Ada's header no longer
 * shows him.
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1. Screenshots go to /tmp/shots-viewers/.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, haveBrowser, startTeam, startWebApp, type WebApp } from './browser.js';

const WAIT = { timeout: 30_000 };
const SHOTS = '/tmp/shots-viewers';

let web: WebApp;
const errors: string[] = [];

const viewers = (p: Page) => p.locator('.app-channel-header .parley-viewers');
const faces = async (p: Page) =>
  viewers(p)
    .locator('.parley-viewers__face')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-user-id')));

describe.skipIf(!haveBrowser)('who is viewing', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    web = await startWebApp();
  }, 180_000);

  afterAll(async () => {
    await web?.close();
  });

  it('the header shows who else views the conversation, live, and not once they have left it', async () => {
    const { workspaceId, members } = await startTeam(web, errors, [{ name: 'Bob Babbage', email: 'bob@example.com' }]);
    const [a, b] = members.map((m) => m.page) as [Page, Page];
    const [adaId, bobId] = members.map((m) => m.userId) as [string, string];
    const general = b.url();

    const made = await api(a, workspaceId, 'POST', '/v1/channels', {
      type: 'group',
      id: 'lookers',
      name: 'lookers',
      members: [bobId],
    });
    expect(made.status).toBe(200);
    const group = (p: Page) => p.goto(`/w/${workspaceId}/c/group:lookers`);

    // Ada alone: nobody else is viewing, so nothing shows.
    await group(a);
    await a.getByRole('combobox', { name: /^Message / }).waitFor(WAIT);
    expect(await viewers(a).count()).toBe(0);

    // Bob opens it too: each sees the other, never themselves.
    await group(b);
    await expect.poll(() => viewers(a).getByTestId('viewers-count').textContent(), WAIT).toBe('1 viewing');
    expect(await faces(a)).toEqual([bobId]);
    expect(await viewers(a).getAttribute('aria-label')).toContain('Bob Babbage on web');
    await expect.poll(() => faces(b), WAIT).toEqual([adaId]);
    await a.screenshot({ path: `${SHOTS}/desktop-1280.png` });

    // At phone width the header keeps it (one row: the name, the faces, the call buttons, ⋯).
    await a.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => viewers(a).isVisible(), WAIT).toBe(true);
    expect(await faces(a)).toEqual([bobId]);
    const box = await viewers(a).boundingBox();
    expect(box && box.x >= 0 && box.x + box.width <= 390).toBe(true);
    await a.screenshot({ path: `${SHOTS}/phone-390.png` });
    await a.setViewportSize({ width: 1280, height: 800 });

    // Bob goes to another channel: he is no longer viewing this one.
    await b.goto(general);
    await b.getByRole('combobox', { name: /^Message / }).waitFor(WAIT);
    await expect.poll(() => viewers(a).count(), WAIT).toBe(0);
    await a.screenshot({ path: `${SHOTS}/left.png` });

    // And back: live again, without a reload on Ada's side.
    await group(b);
    await expect.poll(() => faces(a), WAIT).toEqual([bobId]);
    expect(errors).toEqual([]);
  }, 180_000);
});
