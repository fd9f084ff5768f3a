/**
 * The office's loose ends in real Chromium, two browser contexts against a real server: the
 * room chat folds to a bar (with the unread count) and opens again, kept on the device, and on
 * a phone open takes the screen with a way back; a person's avatar menu (Message opens the DM;
 * Call and Bring here by their presence — offline or busy: Message only — and by where you
 * are); someone leaving (gone from the card, "left" in the room); a meeting (the card says so, the room announces it); and a room
 * archived for being idle, opened again by walking in, its history kept.
 * Screenshots go to PARLEY_SHOTS (default a temporary folder).
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless PARLEY_REQUIRE_BROWSER=1.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveIdleRooms } from '../../../packages/server/src/features/spaces/idle-rooms.js';
import { type Harness, startHarness } from '../../../packages/server/test/harness.js';
import {
  api,
  buildWebApp,
  createWorkspace,
  FAKE_MEDIA,
  haveBrowser,
  inviteLink,
  joinByInvite,
  launchChromium,
} from './browser.js';

const WAIT = { timeout: 30_000 };
const DAY = 86_400_000;
const SHOTS = process.env.PARLEY_SHOTS ?? mkdtempSync(path.join(tmpdir(), 'shots-office-'));

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
const enter = (page: Page, name: string) =>
  space(page, name)
    .getByRole('button', { name: new RegExp(`^${name},`) })
    .click();
const room = (page: Page) => page.locator('#app-office-room');
const roomBar = (page: Page) => page.locator('.app-office__room-bar');
const menuItems = (page: Page) => page.locator('.app-office__menu [role="menuitem"]').allTextContents();
/** Whether a room is archived, read from the database (nobody in it may read it over the API). */
async function isArchived(cid: string): Promise<boolean> {
  const r = (await h.database.db.execute(sql`select archived_at from channels where cid = ${cid}`)) as unknown as {
    rows: { archived_at: unknown }[];
  };
  return r.rows[0]?.archived_at != null;
}
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, name) });

