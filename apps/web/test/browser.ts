/**
 * What the web app's Chromium tests share: Debian's Chromium (never a downloaded browser), a
 * production build of the app from its current sources, the browser's launch flags, and a new
 * user's first steps through the pages (sign up, make a workspace, invite, join).
 *
 * Without /usr/bin/chromium a suite is skipped (`describe.skipIf(!haveBrowser)`), unless
 * PARLEY_REQUIRE_BROWSER=1 (CI) makes that a failure: importing this module then throws.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { expect } from 'vitest';
import type { Config } from '../../../packages/server/src/platform/config.js';
import { type Harness, startHarness } from '../../../packages/server/test/harness.js';
import { REPO_ROOT, stampedBuild, WEB_DIST, webBuildKey } from '../../../scripts/build-key.mjs';

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

let built: Promise<string> | undefined;

/**
 * The app built from the current sources, as `npm run build` makes it (vitest sets
 * NODE_ENV=test, which would bundle React's development build): the folder to serve, which
 * callers only read.
 *
 * The build `npm ci` made (apps/web/dist) while its stamp is the sources' key
 * (scripts/build-key.mjs); else one build serves every test file: it is kept under
 * node_modules/.cache, named by the key, so an edit to the app, the kit, the SDK or the protocol
 * makes a new one and nothing stale is served. Built once per worker process at most (workers
 * share a module cache, and a second worker finds the first one's folder); each of the 22 files
 * building its own took about 3 s of a 2-core CI run per file.
 */
export function buildWebApp(): Promise<string> {
  built ??= (async () => {
    const key = webBuildKey();
    const stamped = stampedBuild(WEB_DIST, key);
    if (stamped) return stamped;
    const root = path.join(REPO_ROOT, 'node_modules', '.cache', 'parley-web-test');
    const dir = path.join(root, key);
    if (existsSync(path.join(dir, 'index.html'))) return dir;
    mkdirSync(root, { recursive: true });
    const tmp = mkdtempSync(path.join(root, 'build-'));
    const env = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await build({ root: APP_ROOT, logLevel: 'warn', build: { outDir: tmp, emptyOutDir: true } });
    } finally {
      process.env.NODE_ENV = env;
    }
    try {
      renameSync(tmp, dir);
    } catch {
      // Another worker finished the same build first: serve its folder.
      rmSync(tmp, { recursive: true, force: true });
    }
    // Builds of earlier sources go, once no run could still be serving them.
    for (const name of readdirSync(root)) {
      const old = path.join(root, name);
      if (old !== dir && Date.now() - statSync(old).mtimeMs > 3600_000) rmSync(old, { recursive: true, force: true });
    }
    return dir;
  })();
  built.catch(() => {
    built = undefined; // a failed build is tried again by the next file
  });
  return built;
}

/**
 * What a failed test's pages showed, for a failure seen only in CI: where each page was, the
 * outline of what it showed (its accessibility tree: which dialogs were open, which tab was
 * chosen, what a button said), its last console lines, and a screenshot under FAILED_DIR.
 * packages/react/test/setup.ts calls every registered reporter when a test fails; each Chromium
 * launched here registers one while it runs.
 */
const FAILED_DIR = path.join(tmpdir(), 'parley-failed-pages');
const ON_TEST_FAILED = Symbol.for('parley.test.onFailed');
type FailureReporter = (test: string) => Promise<void>;
const registry = globalThis as Record<symbol, Set<FailureReporter> | undefined>;
registry[ON_TEST_FAILED] ??= new Set();
const failureReporters = registry[ON_TEST_FAILED];
/** The console lines a page printed last, kept for the failure report. */
const consoleTail = new WeakMap<Page, string[]>();

function keepConsole(page: Page): void {
  const lines: string[] = [];
  consoleTail.set(page, lines);
  const add = (line: string) => {
    lines.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
    if (lines.length > 30) lines.shift();
  };
  page.on('console', (m) => add(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => add(`pageerror: ${e.message}`));
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) add(`navigated: ${f.url()}`);
  });
}

/** What a page shows: where it is, its outline, its last console lines, and a screenshot if `shot`. */
async function describePage(page: Page, shot: string | null): Promise<string> {
  const [outline, saved] = await Promise.all([
    page
      .locator('body')
      .ariaSnapshot({ timeout: 5_000 })
      .catch((e: Error) => `(no outline: ${e.message})`),
    shot
      ? page.screenshot({ path: shot, timeout: 5_000 }).then(
          () => shot,
          (e: Error) => `(no screenshot: ${e.message})`,
        )
      : '(none: the test had closed the page)',
  ]);
  return [
    page.url(),
    `screenshot: ${saved}`,
    'console (last lines):',
    ...(consoleTail.get(page) ?? []).map((l) => `  ${l}`),
    'outline:',
    outline.length > 12_000 ? `${outline.slice(0, 12_000)}\n  …` : outline,
  ].join('\n');
}

