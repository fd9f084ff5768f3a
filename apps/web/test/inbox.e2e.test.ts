/**
 * The activity inbox and user groups in real Chromium against a real server: Mia's "Activity"
 * badge moves when Paul mentions her and again when he mentions her group; opening the group
 * mention on the Activity page jumps to the message in #general, highlighted, and the badge
 * goes down; the composer offers `@design` beside people; Olive (the owner) sees the group on
 * the People page's Groups tab and makes another there. Screenshots go to /tmp/shots-inbox/.
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
const SHOTS = '/tmp/shots-inbox';

let h: Harness;
let app: WebApp | undefined;
const errors: string[] = [];

describe.skipIf(!haveBrowser)('the activity inbox and groups in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    app = await startWebApp();
    ({ h } = app);
  }, 180_000);

  afterAll(async () => {
    await app?.close();
  });

  it('the badge moves on a mention and a group mention; opening the item jumps to the message', {
    timeout: 150_000,
  }, async () => {
    const olive = await buildAccount(h, 'Olive Owner', 'olive@example.com');
    const mia = await buildAccount(h, 'Mia Member', 'mia@example.com');
    const paul = await buildAccount(h, 'Paul Poster', 'paul@example.com');
    const ws = await buildWorkspace(olive, 'Harbor');
    await join(olive, ws.id, mia);
    await join(olive, ws.id, paul);
    const oliveS = ok(await olive.session(ws.id));
    const miaS = ok(await mia.session(ws.id));
    const paulS = ok(await paul.session(ws.id));
    const call = (s: { api_key: string; token: string }, method: 'POST' | 'PATCH', url: string, payload: object) =>
      h.call({ method, url, headers: chatHeaders(s), payload });
    ok(await call(miaS, 'PATCH', '/v1/me', { username: 'mia' }));
    // Olive, the owner (an app admin), makes @design with Mia in it.
    const made = await call(oliveS, 'POST', '/v1/user-groups', {
      handle: 'design',
      name: 'Design',
      members: [miaS.user_id],
    });
    expect(made.status).toBe(201);

    const mc = await (app as WebApp).as(mia.cookie);
    const m = await mc.newPage();
    m.on('pageerror', (e) => errors.push(e.message));
    await m.setViewportSize({ width: 1280, height: 800 });
    await m.goto(`/w/${ws.id}`);
    await m.waitForURL(/\/c\/public:general/, WAIT);
    const activity = m.getByTestId('activity-button');
    await activity.waitFor(WAIT);
    const badge = activity.locator('.parley-inbox-badge');
    expect(await badge.count()).toBe(0);

    // Paul mentions Mia in #review, a channel she is in but not looking at (a mention where she
    // is reading is read at once, as the channel is): her badge says 1, live.
    ok(await call(paulS, 'POST', '/v1/channels/public:general/members', { add: [paulS.user_id] }));
    ok(await call(paulS, 'POST', '/v1/channels', { type: 'public', id: 'review', members: [miaS.user_id] }));
    const byName = ok(
      await call(paulS, 'POST', '/v1/channels/public:review/messages', { text: 'hi @mia, a question' }),
    );
    await expect.poll(() => badge.getAttribute('data-count'), WAIT).toBe('1');
    // Paul mentions her group: 2.
    const byGroup = ok(
      await call(paulS, 'POST', '/v1/channels/public:review/messages', { text: 'please review, @design' }),
    );
    await expect.poll(() => badge.getAttribute('data-count'), WAIT).toBe('2');
    await m.screenshot({ path: `${SHOTS}/badge.png` });

    // The Activity page lists both, newest first; the group mention says so.
    await activity.click();
    await m.waitForURL(/\/w\/[^/]+\/activity$/, WAIT);
    const items = m.locator('.parley-inbox__open');
    await expect.poll(() => items.count(), WAIT).toBe(2);
    await expect.poll(() => items.first().textContent(), WAIT).toContain('mentioned @design');
    await expect.poll(() => items.nth(1).textContent(), WAIT).toContain('mentioned you');
    await m.screenshot({ path: `${SHOTS}/activity-page.png` });

    // Opening it jumps to the message in #review, highlighted; reading #review reads both its
    // mentions, so the badge goes to nothing.
    await items.first().click();
    await m.waitForURL(new RegExp(`/c/public:review\\?m=${byGroup.message.id}$`), WAIT);
    await m.locator('article.parley-message--highlighted', { hasText: 'please review, @design' }).waitFor(WAIT);
    // Her group's handle is highlighted as a mention of her.
    await m.locator('.parley-mention--me', { hasText: '@design' }).waitFor(WAIT);
    await expect.poll(() => badge.count(), WAIT).toBe(0);
    await activity.click();
    await expect.poll(() => m.locator('.parley-inbox__item--unread').count(), WAIT).toBe(0);
    await m.screenshot({ path: `${SHOTS}/jumped.png` });
    expect(byName.message.id).toBeTruthy();

    // A reply in Mia's thread: the Threads filter has it, and opening it opens the thread.
    const plan = ok(await call(miaS, 'POST', '/v1/channels/public:general/messages', { text: 'my plan for Friday' }));
    const reply = ok(
      await call(paulS, 'POST', '/v1/channels/public:general/messages', {
        text: 'sounds good to me',
        parent_id: plan.message.id,
      }),
    );
    await expect.poll(() => badge.getAttribute('data-count'), WAIT).toBe('1');
    await activity.click();
    await m.getByRole('tab', { name: 'Threads' }).click();
    await expect.poll(() => items.count(), WAIT).toBe(1);
    expect(await items.first().textContent()).toContain('replied in a thread');
    await items.first().click();
    await expect.poll(() => m.url(), WAIT).toContain(`t=${plan.message.id}`);
    await m.locator('.parley-thread article.parley-message', { hasText: 'sounds good to me' }).waitFor(WAIT);
    await expect.poll(() => badge.count(), WAIT).toBe(0);
    // The conversation shows the thread's parent beside it, highlighted.
    await m
      .locator('article.parley-message--highlighted:not(.parley-thread *)', { hasText: 'my plan for Friday' })
      .waitFor(WAIT);
    await m.screenshot({ path: `${SHOTS}/thread-opened.png` });
    expect(reply.message.parent_id).toBe(plan.message.id);
    await m.getByRole('button', { name: 'Close thread' }).click();

    // The composer offers the group beside people.
    const composer = m.getByRole('combobox', { name: 'Message #general' });
    await composer.fill('@des');
    await m.locator('.parley-suggestions__option', { hasText: '@design' }).waitFor(WAIT);
    await m.screenshot({ path: `${SHOTS}/composer-group.png` });
    await composer.fill('');

    // Olive's People page, Groups tab: @design is there; she makes another.
    const oc = await (app as WebApp).as(olive.cookie);
    const o = await oc.newPage();
    o.on('pageerror', (e) => errors.push(e.message));
    await o.setViewportSize({ width: 1280, height: 800 });
    await o.goto(`/w/${ws.id}/people`);
    await o.getByTestId('people-tab-groups').click(WAIT);
    await o.getByTestId('group-design').waitFor(WAIT);
    await o.getByTestId('groups-tab').getByRole('button', { name: 'New group', exact: true }).click();
    await o.getByLabel('Group handle').fill('harbor-crew');
    await o.getByLabel('Group name', { exact: true }).fill('Harbor crew');
    await o.getByRole('button', { name: 'Create group' }).click();
    await o.getByTestId('group-harbor-crew').waitFor(WAIT);
    // Paul joins the new group from its card.
    const crew = o.getByTestId('group-harbor-crew');
    await crew.getByRole('button', { name: 'Edit members' }).click();
    await crew.getByRole('option', { name: /Paul Poster/ }).click();
    await crew.getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => crew.textContent(), WAIT).toContain('1 member');
    await o.screenshot({ path: `${SHOTS}/groups-tab.png` });
    expect(errors).toEqual([]);
  });

  it('a note mention opens the note; an edit taking a mention out takes its item away, live', {
    timeout: 150_000,
  }, async () => {
    const olive = await buildAccount(h, 'Olive Owner', 'olive2@example.com');
    const mia = await buildAccount(h, 'Mia Member', 'mia2@example.com');
    const ws = await buildWorkspace(olive, 'Dockside');
    await join(olive, ws.id, mia);
    const oliveS = ok(await olive.session(ws.id));
    const miaS = ok(await mia.session(ws.id));
    const call = (s: { api_key: string; token: string }, method: 'POST' | 'PATCH', url: string, payload: object) =>
      h.call({ method, url, headers: chatHeaders(s), payload });
    ok(await call(miaS, 'PATCH', '/v1/me', { username: 'mia' }));

    const mc = await (app as WebApp).as(mia.cookie);
    const m = await mc.newPage();
    m.on('pageerror', (e) => errors.push(e.message));
    await m.setViewportSize({ width: 1280, height: 800 });
    await m.goto(`/w/${ws.id}/activity`);
    const activity = m.getByTestId('activity-button');
    await activity.waitFor(WAIT);
    const badge = activity.locator('.parley-inbox-badge');
    const items = m.locator('.parley-inbox__open');

    // Olive edits a message to name Mia: one item arrives on the open Activity page.
    ok(await call(oliveS, 'POST', '/v1/channels/public:general/members', { add: [oliveS.user_id] }));
    const msg = ok(await call(oliveS, 'POST', '/v1/channels/public:general/messages', { text: 'agenda for today' }));
    ok(await call(oliveS, 'PATCH', `/v1/messages/${msg.message.id}`, { text: 'agenda for today, @mia leads' }));
    await expect.poll(() => badge.getAttribute('data-count'), WAIT).toBe('1');
    await expect.poll(() => items.count(), WAIT).toBe(1);
    // She takes it out again: the unread item leaves the list and the badge, live.
    ok(await call(oliveS, 'PATCH', `/v1/messages/${msg.message.id}`, { text: 'agenda for today' }));
    await expect.poll(() => items.count(), WAIT).toBe(0);
    await expect.poll(() => badge.count(), WAIT).toBe(0);

    // A channel note that names Mia: an item that says so, with the note's title.
    const note = await call(oliveS, 'POST', '/v1/notes', {
      cid: 'public:general',
      title: 'Release checklist',
      text: '- [ ] @mia checks the changelog\n- [ ] ship it',
    });
    expect(note.status).toBe(201);
    await expect.poll(() => badge.getAttribute('data-count'), WAIT).toBe('1');
    await expect.poll(() => items.first().textContent(), WAIT).toContain('mentioned you in a note');
    expect(await items.first().textContent()).toContain('Release checklist');
    await m.screenshot({ path: `${SHOTS}/note-mention.png` });
    // Opening it opens #general with the note in the side panel.
    await items.first().click();
    await expect.poll(() => m.url(), WAIT).toContain(`note=${note.body.note.id}`);
    await m.locator('article.parley-note[aria-label="Release checklist"]').waitFor(WAIT);
    await m.locator('.parley-note__body', { hasText: 'checks the changelog' }).waitFor(WAIT);
    await expect.poll(() => badge.count(), WAIT).toBe(0);
    await m.screenshot({ path: `${SHOTS}/note-opened.png` });
    expect(errors).toEqual([]);
  });
});
