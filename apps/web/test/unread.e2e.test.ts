/**
 * Unread counts the server pushes, in real Chromium against a real server: Ada writes to a group
 * with Bob, who has the web app open in two windows (two devices, as far as the server knows:
 * two connections). Both windows' sidebar badges and tab titles follow each message at once,
 * though neither opened the group; when Bob reads it in one window, the other's badge and title
 * clear with no action of its own (`unread.updated` reaches every connection of his).
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, haveBrowser, openWindow, startTeam, startWebApp, type WebApp } from './browser.js';

const WAIT = { timeout: 30_000 };

let web: WebApp;
const errors: string[] = [];

const row = (p: Page, cid: string) => p.locator(`.parley-channel-row[data-cid="${cid}"]`);

describe.skipIf(!haveBrowser)('unread counts the server pushes', () => {
  beforeAll(async () => {
    web = await startWebApp();
  }, 180_000);

  afterAll(async () => {
    await web?.close();
  });

  it("badges and the tab title follow another's messages, and a read in one window clears the other", async () => {
    const { workspaceId, members } = await startTeam(web, errors, [{ name: 'Bob Babbage', email: 'bob@example.com' }]);
    const [a, b] = members.map((m) => m.page) as [Page, Page];
    const bobId = members[1]?.userId as string;
    const username = (await api(b, workspaceId, 'GET', '/v1/me')).body.user.username as string | null;
    // Bob's second window (his other device), where he last was: #general.
    const b2 = await openWindow(b.context());
    await b2.goto(`/w/${workspaceId}`);
    await b2.getByRole('combobox', { name: /^Message / }).waitFor(WAIT);

    const made = await api(a, workspaceId, 'POST', '/v1/channels', {
      type: 'group',
      id: 'counts',
      name: 'counts',
      members: [bobId],
    });
    expect(made.status).toBe(200);
    const cid = 'group:counts';
    for (const p of [b, b2]) await row(p, cid).waitFor(WAIT);
    for (const text of ['first of two', username ? `@${username} second of two` : 'second of two'])
      expect((await api(a, workspaceId, 'POST', `/v1/channels/${cid}/messages`, { text })).status).toBe(200);

    for (const p of [b, b2]) {
      await expect.poll(() => row(p, cid).getByTestId('unread-badge').textContent(), WAIT).toBe('2');
      if (username) {
        await expect.poll(() => row(p, cid).getByTestId('mention-badge').textContent(), WAIT).toBe('@1');
        await expect.poll(() => p.title(), WAIT).toMatch(/^\(1\) /);
      } else await expect.poll(() => p.title(), WAIT).toMatch(/^• /);
    }

    // Bob reads the group in his second window: the first, which never opened it, clears too.
    await row(b2, cid).click();
    await b2.waitForURL(/\/c\/group:counts$/, WAIT);
    await b2.locator('article.parley-message', { hasText: 'second of two' }).first().waitFor(WAIT);
    for (const p of [b2, b]) {
      await expect.poll(() => row(p, cid).getByTestId('unread-badge').count(), WAIT).toBe(0);
      await expect.poll(() => row(p, cid).getByTestId('mention-badge').count(), WAIT).toBe(0);
      await expect.poll(() => p.title(), WAIT).not.toMatch(/^\(/);
    }

    // Back in #general on both, another message: both windows count it again.
    await row(b2, 'public:general').click();
    await b2.waitForURL(/\/c\/public:general$/, WAIT);
    expect((await api(a, workspaceId, 'POST', `/v1/channels/${cid}/messages`, { text: 'third' })).status).toBe(200);
    for (const p of [b, b2])
      await expect.poll(() => row(p, cid).getByTestId('unread-badge').textContent(), WAIT).toBe('1');
    expect(errors).toEqual([]);
  }, 120_000);
});
