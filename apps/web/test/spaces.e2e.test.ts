/**
 * The office in the web app, in real Chromium, two browser contexts against a real server:
 * Ada (the workspace's owner) lays out two spaces from the office view; Ada and Bob enter the
 * Lounge and see each other there and in its room chat (a message from one reaches the other);
 * Ada goes to the Focus booth and teleports Bob, who accepts from his bar and is moved there.
 * Then Ada edits a space (name, capacity), moves it up, is refused deleting the occupied booth
 * and deletes the empty Lounge; Bob's office follows live. Last, a knock: Ada starts a call in
 * the Boardroom (Chromium's fake camera and microphone), Bob's click knocks, Ada lets him in.
 * Screenshots of both office views go to $TMPDIR/parley-spaces-e2e/.
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless PARLEY_REQUIRE_BROWSER=1.
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../../../packages/server/test/harness.js';
import {
  buildWebApp,
  createWorkspace,
  FAKE_MEDIA,
  haveBrowser,
  inviteLink,
  joinByInvite,
  launchChromium,
} from './browser.js';

const WAIT = { timeout: 30_000 };

let h: Harness;
let base: string;
let browser: Browser;

async function newPage(): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/.test(m.text())) errors.push(m.text());
  });
  return { page, errors };
}

const space = (page: Page, name: string) => page.locator('.app-office__space', { hasText: name });
const person = (page: Page, spaceName: string, who: string) =>
  space(page, spaceName).getByRole('button', { name: who, exact: true });
const here = (page: Page) => page.locator('.app-office__here');

describe.skipIf(!haveBrowser)('the office in the web app', () => {
  beforeAll(async () => {
    h = await startHarness({ webDir: await buildWebApp(), jobPollMs: 200 });
    base = await h.listen();
    browser = await launchChromium(FAKE_MEDIA);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('Ada and Bob meet in the Lounge and its room chat; Ada teleports Bob to the Focus booth', async () => {
    const ada = await newPage();
    const bob = await newPage();
    const a = ada.page;
    const b = bob.page;
    await createWorkspace(a, 'Ada Lovelace', 'ada@example.com', 'Acme');
    await joinByInvite(b, await inviteLink(a), 'Bob Builder', 'bob@example.com');

    // Ada, an admin, lays out the office.
    await a.getByTestId('office-button').click();
    for (const [name, kind] of [
      ['Lounge', 'lounge'],
      ['Focus booth', 'focus'],
      ['Board room', 'meeting_room'],
    ] as const) {
      await a.getByLabel('Space name').fill(name);
      await a.getByLabel('Kind').selectOption(kind);
      await a.getByRole('button', { name: 'Add space' }).click();
      await space(a, name).waitFor(WAIT);
    }
    // Bob is no admin: no layout form for him.
    await b.getByTestId('office-button').click();
    await space(b, 'Lounge').waitFor(WAIT);
    expect(await b.getByRole('button', { name: 'Add space' }).count()).toBe(0);

    // Both enter the Lounge and see each other there.
    await space(a, 'Lounge')
      .getByRole('button', { name: /^Lounge,/ })
      .click();
    await expect.poll(() => here(a).textContent(), WAIT).toMatch(/You are in Lounge/);
    await space(b, 'Lounge')
      .getByRole('button', { name: /^Lounge,/ })
      .click();
    await expect.poll(() => here(b).textContent(), WAIT).toMatch(/You are in Lounge/);
    await person(a, 'Lounge', 'Bob Builder').waitFor(WAIT);
    await person(b, 'Lounge', 'Ada Lovelace').waitFor(WAIT);
    await expect.poll(() => space(b, 'Lounge').textContent(), WAIT).toMatch(/In use/);

    // The room chat is beside the office: Ada's message reaches Bob, with who entered.
    const roomA = a.locator('.app-office__room');
    const roomB = b.locator('.app-office__room');
    await roomA.waitFor(WAIT);
    const box = roomA.getByRole('combobox').first();
    await box.fill('hello from the lounge');
    await box.press('Enter');
    await roomB.locator('article.parley-message', { hasText: 'hello from the lounge' }).waitFor(WAIT);
    await roomB.getByText('Bob Builder entered').first().waitFor(WAIT);
    const shots = path.join(tmpdir(), 'parley-spaces-e2e');
    mkdirSync(shots, { recursive: true });
    await a.screenshot({ path: path.join(shots, 'office-ada-lounge.png') });

    // Ada goes to the Focus booth, then brings Bob there from his avatar's menu.
    await space(a, 'Focus booth')
      .getByRole('button', { name: /^Focus booth,/ })
      .click();
    await expect.poll(() => here(a).textContent(), WAIT).toMatch(/You are in Focus booth/);
    await person(a, 'Lounge', 'Bob Builder').click();
    await a.getByRole('menuitem', { name: 'Bring to Focus booth' }).click();
    const bar = b.locator('.app-office__invitation');
    await expect.poll(() => bar.textContent(), WAIT).toMatch(/Ada Lovelace asks you to join them in Focus booth/);
    await b.screenshot({ path: path.join(shots, 'office-bob-teleport.png') });
    await bar.getByRole('button', { name: 'Go there' }).click();
    await expect.poll(() => here(b).textContent(), WAIT).toMatch(/You are in Focus booth/);
    // Bob's room chat is the booth's now, with its history: who entered, Ada first.
    const booth = roomB.getByRole('region', { name: 'Messages in #Focus booth' });
    await booth.getByText('Ada Lovelace entered').first().waitFor(WAIT);
    await booth.getByText('Bob Builder entered').first().waitFor(WAIT);
    await person(a, 'Focus booth', 'Bob Builder').waitFor(WAIT);
    await expect.poll(() => space(a, 'Lounge').textContent(), WAIT).toMatch(/Free/);
    expect(await bar.count()).toBe(0);
    await b.screenshot({ path: path.join(shots, 'office-bob-focus.png') });
    // Regression: the room chat Bob was teleported into showed no history at first.
    await expect.poll(() => roomB.locator('.parley-message-list').textContent(), WAIT).toMatch(/Ada Lovelace entered/);
    await expect.poll(() => roomB.locator('.parley-message-list').textContent(), WAIT).toMatch(/Bob Builder entered/);

    // Ada arranges the office: the Board room becomes the Boardroom (capacity 6), moves up
    // one place, and Bob sees both live. Deleting the booth they are in is refused, with why;
    // the empty Lounge goes.
    await space(a, 'Board room').getByRole('button', { name: 'Edit' }).click();
    const edit = a.getByRole('form', { name: 'Edit Board room' });
    // Every field has a label one can see (an empty capacity showed only "No limit").
    expect(await edit.locator('.app-office__field > span').allInnerTexts()).toEqual(['Name', 'Kind', 'Capacity']);
    expect(await edit.getByLabel('Capacity').getAttribute('placeholder')).toBe('No limit');
    await edit.getByLabel('Name').fill('Boardroom');
    await edit.getByLabel('Capacity').fill('6');
    await a.screenshot({ path: path.join(shots, 'office-ada-edit.png') });
    await edit.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => space(b, 'Boardroom').textContent(), WAIT).toMatch(/0 \/ 6/);
    const names = (page: Page) => page.locator('.app-office__space-head strong').allTextContents();
    expect(await names(a)).toEqual(['Lounge', 'Focus booth', 'Boardroom']);
    await a.getByRole('button', { name: 'Move Boardroom up' }).click();
    await expect.poll(() => names(b), WAIT).toEqual(['Lounge', 'Boardroom', 'Focus booth']);
    await expect.poll(() => names(a), WAIT).toEqual(['Lounge', 'Boardroom', 'Focus booth']);
    await space(a, 'Focus booth').getByRole('button', { name: 'Edit' }).click();
    await a.getByRole('form', { name: 'Edit Focus booth' }).getByRole('button', { name: 'Delete' }).click();
    await expect
      .poll(() => space(a, 'Focus booth').getByRole('alert').textContent(), WAIT)
      .toMatch(/Focus booth is not empty/);
    // (Cards are found by their form's name from here on: an open form's kind list says "Lounge" too.)
    await a.getByRole('button', { name: 'Close' }).click();
    await space(a, 'Lounge').getByRole('button', { name: 'Edit' }).click();
    await a.getByRole('form', { name: 'Edit Lounge' }).getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => names(b), WAIT).toEqual(['Boardroom', 'Focus booth']);
    await a.screenshot({ path: path.join(shots, 'office-ada-arranged.png') });

    // A knock: Ada starts a call in the Boardroom (fake media), so it is in a meeting; Bob's
    // click knocks instead of entering, and Ada lets him in from her bar.
    await space(a, 'Boardroom')
      .getByRole('button', { name: /^Boardroom,/ })
      .click();
    await expect.poll(() => here(a).textContent(), WAIT).toMatch(/You are in Boardroom/);
    await here(a).getByRole('button', { name: 'Start call' }).click();
    await expect.poll(() => space(b, 'Boardroom').textContent(), WAIT).toMatch(/In a meeting/);
    await space(b, 'Boardroom')
      .getByRole('button', { name: /^Boardroom,/ })
      .click();
    const knock = a.locator('.app-office__invitation');
    await expect.poll(() => knock.textContent(), WAIT).toMatch(/Bob Builder is knocking on Boardroom/);
    await a.screenshot({ path: path.join(shots, 'office-ada-knock.png') });
    await knock.getByRole('button', { name: 'Let in' }).click();
    await expect.poll(() => here(b).textContent(), WAIT).toMatch(/You are in Boardroom/);
    await person(a, 'Boardroom', 'Bob Builder').waitFor(WAIT);

    expect(ada.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  }, 180_000);
});
