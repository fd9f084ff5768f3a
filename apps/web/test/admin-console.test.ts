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
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../../packages/server/src/features/webhooks/signature.js';
import { outboundAllowFromEnv } from '../../../packages/server/src/platform/outbound.js';
import {
  buildAccount,
  buildWorkspace,
  chatHeaders,
  email,
  join,
  ok,
} from '../../../packages/server/test/accounts/helpers.js';
import { ADMIN, type Harness } from '../../../packages/server/test/harness.js';
import { type Receiver, startReceiver } from '../../../packages/server/test/hooks/helpers.js';
import { haveBrowser, startWebApp, type WebApp } from './browser.js';

const WAIT = { timeout: 20_000 };

let h: Harness;
let base: string;
let app: WebApp | undefined;
let rcv: Receiver;
const as = (cookie: string | null) => (app as WebApp).as(cookie);

/** The owner's page with the admin console open on `tab` (from the workspace menu, as a person would). */
async function openConsole(page: Page, workspace: { id: string; name: string }, tab?: string) {
  await page.goto(`/w/${workspace.id}`);
  await page.getByTestId('workspace-name').click(WAIT);
  await page.getByRole('menuitem', { name: 'Admin console' }).click(WAIT);
  const dialog = page.getByRole('dialog', { name: `Admin console · ${workspace.name}` });
  if (tab) await dialog.getByRole('tab', { name: tab }).click(WAIT);
  else await dialog.waitFor(WAIT);
  return dialog;
}

