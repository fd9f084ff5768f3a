/**
 * Moderation end to end in real Chromium against a real server (PGlite, loopback): a member
 * reports a message from its menu; the workspace owner (an app admin) opens Moderation from the
 * workspace menu, sees the report, and bans its author — the message is removed for everyone,
 * the author's open page is disconnected (and says why), and the author cannot come back: a new
 * socket is closed with 4503 and joining a channel answers BANNED.
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1 (CI) makes that a failure.
 */
import { CLOSE_CODES } from '@parley/protocol';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildAccount,
  buildWorkspace,
  chatHeaders,
  email,
  join,
  ok,
} from '../../../packages/server/test/accounts/helpers.js';
import { type Harness, TestSocket } from '../../../packages/server/test/harness.js';
import { haveBrowser, startWebApp, type WebApp } from './browser.js';

const WAIT = { timeout: 20_000 };

let h: Harness;
let base: string;
let app: WebApp | undefined;
const as = (cookie: string | null) => (app as WebApp).as(cookie);

const message = (page: Page, text: string) => page.locator('article.parley-message', { hasText: text }).first();

describe.skipIf(!haveBrowser)('moderation in Chromium', () => {
  beforeAll(async () => {
    app = await startWebApp();
    ({ h, base } = app);
  }, 180_000);

  afterAll(async () => {
    await app?.close();
  });

  it('a moderator removes a reported message and bans its author, who is disconnected and cannot rejoin', {
    timeout: 150_000,
  }, async () => {
    const olive = await buildAccount(h, 'Olive Owner', email('olive-mod'));
    const rob = await buildAccount(h, 'Rob Reporter', email('rob-mod'));
    const mal = await buildAccount(h, 'Mal Spammer', email('mal-mod'));
    const ws = await buildWorkspace(olive, 'Moderated');
    await join(olive, ws.id, rob);
    await join(olive, ws.id, mal);
    const os = ok(await olive.session(ws.id));
    const ms = ok(await mal.session(ws.id));
    const rs = ok(await rob.session(ws.id));
    ok(
      await h.call({
        method: 'POST',
        url: '/v1/channels',
        headers: chatHeaders(os),
        payload: { type: 'public', id: 'town', name: 'town', members: [rs.user_id, ms.user_id] },
      }),
    );
    const spam = ok(
      await h.call({
        method: 'POST',
        url: '/v1/channels/public:town/messages',
        headers: chatHeaders(ms),
        payload: { text: 'cheap pills at spam dot example' },
      }),
    ).message;

    const owner = await as(olive.cookie);
    const reporter = await as(rob.cookie);
    const author = await as(mal.cookie);
    try {
      // The author has the channel open: their socket is live.
      const m = await author.newPage();
      await m.goto(`/w/${ws.id}/c/public:town`);
      await message(m, 'cheap pills').waitFor(WAIT);

      // The reporter reports the message from its menu.
      const r = await reporter.newPage();
      const errors: string[] = [];
      r.on('pageerror', (e) => errors.push(e.message));
      await r.goto(`/w/${ws.id}/c/public:town`);
      const bad = message(r, 'cheap pills');
      await bad.waitFor(WAIT);
      await bad.hover();
      await bad.getByRole('button', { name: 'Report message' }).click(WAIT);
      await bad.getByLabel('Why are you reporting this message?').fill('spam');
      await bad.getByRole('button', { name: 'Report', exact: true }).click();
      await bad.getByText('Reported to the moderators.').waitFor(WAIT);
      // Members see no moderator actions: no Delete on someone else's message.
      expect(await bad.getByRole('button', { name: 'Delete message' }).count()).toBe(0);

      // The owner opens Moderation, finds the report and bans its author.
      const o = await owner.newPage();
      await o.goto(`/w/${ws.id}/c/public:town`);
      await message(o, 'cheap pills').waitFor(WAIT);
      await o.getByTestId('workspace-name').click();
      await o.getByRole('menuitem', { name: 'Moderation' }).click();
      const dialog = o.getByRole('dialog', { name: 'Moderation' });
      const queue = dialog.getByTestId('moderation-queue');
      const row = queue.locator('li', { hasText: 'cheap pills' });
      await row.waitFor(WAIT);
      expect(await row.textContent()).toMatch(/Reported by .*: spam/);
      await row.getByRole('button', { name: /^Ban / }).click();
      await expect.poll(() => queue.locator('li', { hasText: 'cheap pills' }).count(), WAIT).toBe(0);
      // The ban is listed on the other tab.
      await dialog.getByRole('tab', { name: 'Bans and block lists' }).click();
      await dialog.getByTestId(`ban-${ms.user_id}`).waitFor(WAIT);
      await o.keyboard.press('Escape');

      // Removed for everyone: the owner's and the reporter's pages show it deleted.
      for (const p of [o, r])
        await expect
          .poll(() => p.locator(`article[data-message-id="${spam.id}"]`).getAttribute('class'), WAIT)
          .toMatch(/parley-message--deleted/);
      // The author is disconnected and told why.
      await m.getByTestId('banned-banner').waitFor(WAIT);
      expect(await m.getByTestId('banned-banner').textContent()).toMatch(/banned from this workspace/);

      // And cannot come back: a reload cannot open the workspace (the socket is refused with
      // 4503, which the page shows), a new socket is closed with 4503, and joining answers BANNED.
      await m.reload();
      await m.getByText('Could not open this workspace').waitFor(WAIT);
      await m.getByText('banned from this app').waitFor(WAIT);
      const s = await TestSocket.open(base, ms.api_key);
      s.sendRaw(JSON.stringify({ type: 'auth', token: ms.token }));
      expect((await s.waitClose(20_000)).code).toBe(CLOSE_CODES.BANNED);
      const rejoin = await h.call({
        method: 'POST',
        url: '/v1/channels/public:town/members',
        headers: chatHeaders(ms),
        payload: { add: [ms.user_id] },
      });
      expect(rejoin.status).toBe(403);
      expect(rejoin.body.error.code).toBe('BANNED');
      expect(errors).toEqual([]);
    } finally {
      await owner.close();
      await reporter.close();
      await author.close();
    }
  });
});
