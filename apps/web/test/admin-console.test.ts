/**
 * The admin console end to end in real Chromium against a real server (PGlite, loopback): an
 * owner opens it from the workspace menu, makes a member an admin on the Members tab, and finds
 * that change on the Audit log tab (who, what, to whom, from which address); the Analytics tab
 * shows the workspace's totals and a chart per measure; on the Channels tab the owner finds a
 * channel by name and freezes it, after which a member can no longer post there.
 *
 * Each step waits on what the page shows (locators, `expect.poll` on attributes the app sets
 * from the server's answers), never on time: a loaded CI machine only makes the waits longer.
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1 (CI) makes that a failure.
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildAccount,
  buildWorkspace,
  chatHeaders,
  email,
  join,
  ok,
} from '../../../packages/server/test/accounts/helpers.js';
import type { Harness } from '../../../packages/server/test/harness.js';
import { haveBrowser, startWebApp, type WebApp } from './browser.js';

const WAIT = { timeout: 20_000 };

let h: Harness;
let base: string;
let app: WebApp | undefined;
const as = (cookie: string | null) => (app as WebApp).as(cookie);

describe.skipIf(!haveBrowser)('the admin console in Chromium', () => {
  beforeAll(async () => {
    app = await startWebApp();
    ({ h, base } = app);
  }, 180_000);

  afterAll(async () => {
    await app?.close();
  });

  it("an owner changes a member's role and sees it in the audit log", { timeout: 120_000 }, async () => {
    const olive = await buildAccount(h, 'Olive Owner', email('olive'));
    const mia = await buildAccount(h, 'Mia Member', email('mia'));
    const ws = await buildWorkspace(olive, 'Harbor');
    await join(olive, ws.id, mia);
    // For the Channels tab: a public channel Paul is a plain member of (Olive made it; Mia
    // becomes an admin below, and admins post in frozen channels).
    const paul = await buildAccount(h, 'Paul Poster', email('paul'));
    await join(olive, ws.id, paul);
    const oliveChat = chatHeaders(ok(await olive.session(ws.id)));
    const paulSession = ok(await paul.session(ws.id));
    const paulChat = chatHeaders(paulSession);
    const dock = { type: 'public', id: 'dock', name: 'Dock', members: [paulSession.user_id] };
    ok(await h.call({ method: 'POST', url: '/v1/channels', headers: oliveChat, payload: dock }));
    const paulPosts = (text: string) =>
      h.call({ method: 'POST', url: '/v1/channels/public:dock/messages', headers: paulChat, payload: { text } });
    ok(await paulPosts('before the freeze'));
    const owner = await as(olive.cookie);
    try {
      const page = await owner.newPage();
      await page.goto(`/w/${ws.id}`);
      await page.getByTestId('workspace-name').click(WAIT);
      await page.getByRole('menuitem', { name: 'Admin console' }).click(WAIT);
      const dialog = page.getByRole('dialog', { name: 'Admin console · Harbor' });
      await dialog.waitFor(WAIT);

      // Members: Mia becomes an admin.
      const row = dialog.getByTestId(`workspace-member-${mia.account.id}`);
      await row.getByRole('button', { name: 'Change the role of Mia Member' }).click(WAIT);
      await row.getByLabel('Role of Mia Member').selectOption('admin');
      await row.getByRole('button', { name: 'Save role' }).click();
      await expect.poll(async () => row.textContent(), WAIT).toContain('Admin');

      // Audit log: the change, newest first, with who did it and to whom.
      await dialog.getByRole('tab', { name: 'Audit log' }).click();
      const entry = dialog.getByTestId('audit-entry').first();
      await entry.waitFor(WAIT);
      await expect.poll(async () => entry.getAttribute('data-action'), WAIT).toBe('member.role_changed');
      const cells = await entry.locator('td').allTextContents();
      expect(cells.slice(1, 5)).toEqual(['Olive Owner', 'Member role changed', 'Mia Member', 'member → admin']);
      expect(cells[5]).toBe('127.0.0.1');

      // Filtering by action keeps only that kind.
      await dialog.getByLabel('Action').selectOption('invite.accepted');
      await expect
        .poll(
          async () => dialog.getByTestId('audit-entry').evaluateAll((els) => els.map((e) => e.dataset.action)),
          WAIT,
        )
        .toEqual(['invite.accepted', 'invite.accepted']); // Mia's and Paul's

      // Analytics: totals and the four charts.
      await dialog.getByRole('tab', { name: 'Analytics' }).click();
      const totals = dialog.getByTestId('analytics-totals');
      await totals.waitFor(WAIT);
      expect(await totals.textContent()).toContain('Users');
      for (const chart of [
        'daily-active-users',
        'monthly-active-users',
        'messages-per-day',
        'peak-concurrent-connections',
      ])
        await dialog.getByTestId(`chart-${chart}`).waitFor(WAIT);
      // The owner is active today: the last bar of daily active users is not empty.
      const dau = dialog.getByTestId('chart-daily-active-users').locator('rect');
      expect(Number(await dau.last().getAttribute('data-value'))).toBeGreaterThanOrEqual(1);

      // The other areas are tabs of the same console: the moderation queue, bans and block
      // lists, and the workspace's webhooks.
      await dialog.getByRole('tab', { name: 'Moderation queue' }).click();
      await dialog.getByTestId('moderation-queue').getByText('No open reports.').waitFor(WAIT);
      await dialog.getByRole('tab', { name: 'Bans and block lists' }).click();
      await dialog.getByTestId('moderation-bans').waitFor(WAIT);
      await dialog.getByRole('tab', { name: 'Webhooks' }).click();
      await dialog.getByRole('form', { name: 'Add a webhook' }).waitFor(WAIT);
      await dialog.getByText('No webhooks yet.').waitFor(WAIT);

      // Channels: find the Dock by name and freeze it. The list must hold the answer to the
      // filter before anything is clicked (`data-loaded`), and the click is judged by the row's
      // `data-frozen`, which the app sets from the server's answer — not by the checkbox, which
      // React keeps at the stored value until that answer comes.
      await dialog.getByRole('tab', { name: 'Channels' }).click();
      const list = dialog.getByTestId('admin-channels');
      const dockRow = list.getByTestId('admin-channel-public:dock');
      await dockRow.waitFor(WAIT);
      await dialog.getByRole('form', { name: 'Filter the channels' }).getByLabel('Name').fill('dock');
      await expect
        .poll(
          async () =>
            (await list.getAttribute('data-loaded')) === 'true'
              ? list.getByRole('listitem').evaluateAll((els) => els.map((e) => e.dataset.testid))
              : null,
          WAIT,
        )
        .toEqual(['admin-channel-public:dock']);
      expect(await dockRow.getAttribute('data-frozen')).toBe('false');
      expect(await dockRow.textContent()).toContain('2 members');
      await dockRow.getByLabel('Freeze Dock').click(WAIT);
      await expect.poll(async () => dockRow.getAttribute('data-frozen'), WAIT).toBe('true');
      await expect.poll(async () => dockRow.getByLabel('Freeze Dock').isChecked(), WAIT).toBe(true);
      await dockRow.locator('.app-badge--danger', { hasText: 'Frozen' }).waitFor(WAIT);
      // Slow mode from the same row, as the channel's own dialog would set it.
      await dockRow.getByLabel('Slow mode of Dock').selectOption('30');
      await expect.poll(async () => dockRow.textContent(), WAIT).toContain('Slow mode: 30 seconds');
      await dialog.screenshot({ path: path.join(tmpdir(), 'parley-admin-channels.png') });
      // The member can no longer post there; the API says why.
      const refused = await paulPosts('after the freeze');
      expect(refused.status).toBe(403);
      expect(refused.body.error.message).toMatch(/frozen/);
      const dockNow = ok(await h.call({ method: 'GET', url: '/v1/channels/public:dock', headers: paulChat }));
      expect(dockNow.channel).toMatchObject({ frozen: true, slow_mode_s: 30 });
    } finally {
      await owner.close();
    }
    // The same entry through the API, as the server recorded it.
    const s = ok(await olive.session(ws.id));
    const api = ok(
      await h.call({
        method: 'GET',
        url: `/v1/audit?action=member.role_changed&target=${mia.account.id}`,
        headers: { 'x-api-key': s.api_key, authorization: `Bearer ${s.token}` },
      }),
    );
    expect(api.entries).toHaveLength(1);
    expect(api.entries[0].user_agent).toMatch(/Chrome/);
  });

  it('a member exports their own data from Preferences and downloads the archive', { timeout: 120_000 }, async () => {
    const olive = await buildAccount(h, 'Olive Owner', email('olive'));
    const mia = await buildAccount(h, 'Mia Member', email('mia'));
    const ws = await buildWorkspace(olive, 'Export Bay');
    await join(olive, ws.id, mia);
    const member = await as(mia.cookie);
    try {
      const page = await member.newPage();
      await page.goto(`/w/${ws.id}`);
      await page.getByTestId('workspace-name').click(WAIT);
      // Members see no admin console.
      await page.getByRole('menuitem', { name: 'Preferences' }).waitFor(WAIT);
      expect(await page.getByRole('menuitem', { name: 'Admin console' }).count()).toBe(0);
      await page.getByRole('menuitem', { name: 'Preferences' }).click();
      const dialog = page.getByRole('dialog', { name: 'Preferences' });
      await dialog.getByRole('button', { name: 'Export my data' }).click(WAIT);
      const link = dialog.getByTestId('data-export-link');
      await link.waitFor({ timeout: 60_000 });
      const href = (await link.getAttribute('href')) as string;
      // The link works on its own: no cookie, no token.
      const res = await fetch(href.startsWith('http') ? href : `${base}${href}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/gzip');
      const bytes = Buffer.from(await res.arrayBuffer());
      expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    } finally {
      await member.close();
    }
  });
  it("an owner limits uploads on the Uploads tab; a member's composer says no at once, the server too", {
    timeout: 120_000,
  }, async () => {
    const olive = await buildAccount(h, 'Olive Owner', email('olive'));
    const mia = await buildAccount(h, 'Mia Member', email('mia'));
    const ws = await buildWorkspace(olive, 'Upload Cove');
    await join(olive, ws.id, mia);
    const owner = await as(olive.cookie);
    try {
      const page = await owner.newPage();
      await page.goto(`/w/${ws.id}`);
      await page.getByTestId('workspace-name').click(WAIT);
      await page.getByRole('menuitem', { name: 'Admin console' }).click(WAIT);
      const dialog = page.getByRole('dialog', { name: 'Admin console · Upload Cove' });
      await dialog.getByRole('tab', { name: 'Uploads' }).click(WAIT);
      const form = dialog.getByTestId('upload-rules');
      await form.getByText(/No file may be larger than/).waitFor(WAIT);
      await form.getByLabel('Allowed types (one a line)').fill('image/*\nApplication/PDF');
      await form.getByLabel('Images').fill('0.01');
      await form.getByRole('button', { name: 'Save upload rules' }).click();
      await form.getByText('Saved.').waitFor(WAIT);
      await dialog.screenshot({ path: path.join(tmpdir(), 'parley-admin-uploads.png') });
      expect(await form.getByLabel('Allowed types (one a line)').inputValue()).toBe('image/*\napplication/pdf');
      // A size that is no size is said in words, and nothing is saved.
      await form.getByLabel('Videos').fill('lots');
      await form.getByRole('button', { name: 'Save upload rules' }).click();
      await form.getByRole('alert').getByText('Videos: give a size in MB above 0, or leave it empty.').waitFor(WAIT);
    } finally {
      await owner.close();
    }
    const miaChat = chatHeaders(ok(await mia.session(ws.id)));
    const rules = ok(await h.call({ method: 'GET', url: '/v1/files/rules', headers: miaChat }));
    expect(rules.rules).toEqual({
      allowed_types: ['image/*', 'application/pdf'],
      max_bytes: { image: 10_486, video: null, audio: null, file: null },
    });

    const member = await as(mia.cookie);
    try {
      const page = await member.newPage();
      await page.goto(`/w/${ws.id}`);
      const input = page.getByTestId('parley-file-input');
      await input.waitFor({ state: 'attached', ...WAIT });
      // The picker offers what the app allows.
      await expect.poll(async () => input.getAttribute('accept'), WAIT).toBe('image/*,application/pdf');
      await input.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello\n') });
      const alert = page.locator('.parley-input .parley-error');
      await expect.poll(async () => alert.textContent(), WAIT).toContain("“notes.txt” can't be shared here");
      const big = await sharp(randomBytes(120 * 120 * 3), { raw: { width: 120, height: 120, channels: 3 } })
        .png({ compressionLevel: 0 })
        .toBuffer();
      await input.setInputFiles({ name: 'noise.png', mimeType: 'image/png', buffer: big });
      await expect.poll(async () => alert.textContent(), WAIT).toContain('Images here may be at most 10 KB');
      expect(await page.locator('.parley-pending-file').count()).toBe(0);
      const dot = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#36c' } })
        .png()
        .toBuffer();
      await input.setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: dot });
      await page.locator('.parley-pending-file', { hasText: 'dot.png' }).waitFor(WAIT);
      await page.screenshot({ path: path.join(tmpdir(), 'parley-upload-refused.png') });
    } finally {
      await member.close();
    }
    // Past the browser, the server judges the bytes: a text file called a PNG is still refused.
    const form = new FormData();
    form.append('file', new Blob([Buffer.from('not a picture')], { type: 'image/png' }), 'fake.png');
    const refused = await fetch(`${base}/v1/channels/public:general/uploads`, {
      method: 'POST',
      headers: miaChat,
      body: form,
    });
    expect(refused.status).toBe(415);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('INVALID_FILE_TYPE');
  });
});