describe.skipIf(!haveBrowser)('the admin console in Chromium', () => {
  beforeAll(async () => {
    // A backend on loopback for the Webhooks tab, allowed as an operator would allow it.
    rcv = await startReceiver();
    app = await startWebApp({ outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_WEBHOOKS: rcv.host }) });
    ({ h, base } = app);
  }, 180_000);

  afterAll(async () => {
    await app?.close();
    await rcv?.close();
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
      const dialog = await openConsole(page, ws);

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
      const dialog = await openConsole(page, ws, 'Uploads');
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
  it('an owner adds a webhook, sends a test event, rotates its secret, pauses, re-enables and replays', {
    timeout: 120_000,
  }, async () => {
    const olive = await buildAccount(h, 'Olive Hooks', email('olive-hooks'));
    const ws = await buildWorkspace(olive, 'Hookline');
    const oliveChat = chatHeaders(ok(await olive.session(ws.id)));
    const post = async (text: string) =>
      ok(
        await h.call({
          method: 'POST',
          url: '/v1/channels/public:general/messages',
          headers: oliveChat,
          payload: { text },
        }),
      );
    const path_ = '/console-hook';
    const messages = () => rcv.on(path_).filter((r) => r.json?.type === 'message.new');
    const owner = await as(olive.cookie);
    try {
      const page = await owner.newPage();
      await page.setViewportSize({ width: 1280, height: 800 });
      const dialog = await openConsole(page, ws, 'Webhooks');
      // A target the server's policy refuses is answered at once, naming the setting.
      const form = dialog.getByRole('form', { name: 'Add a webhook' });
      await form.getByLabel('URL').fill('http://127.0.0.1:1/nowhere');
      await form.getByRole('button', { name: 'Add webhook' }).click();
      await dialog
        .getByRole('alert')
        .getByText(/PARLEY_OUTBOUND_ALLOW_WEBHOOKS/)
        .waitFor(WAIT);
      await form.getByLabel('URL').fill(`${rcv.url}${path_}`);
      await form.getByRole('button', { name: 'Add webhook' }).click();
      const secretBox = dialog.getByTestId('webhook-secret');
      await secretBox.waitFor(WAIT);
      const first = await secretBox.inputValue();
      expect(first).toMatch(/^whsec_/);
      const item = dialog.getByTestId('webhook-item');

      // Send test event: the receiver gets a signed webhook.test, and the panel says how it went.
      await item.getByRole('button', { name: 'Send test event' }).click();
      await item
        .getByTestId('webhook-test-result')
        .getByText(/Test event delivered \(200\)/)
        .waitFor(WAIT);
      const [test] = rcv.on(path_);
      expect(test?.json).toMatchObject({ type: 'webhook.test', app_id: expect.any(String) });
      expect(verifySignature(first, test?.headers['x-parley-signature'] as string, test?.body ?? '')).toBe(true);

      // Rotate the secret with an hour's overlap: a new secret, and both sign meanwhile.
      await item.getByRole('button', { name: 'Rotate secret' }).click();
      const rotate = dialog.getByRole('form', { name: `Rotate the secret of ${rcv.url}${path_}` });
      await rotate.getByLabel('The old secret keeps signing for').selectOption({ label: '1 hour' });
      await rotate.getByRole('button', { name: 'Rotate' }).click();
      await dialog.getByText(/The old secret keeps signing too until/).waitFor(WAIT);
      const second = await secretBox.inputValue();
      expect(second).toMatch(/^whsec_/);
      expect(second).not.toBe(first);
      await item.getByText(/The previous secret also signs until/).waitFor(WAIT);
      await post('during the overlap');
      await expect.poll(() => messages().length, WAIT).toBe(1);
      const signed = messages()[0];
      for (const secret of [first, second])
        expect(verifySignature(secret, signed?.headers['x-parley-signature'] as string, signed?.body ?? '')).toBe(true);

      // Its outcome is recorded a tick after the answer: until then it would count as waiting.
      await expect
        .poll(
          async () =>
            (await h.call({ method: 'GET', url: '/v1/webhooks', headers: oliveChat })).body.webhooks[0]?.pending,
          WAIT,
        )
        .toBe(0);
      // Pause: what it would receive waits, counted on the endpoint; re-enabling sends it in order.
      await item.getByRole('button', { name: 'Pause' }).click();
      await expect.poll(() => item.getAttribute('data-state'), WAIT).toBe('paused');
      await post('while paused 1');
      await post('while paused 2');
      // The list is read again when the tab opens.
      await dialog.getByRole('tab', { name: 'Audit log' }).click();
      await dialog.getByRole('tab', { name: 'Webhooks' }).click();
      await item.getByTestId('webhook-pending').getByText('2 waiting').waitFor(WAIT);
      await page.screenshot({ path: path.join(tmpdir(), 'parley-webhooks-paused.png') });
      expect(messages()).toHaveLength(1);
      await item.getByRole('button', { name: 'Re-enable' }).click();
      await expect.poll(() => item.getAttribute('data-state'), WAIT).toBe('active');
      await expect.poll(() => messages().length, WAIT).toBe(3);
      expect(messages().map((r) => r.json.event.message.text)).toEqual([
        'during the overlap',
        'while paused 1',
        'while paused 2',
      ]);

      // Replay the last day: the same events again, with their original ids.
      const before = messages().map((r) => r.json.event_id as string);
      await item.getByRole('button', { name: 'Replay' }).click();
      const replay = dialog.getByRole('form', { name: `Replay events to ${rcv.url}${path_}` });
      await replay.getByRole('button', { name: 'Replay' }).click();
      await replay
        .getByRole('status')
        .getByText(/Queued \d+ events?\./)
        .waitFor(WAIT);
      await expect.poll(() => messages().length, WAIT).toBeGreaterThanOrEqual(6);
      const again = messages()
        .slice(3)
        .map((r) => r.json.event_id as string);
      expect(again.filter((id) => before.includes(id))).toEqual(before);
      // At a phone's width the actions wrap inside the dialog.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: path.join(tmpdir(), 'parley-webhooks-phone.png') });
    } finally {
      await owner.close();
    }
  });
  it("the System tab: the operator's token, then nodes, database, queues, a paused endpoint's backlog, the last backup", {
    timeout: 120_000,
  }, async () => {
    const olive = await buildAccount(h, 'Olive Ops', email('olive-ops'));
    const ws = await buildWorkspace(olive, 'Engine Room');
    const oliveChat = chatHeaders(ok(await olive.session(ws.id)));
    // An endpoint paused before two messages: the System tab shows them waiting on it.
    const created = await h.call({
      method: 'POST',
      url: '/v1/webhooks',
      headers: oliveChat,
      payload: { url: `${rcv.url}/system`, events: ['message.new'] },
    });
    expect(created.status).toBe(201);
    const hook = created.body.webhook as { id: string };
    ok(
      await h.call({ method: 'PATCH', url: `/v1/webhooks/${hook.id}`, headers: oliveChat, payload: { active: false } }),
    );
    const ops = { type: 'public', id: 'ops', name: 'ops' };
    ok(await h.call({ method: 'POST', url: '/v1/channels', headers: oliveChat, payload: ops }));
    for (const text of ['queued one', 'queued two'])
      ok(
        await h.call({
          method: 'POST',
          url: '/v1/channels/public:ops/messages',
          headers: oliveChat,
          payload: { text },
        }),
      );

    const owner = await as(olive.cookie);
    try {
      const page = await owner.newPage();
      const dialog = await openConsole(page, ws, 'System');

      // A workspace owner is not the operator: the page asks for the server's admin token,
      // and a wrong one is refused with a reason, not a blank page.
      const form = dialog.getByTestId('system-token');
      await form.getByLabel('Admin token').fill('not-the-token');
      await form.getByRole('button', { name: 'Show the system' }).click();
      await expect.poll(() => form.getByRole('alert').textContent(), WAIT).toMatch(/refused this admin token/);
      await form.getByLabel('Admin token').fill(ADMIN);
      await form.getByRole('button', { name: 'Show the system' }).click();

      const report = dialog.getByTestId('system-report');
      await expect.poll(() => report.getAttribute('aria-busy'), WAIT).toBe('false');
      const api = ok(
        await h.call({ method: 'GET', url: '/v1/admin/system', headers: { authorization: `Bearer ${ADMIN}` } }),
      );
      const node = dialog.getByTestId('system-nodes').locator(`tr[data-node="${api.node.id}"]`);
      const cells = await node.locator('td').allTextContents();
      expect(cells.slice(0, 4)).toEqual([`${api.node.id} (this one)`, api.node.version, api.nodes[0].schema, 'live']);
      expect(await dialog.getByTestId('system-database').textContent()).toContain(
        `Embedded (PGlite), migration ${api.database.migration}`,
      );
      const endpoint = dialog.getByTestId('system-webhooks').locator(`tr[data-endpoint="${hook.id}"]`);
      const hookCells = await endpoint.locator('td').allTextContents();
      expect(hookCells.slice(0, 4)).toEqual(['Engine Room', `${rcv.url}/system`, 'paused', '2']);
      expect(await dialog.getByTestId('system-backup').textContent()).toMatch(/^None yet/);

      // A backup run (the operator's API, as `parley backup` records one) shows on the next refresh.
      const run = await h.call({
        method: 'POST',
        url: '/v1/admin/backup',
        headers: { authorization: `Bearer ${ADMIN}` },
        payload: {},
      });
      expect(run.status, JSON.stringify(run.body)).toBeLessThan(300);
      await expect
        .poll(() => dialog.getByTestId('system-backup').textContent(), { timeout: 30_000 })
        .toMatch(/^Succeeded, started .*, finished .*, \d/);

      // The token stays with this tab (sessionStorage), and goes with "Forget token".
      await dialog.getByRole('tab', { name: 'Audit log' }).click();
      await dialog.getByRole('tab', { name: 'System' }).click();
      await report.waitFor(WAIT);
      await page.setViewportSize({ width: 390, height: 844 });
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await page.screenshot({ path: path.join(tmpdir(), 'parley-admin-system-phone.png') });
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.screenshot({ path: path.join(tmpdir(), 'parley-admin-system.png') });
      await dialog.getByRole('button', { name: 'Forget token' }).click();
      await dialog.getByTestId('system-token').waitFor(WAIT);
      expect(await page.evaluate(() => sessionStorage.getItem('parley.operator-token'))).toBeNull();
    } finally {
      await owner.close();
    }
  });
});
