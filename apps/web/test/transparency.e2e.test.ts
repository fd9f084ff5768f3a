/**
 * The transparency report in the admin console, in real Chromium against a real server: Bob
 * reports two of Ada's messages, Ada (the owner) removes one and dismisses the other, then opens
 * Admin console → Transparency report: this month's row and the totals count them; by day, today
 * alone; the CSV she downloads holds the same lines the server's `format=csv` does. Looked at on
 * a desktop (1280×800) and a phone (390×844), where the table scrolls inside the page.
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1. Screenshots go to PARLEY_SHOTS (default a temporary folder).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, haveBrowser, startTeam, startWebApp, type WebApp } from './browser.js';

const WAIT = { timeout: 30_000 };
const SHOTS = process.env.PARLEY_SHOTS ?? mkdtempSync(join(tmpdir(), 'shots-transparency-'));

let web: WebApp;
const errors: string[] = [];

/** A cell of the report's row (`testid`: a period's or the totals'). */
const cell = (row: ReturnType<Page['locator']>, column: string) => row.locator(`td[data-column="${column}"]`);

describe.skipIf(!haveBrowser)('the transparency report', () => {
  beforeAll(async () => {
    web = await startWebApp();
  }, 180_000);

  afterAll(async () => {
    await web?.close();
  });

  it('counts reports and their reviews by month and by day, and downloads them as CSV', {
    timeout: 180_000,
  }, async () => {
    const { workspaceId, members } = await startTeam(web, errors, [{ name: 'Bob Babbage', email: 'bob@example.com' }]);
    const [ada, bob] = members.map((m) => m.page) as [Page, Page];
    const m1 = await api(ada, workspaceId, 'POST', '/v1/channels/public:general/messages', { text: 'first take' });
    const m2 = await api(ada, workspaceId, 'POST', '/v1/channels/public:general/messages', { text: 'second take' });
    const f1 = await api(bob, workspaceId, 'POST', '/v1/moderation/flags', {
      message_id: m1.body.message.id,
      reason: 'off topic',
    });
    const f2 = await api(bob, workspaceId, 'POST', '/v1/moderation/flags', {
      message_id: m2.body.message.id,
      reason: 'spam',
    });
    expect([f1.status, f2.status]).toEqual([200, 200]);
    expect(
      (await api(ada, workspaceId, 'POST', `/v1/moderation/flags/${f1.body.flag.id}/review`, { action: 'remove' }))
        .status,
    ).toBe(200);
    expect(
      (await api(ada, workspaceId, 'POST', `/v1/moderation/flags/${f2.body.flag.id}/review`, { action: 'dismiss' }))
        .status,
    ).toBe(200);

    await ada.goto(`/w/${workspaceId}`);
    await ada.getByTestId('workspace-name').click(WAIT);
    await ada.getByRole('menuitem', { name: 'Admin console' }).click(WAIT);
    const dialog = ada.getByRole('dialog', { name: /^Admin console/ });
    await dialog.getByRole('tab', { name: 'Transparency report' }).click(WAIT);
    const table = dialog.getByRole('table', { name: 'Transparency report' });
    const rows = table.getByTestId('transparency-period');
    await expect.poll(() => rows.count(), WAIT).toBe(12);
    const thisMonth = rows.last();
    await expect.poll(() => cell(thisMonth, 'reports').textContent(), WAIT).toBe('2');
    expect(await cell(thisMonth, 'reviewed_removed').textContent()).toBe('1');
    expect(await cell(thisMonth, 'reviewed_dismissed').textContent()).toBe('1');
    expect(await cell(thisMonth, 'bans').textContent()).toBe('0');
    const totals = table.getByTestId('transparency-totals');
    expect(await cell(totals, 'reports').textContent()).toBe('2');
    await ada.setViewportSize({ width: 1280, height: 800 });
    await dialog.screenshot({ path: join(SHOTS, 'transparency-report.png') });

    // By day: the last 30 days, today's row last with the same counts.
    await dialog.getByRole('combobox', { name: 'Periods' }).selectOption('day');
    await expect.poll(() => rows.count(), WAIT).toBe(30);
    const today = new Date().toISOString().slice(0, 10);
    expect(await rows.last().locator('th').textContent()).toBe(today);
    await expect.poll(() => cell(rows.last(), 'reports').textContent(), WAIT).toBe('2');

    // The CSV download is the server's CSV, line for line.
    const [file] = await Promise.all([
      ada.waitForEvent('download', WAIT),
      dialog.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    expect(file.suggestedFilename()).toMatch(/^moderation-report-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
    const saved = readFileSync((await file.path()) as string, 'utf8');
    const server = await ada.evaluate(async (workspaceId) => {
      const s = await (
        await fetch(`/v1/workspaces/${workspaceId}/session`, {
          method: 'POST',
          credentials: 'include',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        })
      ).json();
      const r = await fetch('/v1/moderation/report?period=day&format=csv', {
        headers: { 'x-api-key': s.api_key, authorization: `Bearer ${s.token}` },
      });
      return r.text();
    }, workspaceId);
    expect(saved).toBe(server);
    expect(saved.trim().split('\r\n').at(-1)).toBe('total,,2,0,1,0,1,0,0,0,0,0');

    // On a phone the table scrolls inside its box; the page itself does not.
    await ada.setViewportSize({ width: 390, height: 844 });
    const box = await table.boundingBox();
    expect(box).not.toBeNull();
    const pageWidth = await ada.evaluate(() => document.documentElement.scrollWidth);
    expect(pageWidth).toBeLessThanOrEqual(390);
    await ada.screenshot({ path: join(SHOTS, 'transparency-report-phone.png') });
    expect(errors).toEqual([]);
  });
});
