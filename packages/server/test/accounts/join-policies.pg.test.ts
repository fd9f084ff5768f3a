/**
 * Join policies and the transfer of ownership, through the public API with a real SMTP server
 * reading the mails: under `request`, a requester asks, admins list, approve or deny, and the
 * requester is mailed and sees the state; under `domain`, verified accounts at the domain join
 * and others are refused; invite-only workspaces show no join page. Ownership moves in one
 * action and is refused for guests, deactivated members, non-owners and oneself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../harness.js';
import {
  type Browser,
  buildAccount,
  buildWorkspace,
  chatHeaders,
  email,
  expectError,
  join,
  ok,
  send,
} from './helpers.js';
import { linkToken, startSmtp, type TestSmtp } from './smtp.js';

let smtp: TestSmtp;
let h: Harness;
beforeAll(async () => {
  smtp = await startSmtp();
  h = await startHarness({ smtpUrl: smtp.url, publicUrl: 'http://chat.example.test' });
});
afterAll(async () => {
  await h?.close();
  await smtp?.close();
});

/** An account whose email is verified, by following the link the SMTP server received. */
async function verifiedAccount(name: string, mail: string): Promise<Browser> {
  const since = smtp.mails.length;
  const a = await buildAccount(h, name, mail);
  const token = linkToken(await smtp.waitFor(mail, { subject: /Confirm your email/, since }));
  ok(await send(h, { method: 'POST', url: '/v1/auth/email/verify', payload: { token } }));
  return a;
}

describe('request to join', () => {
  it('queues a request, lets admins approve or deny it, mails the requester, and shows the state', async () => {
    const owner = await buildAccount(h, 'Olive');
    const ws = await buildWorkspace(owner, 'Queue');
    const stranger = await buildAccount(h, 'Sam');
    // Invite-only: no join page, nothing to ask.
    expectError(await stranger.get(`/v1/join/${ws.id}`), 'NOT_FOUND');
    expectError(await stranger.post(`/v1/join/${ws.id}`), 'NOT_FOUND');

    ok(await owner.patch(`/v1/workspaces/${ws.id}`, { join_policy: 'request' }));
    const page = ok(await stranger.get(`/v1/join/${ws.id}`)).join;
    expect(page).toMatchObject({ workspace_name: 'Queue', join_policy: 'request', member: false, request: null });

    const since = smtp.mails.length;
    const asked = ok(await stranger.post(`/v1/join/${ws.id}`)).request;
    expect(asked).toMatchObject({ account_id: stranger.account.id, status: 'pending', decided_at: null });
    expect(asked.email).toBeUndefined();
    await smtp.waitFor(stranger.account.email, { subject: /^Your request to join Queue$/, since });
    // Asking again keeps the one request.
    expect(ok(await stranger.post(`/v1/join/${ws.id}`)).request.id).toBe(asked.id);
    // Still no workspace for them.
    expectError(await stranger.session(ws.id), 'NOT_FOUND');

    // Members cannot see the queue; admins see it with emails.
    const member = await buildAccount(h, 'Mia');
    await join(owner, ws.id, member);
    expectError(await member.get(`/v1/workspaces/${ws.id}/join-requests`), 'FORBIDDEN');
    expectError(await member.post(`/v1/workspaces/${ws.id}/join-requests/${asked.id}/approve`), 'FORBIDDEN');
    const queue = ok(await owner.get(`/v1/workspaces/${ws.id}/join-requests`)).requests;
    expect(queue).toEqual([
      expect.objectContaining({ id: asked.id, email: stranger.account.email, status: 'pending' }),
    ]);

    const before = smtp.mails.length;
    const approved = ok(await owner.post(`/v1/workspaces/${ws.id}/join-requests/${asked.id}/approve`)).request;
    expect(approved).toMatchObject({ status: 'approved', decided_at: expect.any(String) });
    const mail = await smtp.waitFor(stranger.account.email, { subject: /You joined Queue/, since: before });
    expect(mail.text).toContain(`http://chat.example.test/join/${ws.id}`);
    expect(ok(await stranger.get(`/v1/join/${ws.id}`)).join).toMatchObject({
      member: true,
      request: { status: 'approved' },
    });
    const s = ok(await stranger.session(ws.id));
    ok(await h.call({ method: 'GET', url: '/v1/me', headers: chatHeaders(s) }));
    expect(ok(await owner.members(ws.id)).members.map((m: any) => m.name)).toContain('Sam');
    // Decided already; unknown ids; another workspace's admin.
    expectError(await owner.post(`/v1/workspaces/${ws.id}/join-requests/${asked.id}/deny`), 'CONFLICT');
    expectError(
      await owner.post(`/v1/workspaces/${ws.id}/join-requests/00000000-0000-7000-8000-000000000000/approve`),
      'NOT_FOUND',
    );
    expectError(await owner.post(`/v1/workspaces/${ws.id}/join-requests/nope/approve`), 'VALIDATION_ERROR');
    const elsewhere = await buildAccount(h, 'Else');
    const other = await buildWorkspace(elsewhere, 'Other');
    expectError(await elsewhere.post(`/v1/workspaces/${ws.id}/join-requests/${asked.id}/approve`), 'NOT_FOUND');
    expectError(await elsewhere.post(`/v1/workspaces/${other.id}/join-requests/${asked.id}/approve`), 'NOT_FOUND');
    expect(ok(await owner.get(`/v1/workspaces/${ws.id}/join-requests`)).requests).toEqual([]);
  });

  it('denies, mails the requester, and lets them ask again', async () => {
    const owner = await buildAccount(h, 'Olive');
    const ws = await buildWorkspace(owner, 'Strict');
    ok(await owner.patch(`/v1/workspaces/${ws.id}`, { join_policy: 'request' }));
    const asker = await buildAccount(h, 'Ask');
    const since = smtp.mails.length;
    const r = ok(await asker.post(`/v1/join/${ws.id}`)).request;
    await smtp.waitFor(asker.account.email, { subject: /^Your request to join Strict$/, since });
    expect(ok(await owner.post(`/v1/workspaces/${ws.id}/join-requests/${r.id}/deny`)).request.status).toBe('denied');
    const mail = await smtp.waitFor(asker.account.email, { subject: /was declined/, since });
    expect(mail.text).toMatch(/declined/);
    expect(ok(await asker.get(`/v1/join/${ws.id}`)).join).toMatchObject({
      member: false,
      request: { status: 'denied' },
    });
    expectError(await asker.session(ws.id), 'NOT_FOUND');
    expect(ok(await asker.post(`/v1/join/${ws.id}`)).request).toMatchObject({ id: r.id, status: 'pending' });
    // Back to invite-only: the page is gone.
    ok(await owner.patch(`/v1/workspaces/${ws.id}`, { join_policy: 'invite_only' }));
    expectError(await asker.get(`/v1/join/${ws.id}`), 'NOT_FOUND');
  });
});

