/**
 * Slash commands and GIFs in the web app, in real Chromium against a real server. Olive types
 * `/gi`, sees the command list (the server's commands, with their usage), runs `/giphy cats`
 * through a fake GIPHY on loopback, shuffles, sends, and Mia sees the GIF arrive. Then an app's
 * command (a real HTTP app on loopback) answers Olive ephemerally with a button; Mia sees none
 * of it; the click goes back to the app, whose answer replaces the message.
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1. Screenshots go to /tmp/shots-commands/.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../../packages/server/src/features/webhooks/signature.js';
import { outboundAllowFromEnv } from '../../../packages/server/src/platform/outbound.js';
import {
  buildAccount,
  buildWorkspace,
  chatHeaders,
  email,
  join,
  ok,
} from '../../../packages/server/test/accounts/helpers.js';
import { type FakeGifProvider, startGifProvider } from '../../../packages/server/test/commands/fakes.js';
import type { Harness } from '../../../packages/server/test/harness.js';
import { type Receiver, startReceiver } from '../../../packages/server/test/hooks/helpers.js';
import { haveBrowser, startWebApp, type WebApp } from './browser.js';

const WAIT = { timeout: 20_000 };
const SHOTS = '/tmp/shots-commands';

let h: Harness;
let app: WebApp | undefined;
let giphy: FakeGifProvider;
let rcv: Receiver;
let olive: Page;
let mia: Page;
let oliveChat: Record<string, string>;
let wsId: string;
const errors: string[] = [];

const composer = (page: Page) => page.getByRole('combobox', { name: 'Message #general' });
const ephemeral = (page: Page, command: string) =>
  page.locator(`section.parley-ephemeral[aria-label="Only visible to you: /${command}"]`);

/** Open the admin console at a tab. */
async function adminTab(name: string) {
  await olive.getByTestId('workspace-name').click(WAIT);
  await olive.getByRole('menuitem', { name: 'Admin console' }).click(WAIT);
  await olive.getByRole('dialog', { name: 'Admin console · Harbor' }).getByRole('tab', { name }).click(WAIT);
}

