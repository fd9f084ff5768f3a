/**
 * Desktop notifications in real Chromium against a real server (PGlite, loopback), the app
 * freshly built and served by the server, its service worker registered.
 *
 * Bob's browser context has the 'notifications' permission granted. An init script wraps
 * `window.Notification` and `ServiceWorkerRegistration.prototype.showNotification` — the real
 * ones still run — to record what the page shows, and reports the permission as not yet asked
 * until the page calls `requestPermission`, so the test sees *when* the app asks: never on
 * load, only when Bob clicks "Enable desktop notifications" in the banner.
 *
 * Then, with Bob's tab in the background (another tab in front), a mention from Olive shows a
 * notification naming the channel, the author and the text, tagged by conversation and
 * linking to it. Pausing notifications in the preferences dialog, and muting the channel from
 * its menu, each hold the next mention back (checked against a later mention that does show).
 * Last, a Web Push payload delivered to the service worker through Chromium's push path
 * (DevTools' `ServiceWorker.deliverPushMessage`) is shown by the worker with its conversation.
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1 (CI) makes that a failure.
 */
import type { PushPayload } from '@parley/protocol';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildAccount,
  buildWorkspace,
  chatHeaders,
  email,
  join,
  ok,
} from '../../../packages/server/test/accounts/helpers.js';
import { type Harness, startHarness } from '../../../packages/server/test/harness.js';
import { buildWebApp, haveBrowser, launchChromium } from './browser.js';

const WAIT = { timeout: 20_000 };

interface Note {
  title: string;
  body?: string;
  tag?: string;
  data?: { url?: string };
  via: 'page' | 'sw';
}

/** Runs in the page before the app: records notifications and permission requests. */
function recordNotifications() {
  const w = window as unknown as { __notes: Note[]; __asked: number };
  w.__notes = [];
  w.__asked = 0;
  let asked = false;
  const Real = window.Notification;
  class Recorded extends Real {
    constructor(title: string, options?: NotificationOptions) {
      super(title, options);
      w.__notes.push({ title, body: options?.body, tag: options?.tag, data: options?.data, via: 'page' });
    }
    static override get permission(): NotificationPermission {
      return asked ? Real.permission : 'default';
    }
    static override async requestPermission(): Promise<NotificationPermission> {
      w.__asked++;
      asked = true;
      return Real.requestPermission();
    }
  }
  window.Notification = Recorded as unknown as typeof Notification;
  const show = ServiceWorkerRegistration.prototype.showNotification;
  ServiceWorkerRegistration.prototype.showNotification = function (title, options) {
    w.__notes.push({ title, body: options?.body, tag: options?.tag, data: options?.data, via: 'sw' });
    return show.call(this, title, options);
  };
}

let h: Harness;
let base: string;
let browser: Browser;

