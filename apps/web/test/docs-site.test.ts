import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../../../packages/server/test/harness.js';
import { DOCS_DIST, docsBuildKey, stampedBuild } from '../../../scripts/build-key.mjs';
import { haveBrowser, launchChromium } from './browser.js';

const REPO = path.resolve(import.meta.dirname, '../../..');
const DOCS = path.join(REPO, 'docs');

/** The site built from the current docs, as `npm run docs:build` builds it: its folder. */
async function buildSite(): Promise<string> {
  // The build `npm ci` made, while it is of these docs (scripts/build-key.mjs).
  const key = docsBuildKey();
  const stamped = stampedBuild(DOCS_DIST, key);
  if (stamped) return stamped;
  const root = path.join(REPO, 'node_modules', '.cache', 'parley-docs-test');
  const dir = path.join(root, key);
  if (existsSync(path.join(dir, 'index.html'))) return dir;
  mkdirSync(root, { recursive: true });
  const tmp = `${dir}.${process.pid}`;
  const { build } = await import('vitepress');
  // As `npm run docs:build` runs it: vitest sets NODE_ENV=test, which would bundle Vue's development build.
  const env = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build(DOCS, { outDir: tmp });
  } finally {
    process.env.NODE_ENV = env;
  }
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another run built it first
  }
  for (const name of readdirSync(root)) {
    const old = path.join(root, name);
    if (old !== dir && Date.now() - statSync(old).mtimeMs > 3600_000) rmSync(old, { recursive: true, force: true });
  }
  return dir;
}

/** The built pages, as paths under /docs/ (`protocol/webhooks.html`), and each one's ids. */
function pagesOf(dir: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const file of readdirSync(dir, { recursive: true }).map(String)) {
    if (!file.endsWith('.html') || file === '404.html') continue;
    const html = readFileSync(path.join(dir, file), 'utf8');
    out.set(file.split(path.sep).join('/'), new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1] ?? '')));
  }
  return out;
}

let dir: string;
let h: Harness;
let base: string;
let browser: Browser;

describe.skipIf(!haveBrowser)('the documentation site in Chromium', () => {
  beforeAll(async () => {
    dir = await buildSite();
    h = await startHarness({ docsDir: dir });
    base = await h.listen();
    browser = await launchChromium();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('renders every page with no console error and no broken internal link', { timeout: 300_000 }, async () => {
    const pages = pagesOf(dir);
    expect(pages.size).toBeGreaterThan(40);
    expect(pages.has('protocol/webhooks.html')).toBe(true);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
    const broken: string[] = [];
    for (const rel of [...pages.keys()].sort()) {
      const url = rel === 'index.html' ? `${base}/docs/` : `${base}/docs/${rel}`;
      const r = await page.goto(url, { waitUntil: 'load' });
      expect(r?.status(), url).toBe(200);
      // Every link on the page (sidebar, nav, text) that stays on this server.
      const hrefs = await page.$$eval('a[href]', (as) => as.map((a) => (a as HTMLAnchorElement).href));
      for (const href of new Set(hrefs)) {
        const u = new URL(href);
        if (u.origin !== base) continue;
        if (!u.pathname.startsWith('/docs/')) {
          broken.push(`${rel}: ${href} (outside the site)`);
          continue;
        }
        const target = u.pathname === '/docs/' ? 'index.html' : decodeURIComponent(u.pathname.slice('/docs/'.length));
        const ids = pages.get(target);
        if (!ids) {
          if (!existsSync(path.join(dir, target))) broken.push(`${rel}: ${href} (no such page)`);
        } else if (u.hash && !ids.has(decodeURIComponent(u.hash.slice(1)))) {
          broken.push(`${rel}: ${href} (no such heading)`);
        }
      }
    }
    expect(errors).toEqual([]);
    expect(broken).toEqual([]);
    await page.close();
  });

  it('finds the webhooks guide when searching for "webhook"', { timeout: 60_000 }, async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${base}/docs/`);
      await page.locator('.VPNavBarSearch button').click();
      await page.locator('#localsearch-input').fill('webhook');
      const first = page.locator('.results a.result').first();
      await first.waitFor({ timeout: 15_000 });
      await first.click();
      await page.waitForURL(/\/docs\/protocol\/webhooks\.html/, { timeout: 15_000, waitUntil: 'commit' });
      // The site routes in the page: the address changes before the new page renders, so wait
      // for its heading (a busy CI machine showed the home page's heading for a moment).
      await expect.poll(() => page.locator('h1').first().textContent(), { timeout: 15_000 }).toContain('Webhooks');
    } finally {
      await page.close();
    }
  });
});