describe.skipIf(!haveBrowser)('slash commands and GIFs in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    giphy = await startGifProvider('giphy', 'giphy-key');
    rcv = await startReceiver();
    app = await startWebApp({
      outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_COMMANDS: `${giphy.host},${rcv.host}` }),
    });
    h = app.h;
    const o = await buildAccount(h, 'Olive Owner', email('olive'));
    const m = await buildAccount(h, 'Mia Member', email('mia'));
    const ws = await buildWorkspace(o, 'Harbor');
    wsId = ws.id;
    await join(o, ws.id, m);
    oliveChat = chatHeaders(ok(await o.session(ws.id)));
    olive = await (await app.as(o.cookie)).newPage();
    mia = await (await app.as(m.cookie)).newPage();
    for (const p of [olive, mia]) {
      p.on('pageerror', (e) => errors.push(e.message));
      await p.setViewportSize({ width: 1280, height: 800 });
      await p.goto(`/w/${wsId}/c/public:general`);
      await composer(p).waitFor(WAIT);
    }
  }, 180_000);

  afterAll(async () => {
    await app?.close();
    await giphy?.close();
    await rcv?.close();
  });

  it('/gi autocompletes; /giphy cats previews, shuffles and sends; Mia sees the GIF', {
    timeout: 120_000,
  }, async () => {
    // Before any provider: /giphy says it is not set up.
    await composer(olive).fill('/giphy cats');
    await composer(olive).press('Enter');
    await ephemeral(olive, 'giphy')
      .getByText(/not set up/)
      .waitFor(WAIT);
    await ephemeral(olive, 'giphy').getByRole('button', { name: 'Dismiss' }).click();
    await expect.poll(() => ephemeral(olive, 'giphy').count(), WAIT).toBe(0);
    // Olive sets GIPHY up in the admin console (the key is never shown back).
    await adminTab('Commands');
    const gifForm = olive.getByRole('form', { name: 'GIF search' });
    await gifForm.getByLabel('Provider').selectOption('giphy');
    await gifForm.getByLabel('API key').fill('giphy-key');
    await gifForm.getByLabel('Base URL').fill(giphy.url);
    await gifForm.getByRole('button', { name: 'Save GIF search' }).click();
    await gifForm.getByText(`Now: GIPHY at ${giphy.url}.`).waitFor(WAIT);
    expect(await gifForm.getByLabel('API key').inputValue()).toBe('');
    await olive.getByTestId('commands-admin').screenshot({ path: `${SHOTS}/commands-admin-gif.png` });
    await olive.keyboard.press('Escape');

    await composer(olive).fill('/gi');
    const list = olive.getByRole('listbox', { name: 'Commands' });
    await list.getByRole('option', { name: /\/giphy/ }).waitFor(WAIT);
    expect(await list.getByRole('option').count()).toBe(1);
    expect(await list.getByRole('option').first().textContent()).toContain('search words');
    // The whole list on `/`, moved through with the keyboard.
    await composer(olive).fill('/');
    await list.getByRole('option', { name: /\/remind/ }).waitFor(WAIT);
    // Arrows move through it (the textarea keeps the focus and names the active option).
    const options = list.getByRole('option');
    expect(await options.nth(0).getAttribute('aria-selected')).toBe('true');
    await composer(olive).press('ArrowDown');
    await composer(olive).press('ArrowDown');
    expect(await options.nth(2).getAttribute('aria-selected')).toBe('true');
    expect(await composer(olive).getAttribute('aria-activedescendant')).toBe(await options.nth(2).getAttribute('id'));
    await composer(olive).press('ArrowUp');
    expect(await options.nth(1).getAttribute('aria-selected')).toBe('true');
    await olive.screenshot({ path: `${SHOTS}/autocomplete.png`, clip: { x: 0, y: 380, width: 1280, height: 420 } });
    await composer(olive).fill('/gi');
    await list.getByRole('option', { name: /\/giphy/ }).waitFor(WAIT);
    await composer(olive).press('Tab');
    await expect.poll(() => composer(olive).inputValue()).toBe('/giphy ');
    await composer(olive).pressSequentially('cats');
    await composer(olive).press('Enter');

    const preview = ephemeral(olive, 'giphy');
    await preview.getByRole('img').waitFor(WAIT);
    // Served through Parley (a signed path), and shown: the image loaded.
    expect(await preview.getByRole('img').getAttribute('src')).toMatch(/\/v1\/gif-previews\/.+\/0\?exp=/);
    await expect
      .poll(() => preview.getByRole('img').evaluate((el) => (el as HTMLImageElement).naturalWidth), WAIT)
      .toBe(240);
    expect(giphy.searches.at(-1)?.get('q')).toBe('cats');
    await preview.getByRole('button', { name: 'Shuffle' }).click();
    await expect.poll(() => preview.getByRole('img').getAttribute('src'), WAIT).toMatch(/\/1\?exp=/);
    await expect
      .poll(() => preview.getByRole('img').evaluate((el) => (el as HTMLImageElement).naturalWidth), WAIT)
      .toBe(240);
    await preview.screenshot({ path: `${SHOTS}/giphy-preview.png` });
    // Mia sees nothing of the preview.
    expect(await ephemeral(mia, 'giphy').count()).toBe(0);

    await preview.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => ephemeral(olive, 'giphy').count(), WAIT).toBe(0);
    const gif = mia.locator('article.parley-message img').last();
    await gif.waitFor(WAIT);
    await expect.poll(() => gif.evaluate((el) => (el as HTMLImageElement).naturalWidth), WAIT).toBeGreaterThan(0);
    // The GIF itself plays in the message, not its still thumbnail.
    expect(await gif.getAttribute('src')).toMatch(/[?&]v=original\b/);
    await mia
      .locator('article.parley-message')
      .last()
      .screenshot({ path: `${SHOTS}/giphy-sent.png` });
    expect(giphy.downloads.at(-1)).toBe('/media/1.gif');
    expect(errors).toEqual([]);
  });

  it('an app command answers ephemerally with a button; the click replaces it', { timeout: 120_000 }, async () => {
    let secret = '';
    rcv.answer = (r) => {
      if (!verifySignature(secret, r.headers['x-parley-signature'] as string, r.body)) return { status: 401 };
      if (r.json.type === 'action')
        return { status: 200, body: JSON.stringify({ text: `Deploying ${r.json.action.value} now.` }) };
      return {
        status: 200,
        body: JSON.stringify({
          text: `Deploy ${r.json.text} to production?`,
          actions: [{ name: 'approve', text: 'Approve', value: r.json.text, style: 'primary' }],
        }),
      };
    };
    // Registered in the admin console; its secret is shown once.
    await adminTab('Commands');
    const add = olive.getByRole('form', { name: 'Add a command' });
    await add.getByLabel('Name').fill('deploy');
    await add.getByLabel('Usage hint').fill('[branch]');
    await add.getByLabel('Description').fill('Deploy a branch');
    await add.getByLabel('Request URL').fill(`${rcv.url}/deploy`);
    await add.getByRole('button', { name: 'Add command' }).click();
    secret = (await olive.getByTestId('command-secret').textContent({ timeout: 20_000 })) ?? '';
    expect(secret).toMatch(/^cmdsec_/);
    await olive.getByRole('table', { name: 'Slash commands' }).getByText(`${rcv.url}/deploy`).waitFor(WAIT);
    await olive.getByTestId('commands-admin').screenshot({ path: `${SHOTS}/commands-admin.png` });
    await olive.keyboard.press('Escape');
    const listed = await h.call({ method: 'GET', url: '/v1/commands', headers: oliveChat });
    expect(listed.body.commands.map((c: { name: string }) => c.name)).toContain('deploy');

    await olive.reload();
    await composer(olive).fill('/dep');
    await olive
      .getByRole('listbox', { name: 'Commands' })
      .getByRole('option', { name: /\/deploy/ })
      .waitFor(WAIT);
    await composer(olive).fill('/deploy main');
    await composer(olive).press('Enter');
    const note = ephemeral(olive, 'deploy');
    await note.getByText('Deploy main to production?').waitFor(WAIT);
    await note.screenshot({ path: `${SHOTS}/app-command.png` });
    expect(await ephemeral(mia, 'deploy').count()).toBe(0);
    await note.getByRole('button', { name: 'Approve' }).click();
    await note.getByText('Deploying main now.').waitFor(WAIT);
    expect(rcv.on('/deploy').map((r) => r.json.type)).toEqual(['command', 'action']);
    expect(await ephemeral(mia, 'deploy').count()).toBe(0);

    // An unknown command is refused, and the text is not posted.
    await composer(olive).fill('/frobnicate now');
    await composer(olive).press('Enter');
    await olive.getByRole('alert').filter({ hasText: 'No command /frobnicate here' }).waitFor(WAIT);
    expect(await composer(olive).inputValue()).toBe('/frobnicate now');
    expect(await mia.locator('article.parley-message', { hasText: 'frobnicate' }).count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
