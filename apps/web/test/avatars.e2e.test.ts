/**
 * Pictures and addresses, in real Chromium against a real server: Ada uploads a photo from her
 * profile dialog, crops it square in the browser (drags it, zooms it), and Bob — who has #general
 * open — sees it on her message at once, no reload; Bob opens Ada's profile from a search
 * result. Ada, the owner, gives the workspace a logo and the address /w/acme-team in the admin
 * console: the address bar follows, a reload opens /w/acme-team, and the old /w/<id> link lands
 * there too. Ada, an admin, then sets a field on Bob's profile that admins may edit. Screenshots
 * go to /tmp/shots-avatars/.
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless PARLEY_REQUIRE_BROWSER=1.
 */
import { mkdirSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAccount, buildWorkspace, chatHeaders, join, ok } from '../../../packages/server/test/accounts/helpers.js';
import type { Harness } from '../../../packages/server/test/harness.js';
import { haveBrowser, openWindow, startWebApp, type WebApp } from './browser.js';

const WAIT = { timeout: 30_000 };
const SHOTS = '/tmp/shots-avatars';

let h: Harness;
let app: WebApp | undefined;
const errors: string[] = [];

/** A photo as a phone makes one: wider than tall, with EXIF (a camera, a GPS position). */
async function photo(): Promise<Buffer> {
  const stripes = await sharp({ create: { width: 400, height: 600, channels: 3, background: '#f2b233' } })
    .png()
    .toBuffer();
  return sharp({ create: { width: 1200, height: 800, channels: 3, background: '#2a6fdb' } })
    .composite([{ input: stripes, left: 400, top: 100 }])
    .withExif({ IFD0: { Make: 'ParleyPhone' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2400/100' } })
    .jpeg()
    .toBuffer();
}

/** A square logo. */
const logo = () =>
  sharp({ create: { width: 300, height: 300, channels: 3, background: '#7c5cff' } })
    .png()
    .toBuffer();

describe.skipIf(!haveBrowser)('pictures and addresses in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    app = await startWebApp();
    ({ h } = app);
  }, 180_000);

  afterAll(async () => {
    await app?.close();
  });

  it('Ada crops and uploads a photo; Bob sees it on her messages live; a slug opens the workspace', {
    timeout: 170_000,
  }, async () => {
    const ada = await buildAccount(h, 'Ada Lovelace', 'ada@example.com');
    const bob = await buildAccount(h, 'Bob Builder', 'bob@example.com');
    const ws = await buildWorkspace(ada, 'Acme');
    await join(ada, ws.id, bob);
    const ac = await (app as WebApp).as(ada.cookie);
    const bc = await (app as WebApp).as(bob.cookie);
    const a = await ac.newPage();
    const b = await bc.newPage();
    for (const p of [a, b]) {
      p.on('pageerror', (e) => errors.push(e.message));
      await p.setViewportSize({ width: 1280, height: 820 });
    }

    // Ada says hello in #general; Bob has it open and sees her initials.
    await a.goto(`/w/${ws.id}`);
    await a.waitForURL(/\/c\/public:general$/, WAIT);
    const composer = a.getByRole('combobox', { name: 'Message #general' });
    await composer.fill('hello from ada');
    await composer.press('Enter');
    await b.goto(`/w/${ws.id}`);
    await b.waitForURL(/\/c\/public:general$/, WAIT);
    const adaMessage = b.locator('article.parley-message', { hasText: 'hello from ada' }).first();
    await adaMessage.waitFor(WAIT);
    await expect.poll(() => adaMessage.locator('.parley-avatar--initials').textContent(), WAIT).toBe('AL');

    // Ada: Edit profile → Upload photo → the crop step.
    await a.getByRole('button', { name: /Open your menu/ }).click(WAIT);
    await a.getByRole('menuitem', { name: 'Edit profile' }).click(WAIT);
    const profile = a.getByRole('dialog', { name: 'Edit your profile' });
    // The button opens the system's file chooser.
    const chooser = a.waitForEvent('filechooser', WAIT);
    await profile.getByRole('button', { name: 'Upload photo' }).click(WAIT);
    await (await chooser).setFiles({ name: 'IMG_0042.jpg', mimeType: 'image/jpeg', buffer: await photo() });
    const crop = a.getByRole('dialog', { name: 'Crop your photo' });
    const frame = crop.getByTestId('crop-frame');
    await frame.waitFor(WAIT);
    await expect.poll(() => crop.getByTestId('crop-use').isEnabled(), WAIT).toBe(true);
    // Zoom in a little, then drag the picture left: the yellow stripe moves into the middle.
    await crop.getByRole('slider', { name: 'Zoom' }).fill('1.5');
    const box = await frame.boundingBox();
    if (!box) throw new Error('no crop frame');
    await a.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await a.mouse.down();
    await a.mouse.move(box.x + box.width / 2 - 60, box.y + box.height / 2 - 20, { steps: 6 });
    await a.mouse.up();
    await a.screenshot({ path: `${SHOTS}/crop.png` });
    await crop.getByTestId('crop-use').click();
    await crop.waitFor({ state: 'detached', ...WAIT });
    // Her own dialog shows the picture at once; the button now says Change.
    await profile.locator('img.parley-avatar').waitFor(WAIT);
    await profile.getByRole('button', { name: 'Change photo' }).waitFor(WAIT);
    await a.screenshot({ path: `${SHOTS}/profile-dialog.png` });
    await profile.getByRole('button', { name: 'Cancel' }).click();

    // Bob sees it on her message, live: a Parley picture URL asked at the size it draws, loaded.
    const img = adaMessage.locator('img.parley-avatar');
    await img.waitFor(WAIT);
    expect(await img.getAttribute('src')).toMatch(/\/v1\/images\/[0-9a-f-]{36}\/[0-9a-f-]{36}\?size=64$/);
    await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth), WAIT).toBe(96);
    // What was uploaded is the square Ada framed, and nothing of her photo's EXIF.
    const served = await (await fetch((await img.getAttribute('src')) as string)).arrayBuffer();
    const meta = await sharp(Buffer.from(served)).metadata();
    expect([meta.format, meta.width, meta.height, meta.exif]).toEqual(['webp', 96, 96, undefined]);
    await b.screenshot({ path: `${SHOTS}/bob-sees-photo.png` });

    // Bob searches, and opens Ada's profile from the result.
    await b
      .getByRole('button', { name: /Search messages/ })
      .first()
      .click(WAIT);
    const search = b.getByRole('dialog', { name: 'Search messages' });
    await search.getByRole('searchbox', { name: 'Search messages' }).fill('hello');
    await search.getByRole('searchbox', { name: 'Search messages' }).press('Enter');
    await search.getByRole('button', { name: "Ada Lovelace's profile" }).click(WAIT);
    const card = search.getByTestId('search-profile');
    await card.locator('.parley-profile', { hasText: 'Ada Lovelace' }).waitFor(WAIT);
    await card.locator('img.parley-avatar').first().waitFor(WAIT);
    await b.screenshot({ path: `${SHOTS}/search-profile.png` });
    await b.keyboard.press('Escape');

    // Ada, the owner: a logo and an address in the admin console.
    await a.getByTestId('workspace-name').click(WAIT);
    await a.getByRole('menuitem', { name: 'Admin console' }).click(WAIT);
    const console_ = a.getByRole('dialog', { name: /Admin console/ });
    await console_.getByRole('tab', { name: 'Workspace' }).click();
    const logoChooser = a.waitForEvent('filechooser', WAIT);
    await console_.getByRole('button', { name: 'Upload logo' }).click(WAIT);
    await (await logoChooser).setFiles({ name: 'logo.png', mimeType: 'image/png', buffer: await logo() });
    const logoCrop = a.getByRole('dialog', { name: 'Crop the logo' });
    await expect.poll(() => logoCrop.getByTestId('crop-use').isEnabled(), WAIT).toBe(true);
    await logoCrop.getByTestId('crop-use').click();
    await logoCrop.waitFor({ state: 'detached', ...WAIT });
    await console_.getByRole('button', { name: 'Change logo' }).waitFor(WAIT);

    // A reserved address is refused in words; a good one is saved and the address bar follows.
    const address = console_.getByRole('textbox', { name: /^Address/ });
    await address.fill('admin');
    await console_.getByRole('button', { name: 'Save address' }).click();
    await expect.poll(() => console_.getByRole('alert').textContent(), WAIT).toContain('reserved');
    await address.fill('acme-team');
    await console_.getByRole('button', { name: 'Save address' }).click();
    await a.waitForURL(/\/w\/acme-team\/c\/public:general$/, WAIT);
    await a.screenshot({ path: `${SHOTS}/workspace-settings.png` });
    await a.keyboard.press('Escape');
    // The menu shows the logo.
    await a.locator('.app-sidebar__workspace-button [data-testid="workspace-logo"]').waitFor(WAIT);

    // A reload opens the workspace at its slug.
    await a.reload();
    await a.getByTestId('workspace-name').waitFor(WAIT);
    expect(new URL(a.url()).pathname).toBe('/w/acme-team/c/public:general');
    expect(await a.getByTestId('workspace-name').textContent()).toBe('Acme');
    await a.locator('.app-sidebar__workspace-button [data-testid="workspace-logo"]').waitFor(WAIT);
    await a.locator('article.parley-message', { hasText: 'hello from ada' }).first().waitFor(WAIT);
    await a.screenshot({ path: `${SHOTS}/after-reload.png` });

    // Bob's old link by id still works, and lands on the address.
    await b.goto(`/w/${ws.id}/c/public:general`);
    await b.waitForURL(/\/w\/acme-team\/c\/public:general$/, WAIT);
    await b.locator('article.parley-message', { hasText: 'hello from ada' }).first().waitFor(WAIT);
    // And /w/acme-team opens directly.
    await b.goto('/w/acme-team');
    await b.waitForURL(/\/w\/acme-team\/c\/public:general$/, WAIT);

    // Ada, an admin, sets Bob's admin-editable field from his profile card.
    ok(
      await h.call({
        method: 'POST',
        url: '/v1/profile-fields',
        headers: chatHeaders(ok(await ada.session(ws.id))),
        payload: { name: 'Desk', kind: 'text', admin_editable: true },
      }),
    );
    const bobComposer = b.getByRole('combobox', { name: 'Message #general' });
    await bobComposer.fill('hi from bob');
    await bobComposer.press('Enter');
    const bobMessage = a.locator('article.parley-message', { hasText: 'hi from bob' }).first();
    await bobMessage.waitFor(WAIT);
    await bobMessage.getByRole('button', { name: 'Bob Builder', exact: true }).click();
    const bobCard = a.locator('.app-profile', { hasText: 'Bob Builder' });
    await bobCard.getByRole('button', { name: 'Edit profile fields' }).click(WAIT);
    const fieldsDialog = a.getByRole('dialog', { name: 'Profile fields of Bob Builder' });
    await fieldsDialog.getByLabel('Desk').fill('4B, by the window');
    await fieldsDialog.getByRole('button', { name: 'Save' }).click();
    await fieldsDialog.waitFor({ state: 'detached', ...WAIT });
    await bobCard.locator('dd', { hasText: '4B, by the window' }).waitFor(WAIT);
    await a.screenshot({ path: `${SHOTS}/admin-sets-field.png` });

    expect(errors).toEqual([]);
  });

  it('a blurhash stands in while a photo loads; uploads show progress; a new logo shows live and on the invite page', {
    timeout: 170_000,
  }, async () => {
    const web = app as WebApp;
    const ada = await buildAccount(h, 'Ada Lovelace', 'ada2@example.com');
    const bob = await buildAccount(h, 'Bob Builder', 'bob2@example.com');
    const ws = await buildWorkspace(ada, 'Blurco');
    await join(ada, ws.id, bob);
    const adaS = ok(await ada.session(ws.id));
    const a = await (await web.as(ada.cookie)).newPage();
    const b = await (await web.as(bob.cookie)).newPage();
    for (const p of [a, b]) {
      p.on('pageerror', (e) => errors.push(e.message));
      await p.setViewportSize({ width: 1280, height: 820 });
    }
    // Ada opens the workspace (which makes #general) and says hello.
    await a.goto(`/w/${ws.id}`);
    await a.waitForURL(/\/c\/public:general$/, WAIT);
    const composer = a.getByRole('combobox', { name: 'Message #general' });
    await composer.fill('blurry hello');
    await composer.press('Enter');
    await a.locator('article.parley-message', { hasText: 'blurry hello' }).first().waitFor(WAIT);
    // Bob's browser holds every picture until we let it through: what he sees meanwhile is the
    // placeholder.
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    await b.route('**/v1/images/**', async (route) => {
      await held;
      await route.continue();
    });
    await b.goto(`/w/${ws.id}/c/public:general`);
    const message = b.locator('article.parley-message', { hasText: 'blurry hello' }).first();
    await message.locator('.parley-avatar--initials').waitFor(WAIT);

    // Ada uploads a photo from her profile dialog; the upload shows its progress while it runs.
    let letUpload: () => void = () => {};
    const uploadHeld = new Promise<void>((r) => {
      letUpload = r;
    });
    await a.route('**/v1/me/avatar', async (route) => {
      await uploadHeld;
      await route.continue();
    });
    await a.getByRole('button', { name: /Open your menu/ }).click(WAIT);
    await a.getByRole('menuitem', { name: 'Edit profile' }).click(WAIT);
    const profile = a.getByRole('dialog', { name: 'Edit your profile' });
    const chooser = a.waitForEvent('filechooser', WAIT);
    await profile.getByRole('button', { name: 'Upload photo' }).click(WAIT);
    await (await chooser).setFiles({ name: 'me.jpg', mimeType: 'image/jpeg', buffer: await photo() });
    const crop = a.getByRole('dialog', { name: 'Crop your photo' });
    await expect.poll(() => crop.getByTestId('crop-use').isEnabled(), WAIT).toBe(true);
    await crop.getByTestId('crop-use').click();
    const bar = crop.getByTestId('crop-progress');
    await bar.waitFor(WAIT);
    expect(await bar.getAttribute('max')).toBe('1');
    await expect.poll(() => crop.getByTestId('crop-use').textContent(), WAIT).toMatch(/^Uploading… \d+%$/);
    await a.screenshot({ path: `${SHOTS}/upload-progress.png` });
    letUpload();
    await crop.waitFor({ state: 'detached', ...WAIT });
    await profile.getByRole('button', { name: 'Cancel' }).click();

    // Bob: the photo's blurhash is drawn while the picture itself is held back.
    const img = message.locator('img.parley-avatar');
    await img.waitFor(WAIT);
    await expect.poll(() => img.getAttribute('class'), WAIT).toContain('parley-avatar--placeholder');
    expect(await img.evaluate((el) => getComputedStyle(el).backgroundImage)).toMatch(/^url\("data:image\/png;base64,/);
    await message.screenshot({ path: `${SHOTS}/avatar-blurhash.png` });
    release();
    await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth), WAIT).toBeGreaterThan(0);
    await expect.poll(() => img.getAttribute('class'), WAIT).not.toContain('parley-avatar--placeholder');
    await b.unroute('**/v1/images/**');

    // Ada gives the workspace a logo (through the API): Bob's sidebar shows it without a reload.
    const logoForm = new FormData();
    logoForm.append('file', new Blob([new Uint8Array(await logo())], { type: 'image/png' }), 'logo.png');
    const put = await fetch(`${web.base}/v1/workspace/logo`, {
      method: 'PUT',
      headers: chatHeaders(adaS),
      body: logoForm,
    });
    expect(put.status).toBe(200);
    await b.locator('.app-sidebar__workspace-button [data-testid="workspace-logo"]').waitFor(WAIT);
    await b.locator('.app-sidebar').screenshot({ path: `${SHOTS}/logo-live.png` });

    // Someone not signed in opens an invite: the workspace's logo is on it.
    const inv = ok(await ada.invite(ws.id));
    const guest = await (await web.as(null)).newPage();
    guest.on('pageerror', (e) => errors.push(e.message));
    await guest.setViewportSize({ width: 1280, height: 820 });
    await guest.goto(`/invite/${inv.token}`);
    await guest.getByTestId('invite-title').waitFor(WAIT);
    const tile = guest.locator('.app-invite [data-testid="workspace-logo"]');
    await tile.waitFor(WAIT);
    expect(await tile.getAttribute('src')).toMatch(/\/v1\/images\/[0-9a-f-]{36}\/[0-9a-f-]{36}\?size=128$/);
    await expect.poll(() => tile.evaluate((el) => (el as HTMLImageElement).naturalWidth), WAIT).toBeGreaterThan(0);
    await guest.screenshot({ path: `${SHOTS}/invite-logo.png` });

    // Pictures that cannot load (here refused; a server moved, a proxy in front) show the
    // initials and the logo's letter, never a broken image.
    const c = await openWindow(await web.as(bob.cookie));
    c.on('pageerror', (e) => errors.push(e.message));
    await c.setViewportSize({ width: 1280, height: 820 });
    await c.route('**/v1/images/**', (route) => route.abort('connectionrefused'));
    await c.goto(`/w/${ws.id}/c/public:general`);
    const refused = c.locator('article.parley-message', { hasText: 'blurry hello' }).first();
    await expect.poll(() => refused.locator('.parley-avatar--initials').textContent(), WAIT).toBe('AL');
    expect(await refused.locator('img.parley-avatar').count()).toBe(0);
    const letter = c.locator('.app-sidebar__workspace-button .app-workspace-tile');
    await expect.poll(() => letter.textContent(), WAIT).toBe('B');
    expect(await c.locator('.app-sidebar__workspace-button [data-testid="workspace-logo"]').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
