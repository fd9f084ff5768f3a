/**
 * The email digest, arriving at a real SMTP server started here: a workspace member's unread
 * mentions and DMs go out after the configured wait in one mail, with a signed one-click
 * unsubscribe link (RFC 8058) that turns the digest off; what was read meanwhile is not mailed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, buildAccount, buildWorkspace, chatHeaders, join, ok } from '../accounts/helpers.js';
import { startSmtp, type TestSmtp } from '../accounts/smtp.js';
import { type Harness, startHarness } from '../harness.js';
import { notificationsIdle } from './helpers.js';

let h: Harness;
let smtp: TestSmtp;
let owner: Browser;
let bob: Browser;
let carol: Browser;
let ws: { id: string };
const chat: Record<string, { headers: Record<string, string>; userId: string }> = {};

async function session(who: Browser, name: string) {
  const s = ok(await who.post(`/v1/workspaces/${ws.id}/session`, {}));
  chat[name] = { headers: chatHeaders(s), userId: s.user_id };
}

const api = (name: string, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
  h.call({ method, url, headers: chat[name]?.headers, ...(payload ? { payload } : {}) });

const digests = (to: string) => smtp.to(to).filter((m) => /unread/.test(m.subject));
const ALL = ['notifications.message', 'notifications.deliver', 'notifications.digest'];

beforeAll(async () => {
  smtp = await startSmtp();
  // 0.1 minutes: a digest is due six seconds after the first unread mention.
  h = await startHarness({
    smtpUrl: smtp.url,
    digestAfterMinutes: 0.1,
    jobPollMs: 200,
    publicUrl: 'https://chat.example.test',
  });
  owner = await buildAccount(h, 'Olivia');
  ws = await buildWorkspace(owner, 'Digest Co');
  bob = await buildAccount(h, 'Bob');
  carol = await buildAccount(h, 'Carol');
  await join(owner, ws.id, bob);
  await join(owner, ws.id, carol);
  await session(owner, 'owner');
  await session(bob, 'bob');
  await session(carol, 'carol');
});

afterAll(async () => {
  await h?.close();
  await smtp?.close();
});

describe('email digest', () => {
  it('mails unread mentions and DMs after a while, with a one-click unsubscribe that works', async () => {
    const c = ok(
      await api('owner', 'POST', '/v1/channels', {
        type: 'public',
        id: 'digest',
        name: 'digest',
        members: [chat.owner?.userId, chat.bob?.userId],
      }),
    ).channel.cid;
    const bobName = ok(await api('bob', 'GET', '/v1/me')).user.username ?? null;
    const mention = bobName ? `@${bobName}` : '@channel';
    ok(await api('owner', 'POST', `/v1/channels/${c}/messages`, { text: `${mention} please review the plan` }));
    ok(await api('owner', 'POST', `/v1/channels/${c}/messages`, { text: 'no mention in this one' }));
    const dm = ok(
      await api('owner', 'POST', '/v1/channels', { type: 'dm', members: [chat.owner?.userId, chat.bob?.userId] }),
    ).channel.cid;
    ok(await api('owner', 'POST', `/v1/channels/${dm}/messages`, { text: 'lunch tomorrow?' }));

    const mail = await smtp.waitFor(bob.account.email, { subject: /unread/, ms: 30_000 });
    expect(mail.subject).toBe('You have 2 unread messages in Parley');
    expect(mail.text).toContain('please review the plan');
    expect(mail.text).toContain('lunch tomorrow?');
    expect(mail.text).not.toContain('no mention in this one');
    expect(mail.text).toContain('#digest');
    expect(mail.text).toContain('Direct message from Olivia');
    expect(mail.text).toContain(`https://chat.example.test/w/${ws.id}/c/${c}`);
    const link = /(https:\/\/chat\.example\.test\/v1\/notifications\/unsubscribe\?token=[A-Za-z0-9._-]+)/.exec(
      mail.text,
    )?.[1];
    expect(link).toBeDefined();
    expect(mail.headers['list-unsubscribe']).toBe(`<${link}>`);
    expect(mail.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    // Nobody else got one: the owner wrote these.
    expect(digests(owner.account.email)).toEqual([]);

    // The page asks first (a GET changes nothing); the one-click POST unsubscribes.
    const path = (link as string).replace('https://chat.example.test', '');
    const page = await h.app.inject({ method: 'GET', url: path });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<form method="post"');
    expect(ok(await api('bob', 'GET', '/v1/notifications/settings')).settings.email_digest).toBe(true);
    const post = await h.app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(post.statusCode).toBe(200);
    expect(ok(await api('bob', 'GET', '/v1/notifications/settings')).settings.email_digest).toBe(false);

    // No digest is armed for him any more.
    ok(await api('owner', 'POST', `/v1/channels/${dm}/messages`, { text: 'still there?' }));
    await notificationsIdle(h, ALL);
    expect(digests(bob.account.email)).toHaveLength(1);
  });

  it('what was read before the digest was due is not mailed', async () => {
    const dm = ok(
      await api('owner', 'POST', '/v1/channels', { type: 'dm', members: [chat.owner?.userId, chat.carol?.userId] }),
    ).channel.cid;
    const m = ok(await api('owner', 'POST', `/v1/channels/${dm}/messages`, { text: 'quick question' })).message;
    ok(await api('carol', 'POST', `/v1/channels/${dm}/read`, { seq: m.seq }));
    await notificationsIdle(h, ALL);
    expect(digests(carol.account.email)).toEqual([]);
  });

  it('refuses a forged or altered unsubscribe token', async () => {
    for (const token of ['not-a-token-at-all', 'YWJj.ZGVm.AAAAAAAAAAAAAAAAAAAAAAAA']) {
      const r = await h.app.inject({ method: 'POST', url: `/v1/notifications/unsubscribe?token=${token}` });
      expect(r.statusCode).toBe(400);
    }
  });
});

describe('invites by email', () => {
  it('mails the invite link to the address given, and the link lets them join', async () => {
    const to = `dora.${Date.now()}@example.com`;
    const inv = ok(await owner.invite(ws.id, { email: to }));
    const mail = await smtp.waitFor(to, { subject: /invited you/, ms: 30_000 });
    expect(mail.subject).toBe('Olivia invited you to Digest Co on Parley');
    expect(mail.text).toContain(`https://chat.example.test/invite/${inv.token}`);
    const dora = await buildAccount(h, 'Dora', to);
    expect(ok(await dora.accept(inv.token)).workspace.id).toBe(ws.id);
  });

  it('refuses an address that is not one', async () => {
    const r = await owner.invite(ws.id, { email: 'not an address' });
    expect(r.status).toBe(400);
  });
});