describe.skipIf(!haveBrowser)('the office: room panel, menus, leaving, meetings, idle rooms', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    h = await startHarness({
      webDir: await buildWebApp(),
      jobPollMs: 200,
      spaces: { quietMs: 0, inviteTimeoutMs: 30_000, awayMs: 300_000, roomIdleDays: 30 },
    });
    base = await h.listen();
    browser = await launchChromium(FAKE_MEDIA);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('Ada and Bob in the office, at desktop and phone widths', async () => {
    const ada = await newPage();
    const bob = await newPage();
    const a = ada.page;
    const b = bob.page;
    const ws = await createWorkspace(a, 'Ada Lovelace', 'ada@example.com', 'Acme');
    await joinByInvite(b, await inviteLink(a), 'Bob Builder', 'bob@example.com');
    // (The desktop-notification offer is not what the screenshots are about.)
    await a.getByRole('button', { name: 'Not now' }).click();
    await a.getByTestId('office-button').click();
    for (const name of ['Lounge', 'Focus booth']) {
      await a.getByLabel('Space name').fill(name);
      await a.getByRole('button', { name: 'Add space' }).click();
      await space(a, name).waitFor(WAIT);
    }
    await b.getByTestId('office-button').click();
    await space(b, 'Lounge').waitFor(WAIT);

    // Both in the Lounge; the room chat is open beside the cards (a desktop's default).
    await enter(a, 'Lounge');
    await expect.poll(() => here(a).textContent(), WAIT).toMatch(/You are in Lounge/);
    await enter(b, 'Lounge');
    await person(a, 'Lounge', 'Bob Builder').waitFor(WAIT);
    await room(a).getByText('Bob Builder entered').first().waitFor(WAIT);
    const hide = room(a).getByRole('button', { name: 'Hide room chat →' });
    expect(await hide.getAttribute('aria-expanded')).toBe('true');
    expect(await hide.getAttribute('aria-controls')).toBe('app-office-room');
    const boxB = room(b).getByRole('combobox').first();
    await boxB.fill('coffee at the lounge');
    await boxB.press('Enter');
    await room(a).locator('article.parley-message', { hasText: 'coffee at the lounge' }).waitFor(WAIT);
    await shot(a, 'office-desktop-expanded.png');

    // Folded: a slim bar with the room's name; what Bob says meanwhile is counted on it.
    await hide.click();
    await roomBar(a).waitFor(WAIT);
    expect(await room(a).isHidden()).toBe(true);
    expect(await roomBar(a).getAttribute('aria-expanded')).toBe('false');
    expect(await roomBar(a).getAttribute('aria-controls')).toBe('app-office-room');
    await boxB.fill('anyone for lunch?');
    await boxB.press('Enter');
    await expect.poll(() => roomBar(a).getAttribute('aria-label'), WAIT).toBe('Show the room chat of Lounge, 1 unread');
    await expect.poll(() => roomBar(a).textContent(), WAIT).toBe('Lounge1');
    await shot(a, 'office-desktop-collapsed.png');
    // Kept on this device: still folded after a reload.
    await a.reload();
    await a.getByTestId('office-button').click();
    await roomBar(a).waitFor(WAIT);
    expect(await room(a).isHidden()).toBe(true);
    await roomBar(a).click();
    await room(a).locator('article.parley-message', { hasText: 'anyone for lunch?' }).waitFor(WAIT);
    expect(await roomBar(a).count()).toBe(0);

    // Bob's menu, from Ada in the same space: Message and Call, no bringing him where he is.
    await person(a, 'Lounge', 'Bob Builder').click();
    await expect.poll(() => menuItems(a), WAIT).toEqual(['Message', 'Call']);
    // Message opens the DM with him.
    await a.getByRole('menuitem', { name: 'Message' }).click();
    await a.getByRole('region', { name: 'Conversation: Bob Builder' }).waitFor(WAIT);
    await a.getByTestId('office-button').click();
    await space(a, 'Lounge').waitFor(WAIT);

    // Bob goes to the booth: Ada may bring him back to the Lounge.
    await enter(b, 'Focus booth');
    await person(a, 'Focus booth', 'Bob Builder').waitFor(WAIT);
    await person(a, 'Focus booth', 'Bob Builder').click();
    await expect.poll(() => menuItems(a), WAIT).toEqual(['Message', 'Call', 'Bring to Lounge']);
    await person(a, 'Focus booth', 'Bob Builder').click();

    // Leaving: Bob comes back, then leaves the office; Ada sees him go from the card, and the
    // room says so.
    await enter(b, 'Lounge');
    await person(a, 'Lounge', 'Bob Builder').waitFor(WAIT);
    await here(b).getByRole('button', { name: 'Leave' }).click();
    await expect.poll(() => person(a, 'Lounge', 'Bob Builder').count(), WAIT).toBe(0);
    await room(a).getByText('Bob Builder left').first().waitFor(WAIT);
    await expect.poll(() => space(a, 'Lounge').textContent(), WAIT).toMatch(/In use/);

    // A meeting: Bob is in the booth, Ada starts a call in the Lounge; Bob's card says so, and
    // Ada's room announces it.
    await enter(b, 'Focus booth');
    await person(a, 'Focus booth', 'Bob Builder').waitFor(WAIT);
    await here(a).getByRole('button', { name: 'Start call' }).click();
    await expect.poll(() => space(b, 'Lounge').textContent(), WAIT).toMatch(/In a meeting/);
    expect(await space(b, 'Lounge').getByRole('button', { name: 'Lounge, In a meeting' }).count()).toBe(1);
    await room(a).getByText('Ada Lovelace started a meeting').first().waitFor(WAIT);
    await shot(b, 'office-bob-meeting.png');
    await a.getByRole('button', { name: 'Hang up' }).click();
    await expect.poll(() => space(b, 'Lounge').textContent(), WAIT).toMatch(/In use/);
    await room(a)
      .getByText(/^Meeting ended/)
      .first()
      .waitFor(WAIT);

    // Not in any space, Ada may message and call Bob, but bring him nowhere.
    await here(a).getByRole('button', { name: 'Leave' }).click();
    await expect.poll(() => here(a).count(), WAIT).toBe(0);
    await person(a, 'Focus booth', 'Bob Builder').click();
    await expect.poll(() => menuItems(a), WAIT).toEqual(['Message', 'Call']);
    await person(a, 'Focus booth', 'Bob Builder').click();

    // Bob turns on do-not-disturb: busy, he may be messaged but not called; off again, he may.
    expect((await api(b, ws, 'PATCH', '/v1/notifications/settings', { dnd_minutes: 60 })).status).toBe(200);
    await expect
      .poll(() => person(a, 'Focus booth', 'Bob Builder').locator('.parley-presence').getAttribute('class'), WAIT)
      .toMatch(/busy/);
    await person(a, 'Focus booth', 'Bob Builder').click();
    await expect.poll(() => menuItems(a), WAIT).toEqual(['Message']);
    await person(a, 'Focus booth', 'Bob Builder').click();
    expect((await api(b, ws, 'PATCH', '/v1/notifications/settings', { dnd_minutes: 0 })).status).toBe(200);
    await expect
      .poll(() => person(a, 'Focus booth', 'Bob Builder').locator('.parley-presence').getAttribute('class'), WAIT)
      .not.toMatch(/busy/);
    await person(a, 'Focus booth', 'Bob Builder').click();
    await expect.poll(() => menuItems(a), WAIT).toEqual(['Message', 'Call']);
    await person(a, 'Focus booth', 'Bob Builder').click();

    // The Lounge, empty for a month, is archived by the sweep (its time moved on, not waited).
    const lounge = ((await api(a, ws, 'GET', '/v1/spaces')).body.spaces as any[]).find((s) => s.name === 'Lounge');
    expect(await archiveIdleRooms(h.server.svc, Date.now() + 31 * DAY)).toBeGreaterThanOrEqual(1);
    expect(await isArchived(lounge.cid)).toBe(true);
    // Bob walks in: the room is open again, with what was said before.
    await enter(b, 'Lounge');
    await expect.poll(() => here(b).textContent(), WAIT).toMatch(/You are in Lounge/);
    await room(b).locator('article.parley-message', { hasText: 'coffee at the lounge' }).waitFor(WAIT);
    const box = room(b).getByRole('combobox').first();
    await box.fill('the lounge is open again');
    await box.press('Enter');
    await room(b).locator('article.parley-message', { hasText: 'the lounge is open again' }).waitFor(WAIT);
    expect(await isArchived(lounge.cid)).toBe(false);

    // Bob goes offline (his page closes): he keeps his place for a while, but Ada in the booth
    // may no longer call him or bring him over — only message him.
    await enter(a, 'Focus booth');
    await expect.poll(() => here(a).textContent(), WAIT).toMatch(/You are in Focus booth/);
    await b.context().close();
    await expect
      .poll(() => person(a, 'Lounge', 'Bob Builder').locator('.parley-presence').getAttribute('class'), WAIT)
      .toMatch(/offline/);
    await person(a, 'Lounge', 'Bob Builder').click();
    await expect.poll(() => menuItems(a), WAIT).toEqual(['Message']);
    await person(a, 'Lounge', 'Bob Builder').click();

    // A phone: the cards take the width, the room a bar under them; open, it takes the screen,
    // and its back button folds it again.
    await a.setViewportSize({ width: 390, height: 844 });
    const stillOpen = await roomBar(a).count();
    if (stillOpen === 0) await room(a).getByRole('button', { name: '← Office' }).click();
    await roomBar(a).waitFor(WAIT);
    await shot(a, 'office-phone-collapsed.png');
    const card = await space(a, 'Lounge').boundingBox();
    expect(card?.width ?? 0).toBeGreaterThan(300);
    await roomBar(a).click();
    await room(a).getByRole('button', { name: '← Office' }).waitFor(WAIT);
    // With its history (Ada entered the booth before her phone was one).
    await room(a).getByText('Ada Lovelace entered').first().waitFor(WAIT);
    const full = await room(a).boundingBox();
    expect(full?.width).toBe(390);
    await shot(a, 'office-phone-expanded.png');
    expect(await room(a).getByRole('button', { name: 'Back' }).first().isVisible()).toBe(false);
    await room(a).getByRole('button', { name: '← Office' }).click();
    await roomBar(a).waitFor(WAIT);
    expect(await room(a).isHidden()).toBe(true);

    expect(ada.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  }, 240_000);
});
