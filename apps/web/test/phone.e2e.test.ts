/**
 * The web app on a phone, in real Chromium with phone emulation (a 390 px viewport at a device
 * scale factor of 3, touch, a phone's user agent; phone.ts) against a real server serving a
 * fresh build, its service worker registered:
 *
 * - Ada signs in on the phone and the workspace opens on its sidebar; she opens #general and
 *   goes back, by the back button and by the back gesture; each screen at 360, 390 and 430 px
 *   passes the layout checks (phone.ts: nothing wider than the screen, the header's parts apart
 *   and its title readable, every touch target at least 44 px), a channel name too long for the
 *   screen included; the safe-area insets and a keyboard-sized viewport keep the header and the
 *   composer on screen; at 768 and 1024 px (tablets) two panes show side by side.
 * - A tap on a message brings up no toolbar; a long press opens the actions in a bottom sheet,
 *   from which she reacts and replies in a thread (its own pane, then the replier's profile
 *   over it, each left by back); a photo goes out from the composer's attach button.
 * - Bob calls her from his desktop: the ring, accept and hang-up on the phone, with the checks.
 * - A push (delivered through Chromium's push path to the service worker) is clicked: the
 *   conversation it names opens on the phone.
 * - Offline: the context goes offline and the installed app is reloaded: it opens on the
 *   channels and messages it stored, says it is offline, keeps three sends in its outbox across
 *   another reload, and once the network is back sends them in order, each once.
 *
 * Screenshots of the phone screens go to $TMPDIR/parley-phone (docs/screens/phone.png strips
 * five of them together). Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1 (CI) makes that a failure.
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PushPayload } from '@parley/protocol';
import type { Browser, BrowserContext, Page, Worker } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Browser as Account,
  buildAccount,
  buildWorkspace,
  chatHeaders,
  email,
  join,
  ok,
} from '../../../packages/server/test/accounts/helpers.js';
import { type Harness, startHarness } from '../../../packages/server/test/harness.js';
import { buildWebApp, FAKE_MEDIA, haveBrowser, launchChromium, PASSWORD } from './browser.js';
import { centre, layoutProblems, longPress, PHONES, phoneContext, TABLETS } from './phone.js';

const WAIT = { timeout: 30_000 };
const SHOTS = path.join(tmpdir(), 'parley-phone');
const LONG_NAME = 'quarterly-planning-and-roadmap-review';

let h: Harness;
let base: string;
let browser: Browser;
let ada: Account;
let bob: Account;
let ws: { id: string };
let bobHeaders: Record<string, string>;
let context: BrowserContext;
let page: Page;
const errors: string[] = [];

const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
/** The layout checks on the screen as it is now: no problem at all. */
const checked = async (what: string, opts: { header?: boolean } = {}) =>
  expect(await layoutProblems(page, opts), what).toEqual([]);
const composer = () => page.locator('.app-channel > .parley-input textarea');
const message = (text: string) => page.locator('.app-channel .parley-message', { hasText: text }).last();
/** What is in a channel on the server, oldest first (Bob's view). */
async function texts(cid: string): Promise<string[]> {
  const r = ok(await h.call({ method: 'GET', url: `/v1/channels/${cid}/messages?limit=100`, headers: bobHeaders })) as {
    messages: { text: string }[];
  };
  return r.messages.map((m) => m.text);
}
async function bobSays(cid: string, text: string): Promise<{ id: string }> {
  return ok(
    await h.call({ method: 'POST', url: `/v1/channels/${cid}/messages`, headers: bobHeaders, payload: { text } }),
  ).message;
}

