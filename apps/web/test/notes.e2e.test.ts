/**
 * Channel notes in real Chromium against a real server: Olive writes a note in #general from
 * the channel header's Notes panel; Mia, in her own browser, sees it live. Both edit from the
 * same version: Mia's edit to another line merges on its own; then both change the same line,
 * Olive is shown both texts, edits a merge and saves. The history lists both authors. Olive's
 * personal notes page holds her own notes only. Screenshots go to /tmp/shots-notes/.
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAccount, buildWorkspace, join } from '../../../packages/server/test/accounts/helpers.js';
import type { Harness } from '../../../packages/server/test/harness.js';
import { haveBrowser, startWebApp, type WebApp } from './browser.js';

const WAIT = { timeout: 30_000 };
const SHOTS = '/tmp/shots-notes';

let h: Harness;
let app: WebApp | undefined;
const errors: string[] = [];

const panel = (p: Page) => p.getByRole('complementary', { name: 'Notes' });
const editor = (p: Page) => panel(p).getByLabel('Note text (Markdown)');
const body = (p: Page) => panel(p).locator('.parley-note__body');

async function openNotes(p: Page, wsId: string) {
  await p.goto(`/w/${wsId}/c/public:general`);
  await p.getByTestId('channel-notes-button').click(WAIT);
  await panel(p).waitFor(WAIT);
}

describe.skipIf(!haveBrowser)('notes in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    app = await startWebApp();
    ({ h } = app);
  }, 180_000);

  afterAll(async () => {
    await app?.close();
  });

  it('two people edit one channel note: apart edits merge, a clash shows both texts, history names both', {
    timeout: 180_000,
  }, async () => {
    const olive = await buildAccount(h, 'Olive Owner', 'olive.notes@example.com');
    const mia = await buildAccount(h, 'Mia Member', 'mia.notes@example.com');
    const ws = await buildWorkspace(olive, 'Harbor');
    await join(olive, ws.id, mia);
    const o = await (await (app as WebApp).as(olive.cookie)).newPage();
    const m = await (await (app as WebApp).as(mia.cookie)).newPage();
    for (const p of [o, m]) {
      p.on('pageerror', (e) => errors.push(e.message));
      await p.setViewportSize({ width: 1280, height: 800 });
    }

    // Olive writes the note from #general's header.
    await openNotes(o, ws.id);
    await panel(o).getByLabel('New note title').fill('Launch checklist');
    await panel(o).getByRole('button', { name: 'New note' }).click();
    await panel(o).getByRole('button', { name: 'Edit' }).click(WAIT);
    await editor(o).fill('# Launch\n- **docs** ready\n- tests green\n- ship it');
    await expect.poll(() => panel(o).locator('.parley-note__preview strong').textContent(), WAIT).toBe('docs');
    await o.screenshot({ path: `${SHOTS}/editing-with-preview.png` });
    await panel(o).getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => body(o).locator('h1').textContent(), WAIT).toBe('Launch');

    // Mia sees it in her panel and opens it.
    await openNotes(m, ws.id);
    await panel(m)
      .getByRole('button', { name: /Launch checklist/ })
      .click(WAIT);
    await expect.poll(() => body(m).textContent(), WAIT).toContain('tests green');

    // Both start editing from the same version; different lines: Mia's save merges.
    await panel(o).getByRole('button', { name: 'Edit' }).click();
    await panel(m).getByRole('button', { name: 'Edit' }).click();
    await editor(o).fill('# Launch\n- **docs** ready\n- tests green\n- ship it on Friday');
    await panel(o).getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => body(o).textContent(), WAIT).toContain('ship it on Friday');
    await editor(m).fill('# Launch\n- **docs** ready and reviewed\n- tests green\n- ship it');
    await panel(m).getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => panel(m).getByRole('status').textContent(), WAIT).toContain('merged');
    await expect.poll(() => body(m).textContent(), WAIT).toContain('ship it on Friday');
    expect(await body(m).textContent()).toContain('ready and reviewed');
    // Olive's open note follows, live.
    await expect.poll(() => body(o).textContent(), WAIT).toContain('ready and reviewed');
    await m.screenshot({ path: `${SHOTS}/merged.png` });

    // Now both change the same line: Olive, saving second, is shown both texts.
    await panel(o).getByRole('button', { name: 'Edit' }).click();
    await panel(m).getByRole('button', { name: 'Edit' }).click();
    await editor(m).fill('# Launch\n- **docs** ready and reviewed\n- tests green on CI\n- ship it on Friday');
    await panel(m).getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => body(m).textContent(), WAIT).toContain('green on CI');
    await editor(o).fill('# Launch\n- **docs** ready and reviewed\n- tests green everywhere\n- ship it on Friday');
    await panel(o).getByRole('button', { name: 'Save' }).click();
    const conflict = panel(o).getByRole('region', { name: 'Conflict' });
    await conflict.waitFor(WAIT);
    expect(await conflict.getByTestId('conflict-mine').textContent()).toContain('tests green everywhere');
    expect(await conflict.getByTestId('conflict-theirs').textContent()).toContain('tests green on CI');
    expect(await conflict.textContent()).toContain('Mia Member');
    await o.screenshot({ path: `${SHOTS}/conflict.png` });

    // Olive edits a merge of the two and saves.
    await conflict.getByRole('button', { name: 'Edit a merge' }).click();
    expect(await editor(o).inputValue()).toContain('<<<<<<< yours');
    await editor(o).fill(
      '# Launch\n- **docs** ready and reviewed\n- tests green on CI and everywhere\n- ship it on Friday',
    );
    await panel(o).getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => body(o).textContent(), WAIT).toContain('on CI and everywhere');
    await expect.poll(() => body(m).textContent(), WAIT).toContain('on CI and everywhere');

    // The history lists both authors.
    await panel(o).getByRole('button', { name: 'History' }).click();
    const history = panel(o).getByRole('region', { name: 'History' });
    await expect.poll(() => history.locator('li').count(), WAIT).toBe(6);
    await expect.poll(() => history.textContent(), WAIT).toContain('Mia Member');
    expect(await history.textContent()).toContain('Olive Owner');
    expect(await history.textContent()).toContain('merged');
    await history.getByRole('button', { name: /^v1 / }).click();
    await expect.poll(() => history.getByLabel('Version 1').textContent(), WAIT).toContain('Launch checklist');
    await o.screenshot({ path: `${SHOTS}/history.png` });

    // Olive's personal notes: her own page, not the channel's note.
    await o.getByTestId('notes-button').click();
    await o.waitForURL(/\/w\/[^/]+\/notes$/);
    const mine = o.getByRole('region', { name: 'My notes' });
    await mine.getByLabel('New note title').fill('Private scratch');
    await mine.getByRole('button', { name: 'New note' }).click();
    await mine.getByRole('button', { name: 'Edit' }).click(WAIT);
    await mine.getByLabel('Note text (Markdown)').fill('only **mine**');
    await mine.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => mine.locator('.parley-note__body strong').textContent(), WAIT).toBe('mine');
    await o.getByLabel('Search notes').fill('Launch');
    await expect
      .poll(() => o.getByRole('list', { name: 'Notes found' }).textContent(), WAIT)
      .toContain('Launch checklist');
    await o.getByLabel('Search notes').fill('');
    await o.screenshot({ path: `${SHOTS}/personal-notes.png` });

    expect(errors).toEqual([]);
  });
});
