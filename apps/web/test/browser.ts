/**
 * What the web app's Chromium tests share: Debian's Chromium (never a downloaded browser), a
 * production build of the app from its current sources, and the browser's launch flags.
 *
 * Without /usr/bin/chromium a suite is skipped (`describe.skipIf(!haveBrowser)`), unless
 * PARLEY_REQUIRE_BROWSER=1 (CI) makes that a failure: importing this module then throws.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import { build } from 'vite';
import type { Config } from '../../../packages/server/src/platform/config.js';
import { type Harness, startHarness } from '../../../packages/server/test/harness.js';

export const CHROMIUM = '/usr/bin/chromium';
export const APP_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const haveBrowser = existsSync(CHROMIUM);

if (!haveBrowser) {
  if (process.env.PARLEY_REQUIRE_BROWSER === '1')
    throw new Error(`PARLEY_REQUIRE_BROWSER=1 but ${CHROMIUM} is missing: apt-get install chromium`);
  console.warn(
    `web browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium; PARLEY_REQUIRE_BROWSER=1 fails instead)`,
  );
}

/**
 * Build the app from the current sources into a folder of its own, as `npm run build` makes it
 * (vitest sets NODE_ENV=test, which would bundle React's development build). Answers the folder
 * and how to remove it.
 */
export async function buildWebApp(): Promise<{ dir: string; remove(): void }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-web-'));
  const env = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ root: APP_ROOT, logLevel: 'warn', build: { outDir: dir, emptyOutDir: true } });
  } finally {
    process.env.NODE_ENV = env;
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Chromium, headless, without the background traffic a test does not want. */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}

/** Chromium's fake camera and microphone, granted without a prompt (calls and the office). */
export const FAKE_MEDIA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

/** A real server (PGlite, loopback) serving a fresh build of the web app, and Chromium. */
export interface WebApp {
  h: Harness;
  /** The server's base URL. */
  base: string;
  browser: Browser;
  /** A browser context holding an account's session cookie (`name=value`), or none. */
  as(cookie: string | null): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** Build the app, start a server that serves it (with `overrides`), and launch Chromium. */
export async function startWebApp(overrides: Partial<Config> = {}): Promise<WebApp> {
  const web = await buildWebApp();
  const h = await startHarness({ webDir: web.dir, ...overrides });
  const base = await h.listen();
  const browser = await launchChromium();
  return {
    h,
    base,
    browser,
    async as(cookie) {
      const context = await browser.newContext({ baseURL: base });
      if (cookie) {
        const [name, value] = cookie.split('=') as [string, string];
        await context.addCookies([{ name, value, url: base }]);
      }
      return context;
    },
    async close() {
      await browser.close();
      await h.close();
      web.remove();
    },
  };
}