describe('open to an email domain', () => {
  it('admits verified accounts at the domain and refuses the rest', async () => {
    const owner = await buildAccount(h, 'Olive');
    const ws = await buildWorkspace(owner, 'Domain');
    const domain = `d${Date.now().toString(36)}.example.org`;
    expectError(await owner.patch(`/v1/workspaces/${ws.id}`, { join_policy: 'domain' }), 'VALIDATION_ERROR');
    expectError(
      await owner.patch(`/v1/workspaces/${ws.id}`, { join_policy: 'domain', join_domain: 'not a domain' }),
      'VALIDATION_ERROR',
    );
    const set = ok(
      await owner.patch(`/v1/workspaces/${ws.id}`, { join_policy: 'domain', join_domain: domain.toUpperCase() }),
    ).workspace;
    expect(set).toMatchObject({ join_policy: 'domain', join_domain: domain });

    const unverified = await buildAccount(h, 'Una', `una.${Math.random().toString(36).slice(2)}@${domain}`);
    expect(ok(await unverified.get(`/v1/join/${ws.id}`)).join).toMatchObject({ can_join: false });
    const r1 = await unverified.post(`/v1/join/${ws.id}`);
    expectError(r1, 'FORBIDDEN');
    expect(r1.body.error.details).toEqual({ reason: 'email_unverified' });

    const outsider = await verifiedAccount('Out', email('out'));
    const r2 = await outsider.post(`/v1/join/${ws.id}`);
    expectError(r2, 'FORBIDDEN');
    expect(r2.body.error.details).toEqual({ reason: 'domain' });
    // A look-alike domain is not the domain.
    const lookalike = await verifiedAccount('Look', `look.${Math.random().toString(36).slice(2)}@x${domain}`);
    expectError(await lookalike.post(`/v1/join/${ws.id}`), 'FORBIDDEN');

    const insider = await verifiedAccount('Ina', `ina.${Math.random().toString(36).slice(2)}@${domain}`);
    expect(ok(await insider.get(`/v1/join/${ws.id}`)).join).toMatchObject({ can_join: true, join_domain: domain });
    expect(ok(await insider.post(`/v1/join/${ws.id}`)).workspace).toMatchObject({ id: ws.id, role: 'member' });
    // Again: the workspace back, nothing new.
    expect(ok(await insider.post(`/v1/join/${ws.id}`)).workspace.id).toBe(ws.id);
    ok(await insider.session(ws.id));
    // A member cannot change the policy.
    expectError(await insider.patch(`/v1/workspaces/${ws.id}`, { join_policy: 'link' }), 'FORBIDDEN');
    // A deactivated member does not come back this way.
    ok(await owner.post(`/v1/workspaces/${ws.id}/members/${insider.account.id}/deactivate`, {}));
    const again = await insider.post(`/v1/join/${ws.id}`);
    expectError(again, 'FORBIDDEN');
    expect(again.body.error.details).toEqual({ reason: 'deactivated' });
  });
});

