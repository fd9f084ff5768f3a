/**
 * The kit's catalogue, built and opened in Chromium: `npm run build:kit`'s Vite build from the
 * current sources, served by a real server seeded by `parley demo`'s seeder, and every story
 * opened alone (`?story=ID&bare`): it must show what it is about (its `ready` selector) with no
 * console error and no page error. With PARLEY_KIT_SHOTS=DIR each story is also screenshotted
 * into DIR (docs/screens/kit/ holds the ones docs/react.md shows).
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless PARLEY_REQUIRE_BROWSER=1.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveBrowser, launchChromium } from '../../../apps/web/test/browser.js';
import { DEMO_PASSWORD, DEMO_PEOPLE, DEMO_WORKSPACE, seedDemo } from '../../cli/src/demo.js';
import { type Harness, startHarness } from '../../server/test/harness.js';
import { DEMO } from '../kit/connect.js';

const KIT = fileURLToPath(new URL('../kit/', import.meta.url));
const SHOTS = process.env.PARLEY_KIT_SHOTS;
const WAIT = { timeout: 30_000 };

describe.skipIf(!haveBrowser)('the React kit catalogue in Chromium', () => {
  let dir = '';
  let h: Harness;
  let base = '';
  let browser: Browser;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'parley-kit-'));
    const env = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await build({
        configFile: path.join(KIT, 'vite.config.ts'),
        logLevel: 'warn',
        build: { outDir: dir, emptyOutDir: true },
      });
    } finally {
      process.env.NODE_ENV = env;
    }
    h = await startHarness({ webDir: dir });
    base = await h.listen();
    await seedDemo(base);
    browser = await launchChromium();
    if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('signs in with the credentials parley demo gives', () => {
    expect(DEMO.password).toBe(DEMO_PASSWORD);
    expect(DEMO.workspace).toBe(DEMO_WORKSPACE);
    expect(DEMO.ada).toBe(DEMO_PEOPLE[0].email);
    expect(DEMO.grace).toBe(DEMO_PEOPLE[1].email);
  });

  it('renders every story without console errors', { timeout: 400_000 }, async () => {
    const context = await browser.newContext({ baseURL: base, viewport: { width: 1100, height: 800 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));

    await page.goto('/');
    await page.waitForFunction(() => window.__kit?.connected || window.__kit?.error, undefined, WAIT);
    expect(await page.evaluate(() => window.__kit?.error)).toBeNull();
    const stories = (await page.evaluate(() => window.__kit?.stories)) ?? [];
    expect(stories.length).toBeGreaterThan(20);
    // The index lists them all.
    expect(await page.locator('.kit-nav li').count()).toBe(stories.length);

    const failed: string[] = [];
    for (const story of stories) {
      errors.length = 0;
      await page.goto(`/?story=${story.id}&bare`);
      try {
        await page.waitForFunction(() => window.__kit?.connected || window.__kit?.error, undefined, WAIT);
        await page
          .locator(`.kit-story ${story.ready}`)
          .first()
          .waitFor({ state: 'attached', ...WAIT });
      } catch (e) {
        failed.push(`${story.id}: not ready (${story.ready}): ${(e as Error).message.split('\n')[0]}`);
        continue;
      }
      // The error story asks for a channel that is not there: that one 404 is what it shows.
      const unexpected = errors.filter((t) => !(story.id === 'channel-error' && /404/.test(t)));
      if (unexpected.length > 0) failed.push(`${story.id}: ${unexpected.join(' | ')}`);
      if (SHOTS) {
        // Let images and fonts settle before the picture (not an assertion).
        await page.waitForLoadState('networkidle').catch(() => {});
        await page.locator('.kit-story').screenshot({ path: path.join(SHOTS, `${story.id}.png`) });
      }
    }
    expect(failed).toEqual([]);
    await context.close();
  });
});
