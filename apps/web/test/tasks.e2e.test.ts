/**
 * Tasks from messages in real Chromium against a real server: Olive hovers a message in #general,
 * picks Make a task, names Mia with a due time; the message shows its task badge. Mia's Activity
 * says Olive assigned her a task; its Tasks tab (at phone width too) lists it, and Mark done
 * takes it off — Olive's badge turns done, live. Saved lists it on its Tasks tab, and Mia keeps
 * a note on the saved message. Mia follows #general's notes from its Notes panel, and Olive's
 * new note there is in her Activity. Deleting a message takes its task off the assignee's Tasks
 * tab, Activity and the badge, live. Screenshots go to /tmp/shots-tasks/.
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAccount, buildWorkspace, chatHeaders, join, ok } from '../../../packages/server/test/accounts/helpers.js';
import type { Harness } from '../../../packages/server/test/harness.js';
import { haveBrowser, startWebApp, type WebApp } from './browser.js';

const WAIT = { timeout: 30_000 };
const SHOTS = '/tmp/shots-tasks';

let h: Harness;
let app: WebApp | undefined;
const errors: string[] = [];

describe.skipIf(!haveBrowser)('tasks from messages in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    app = await startWebApp();
    ({ h } = app);
  }, 180_000);

  afterAll(async () => {
    await app?.close();
  });

  it('make a task from a message; the assignee sees it in Activity and marks it done', {
    timeout: 180_000,
  }, async () => {
    const olive = await buildAccount(h, 'Olive Owner', 'olive@example.com');
    const mia = await buildAccount(h, 'Mia Member', 'mia@example.com');
    const ws = await buildWorkspace(olive, 'Harbor');
    await join(olive, ws.id, mia);
    const oliveS = ok(await olive.session(ws.id));
    const miaS = ok(await mia.session(ws.id));
    const call = (s: { api_key: string; token: string }, method: 'POST' | 'PATCH', url: string, payload: object) =>
      h.call({ method, url, headers: chatHeaders(s), payload });

    // Olive makes a task of the message for Mia, due tomorrow.
    const oc = await (app as WebApp).as(olive.cookie);
    const o = await oc.newPage();
    o.on('pageerror', (e) => errors.push(e.message));
    await o.setViewportSize({ width: 1280, height: 800 });
    await o.goto(`/w/${ws.id}`);
    await o.waitForURL(/\/c\/public:general/, WAIT);
    ok(await call(oliveS, 'POST', '/v1/channels/public:general/members', { add: [oliveS.user_id, miaS.user_id] }));
    const posted = ok(
      await call(oliveS, 'POST', '/v1/channels/public:general/messages', {
        text: 'The venue needs a deposit by Friday',
      }),
    );
    const msg = o.locator('article.parley-message', { hasText: 'The venue needs a deposit by Friday' });
    await msg.waitFor(WAIT);
    await msg.hover();
    await msg.getByRole('button', { name: 'Make a task' }).click();
    const form = o.getByRole('form', { name: 'Make a task' });
    await form.waitFor(WAIT);
    const assignee = form.getByLabel('Assignee');
    await expect.poll(() => assignee.locator('option', { hasText: 'Mia Member' }).count(), WAIT).toBe(1);
    await assignee.selectOption({ label: 'Mia Member' });
    const tomorrow = new Date(Date.now() + 24 * 3600_000);
    const pad = (n: number) => String(n).padStart(2, '0');
    await form
      .getByLabel('Due (optional)')
      .fill(
        `${tomorrow.getFullYear()}-${pad(tomorrow.getMonth() + 1)}-${pad(tomorrow.getDate())}T${pad(tomorrow.getHours())}:00`,
      );
    await o.screenshot({ path: `${SHOTS}/make-a-task.png` });
    await form.getByRole('button', { name: 'Make task' }).click();
    const badge = msg.getByTestId('task-badge');
    await badge.waitFor(WAIT);
    await expect.poll(() => badge.textContent(), WAIT).toContain('Mia Member');
    expect(await badge.textContent()).toContain('Due');
    expect(await badge.getAttribute('data-status')).toBe('open');
    await o.screenshot({ path: `${SHOTS}/task-badge.png` });

    // Mia's Activity: Olive assigned her a task; the Tasks tab lists it.
    const mc = await (app as WebApp).as(mia.cookie);
    const m = await mc.newPage();
    m.on('pageerror', (e) => errors.push(e.message));
    await m.setViewportSize({ width: 1280, height: 800 });
    await m.goto(`/w/${ws.id}/activity`);
    const items = m.locator('.parley-inbox__open');
    await expect.poll(() => items.first().textContent(), WAIT).toContain('assigned you a task');
    await expect.poll(() => items.first().textContent(), WAIT).toContain('Olive Owner');
    await m.screenshot({ path: `${SHOTS}/activity-assigned.png` });
    await m.getByRole('tab', { name: 'Tasks' }).click();
    const task = m.getByTestId('task-item').filter({ hasText: 'The venue needs a deposit by Friday' });
    await task.waitFor(WAIT);
    expect(await task.textContent()).toContain('Due');
    // At phone width the list still fits: nothing wider than the screen.
    await m.setViewportSize({ width: 390, height: 844 });
    await expect
      .poll(() => m.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), WAIT)
      .toBe(true);
    await m.screenshot({ path: `${SHOTS}/activity-tasks-phone.png` });
    await m.setViewportSize({ width: 1280, height: 800 });
    await m.screenshot({ path: `${SHOTS}/activity-tasks.png` });
    // Saved lists it too, on its Tasks tab; a saved message there takes a note of Mia's own.
    const savedIt = await call(miaS, 'POST', '/v1/saved', { message_id: posted.message.id });
    expect(savedIt.status).toBe(201);
    await m.getByTestId('saved-button').click();
    const saved = m.getByRole('dialog', { name: 'Saved' });
    const item = saved.getByTestId('saved-item').filter({ hasText: 'The venue needs a deposit by Friday' });
    await item.waitFor(WAIT);
    await item.getByRole('button', { name: 'Add note' }).click();
    await item.getByLabel('Your note').fill('ask finance for the card');
    await item.getByRole('button', { name: 'Save note' }).click();
    await expect.poll(() => item.getByTestId('saved-note').textContent(), WAIT).toContain('ask finance for the card');
    await saved.getByRole('tab', { name: 'Tasks' }).click();
    await saved.getByTestId('task-item').filter({ hasText: 'The venue needs a deposit by Friday' }).waitFor(WAIT);
    await m.screenshot({ path: `${SHOTS}/saved-tasks.png` });
    await m.keyboard.press('Escape');
    await expect.poll(() => saved.count(), WAIT).toBe(0);

    await task.getByRole('button', { name: 'Mark done' }).click();
    await expect.poll(() => task.count(), WAIT).toBe(0);
    // Olive's badge turns done, live.
    await expect.poll(() => badge.getAttribute('data-status'), WAIT).toBe('done');
    await o.screenshot({ path: `${SHOTS}/task-done.png` });

    // Mia follows #general's notes from its Notes panel; Olive's new note is in her Activity.
    await m.goto(`/w/${ws.id}/c/public:general`);
    await m.getByTestId('channel-notes-button').click(WAIT);
    const notes = m.getByRole('complementary', { name: 'Notes' });
    const follow = notes.getByRole('checkbox', { name: /Follow changes to these notes/ });
    await follow.waitFor(WAIT);
    expect(await follow.isChecked()).toBe(false);
    await follow.check();
    await expect.poll(() => follow.isChecked(), WAIT).toBe(true);
    await m.screenshot({ path: `${SHOTS}/notes-follow.png` });
    const made = await h.call({
      method: 'POST',
      url: '/v1/notes',
      headers: chatHeaders(oliveS),
      payload: { cid: 'public:general', title: 'Deposit checklist', text: '- ask finance' },
    });
    expect(made.status).toBe(201);
    await m.goto(`/w/${ws.id}/activity`);
    await expect.poll(() => items.first().textContent(), WAIT).toContain('changed a note you follow');
    await expect.poll(() => items.first().textContent(), WAIT).toContain('Deposit checklist');
    expect(errors).toEqual([]);
  });

  it('deleting the message takes its task off the assignee’s Tasks tab, Activity and its badge, live', {
    timeout: 180_000,
  }, async () => {
    const pat = await buildAccount(h, 'Pat Planner', 'pat@example.com');
    const quinn = await buildAccount(h, 'Quinn Quill', 'quinn@example.com');
    const ws = await buildWorkspace(pat, 'Lighthouse');
    await join(pat, ws.id, quinn);
    const patS = ok(await pat.session(ws.id));
    const quinnS = ok(await quinn.session(ws.id));
    const call = (s: { api_key: string; token: string }, method: 'POST' | 'DELETE', url: string, payload?: object) =>
      h.call({ method, url, headers: chatHeaders(s), ...(payload ? { payload } : {}) });
    // Pat's first visit makes #general; then a message of it becomes Quinn's task.
    const pc = await (app as WebApp).as(pat.cookie);
    const p = await pc.newPage();
    p.on('pageerror', (e) => errors.push(e.message));
    await p.goto(`/w/${ws.id}`);
    await p.waitForURL(/\/c\/public:general/, WAIT);
    ok(await call(patS, 'POST', '/v1/channels/public:general/members', { add: [patS.user_id, quinnS.user_id] }));
    const posted = ok(
      await call(patS, 'POST', '/v1/channels/public:general/messages', { text: 'Repaint the lamp room' }),
    );
    const made = await call(patS, 'POST', '/v1/tasks', { message_id: posted.message.id, assignee_id: quinnS.user_id });
    expect(made.status, JSON.stringify(made.body)).toBe(201);

    // Pat sees the badge in #general; Quinn has the task on Activity's Tasks tab.
    // By its id: once deleted the message keeps its place but not its words.
    const msg = p.locator(`article.parley-message[data-message-id="${posted.message.id}"]`);
    const badge = msg.getByTestId('task-badge');
    await badge.waitFor(WAIT);
    const qc = await (app as WebApp).as(quinn.cookie);
    const q = await qc.newPage();
    q.on('pageerror', (e) => errors.push(e.message));
    await q.goto(`/w/${ws.id}/activity`);
    await q.getByRole('tab', { name: 'Tasks' }).click();
    const task = q.getByTestId('task-item').filter({ hasText: 'Repaint the lamp room' });
    await task.waitFor(WAIT);
    await q.locator('.parley-inbox__open', { hasText: 'assigned you a task' }).waitFor(WAIT);
    await q.screenshot({ path: `${SHOTS}/task-before-delete.png` });

    // Pat deletes the message: the task leaves Quinn's list and Pat's badge goes, without a reload.
    expect((await call(patS, 'DELETE', `/v1/messages/${posted.message.id}`)).status).toBe(200);
    await expect.poll(() => task.count(), WAIT).toBe(0);
    // Its Activity item ("assigned you a task") goes with it.
    const assigned = q.locator('.parley-inbox__open', { hasText: 'assigned you a task' });
    await expect.poll(() => assigned.count(), WAIT).toBe(0);
    await expect.poll(() => msg.textContent(), WAIT).not.toContain('Repaint the lamp room');
    expect(await msg.count()).toBe(1);
    await expect.poll(() => badge.count(), WAIT).toBe(0);
    await q.screenshot({ path: `${SHOTS}/task-after-delete.png` });
    expect(errors).toEqual([]);
  });
});
