/**
 * The web app where WebSockets cannot pass: Ada and Bob reach the server only through a proxy
 * that refuses every upgrade (as some corporate proxies do). Ada's app is on the default
 * transport (`auto`) and falls back to the event stream by itself; Bob's is told to use it
 * (`?transport=sse`). They chat both ways, live, in real Chromium against a real server.
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../../../packages/server/test/harness.js';
import { type RefusingProxy, startRefusingProxy } from '../../../packages/server/test/refusing-proxy.js';
import { buildWebApp, createWorkspace, haveBrowser, launchChromium, signUp } from './browser.js';

const WAIT = { timeout: 30_000 };

let h: Harness;
let proxy: RefusingProxy;
let browser: Browser;
const errors: string[] = [];

const composer = (p: Page) => p.getByRole('combobox', { name: 'Message #general' });
const message = (p: Page, text: string) => p.locator('article.parley-message', { hasText: text }).first();

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ baseURL: proxy.url, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  return page;
}

async function send(page: Page, text: string): Promise<void> {
  await composer(page).fill(text);
  await composer(page).press('Enter');
  await expect.poll(() => message(page, text).getAttribute('data-status'), WAIT).toBe('sent');
}

/** Accepted socket tokens by how they came (`stream`: the fallback transport). */
async function handshakes(via: string): Promise<number> {
  const metrics = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
  return Number(
    new RegExp(`^parley_ws_handshakes_total\\{[^}]*via="${via}"[^}]*\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0,
  );
}

describe.skipIf(!haveBrowser)('the web app behind a proxy that refuses WebSockets', () => {
  beforeAll(async () => {
    h = await startHarness({ webDir: await buildWebApp() });
    proxy = await startRefusingProxy(await h.listen());
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await h?.close();
  });

  it('Ada (auto, falling back) and Bob (forced to sse) chat both ways in real time', async () => {
    const a = await newPage();
    await createWorkspace(a, 'Ada Lovelace', 'ada@example.com', 'Acme');
    await send(a, 'Hello from behind the proxy');
    // Ada's app tried a WebSocket, the proxy refused it, and it moved to the stream by itself.
    expect(proxy.refused).toBeGreaterThan(0);

    await a.getByRole('button', { name: 'Invite people' }).click();
    const link = a.getByTestId('invite-link');
    await expect.poll(() => link.inputValue(), WAIT).toMatch(/\/invite\/.+/);
    const invite = new URL(await link.inputValue());
    await a.getByRole('button', { name: 'Done' }).click();

    // Bob's app is told to use the stream from the start: it never tries an upgrade.
    const refusedBeforeBob = proxy.refused;
    const b = await newPage();
    await b.goto(`${invite.pathname}?transport=sse`);
    await expect
      .poll(() => b.getByTestId('invite-title').textContent(), WAIT)
      .toBe('Ada Lovelace invited you to join Acme');
    await signUp(b, 'Bob Babbage', 'bob@example.com');
    await b.getByRole('button', { name: 'Create account and join' }).click();
    await b.waitForURL(/\/c\/public:general/);
    await message(b, 'Hello from behind the proxy').waitFor(WAIT);

    // Live both ways: each sees the other's message without a reload.
    await send(b, 'Bob here, on server-sent events');
    await message(a, 'Bob here, on server-sent events').waitFor(WAIT);
    await send(a, 'Ada here, on the fallback too');
    await message(b, 'Ada here, on the fallback too').waitFor(WAIT);

    // Every socket of this server came over the stream transport; no upgrade ever got through.
    expect(await handshakes('stream')).toBeGreaterThanOrEqual(2);
    expect(await handshakes('upgrade')).toBe(0);
    expect(await handshakes('frame')).toBe(0);
    expect(proxy.refused).toBe(refusedBeforeBob);
    expect(errors).toEqual([]);
  }, 120_000);
});