describe('transfer of ownership', () => {
  it('hands ownership over in one action and refuses guests, deactivated members and non-owners', async () => {
    const owner = await buildAccount(h, 'Olive');
    const ws = await buildWorkspace(owner, 'Handover');
    const heir = await buildAccount(h, 'Hana');
    const idle = await buildAccount(h, 'Ida');
    await join(owner, ws.id, heir);
    await join(owner, ws.id, idle);
    const transfer = (by: Browser, to: string) => by.post(`/v1/workspaces/${ws.id}/transfer`, { account_id: to });

    // A guest cannot be the owner.
    const os = ok(await owner.session(ws.id));
    const cid = ok(
      await h.call({
        method: 'POST',
        url: '/v1/channels',
        headers: chatHeaders(os),
        payload: { type: 'public', id: 'lobby', members: [] },
      }),
    ).channel.cid;
    const inv = ok(
      await owner.invite(ws.id, {
        guest: { channels: [cid], expires_at: new Date(Date.now() + 86_400_000).toISOString() },
      }),
    );
    const guest = await buildAccount(h, 'Gus');
    ok(await guest.accept(inv.token));
    const g = await transfer(owner, guest.account.id);
    expectError(g, 'FORBIDDEN');
    expect(g.body.error.details).toEqual({ reason: 'guest' });
    // Nor a deactivated member.
    ok(await owner.post(`/v1/workspaces/${ws.id}/members/${idle.account.id}/deactivate`, {}));
    const d = await transfer(owner, idle.account.id);
    expectError(d, 'FORBIDDEN');
    expect(d.body.error.details).toEqual({ reason: 'deactivated' });
    // Not to oneself, not by a non-owner, not to a stranger, not with a bad id.
    expectError(await transfer(owner, owner.account.id), 'VALIDATION_ERROR');
    expectError(await transfer(heir, owner.account.id), 'FORBIDDEN');
    expectError(await transfer(owner, (await buildAccount(h, 'Nobody')).account.id), 'NOT_FOUND');
    expectError(await owner.post(`/v1/workspaces/${ws.id}/transfer`, { account_id: 'x' }), 'VALIDATION_ERROR');
    // Nothing changed so far.
    const roles = async () =>
      Object.fromEntries(ok(await owner.members(ws.id)).members.map((m: any) => [m.name, m.role]));
    expect(await roles()).toEqual({ Olive: 'owner', Hana: 'member', Ida: 'member', Gus: 'guest' });

    const after = ok(await transfer(owner, heir.account.id)).members;
    expect(Object.fromEntries(after.map((m: any) => [m.name, m.role]))).toMatchObject({
      Olive: 'admin',
      Hana: 'owner',
    });
    expect(ok(await heir.get(`/v1/workspaces/${ws.id}`)).workspace.role).toBe('owner');
    expect(ok(await owner.get(`/v1/workspaces/${ws.id}`)).workspace.role).toBe('admin');
    // The old owner has no owner powers left; the new one does (in the chat too: an app admin).
    expectError(await transfer(owner, heir.account.id), 'FORBIDDEN');
    ok(await heir.setRole(ws.id, owner.account.id, 'member'));
    const hs = ok(await heir.session(ws.id));
    const me = ok(await h.call({ method: 'GET', url: '/v1/me', headers: chatHeaders(hs) })).user;
    expect(me.role).toBe('admin');
  });

  it('two transfers at once leave exactly one owner', async () => {
    const owner = await buildAccount(h, 'Olive');
    const ws = await buildWorkspace(owner, 'Race');
    const a = await buildAccount(h, 'Ann');
    const b = await buildAccount(h, 'Bob');
    await join(owner, ws.id, a);
    await join(owner, ws.id, b);
    const results = await Promise.all(
      [a, b].map((to) => owner.post(`/v1/workspaces/${ws.id}/transfer`, { account_id: to.account.id })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 403]);
    const members = ok(await a.members(ws.id)).members;
    expect(members.filter((m: any) => m.role === 'owner')).toHaveLength(1);
    expect(members.find((m: any) => m.name === 'Olive').role).toBe('admin');
  });
});