/**
 * Pages a test closed itself (its `finally` closes its contexts before a failure is reported),
 * described as they were at the close, by the test that closed them (Vitest's full test name).
 */
const closedPages = new WeakMap<Browser, { test: string; texts: string[] }>();

async function reportPages(browser: Browser, test: string): Promise<void> {
  mkdirSync(FAILED_DIR, { recursive: true });
  const slug = test.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
  let n = 0;
  const head = () => `── page ${++n} of the failed test "${test}"`;
  const closed = closedPages.get(browser);
  if (closed?.test === test)
    for (const text of closed.texts) console.error(`${head()}, as the test closed it: ${text}`);
  for (const context of browser.contexts()) {
    for (const page of context.pages()) {
      const title = head();
      console.error(`${title}: ${await describePage(page, path.join(FAILED_DIR, `${slug}-${n}.png`))}`);
    }
  }
}

/**
 * A navigation cut by the host's network changing is made again, as a person would reload: CI
 * brings container networks up beside the browser tests (the compose test), and Chromium then
 * fails a load under way with `net::ERR_NETWORK_CHANGED` before the app has run at all. What the
 * app does with a request cut the same way once it runs is the app's to handle (and tested).
 */
function reloadOnNetworkChange(page: Page): void {
  const goto = page.goto.bind(page);
  page.goto = async (url, options) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await goto(url, options);
      } catch (e) {
        if (attempt >= 3 || !String((e as Error).message).includes('ERR_NETWORK_CHANGED')) throw e;
      }
    }
  };
}

/**
 * Chromium, headless, without the background traffic a test does not want. Its pages keep their
 * last console lines, and a test that fails while it is open reports them (reportPages).
 */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  const browser = await chromium.launch({
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
  // Playwright tells of a context's new pages, but not of a browser's new contexts: every
  // context made through this browser (`browser.newPage()` makes one too) keeps its pages' lines.
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const context = await newContext(options);
    context.on('page', (page) => {
      keepConsole(page);
      reloadOnNetworkChange(page);
    });
    const close = context.close.bind(context);
    context.close = async (closeOptions) => {
      const test = expect.getState().currentTestName;
      if (test) {
        // Only the running test's pages are worth keeping: a report prints its own.
        const texts = await Promise.all(context.pages().map((page) => describePage(page, null)));
        const kept = closedPages.get(browser);
        if (kept?.test === test) kept.texts.push(...texts);
        else closedPages.set(browser, { test, texts });
      }
      return close(closeOptions);
    };
    return context;
  };
  const reporter: FailureReporter = (test) => reportPages(browser, test);
  failureReporters.add(reporter);
  browser.on('disconnected', () => failureReporters.delete(reporter));
  return browser;
}

/**
 * A new page of `context` in a window of its own, where `context.newPage()` would open a tab.
 *
 * Chromium's headless mode keeps tabs as a headed browser does: only a window's front tab draws
 * frames. Playwright waits for animation frames before it acts on an element (its "stable"
 * check), so each click, fill or drag on a tab behind another waited about 2 s (measured: the
 * sections test's first case took 35 s with two tabs, 4 s with two windows). A second window
 * draws, as two windows side by side do, and shares the context's cookies, storage, cache and
 * BroadcastChannel as a second tab does. A test about a tab in the background
 * (notifications.test.ts) opens a tab on purpose; `scripts/check-test-waits.mjs` fails on a
 * second page of one context opened as a tab without saying why.
 */
export async function openWindow(context: BrowserContext): Promise<Page> {
  const first = context.pages()[0];
  if (!first) return context.newPage(); // a context's first page is its own window already
  const session = await context.newCDPSession(first);
  const { targetInfo } = await session.send('Target.getTargetInfo');
  await session.detach();
  const browser = await (context.browser() as Browser).newBrowserCDPSession();
  try {
    const [page] = await Promise.all([
      context.waitForEvent('page'),
      browser.send('Target.createTarget', {
        url: 'about:blank',
        browserContextId: targetInfo.browserContextId,
        newWindow: true,
      }),
    ]);
    return page;
  } finally {
    await browser.detach();
  }
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
  const h = await startHarness({ webDir: await buildWebApp(), ...overrides });
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
    },
  };
}

/** A chat API call from the page, as its signed-in user (the workspace session's token). */
export async function api(page: Page, workspaceId: string, method: string, path: string, body?: unknown): Promise<any> {
  const [answer] = await apiCalls(page, workspaceId, [{ method, path, body }]);
  return answer;
}

