/**
 * People you can see, in real Chromium against a real server: Olive opens the People page,
 * searches it, opens a profile from it; Mia turns do-not-disturb on and off from her menu and
 * Olive watches Mia's avatar go busy and back, live. Screenshots go to /tmp/shots-people/.
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAccount, buildWorkspace, chatHeaders, join, ok } from '../../../packages/server/test/accounts/helpers.js';
import type { Harness } from '../../../packages/server/test/harness.js';
import { haveBrowser, openWindow, startWebApp, type WebApp } from './browser.js';

const WAIT = { timeout: 30_000 };
const SHOTS = '/tmp/shots-people';

let h: Harness;
let app: WebApp | undefined;
const errors: string[] = [];

describe.skipIf(!haveBrowser)('people and presence in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    app = await startWebApp({ busyCheckMs: 500 });
    ({ h } = app);
  }, 180_000);

  afterAll(async () => {
    await app?.close();
  });

  it('the People page searches; Mia going busy shows on her avatar for Olive, live', { timeout: 150_000 }, async () => {
    const olive = await buildAccount(h, 'Olive Owner', 'olive@example.com');
    const mia = await buildAccount(h, 'Mia Member', 'mia@example.com');
    const paul = await buildAccount(h, 'Paul Poster', 'paul@example.com');
    const ws = await buildWorkspace(olive, 'Harbor');
    await join(olive, ws.id, mia);
    await join(olive, ws.id, paul);
    const miaSession = ok(await mia.session(ws.id));
    // Mia's time zone (from her notification settings) shows as her local time.
    ok(
      await h.call({
        method: 'PATCH',
        url: '/v1/notifications/settings',
        headers: chatHeaders(miaSession),
        payload: { time_zone: 'Asia/Tokyo' },
      }),
    );
    const oc = await (app as WebApp).as(olive.cookie);
    const mc = await (app as WebApp).as(mia.cookie);
    const o = await oc.newPage();
    const m = await mc.newPage();
    for (const p of [o, m]) p.on('pageerror', (e) => errors.push(e.message));
    await o.setViewportSize({ width: 1280, height: 800 });

    // Olive opens People from the sidebar: everyone, by name.
    await o.goto(`/w/${ws.id}`);
    await o.getByTestId('people-button').click(WAIT);
    await o.waitForURL(/\/w\/[^/]+\/people$/);
    const rows = o.getByTestId('people-list').locator('.app-person');
    await expect
      .poll(
        () => rows.evaluateAll((els) => els.map((e) => e.querySelector('.app-person__name')?.firstChild?.textContent)),
        WAIT,
      )
      .toEqual(['Mia Member', 'Olive Owner', 'Paul Poster']);
    const miaRow = o.getByTestId(`person-${miaSession.user_id}`);
    // An owner sees emails; Mia's local time is shown.
    await expect.poll(() => miaRow.textContent(), WAIT).toContain('mia@example.com');
    expect(await miaRow.textContent()).toMatch(/local time/);

    // Searching narrows the list as Olive types; by email too (she is an admin).
    await o.getByTestId('people-search').fill('pau');
    await expect.poll(() => rows.count(), WAIT).toBe(1);
    expect(await rows.first().textContent()).toContain('Paul Poster');
    await o.getByTestId('people-search').fill('mia@');
    await expect.poll(() => rows.count(), WAIT).toBe(1);
    await o.getByTestId('people-search').fill('');
    await expect.poll(() => rows.count(), WAIT).toBe(3);

    // Mia comes online: her row says so without a reload.
    await m.goto(`/w/${ws.id}`);
    await expect.poll(() => miaRow.getAttribute('data-presence'), WAIT).toBe('online');
    await o.screenshot({ path: `${SHOTS}/people-page.png` });

    // Mia turns on do-not-disturb from her menu: busy for her and, live, for Olive.
    await m.getByRole('button', { name: /Open your menu/ }).click(WAIT);
    await m.getByRole('menuitem', { name: /Do not disturb for 1 hour/ }).click(WAIT);
    await expect.poll(() => m.getByTestId('my-status').textContent(), WAIT).toBe('Do not disturb');
    await expect.poll(() => miaRow.getAttribute('data-presence'), WAIT).toBe('busy');
    expect(await miaRow.locator('.parley-presence--busy').count()).toBe(1);
    expect(await miaRow.textContent()).toContain('Do not disturb');
    await miaRow.screenshot({ path: `${SHOTS}/busy-avatar.png` });
    await m.screenshot({ path: `${SHOTS}/busy-me-bar.png` });

    // Her message rows carry the busy dot too, and #general's members list her as active now.
    ok(
      await h.call({
        method: 'POST',
        url: '/v1/channels/public:general/messages',
        headers: chatHeaders(miaSession),
        payload: { text: 'Heads down until lunch' },
      }),
    );
    const o2 = await openWindow(oc);
    o2.on('pageerror', (e) => errors.push(e.message));
    await o2.setViewportSize({ width: 1280, height: 800 });
    await o2.goto(`/w/${ws.id}/c/public:general`);
    const row = o2.locator('article.parley-message', { hasText: 'Heads down until lunch' }).first();
    await expect.poll(() => row.locator('.parley-avatar-dot .parley-presence--busy').count(), WAIT).toBe(1);
    await row.screenshot({ path: `${SHOTS}/busy-message-row.png` });
    await o2.close();

    // Clicking her opens her profile beside the list.
    await miaRow.click();
    const profile = o.getByRole('complementary', { name: 'Profile' });
    await expect.poll(() => profile.textContent(), WAIT).toContain('Mia Member');
    await o.screenshot({ path: `${SHOTS}/people-profile.png` });

    // And off again: online for both.
    await m.getByRole('button', { name: /Open your menu/ }).click(WAIT);
    await m.getByRole('menuitem', { name: /Turn off do not disturb/ }).click(WAIT);
    await expect.poll(() => miaRow.getAttribute('data-presence'), WAIT).toBe('online');
    await expect.poll(() => m.getByTestId('my-status').textContent(), WAIT).toBe('Active');

    // Filters: the admins, then the deactivated (none yet).
    await o.getByRole('button', { name: 'Admins' }).click();
    await expect.poll(() => rows.count(), WAIT).toBe(1);
    expect(await rows.first().textContent()).toContain('Olive Owner');
    await o.getByRole('button', { name: 'Deactivated' }).click();
    await o.getByText('No one matches.').waitFor(WAIT);
    expect(errors).toEqual([]);
  });
});
