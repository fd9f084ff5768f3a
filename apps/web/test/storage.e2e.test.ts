/**
 * Storage use in Preferences, in real Chromium against a real server with a 1 MB quota: Ada
 * (a workspace admin) sends a file and sees it counted against her quota — as text and as a
 * labelled meter — with the workspace's total ("unlimited": no app quota); Bob, a member, sees
 * his own and not the workspace's. Her largest files are listed, largest first, each leading to
 * its message. Ada deletes the message and the space comes back. Looked at on a desktop
 * (1280×800) and a phone (390×844).
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1. Screenshots go to PARLEY_SHOTS (default a temporary folder).
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, haveBrowser, startTeam, startWebApp, type WebApp } from './browser.js';

const WAIT = { timeout: 30_000 };
const SHOTS = process.env.PARLEY_SHOTS ?? mkdtempSync(join(tmpdir(), 'shots-storage-'));
const MB = 1024 * 1024;

let web: WebApp;
const errors: string[] = [];

/** Upload `size` opaque bytes to #general as the page's user and send them; the message's id. */
async function sendFile(page: Page, workspaceId: string, size: number): Promise<string> {
  return page.evaluate(
    async ({ workspaceId, size }) => {
      const s = await (
        await fetch(`/v1/workspaces/${workspaceId}/session`, {
          method: 'POST',
          credentials: 'include',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        })
      ).json();
      const headers = { 'x-api-key': s.api_key, authorization: `Bearer ${s.token}` };
      const bytes = new Uint8Array(size).fill(0x8f);
      bytes.set(new TextEncoder().encode('\0parley-opaque\0'));
      const form = new FormData();
      form.append('file', new Blob([bytes], { type: 'application/octet-stream' }), 'notes.bin');
      const up = await (
        await fetch('/v1/channels/public:general/uploads', { method: 'POST', headers, body: form })
      ).json();
      const sent = await (
        await fetch('/v1/channels/public:general/messages', {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ text: 'the notes', attachments: [up.attachment.id] }),
        })
      ).json();
      return sent.message.id as string;
    },
    { workspaceId, size },
  );
}

async function openPreferences(page: Page) {
  await page.getByRole('button', { name: /Open your menu/ }).click();
  await page.getByRole('menuitem', { name: 'Preferences' }).click();
  return page.getByRole('region', { name: 'Storage' });
}

describe.skipIf(!haveBrowser)('storage use in Preferences', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    web = await startWebApp({ userQuotaBytes: MB, appQuotaBytes: 0 });
  }, 180_000);

  afterAll(async () => {
    await web?.close();
  });

  it('shows your files against your quota, the workspace’s to admins, and frees space on delete', async () => {
    const { workspaceId, members } = await startTeam(web, errors, [{ name: 'Bob Babbage', email: 'bob@example.com' }]);
    const [a, b] = members.map((m) => m.page) as [Page, Page];
    const small = await sendFile(a, workspaceId, 20 * 1024);
    const id = await sendFile(a, workspaceId, 280 * 1024);

    const storage = await openPreferences(a);
    const meter = storage.getByRole('meter', { name: 'Your storage' });
    await expect.poll(() => storage.getByTestId('storage-user').textContent(), WAIT).toContain('300 KB of 1.0 MB used');
    expect(await meter.getAttribute('value')).toBe(String(300 * 1024));
    // Her largest files, largest first, with where they were sent.
    const list = storage.getByRole('list', { name: 'Largest files' });
    await expect.poll(() => list.getByRole('listitem').count(), WAIT).toBe(2);
    const rows = await list.getByRole('listitem').allTextContents();
    expect(rows[0]).toMatch(/notes\.bin\s*280 KB\s*#general · /);
    expect(rows[1]).toMatch(/notes\.bin\s*20 KB/);
    expect(await meter.getAttribute('max')).toBe(String(MB));
    expect(await storage.getByTestId('storage-kinds').textContent()).toContain('2 files (300 KB).');
    // An admin sees the whole workspace: no app quota, so no meter for it.
    expect(await storage.getByTestId('storage-app').textContent()).toContain('300 KB used · unlimited');
    expect(await storage.getByRole('meter').count()).toBe(1);
    await storage.scrollIntoViewIfNeeded();
    await storage.screenshot({ path: `${SHOTS}/storage-desktop.png` });
    await a.screenshot({ path: `${SHOTS}/preferences-desktop.png` });

    // On a phone: the same section, nothing cut off.
    await a.setViewportSize({ width: 390, height: 844 });
    await storage.scrollIntoViewIfNeeded();
    const box = await storage.boundingBox();
    expect(box && box.x >= 0 && box.x + box.width <= 390).toBe(true);
    await a.screenshot({ path: `${SHOTS}/storage-phone.png` });
    await a.setViewportSize({ width: 1280, height: 800 });
    // "Show" leads to the file's message, highlighted in its conversation; the dialog closes.
    await list.getByRole('button', { name: 'Show the message with notes.bin' }).first().click();
    await a.waitForURL(new RegExp(`/c/public:general\\?m=${id}$`), WAIT);
    await a.locator('article.parley-message--highlighted', { hasText: 'the notes' }).waitFor(WAIT);
    expect(await a.getByRole('region', { name: 'Storage' }).count()).toBe(0);

    // Bob, a member: his own use only.
    const bobs = await openPreferences(b);
    await expect.poll(() => bobs.getByTestId('storage-user').textContent(), WAIT).toContain('0 B of 1.0 MB used');
    expect(await bobs.getByTestId('storage-kinds').textContent()).toContain('Nothing stored yet.');
    expect(await bobs.getByTestId('storage-app').count()).toBe(0);

    // Ada deletes the message: the space comes back.
    expect((await api(a, workspaceId, 'DELETE', `/v1/messages/${id}`)).status).toBe(200);
    expect((await api(a, workspaceId, 'DELETE', `/v1/messages/${small}`)).status).toBe(200);
    const again = await openPreferences(a);
    await expect.poll(() => again.getByTestId('storage-user').textContent(), WAIT).toContain('0 B of 1.0 MB used');
    expect(await again.getByRole('meter', { name: 'Your storage' }).getAttribute('value')).toBe('0');
    expect(await again.getByRole('list', { name: 'Largest files' }).count()).toBe(0);
    expect(errors).toEqual([]);
  }, 240_000);
});
