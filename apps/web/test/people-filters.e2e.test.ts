/**
 * The People page's filters in real Chromium against a real server: Mia, a member, narrows the
 * directory by title and by the workspace's Team field, both at once, and by the start of a
 * text field (Location), clears them in one click,
 * and never sees a filter for the admins-only field; Olive, the owner, does. At desktop and
 * phone widths. Screenshots go to PARLEY_SHOTS (default a temporary folder).
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAccount, buildWorkspace, chatHeaders, join, ok } from '../../../packages/server/test/accounts/helpers.js';
import type { Harness } from '../../../packages/server/test/harness.js';
import { haveBrowser, startWebApp, type WebApp } from './browser.js';

const WAIT = { timeout: 30_000 };
const SHOTS = process.env.PARLEY_SHOTS ?? mkdtempSync(joinPath(tmpdir(), 'shots-people-filters-'));

let h: Harness;
let app: WebApp | undefined;
const errors: string[] = [];

describe.skipIf(!haveBrowser)('filtering the People page in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    app = await startWebApp();
    ({ h } = app);
  }, 180_000);

  afterAll(async () => {
    await app?.close();
  });

  it('by title, a choice field and a text field, together, cleared at once; admins-only fields for admins', {
    timeout: 150_000,
  }, async () => {
    const olive = await buildAccount(h, 'Olive Owner', 'olive@example.com');
    const mia = await buildAccount(h, 'Mia Member', 'mia@example.com');
    const paul = await buildAccount(h, 'Paul Poster', 'paul@example.com');
    const ws = await buildWorkspace(olive, 'Harbor');
    await join(olive, ws.id, mia);
    await join(olive, ws.id, paul);
    const os = ok(await olive.session(ws.id));
    const ms = ok(await mia.session(ws.id));
    const ps = ok(await paul.session(ws.id));
    const call = async (s: any, method: 'POST' | 'PATCH' | 'PUT', url: string, payload: object) =>
      ok(await h.call({ method, url, headers: chatHeaders(s), payload }));
    await call(os, 'PATCH', '/v1/me', { title: 'Engineering Lead' });
    await call(ms, 'PATCH', '/v1/me', { title: 'Staff Engineer' });
    await call(ps, 'PATCH', '/v1/me', { title: 'Product Designer' });
    const team = (await call(os, 'POST', '/v1/profile-fields', {
      name: 'Team',
      kind: 'choice',
      options: ['Platform', 'Design'],
    })) as any;
    const level = (await call(os, 'POST', '/v1/profile-fields', {
      name: 'Level',
      kind: 'choice',
      options: ['L1', 'L2'],
      visibility: 'admins',
    })) as any;
    const location = (await call(os, 'POST', '/v1/profile-fields', { name: 'Location', kind: 'text' })) as any;
    const teamId = team.field.id as string;
    const levelId = level.field.id as string;
    const locationId = location.field.id as string;
    for (const [s, t, l] of [
      [os, 'Platform', 'Lisbon'],
      [ms, 'Platform', 'Lyon'],
      [ps, 'Design', 'Lisbon'],
    ] as const)
      await call(os, 'PUT', `/v1/users/${s.user_id}/fields`, {
        fields: { [teamId]: t, [levelId]: 'L2', [locationId]: l },
      });

    const m = await (await (app as WebApp).as(mia.cookie)).newPage();
    m.on('pageerror', (e) => errors.push(e.message));
    await m.setViewportSize({ width: 1280, height: 800 });
    await m.goto(`/w/${ws.id}/people`);
    const rows = m.getByTestId('people-list').locator('.app-person');
    const names = () =>
      rows.evaluateAll((els) => els.map((e) => e.querySelector('.app-person__name')?.firstChild?.textContent));
    await expect.poll(names, WAIT).toEqual(['Mia Member', 'Olive Owner', 'Paul Poster']);

    // By a word of the title.
    await m.getByTestId('people-title').fill('eng');
    await expect.poll(names, WAIT).toEqual(['Mia Member', 'Olive Owner']);
    // And by Team, both at once: no engineer is in Design.
    const teamSelect = m.getByTestId(`people-field-${teamId}`);
    await teamSelect.selectOption('Design');
    await m.getByText('No one matches.').waitFor(WAIT);
    await m.getByTestId('people-title').fill('');
    await expect.poll(names, WAIT).toEqual(['Paul Poster']);
    await teamSelect.selectOption('Platform');
    await m.getByTestId('people-title').fill('staff');
    await expect.poll(names, WAIT).toEqual(['Mia Member']);
    // A member is offered no filter for the admins-only field.
    expect(await m.getByTestId(`people-field-${levelId}`).count()).toBe(0);
    expect(await m.getByRole('combobox', { name: 'Filter by Level' }).count()).toBe(0);
    await m.getByTestId('people-title').fill('');
    await expect.poll(names, WAIT).toEqual(['Mia Member', 'Olive Owner']);
    // By the start of a text field, any case, with the Team still on: Platform people in Lisbon.
    const locationBox = m.getByRole('searchbox', { name: 'Filter by Location' });
    await locationBox.fill('LIS');
    await expect.poll(names, WAIT).toEqual(['Olive Owner']);
    await locationBox.fill('l');
    await expect.poll(names, WAIT).toEqual(['Mia Member', 'Olive Owner']);
    await locationBox.fill('');
    await expect.poll(names, WAIT).toEqual(['Mia Member', 'Olive Owner']);
    await m.screenshot({ path: `${SHOTS}/people-filters.png` });

    // At phone width the controls wrap and nothing is wider than the screen.
    await m.setViewportSize({ width: 390, height: 844 });
    await m.getByTestId('people-title').fill('eng');
    await expect.poll(names, WAIT).toEqual(['Mia Member', 'Olive Owner']);
    await locationBox.fill('ly');
    await expect.poll(names, WAIT).toEqual(['Mia Member']);
    await expect
      .poll(() => m.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), WAIT)
      .toBe(true);
    await m.screenshot({ path: `${SHOTS}/people-filters-phone.png` });

    // One click clears every filter.
    await m.getByTestId('people-clear-filters').click();
    await expect.poll(names, WAIT).toEqual(['Mia Member', 'Olive Owner', 'Paul Poster']);
    expect(await teamSelect.inputValue()).toBe('');
    expect(await locationBox.inputValue()).toBe('');
    expect(await m.getByTestId('people-title').inputValue()).toBe('');
    expect(await m.getByTestId('people-clear-filters').count()).toBe(0);

    // Olive, an admin, filters by the admins-only field too.
    const o = await (await (app as WebApp).as(olive.cookie)).newPage();
    o.on('pageerror', (e) => errors.push(e.message));
    await o.setViewportSize({ width: 1280, height: 800 });
    await o.goto(`/w/${ws.id}/people`);
    const orows = o.getByTestId('people-list').locator('.app-person');
    await expect.poll(() => orows.count(), WAIT).toBe(3);
    await o.getByTestId(`people-field-${levelId}`).selectOption('L1');
    await o.getByText('No one matches.').waitFor(WAIT);
    await o.getByTestId(`people-field-${levelId}`).selectOption('L2');
    await expect.poll(() => orows.count(), WAIT).toBe(3);
    await o.screenshot({ path: `${SHOTS}/people-filters-admin.png` });
    expect(errors).toEqual([]);
  });
});
