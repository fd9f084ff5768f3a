/**
 * The assistant in real Chromium against a real server and a fake OpenAI-compatible provider
 * on loopback: Bob opens a channel with messages he has not read, the header offers "Catch up",
 * the summary streams in under the header with its citations as links, and a citation jumps to
 * its message; over the composer, "Suggest replies" shows the assistant's replies as chips and a
 * chip sends its reply. The prompt the provider got holds the channel's unread messages. The
 * admin console's Smart replies setting: Automatic brings chips without a click, Off takes the
 * control away and On request brings its button back, live in Bob's open page (no reload).
 *
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless
 * PARLEY_REQUIRE_BROWSER=1. Screenshots go to PARLEY_SHOTS (default a temporary folder).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboundAllowFromEnv } from '../../../packages/server/src/platform/outbound.js';
import { type FakeProvider, startFakeProvider } from '../../../packages/server/test/fake-openai.js';
import { api, haveBrowser, startTeam, startWebApp, type WebApp } from './browser.js';

const WAIT = { timeout: 30_000 };
const SHOTS = process.env.PARLEY_SHOTS ?? mkdtempSync(join(tmpdir(), 'shots-assistant-'));

let web: WebApp;
let fake: FakeProvider;
let team: Awaited<ReturnType<typeof startTeam>>;
const errors: string[] = [];

describe.skipIf(!haveBrowser)('the assistant in Chromium', () => {
  beforeAll(async () => {
    fake = await startFakeProvider();
    web = await startWebApp({ outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_ASSISTANT: fake.host }) });
  }, 180_000);
  afterAll(async () => {
    await web?.close();
    await fake?.close();
  });

  it('catches up on unread messages with citations that jump, and suggests replies', { timeout: 180_000 }, async () => {
    team = await startTeam(web, errors, [{ name: 'Bob Stone', email: 'bob@example.com' }]);
    const { workspaceId: ws, members } = team;
    const [ada, bob] = members as [(typeof members)[0], (typeof members)[0]];
    const set = await api(ada.page, ws, 'PUT', '/v1/assistant', { url: fake.url, model: 'local', enabled: true });
    expect(set.status).toBe(200);
    expect(
      (
        await api(ada.page, ws, 'POST', '/v1/channels', {
          type: 'public',
          id: 'plans',
          name: 'plans',
          members: [bob.userId],
        })
      ).status,
    ).toBe(200);
    const ids: string[] = [];
    for (const text of ['The launch moves to Friday', 'Bob, can you check the release notes?', 'Lunch at noon?'])
      ids.push((await api(ada.page, ws, 'POST', '/v1/channels/public:plans/messages', { text })).body.message.id);
    fake.answer = (r) =>
      r.stream
        ? { text: '- The launch moves to Friday [1].\n- Ada asks you to check the release notes [2].' }
        : { text: '["Sounds good", "On it!", "Noon works"]' };

    const page = bob.page;
    await page.goto(`/w/${ws}/c/public:plans`);
    await page.getByTestId('channel-name').filter({ hasText: 'plans' }).waitFor(WAIT);
    await page.getByTestId('catch-up-button').click(WAIT);
    const panel = page.getByTestId('catch-up');
    await panel.getByText('3 messages you had not read').waitFor(WAIT);
    const cites = panel.getByTestId('catch-up-cite');
    await expect.poll(() => cites.count(), WAIT).toBe(2);
    expect(await page.getByTestId('catch-up-summary').textContent()).toContain('The launch moves to Friday [1].');
    const prompt = fake.got.find((g) => g.stream)?.prompt ?? '';
    expect(prompt).toContain('The launch moves to Friday');
    expect(prompt).toContain('Lunch at noon?');
    await page.screenshot({ path: `${SHOTS}/catch-up.png` });

    // A citation jumps to its message.
    await cites.nth(1).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('m'), WAIT).toBe(ids[1]);

    // Smart replies to Ada's latest message: chips, and a chip sends its reply.
    const bar = page.getByTestId('smart-replies');
    await bar.getByRole('button', { name: 'Suggest replies' }).click(WAIT);
    await expect
      .poll(() => bar.getByTestId('smart-reply').allTextContents(), WAIT)
      .toEqual(['Sounds good', 'On it!', 'Noon works']);
    const asked = fake.got.filter((g) => !g.stream).pop();
    expect(asked?.prompt).toContain('Lunch at noon?');
    await page.screenshot({ path: `${SHOTS}/smart-replies.png` });
    await bar.getByRole('button', { name: 'Noon works' }).click();
    await expect
      .poll(
        async () =>
          (await api(ada.page, ws, 'GET', '/v1/channels/public:plans/messages')).body.messages.map(
            (m: { text: string }) => m.text,
          ),
        WAIT,
      )
      .toContain('Noon works');

    // A thread: "Summarise thread" at its top summarises its first message and replies.
    await api(ada.page, ws, 'POST', '/v1/channels/public:plans/messages', {
      text: 'Notes are checked, two typos fixed',
      parent_id: ids[1],
    });
    fake.answer = (r) => (r.stream ? { text: 'Ada fixed two typos in the notes [2].' } : { text: '[]' });
    await page.goto(`/w/${ws}/c/public:plans?t=${ids[1]}`);
    await page.getByTestId('thread-catch-up-button').click(WAIT);
    const summary = page.getByTestId('thread-catch-up-summary');
    await expect
      .poll(async () => (await summary.count()) && summary.textContent(), WAIT)
      .toBe('Ada fixed two typos in the notes [2].');
    const threadPrompt = fake.got.filter((g) => g.stream).pop()?.prompt ?? '';
    expect(threadPrompt).toContain('Bob, can you check the release notes?');
    expect(threadPrompt).toContain('two typos fixed');
    expect(threadPrompt).not.toContain('Lunch at noon?');
    await page.screenshot({ path: `${SHOTS}/thread-summary.png` });
    expect(errors).toEqual([]);
  });

  it("shows the admin console's Assistant tab: the provider (never its key) and the usage meter", {
    timeout: 120_000,
  }, async () => {
    const ada = team.members[0]?.page;
    if (!ada) throw new Error('no team');
    await api(ada, team.workspaceId, 'PUT', '/v1/assistant', { key: 'sk-never-shown' });
    await ada.getByTestId('workspace-name').click(WAIT);
    await ada.getByRole('menuitem', { name: 'Admin console' }).click(WAIT);
    const dialog = ada.getByRole('dialog', { name: /^Admin console/ });
    await dialog.getByRole('tab', { name: 'Assistant' }).click(WAIT);
    const tab = dialog.getByTestId('assistant-admin');
    await expect.poll(() => tab.getByLabel('Model').inputValue(), WAIT).toBe('local');
    expect(await tab.getByLabel(/API key/).inputValue()).toBe('');
    await tab.getByText('(one is set; leave empty to keep it)').waitFor(WAIT);
    expect(await tab.textContent()).not.toContain('sk-never-shown');
    const day = new Date().toISOString().slice(0, 10);
    const row = tab.getByTestId(`usage-${day}-catch_up`);
    await expect.poll(async () => (await row.count()) && row.textContent(), WAIT).toContain('Catch-up');
    await tab.getByTestId(`usage-${day}-smart_replies`).waitFor(WAIT);
    await tab.getByTestId('usage-total').waitFor(WAIT);
    await tab.getByLabel('AI moderation of every message').check();
    await tab.getByRole('button', { name: 'Save' }).click();
    await tab.getByText('Saved.').waitFor(WAIT);
    expect((await api(ada, team.workspaceId, 'GET', '/v1/assistant')).body.assistant).toMatchObject({
      moderation: true,
      has_key: true,
    });
    await tab.getByRole('table', { name: 'Assistant usage' }).scrollIntoViewIfNeeded();
    await dialog.screenshot({ path: `${SHOTS}/assistant-admin.png` });
    expect(errors).toEqual([]);
  });

  it('smart replies as the workspace sets them, followed live: automatic comes by itself, off takes them away', {
    timeout: 120_000,
  }, async () => {
    const ada = team.members[0]?.page;
    const bob = team.members[1]?.page;
    if (!ada || !bob) throw new Error('no team');
    const ws = team.workspaceId;
    // Ada sets Automatic in the admin console's Assistant tab (still open from the test before).
    const dialog = ada.getByRole('dialog', { name: /^Admin console/ });
    const tab = dialog.getByTestId('assistant-admin');
    const mode = tab.getByLabel('Smart replies');
    await expect.poll(() => mode.inputValue(), WAIT).toBe('on_request');
    await mode.selectOption('automatic');
    // (AI moderation, turned on by the test before, would call the provider on every send.)
    await tab.getByLabel('AI moderation of every message').uncheck();
    await tab.getByRole('button', { name: 'Save' }).click();
    await expect
      .poll(async () => (await api(ada, ws, 'GET', '/v1/assistant')).body.assistant.smart_replies_mode, WAIT)
      .toBe('automatic');
    await dialog.screenshot({ path: `${SHOTS}/assistant-admin-automatic.png` });

    // Bob's app reads the setting when it starts (and follows it live after); Ada's new message
    // brings chips without a click.
    fake.answer = (r) => (r.stream ? { text: '' } : { text: '["See you there", "Can I bring a friend?"]' });
    await bob.goto(`/w/${ws}/c/public:plans`);
    await bob.getByTestId('channel-name').filter({ hasText: 'plans' }).waitFor(WAIT);
    await api(ada, ws, 'POST', '/v1/channels/public:plans/messages', { text: 'Party on Saturday?' });
    const bar = bob.getByTestId('smart-replies');
    await expect
      .poll(async () => ((await bar.count()) ? bar.getByTestId('smart-reply').allTextContents() : []), WAIT)
      .toEqual(['See you there', 'Can I bring a friend?']);
    expect(await bar.getByRole('button', { name: 'Suggest replies' }).count()).toBe(0);
    expect(fake.got.filter((g) => !g.stream).pop()?.prompt).toContain('Party on Saturday?');
    await bob.screenshot({ path: `${SHOTS}/smart-replies-automatic.png` });

    // Off: Bob's composer drops its smart replies at once, without a reload (the app-wide
    // assistant.updated), and the server refuses.
    await mode.selectOption('off');
    await tab.getByRole('button', { name: 'Save' }).click();
    await bar.waitFor({ state: 'detached', ...WAIT });
    expect((await api(ada, ws, 'GET', '/v1/assistant')).body.assistant.smart_replies).toBe(false);
    const last = (await api(ada, ws, 'POST', '/v1/channels/public:plans/messages', { text: 'Or Sunday?' })).body
      .message;
    expect((await api(bob, ws, 'POST', `/v1/messages/${last.id}/suggestions`)).body.error.code).toBe('ASSISTANT_OFF');
    await bob.locator('article.parley-message', { hasText: 'Or Sunday?' }).waitFor(WAIT);
    expect(await bob.getByTestId('smart-replies').count()).toBe(0);

    // On request again: the "Suggest replies" button comes back over the composer, still
    // without a reload, and asks nothing until clicked.
    const asked = fake.got.length;
    await mode.selectOption('on_request');
    await tab.getByRole('button', { name: 'Save' }).click();
    await bar.getByRole('button', { name: 'Suggest replies' }).waitFor(WAIT);
    expect(await bar.getByTestId('smart-reply').count()).toBe(0);
    expect(fake.got.length).toBe(asked);
    await bob.screenshot({ path: `${SHOTS}/smart-replies-live.png` });
    expect(errors).toEqual([]);
  });
});