describe.skipIf(!haveBrowser)('desktop notifications in Chromium', () => {
  beforeAll(async () => {
    h = await startHarness({ webDir: await buildWebApp() });
    base = await h.listen();
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('asks on a click, then shows a mention while the tab is in the background', { timeout: 150_000 }, async () => {
    const olive = await buildAccount(h, 'Olive Owner', email('olive'));
    const bob = await buildAccount(h, 'Bob Builder', email('bob'));
    const ws = await buildWorkspace(olive, 'Beacon');
    await join(olive, ws.id, bob);
    const os = chatHeaders(ok(await olive.session(ws.id)));
    const bs = ok(await bob.session(ws.id));
    ok(await h.call({ method: 'PATCH', url: '/v1/me', headers: chatHeaders(bs), payload: { username: 'bob' } }));
    ok(
      await h.call({
        method: 'POST',
        url: '/v1/channels',
        headers: os,
        payload: { type: 'public', id: 'general', name: 'general', members: [bs.user_id] },
      }),
    );
    ok(
      await h.call({
        method: 'POST',
        url: '/v1/channels',
        headers: os,
        payload: { type: 'public', id: 'random', name: 'random', members: [bs.user_id] },
      }),
    );
    const say = async (cid: string, text: string) =>
      ok(await h.call({ method: 'POST', url: `/v1/channels/${cid}/messages`, headers: os, payload: { text } })).message;

    const context: BrowserContext = await browser.newContext({ baseURL: base });
    try {
      await context.grantPermissions(['notifications'], { origin: base });
      const [name, value] = (bob.cookie ?? '').split('=') as [string, string];
      await context.addCookies([{ name, value, url: base }]);
      await context.addInitScript(recordNotifications);
      const page: Page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const notes = () => page.evaluate(() => (window as unknown as { __notes: Note[] }).__notes);
      const asked = () => page.evaluate(() => (window as unknown as { __asked: number }).__asked);

      await page.goto(`/w/${ws.id}/c/public:random`);
      await expect.poll(() => page.getByTestId('channel-name').textContent(), WAIT).toBe('random');
      // The service worker is in place (the app registers it in production builds).
      await expect
        .poll(() => page.evaluate(async () => !!(await navigator.serviceWorker.getRegistration())?.active), WAIT)
        .toBe(true);

      // Not asked on load: a banner offers it.
      const banner = page.getByTestId('notify-banner');
      await banner.waitFor(WAIT);
      expect(await asked()).toBe(0);
      await banner.getByRole('button', { name: 'Enable desktop notifications' }).click();
      await banner.waitFor({ state: 'detached', ...WAIT });
      expect(await asked()).toBe(1);

      // Another tab in front: Bob's tab is in the background (headless Chromium keeps every tab
      // "visible", but only the front one has focus — which is what the app checks too).
      // Playwright makes every page believe it has focus; a background tab does not (set after
      // the navigations, which may move a page to another renderer).
      const other = await context.newPage(); // a tab on purpose: the test is about the page behind it
      await other.goto('/healthz');
      const background = async () => {
        for (const p of [page, other])
          await (await context.newCDPSession(p)).send('Emulation.setFocusEmulationEnabled', { enabled: false });
        await other.bringToFront();
        await expect.poll(() => page.evaluate(() => document.hasFocus()), WAIT).toBe(false);
      };
      await background();

      const m = await say('public:general', '@bob the build is green');
      await expect.poll(async () => (await notes()).length, WAIT).toBeGreaterThan(0);
      const [n] = await notes();
      expect(n).toMatchObject({
        title: '#general',
        body: 'Olive Owner: @bob the build is green',
        tag: 'public:general',
        data: { url: `/w/${ws.id}/c/public:general` },
        // Through the service worker (its notificationclick opens the conversation).
        via: 'sw',
      });
      expect(m.id).toBeTruthy();

      // Paused for an hour from the preferences: the next mention is held back…
      await page.bringToFront();
      // Held while the settings load: nothing they govern can be changed or saved yet.
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      await page.route('**/v1/notifications/settings', async (route) => {
        if (route.request().method() === 'GET') await held;
        await route.continue();
      });
      await page.getByRole('button', { name: /Open your menu/ }).click();
      await page.getByRole('menuitem', { name: 'Notifications', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Notifications' });
      await dialog.getByRole('radio', { name: 'Every new message' }).waitFor(WAIT);
      expect(await dialog.getByRole('radio', { name: 'Every new message' }).isDisabled()).toBe(true);
      expect(await dialog.getByRole('button', { name: 'Pause 1 hour' }).isDisabled()).toBe(true);
      expect(await dialog.getByRole('button', { name: 'Save' }).isDisabled()).toBe(true);
      release();
      await expect.poll(() => dialog.getByRole('button', { name: 'Save' }).isEnabled(), WAIT).toBe(true);
      await page.unroute('**/v1/notifications/settings');
      expect(await dialog.getByRole('radio', { name: 'Every new message' }).isEnabled()).toBe(true);
      await dialog.getByRole('button', { name: 'Pause 1 hour' }).click();
      await expect.poll(() => dialog.getByTestId('dnd-state').textContent(), WAIT).toMatch(/^Paused until/);
      await background();
      await say('public:general', '@bob during the pause');
      // …and shows again once resumed (a later mention arrives; the paused one never did).
      await page.bringToFront();
      await dialog.getByRole('button', { name: 'Resume now' }).click();
      await expect.poll(() => dialog.getByTestId('dnd-state').textContent(), WAIT).toBe('Notifications are on');
      await dialog
        .getByRole('button', { name: 'Close' })
        .click()
        .catch(() => page.keyboard.press('Escape'));
      await background();
      await say('public:general', '@bob after the pause');
      await expect
        .poll(async () => (await notes()).map((x) => x.body), WAIT)
        .toContain('Olive Owner: @bob after the pause');
      expect((await notes()).map((x) => x.body)).not.toContain('Olive Owner: @bob during the pause');

      // Muted from the channel menu: mentions there stay quiet; #random still notifies.
      await page.bringToFront();
      // (In the app, not a reload: the recorder above lives as long as the page.)
      await page
        .getByRole('complementary', { name: 'Workspace sidebar' })
        .getByText('general', { exact: true })
        .click();
      await expect.poll(() => page.getByTestId('channel-name').textContent(), WAIT).toBe('general');
      await page.getByRole('button', { name: 'Channel options' }).click();
      await page.getByRole('menuitem', { name: /^Mute/ }).click();
      await expect
        .poll(async () => {
          const r = await h.call({ method: 'GET', url: '/v1/channels/public:general', headers: chatHeaders(bs) });
          return r.body.channel?.membership?.muted;
        }, WAIT)
        .toBe(true);
      await background();
      await say('public:general', '@bob in a muted channel');
      await say('public:random', '@bob over in random');
      await expect
        .poll(async () => (await notes()).map((x) => x.body), WAIT)
        .toContain('Olive Owner: @bob over in random');
      expect((await notes()).map((x) => x.body)).not.toContain('Olive Owner: @bob in a muted channel');

      // A Web Push reaching the service worker (delivered by Chromium's own push path, as a
      // push service would): the worker shows it, tagged, with the conversation to open.
      const sw = await context.newCDPSession(page);
      const registrationId = new Promise<string>((resolve) =>
        sw.on('ServiceWorker.workerRegistrationUpdated', (e) => {
          const r = e.registrations.find((x) => x.scopeURL.startsWith(base) && !x.isDeleted);
          if (r) resolve(r.registrationId);
        }),
      );
      await sw.send('ServiceWorker.enable');
      const payload: PushPayload = {
        type: 'message.new',
        app_id: ws.id,
        cid: 'public:random',
        message_id: m.id,
        parent_id: null,
        title: '#random',
        body: 'Olive Owner: pushed while away',
        collapse_key: 'public:random',
        badge: 4,
        reason: 'mention',
      };
      await sw.send('ServiceWorker.deliverPushMessage', {
        origin: new URL(base).origin,
        registrationId: await registrationId,
        data: JSON.stringify(payload),
      });
      await expect
        .poll(
          () =>
            page.evaluate(async () => {
              const reg = await navigator.serviceWorker.ready;
              return (await reg.getNotifications()).map((n) => ({
                title: n.title,
                body: n.body,
                tag: n.tag,
                url: n.data?.url,
              }));
            }),
          WAIT,
        )
        .toContainEqual({
          title: '#random',
          body: 'Olive Owner: pushed while away',
          tag: 'public:random',
          url: `/w/${ws.id}/c/public:random`,
        });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