/**
 * Chat API calls from the page in turn, under one workspace session (one round trip to the
 * page for all of them: a burst of sends, say): each call's status, body and the user's id.
 */
export async function apiCalls(
  page: Page,
  workspaceId: string,
  calls: { method: string; path: string; body?: unknown }[],
): Promise<any[]> {
  return page.evaluate(
    async ({ workspaceId, calls }) => {
      const s = await (
        await fetch(`/v1/workspaces/${workspaceId}/session`, {
          method: 'POST',
          credentials: 'include',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        })
      ).json();
      const answers = [];
      for (const { method, path, body } of calls) {
        // Each call bounded (an evaluate has no time limit of its own): a call that hangs fails
        // the test with its name rather than as the test's time running out.
        const r = await fetch(path, {
          method,
          headers: {
            'x-api-key': s.api_key,
            authorization: `Bearer ${s.token}`,
            ...(body ? { 'content-type': 'application/json' } : {}),
          },
          ...(body ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(30_000),
        }).catch((e) => {
          throw new Error(`${method} ${path}: ${e}`);
        });
        answers.push({ status: r.status, body: await r.json(), user_id: s.user_id });
      }
      return answers;
    },
    { workspaceId, calls },
  );
}

/** The password every test account signs up with. */
export const PASSWORD = 'correct horse battery';
const UI_WAIT = { timeout: 30_000 };

/** Fill the sign-up form's name, email and password (the create-account and invite pages). */
export async function signUp(page: Page, name: string, email: string): Promise<void> {
  await page.getByLabel('Full name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
}

/**
 * A new user's first steps, through the pages: create an account, then a workspace named
 * `workspace`; returns in its #general, with the workspace's id.
 */
export async function createWorkspace(page: Page, name: string, email: string, workspace: string): Promise<string> {
  await page.goto('/');
  await page.waitForURL(/\/signin/);
  await page.getByRole('button', { name: 'Create an account' }).click();
  await signUp(page, name, email);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByLabel('Workspace name').fill(workspace);
  await page.getByRole('button', { name: 'Create workspace' }).click();
  await page.waitForURL(/\/w\/[^/]+\/c\/public:general$/);
  return /\/w\/([^/]+)\//.exec(page.url())?.[1] as string;
}

/** An invite link to the workspace `page` is in, from its Invite people dialog (closed after). */
export async function inviteLink(page: Page): Promise<string> {
  await page.getByRole('button', { name: 'Invite people' }).click();
  const link = page.getByTestId('invite-link');
  await expect.poll(() => link.inputValue(), UI_WAIT).toMatch(/\/invite\/.+/);
  const url = await link.inputValue();
  await page.getByRole('button', { name: 'Done' }).click();
  return url;
}

/** Sign up through an invite link and wait until the workspace's #general shows. */
export async function joinByInvite(page: Page, url: string, name: string, email: string): Promise<void> {
  await page.goto(url);
  await signUp(page, name, email);
  await page.getByRole('button', { name: 'Create account and join' }).click();
  await page.waitForURL(/\/c\/public:general$/);
}

/** A desktop-sized page (1280×800) in a new context of `web`'s browser; its page errors go to `errors`. */
export async function desktopPage(web: WebApp, errors: string[]): Promise<Page> {
  const context = await web.browser.newContext({ baseURL: web.base, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  return page;
}

/** A person of a test team: their page (signed in, in the workspace) and user id. */
export interface TeamMember {
  page: Page;
  userId: string;
}

/**
 * A workspace "Acme" made through the pages by Ada Lovelace (ada@example.com), and each of
 * `others` joined through an invite link of hers: each on a desktop page of their own, in the
 * workspace's #general. Ada comes first in `members`.
 */
export async function startTeam(
  web: WebApp,
  errors: string[],
  others: { name: string; email: string }[],
): Promise<{ workspaceId: string; members: TeamMember[] }> {
  const ada = await desktopPage(web, errors);
  const workspaceId = await createWorkspace(ada, 'Ada Lovelace', 'ada@example.com', 'Acme');
  const members: TeamMember[] = [{ page: ada, userId: await userIdOf(ada, workspaceId) }];
  for (const o of others) {
    const url = await inviteLink(ada);
    const page = await desktopPage(web, errors);
    await joinByInvite(page, url, o.name, o.email);
    members.push({ page, userId: await userIdOf(page, workspaceId) });
  }
  return { workspaceId, members };
}

/** The user id of the person signed in on `page`, in the workspace. */
async function userIdOf(page: Page, workspaceId: string): Promise<string> {
  return (await api(page, workspaceId, 'GET', '/v1/me/last-channel')).user_id as string;
}