describe.skipIf(!haveBrowser)('the web app on a phone', () => {
  beforeAll(async () => {
    h = await startHarness({ webDir: await buildWebApp() });
    base = await h.listen();
    browser = await launchChromium([
      ...FAKE_MEDIA,
      '--autoplay-policy=no-user-gesture-required',
      '--disable-features=WebRtcHideLocalIpsWithMdns',
    ]);
    mkdirSync(SHOTS, { recursive: true });
    ada = await buildAccount(h, 'Ada Lovelace', email('ada'));
    bob = await buildAccount(h, 'Bob Builder', email('bob'));
    ws = await buildWorkspace(ada, 'Lighthouse');
    await join(ada, ws.id, bob);
    const bs = ok(await bob.session(ws.id));
    bobHeaders = chatHeaders(bs);
    ok(await h.call({ method: 'PATCH', url: '/v1/me', headers: bobHeaders, payload: { username: 'bob' } }));
    const as = ok(await ada.session(ws.id));
    for (const [id, name] of [
      ['general', 'general'],
      ['planning', LONG_NAME],
    ])
      ok(
        await h.call({
          method: 'POST',
          url: '/v1/channels',
          headers: bobHeaders,
          payload: { type: 'public', id, name, members: [as.user_id] },
        }),
      );
    for (const text of ['Morning! The build is green.', 'Lunch at noon?', 'Who is on call this week?'])
      await bobSays('public:general', text);
    context = await phoneContext(browser, base);
    // Granted as a phone asks once; the page's own prompt is notifications.test.ts's subject.
    await context.grantPermissions(['notifications'], { origin: base });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('signs in on a phone and opens the workspace on its sidebar', async () => {
    await page.goto('/');
    await page.waitForURL(/\/signin/);
    await checked('the sign-in page', { header: false });
    await page.getByLabel('Email').fill(ada.account.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).tap();
    const row = page.getByRole('link', { name: /Lighthouse/ });
    await row.waitFor(WAIT);
    await checked('the workspace list', { header: false });
    await row.tap();
    await page.waitForURL(/\/w\/[^/]+$/);
    // One pane: the sidebar, the whole width; no conversation beside it.
    const sidebar = page.getByRole('complementary', { name: 'Workspace sidebar' });
    await sidebar.locator('.parley-channel-row', { hasText: 'general' }).waitFor(WAIT);
    expect((await sidebar.boundingBox())?.width).toBe(390);
    expect(await page.locator('.app-main').isVisible()).toBe(false);
    await shot('sidebar');
    for (const size of PHONES) {
      await page.setViewportSize(size);
      await checked(`the sidebar at ${size.width} px`);
    }
    // The pages the sidebar opens, each a pane with its back button.
    for (const [item, url] of [
      ['activity', /\/activity$/],
      ['people', /\/people$/],
    ] as const) {
      await sidebar.getByTestId(`${item}-button`).tap();
      await page.waitForURL(url);
      for (const size of PHONES) {
        await page.setViewportSize(size);
        await checked(`${item} at ${size.width} px`);
      }
      await page.getByRole('button', { name: 'Back' }).tap();
      await page.waitForURL(/\/w\/[^/]+$/);
    }
    await page.setViewportSize(PHONES[1]);
    // A dialog over the sidebar: the back gesture closes it, and the workspace stays.
    await sidebar.getByRole('button', { name: 'Search messages' }).tap();
    const search = page.getByRole('dialog', { name: 'Search messages' });
    await search.waitFor(WAIT);
    await expect
      .poll(() => page.evaluate(() => (history.state as { layer?: number } | null)?.layer ?? 0), WAIT)
      .not.toBe(0);
    await checked('the search dialog', { header: false });
    await page.goBack();
    await search.waitFor({ state: 'detached', ...WAIT });
    expect(new URL(page.url()).pathname).toMatch(/^\/w\/[^/]+$/);
    // The service worker is in place (the app registers it in production builds).
    await expect
      .poll(() => page.evaluate(async () => !!(await navigator.serviceWorker.getRegistration())?.active), WAIT)
      .toBe(true);
  });

  it('switches channel: sidebar → conversation → back, the header readable at 360, 390 and 430 px', {
    timeout: 120_000,
  }, async () => {
    const sidebar = page.getByRole('complementary', { name: 'Workspace sidebar' });
    await sidebar.locator('.parley-channel-row', { hasText: 'general' }).tap();
    await page.waitForURL(/\/c\/public:general$/);
    await message('Who is on call').waitFor(WAIT);
    expect(await sidebar.isVisible()).toBe(false);
    await shot('conversation');
    for (const size of PHONES) {
      await page.setViewportSize(size);
      await checked(`#general at ${size.width} px`);
    }
    await page.setViewportSize(PHONES[1]);
    // The back button: the sidebar again (the entry before, as the back gesture would).
    await page.getByRole('button', { name: 'Back' }).tap();
    await page.waitForURL(/\/w\/[^/]+$/);
    await sidebar.waitFor({ state: 'visible', ...WAIT });
    // A name too long for the screen: cut with an ellipsis, its full text the title's tooltip.
    await sidebar.locator('.parley-channel-row', { hasText: LONG_NAME }).tap();
    await page.waitForURL(/\/c\/public:planning$/);
    const title = page.getByTestId('channel-name');
    await expect.poll(() => title.getAttribute('title'), WAIT).toBe(LONG_NAME);
    for (const size of PHONES) {
      await page.setViewportSize(size);
      await checked(`#${LONG_NAME} at ${size.width} px`);
    }
    await page.setViewportSize(PHONES[0]);
    expect(
      await title
        .locator('span')
        .last()
        .evaluate((el) => el.scrollWidth > el.clientWidth),
      'the long name is cut at 360 px',
    ).toBe(true);
    await shot('long-name-360');
    await page.setViewportSize(PHONES[1]);
    // The back gesture (history back): the sidebar.
    await page.goBack();
    await page.waitForURL(/\/w\/[^/]+$/);
    await sidebar.waitFor({ state: 'visible', ...WAIT });
    await sidebar.locator('.parley-channel-row', { hasText: 'general' }).tap();
    await message('Who is on call').waitFor(WAIT);

    // Clear of the notch and the home bar, and of an on-screen keyboard (Chrome on Android
    // shrinks the page for it: `interactive-widget=resizes-content`).
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setSafeAreaInsetsOverride', { insets: { top: 47, bottom: 34, left: 0, right: 0 } });
    const header = page.locator('.app-channel-header');
    await expect.poll(async () => (await header.boundingBox())?.y ?? 0, WAIT).toBeGreaterThanOrEqual(47);
    const input = await page.locator('.app-channel > .parley-input .parley-input__row').boundingBox();
    expect((input?.y ?? 0) + (input?.height ?? 0)).toBeLessThanOrEqual(844 - 34);
    await checked('#general with safe-area insets');
    await shot('safe-area');
    await cdp.send('Emulation.setSafeAreaInsetsOverride', { insets: { top: 0, bottom: 0, left: 0, right: 0 } });
    await cdp.detach();
    await composer().tap();
    await page.setViewportSize({ width: 390, height: 420 });
    const typing = await page.locator('.app-channel > .parley-input .parley-input__row').boundingBox();
    expect((typing?.y ?? 0) + (typing?.height ?? 0)).toBeLessThanOrEqual(420);
    expect(await header.isVisible()).toBe(true);
    await checked('#general with the keyboard up');
    await page.setViewportSize(PHONES[1]);
  });

  it('a tap shows no toolbar; a long press opens the actions in a sheet, to react and to reply in a thread', {
    timeout: 120_000,
  }, async () => {
    const target = message('Lunch at noon?');
    await target.tap();
    expect(
      await target.locator('.parley-message__actions').evaluate((el) => getComputedStyle(el).opacity),
      'no hover toolbar after a tap',
    ).toBe('0');
    const sheet = page.getByRole('dialog', { name: 'Message actions' });
    await longPress(page, await centre(page, '.app-channel .parley-message:has-text("Lunch at noon?")'), () =>
      sheet.isVisible(),
    );
    await sheet.waitFor(WAIT);
    await shot('sheet');
    await checked('the long-press sheet', { header: false });
    // React: the pill shows, and the server has it.
    await sheet.getByRole('button', { name: 'like', exact: true }).tap();
    await sheet.waitFor({ state: 'detached', ...WAIT });
    await target.getByRole('button', { name: /^like: 1, including you$/ }).waitFor(WAIT);
    await checked('#general with a reaction');

    // Reply in a thread: the thread is a pane of its own (its address names it).
    await longPress(page, await centre(page, '.app-channel .parley-message:has-text("Who is on call")'), () =>
      sheet.isVisible(),
    );
    await sheet.getByRole('button', { name: 'Reply in thread' }).tap();
    await page.waitForURL(/\?t=/);
    const thread = page.locator('.parley-thread');
    await thread.locator('textarea').fill('Me, until Friday');
    await thread.locator('textarea').press('Enter');
    await thread.locator('.parley-message', { hasText: 'Me, until Friday' }).waitFor(WAIT);
    await expect.poll(() => thread.locator('.parley-message[data-status="sent"]').count(), WAIT).toBe(2);
    await shot('thread');
    for (const size of PHONES) {
      await page.setViewportSize(size);
      await checked(`the thread at ${size.width} px`);
    }
    await page.setViewportSize(PHONES[1]);
    // Bob's profile over the thread; back (the gesture) to the thread, back (the button) to
    // the conversation.
    await thread.getByRole('button', { name: 'Bob Builder', exact: true }).tap();
    const profile = page.getByRole('complementary', { name: 'Profile' });
    await profile.waitFor(WAIT);
    await page.waitForURL(/panel=profile/);
    await shot('profile');
    await checked('the profile over the thread');
    await page.goBack();
    await profile.waitFor({ state: 'detached', ...WAIT });
    expect(await thread.isVisible()).toBe(true);
    await thread.getByRole('button', { name: 'Close thread' }).tap();
    await thread.waitFor({ state: 'detached', ...WAIT });
    await page.waitForURL(/\/c\/public:general$/);
    await checked('#general after the thread');
  });

  it('uploads a photo from the composer', async () => {
    const png = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#3a7bd5' } })
      .png()
      .toBuffer();
    await page.getByTestId('parley-file-input').first().setInputFiles({
      name: 'harbour.png',
      mimeType: 'image/png',
      buffer: png,
    });
    await composer().fill('The harbour this morning');
    await composer().press('Enter');
    const sent = message('The harbour this morning');
    await sent.locator('img').first().waitFor(WAIT);
    await expect.poll(() => sent.getAttribute('data-status'), WAIT).toBe('sent');
    await expect
      .poll(async () => (await texts('public:general')).includes('The harbour this morning'), WAIT)
      .toBe(true);
    await checked('#general with a photo');
    await shot('photo');
  });

  it('takes a call from Bob: ring, accept and hang up on the phone', { timeout: 120_000 }, async () => {
    const desk = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 800 } });
    try {
      const [name, value] = (bob.cookie ?? '').split('=') as [string, string];
      await desk.addCookies([{ name, value, url: base }]);
      const b = await desk.newPage();
      await b.goto(`/w/${ws.id}/c/public:general`);
      await b.getByTestId('call-audio').click();
      const toast = page.getByTestId('incoming-call');
      await toast.waitFor(WAIT);
      await shot('call-ringing');
      await checked('the ringing call', { header: false });
      await page.getByTestId('call-accept').tap();
      const view = page.getByTestId('call-view');
      await expect.poll(() => view.getAttribute('data-phase'), WAIT).toBe('connected');
      await shot('call');
      await checked('the call', { header: false });
      await page.getByTestId('call-hangup').tap();
      await expect.poll(() => view.count(), WAIT).toBe(0);
      await expect.poll(() => b.getByTestId('call-view').count(), WAIT).toBe(0);
      await checked('#general after the call');
    } finally {
      await desk.close();
    }
  });

  it('opens the conversation a push names when it is clicked', { timeout: 120_000 }, async () => {
    // From the sidebar: the push opens the conversation pane, not the list.
    await page.getByRole('button', { name: 'Back' }).tap();
    await page.waitForURL(/\/w\/[^/]+$/);
    const m = await bobSays(`public:planning`, 'Roadmap draft is up');
    const cdp = await context.newCDPSession(page);
    const registrationId = new Promise<string>((resolve) =>
      cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => {
        const r = e.registrations.find((x) => x.scopeURL.startsWith(base) && !x.isDeleted);
        if (r) resolve(r.registrationId);
      }),
    );
    // What Chromium reports of the push's path (dispatched, completed and how, the worker's
    // errors and states): a push that shows nothing fails naming the step it stopped at.
    const seen: string[] = [];
    const at = () => new Date().toISOString().slice(11, 23);
    let completed: (status: string) => void = () => {};
    const completion = new Promise<string>((resolve) => {
      completed = resolve;
    });
    cdp.on('BackgroundService.backgroundServiceEventReceived', ({ backgroundServiceEvent: e }) => {
      const status = e.eventMetadata.find((m) => m.key === 'Status')?.value;
      seen.push(`${at()} ${e.eventName}${status ? `: ${status}` : ''}`);
      if (e.eventName === 'Push event completed') completed(status ?? '');
    });
    const sawWorker = (w: Worker) => {
      seen.push(`${at()} Playwright: a service worker (${context.serviceWorkers().length} known)`);
      w.once('close', () => seen.push(`${at()} Playwright: a service worker closed`));
    };
    for (const w of context.serviceWorkers())
      w.once('close', () => seen.push(`${at()} Playwright: a service worker closed`));
    context.on('serviceworker', sawWorker);
    cdp.on('ServiceWorker.workerErrorReported', ({ errorMessage: e }) =>
      seen.push(`${at()} worker error: ${e.errorMessage} (${e.sourceURL}:${e.lineNumber})`),
    );
    cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
      for (const v of versions) seen.push(`${at()} worker ${v.versionId}: ${v.status}, ${v.runningStatus}`);
    });
    await cdp.send('BackgroundService.startObserving', { service: 'pushMessaging' });
    await cdp.send('BackgroundService.setRecording', { service: 'pushMessaging', shouldRecord: true });
    await cdp.send('ServiceWorker.enable');
    const payload: PushPayload = {
      type: 'message.new',
      app_id: ws.id,
      cid: 'public:planning',
      message_id: m.id,
      parent_id: null,
      title: `#${LONG_NAME}`,
      body: 'Bob Builder: Roadmap draft is up',
      collapse_key: 'public:planning',
      badge: 1,
      reason: 'message',
    };
    await cdp.send('ServiceWorker.deliverPushMessage', {
      origin: new URL(base).origin,
      registrationId: await registrationId,
      data: JSON.stringify(payload),
    });
    const status = await Promise.race([completion, new Promise<null>((r) => setTimeout(r, WAIT.timeout, null))]);
    if (status !== 'Success') throw new Error(`the push event did not complete (${status}):\n${seen.join('\n')}`);
    // (In the worker's own scope: `self` is the ServiceWorkerGlobalScope there.)
    type Scope = {
      registration: ServiceWorkerRegistration;
      dispatchEvent(e: Event): boolean;
      NotificationEvent: new (type: string, init: { notification: Notification }) => Event;
    };
    // In the newest worker Playwright knows, each time, with a limit: a worker stopped and started
    // again (for the push) is a new one, and a call to the old one must fail, not hang.
    const inWorker = async <T>(fn: () => Promise<T>): Promise<T> => {
      const worker = context.serviceWorkers().at(-1);
      if (!worker) throw new Error(`no service worker:\n${seen.join('\n')}`);
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          worker.evaluate(fn),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`the worker did not answer in 5 s:\n${seen.join('\n')}`)), 5_000);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    };
    // Polled for less than 25 s: headless Chromium drops a notification (its popup timing out)
    // 25 s after it shows.
    await expect
      .poll(
        () =>
          inWorker(async () => (await (self as unknown as Scope).registration.getNotifications()).map((n) => n.tag)),
        { timeout: 10_000, message: `the push's notification; what Chromium reported:\n${seen.join('\n')}` },
      )
      .toEqual(['public:planning']);
    // A click on it, as the system delivers one to the worker.
    await inWorker(async () => {
      const scope = self as unknown as Scope;
      const [notification] = await scope.registration.getNotifications();
      if (notification) scope.dispatchEvent(new scope.NotificationEvent('notificationclick', { notification }));
    });
    await page.waitForURL(/\/c\/public:planning$/, WAIT);
    await message('Roadmap draft is up').waitFor(WAIT);
    await checked('the conversation a push opened');
    context.off('serviceworker', sawWorker);
    await cdp.detach();
  });

  it('opens offline on what it stored, queues sends across a reload, and sends them in order once back', {
    timeout: 120_000,
  }, async () => {
    const sidebar = page.getByRole('complementary', { name: 'Workspace sidebar' });
    await page.getByRole('button', { name: 'Back' }).tap();
    await sidebar.locator('.parley-channel-row', { hasText: 'general' }).tap();
    await message('The harbour this morning').waitFor(WAIT);
    await context.setOffline(true);
    await page.reload();
    // The shell from the service worker, the account and workspace kept from the last visit,
    // the channel and its messages from the SDK's store.
    await message('Who is on call').waitFor(WAIT);
    await expect.poll(() => page.getByTestId('connection-banner').textContent(), WAIT).toMatch(/You are offline/);
    await shot('offline');
    await checked('#general offline');
    for (const text of ['offline 1', 'offline 2', 'offline 3']) {
      await composer().fill(text);
      await composer().press('Enter');
      await message(text).waitFor(WAIT);
    }
    expect(await page.locator('.app-channel .parley-message[data-status="sending"]').count()).toBe(3);
    // Still queued after another reload with no network.
    await page.reload();
    await message('offline 3').waitFor(WAIT);
    expect(await page.locator('.app-channel .parley-message[data-status="sending"]').count()).toBe(3);
    expect((await texts('public:general')).filter((t) => t.startsWith('offline'))).toEqual([]);
    // Back online: sent, in order, each once.
    await context.setOffline(false);
    await expect
      .poll(async () => (await texts('public:general')).filter((t) => t.startsWith('offline')), WAIT)
      .toEqual(['offline 1', 'offline 2', 'offline 3']);
    await expect.poll(() => page.locator('.app-channel .parley-message[data-status="sending"]').count(), WAIT).toBe(0);
    await expect.poll(() => page.getByTestId('connection-banner').count(), WAIT).toBe(0);
    // Live again: Bob's next message arrives.
    await bobSays('public:general', 'Got all three');
    await message('Got all three').waitFor(WAIT);
    expect((await texts('public:general')).filter((t) => t.startsWith('offline'))).toEqual([
      'offline 1',
      'offline 2',
      'offline 3',
    ]);
  });

  it('tablets keep two panes side by side at 768 and 1024 px', { timeout: 120_000 }, async () => {
    const sidebar = page.getByRole('complementary', { name: 'Workspace sidebar' });
    const conversation = page.locator('.app-conversation');
    for (const size of TABLETS) {
      await page.setViewportSize(size);
      await expect.poll(() => sidebar.isVisible(), WAIT).toBe(true);
      const s = await sidebar.boundingBox();
      const c = await conversation.boundingBox();
      expect(s && c && s.x + s.width <= c.x + 0.5 && c.width > 300, `two panes at ${size.width} px`).toBe(true);
      await checked(`#general at ${size.width} px`);
      await page.screenshot({ path: path.join(SHOTS, `tablet-${size.width}.png`) });
    }
    // A thread beside the conversation, at either width.
    await page.setViewportSize(TABLETS[0]);
    await message('Who is on call').locator('.parley-thread-summary').click();
    const thread = page.locator('.parley-thread');
    await thread.waitFor(WAIT);
    for (const size of TABLETS) {
      await page.setViewportSize(size);
      // At 768 px the sidebar folds away for the thread (it slides out, then hides).
      if (size.width < 800) await sidebar.waitFor({ state: 'hidden', ...WAIT });
      const c = await page.locator('.app-channel .parley-message-list').boundingBox();
      const t = await thread.boundingBox();
      expect(
        c && t && c.x + c.width <= t.x + 0.5 && c.width > 250 && t.width > 250,
        `thread beside at ${size.width}`,
      ).toBe(true);
      await checked(`the thread at ${size.width} px`);
    }
    await page.screenshot({ path: path.join(SHOTS, 'tablet-thread.png') });
    expect(errors).toEqual([]);
  });
});
