/**
 * Workspaces: creating one makes an app with the creator as owner and app admin; a workspace
 * session is an ordinary user token of that app that works on the chat API; only members get
 * one, and a session of workspace A never yields anything for workspace B.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../harness.js';
import { browser, buildAccount, buildWorkspace, chatHeaders, expectError, join, ok, send } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const userIdOf = (accountId: string) => `a_${accountId.replaceAll('-', '')}`;

describe('create and list', () => {
  it('creates a workspace as an app, with the creator as owner', async () => {
    const a = await buildAccount(h, 'Alice');
    const ws = await buildWorkspace(a, 'Acme');
    expect(ws).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'Acme',
      join_policy: 'invite_only',
      join_domain: null,
      require_two_factor: false,
      email_visibility: 'admins',
      slug: null,
      logo: null,
      role: 'owner',
      guest_expires_at: null,
      user_id: userIdOf(a.account.id),
      created_at: expect.any(String),
    });
    // It is an app: the admin API lists it.
    const apps = ok(
      await h.call({ method: 'GET', url: '/v1/admin/apps', headers: { authorization: 'Bearer test-admin-token' } }),
    );
    expect(apps.apps.map((x: any) => x.id)).toContain(ws.id);
    expect(ok(await a.get(`/v1/workspaces/${ws.id}`)).workspace).toEqual(ws);
  });

  it('lists the account’s workspaces by name, and only its own', async () => {
    const a = await buildAccount(h, 'Lister');
    const b = await buildAccount(h, 'Other');
    const zeta = await buildWorkspace(a, 'zeta');
    const alpha = await buildWorkspace(a, 'Alpha');
    await buildWorkspace(b, 'Not yours');
    const list = ok(await a.workspaces()).workspaces;
    expect(list.map((w: any) => [w.id, w.name, w.role])).toEqual([
      [alpha.id, 'Alpha', 'owner'],
      [zeta.id, 'zeta', 'owner'],
    ]);
  });

  it('needs a session and a valid name', async () => {
    expectError(await browser(h, null).createWorkspace('x'), 'UNAUTHORIZED');
    expectError(await browser(h, null).workspaces(), 'UNAUTHORIZED');
    const a = await buildAccount(h, 'Namer');
    expectError(await a.createWorkspace(''), 'VALIDATION_ERROR');
    expectError(await a.createWorkspace('x'.repeat(101)), 'VALIDATION_ERROR');
    expectError(await a.post('/v1/workspaces', { name: 'ok', api_key: 'mine' }), 'VALIDATION_ERROR');
    expect(ok(await a.workspaces()).workspaces).toEqual([]);
  });
});

describe('workspace session', () => {
  it('gives a 12-hour user token of the workspace app that works on the chat API', async () => {
    const a = await buildAccount(h, 'Chatty');
    const ws = await buildWorkspace(a, 'Chat Co');
    const before = Date.now();
    const r = await a.session(ws.id);
    expect(r.headers['cache-control']).toBe('no-store');
    const s = ok(r);
    expect(s).toEqual({
      api_key: expect.stringMatching(/^pk_/),
      token: expect.any(String),
      user_id: userIdOf(a.account.id),
      expires_at: expect.any(String),
    });
    const claims = decodeJwt(s.token);
    expect(claims.sub).toBe(s.user_id);
    expect((claims.exp as number) * 1000).toBe(Date.parse(s.expires_at));
    const hours = ((claims.exp as number) * 1000 - before) / 3600_000;
    expect(hours).toBeGreaterThan(11.99);
    expect(hours).toBeLessThan(12.01);

    // The chat API takes it: create a channel, send a message, read /v1/me.
    const ch = await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers: chatHeaders(s),
      payload: { type: 'public', id: 'general', name: 'General' },
    });
    expect(ok(ch).channel).toMatchObject({ cid: 'public:general', created_by: s.user_id });
    const msg = await h.call({
      method: 'POST',
      url: '/v1/channels/public:general/messages',
      headers: chatHeaders(s),
      payload: { text: 'hello team' },
    });
    expect(ok(msg).message).toMatchObject({ text: 'hello team', user_id: s.user_id });
    const me = ok(await h.call({ method: 'GET', url: '/v1/me', headers: chatHeaders(s) }));
    // The owner is the account's name in the app, and an app admin.
    expect(me.user).toMatchObject({ id: s.user_id, name: 'Chatty', role: 'admin' });
  });

  it('answers 404 for a workspace the account is not a member of, and for an unknown one', async () => {
    const owner = await buildAccount(h, 'Owner');
    const outsider = await buildAccount(h, 'Outsider');
    const ws = await buildWorkspace(owner, 'Private');
    expectError(await outsider.session(ws.id), 'NOT_FOUND');
    expectError(await outsider.get(`/v1/workspaces/${ws.id}`), 'NOT_FOUND');
    expectError(await outsider.session('00000000-0000-4000-8000-000000000000'), 'NOT_FOUND');
    expectError(await outsider.session('not-a-uuid'), 'VALIDATION_ERROR');
    expectError(await browser(h, null).session(ws.id), 'UNAUTHORIZED');
    // An embedder's app (made with the admin API, no workspace row) is not a workspace either.
    const app = await h.createApp('embedder');
    expectError(await owner.session(app.id), 'NOT_FOUND');
  });

  it('keeps tenants apart: a token of workspace A is refused by workspace B', async () => {
    const a = await buildAccount(h, 'Tenant');
    const wa = await buildWorkspace(a, 'A');
    const wb = await buildWorkspace(a, 'B');
    const sa = ok(await a.session(wa.id));
    const sb = ok(await a.session(wb.id));
    expect(sa.api_key).not.toBe(sb.api_key);
    // Same user id in both (derived from the account), different apps and secrets.
    expect(sa.user_id).toBe(sb.user_id);
    ok(await h.call({ method: 'GET', url: '/v1/me', headers: chatHeaders(sa) }));
    const crossed = await h.call({
      method: 'GET',
      url: '/v1/me',
      headers: chatHeaders({ api_key: sb.api_key, token: sa.token }),
    });
    expectError(crossed, 'UNAUTHORIZED');

    // Someone who belongs to A only gets nothing for B.
    const bob = await buildAccount(h, 'Bob');
    await join(a, wa.id, bob);
    const bobA = ok(await bob.session(wa.id));
    expect(bobA.api_key).toBe(sa.api_key);
    expectError(await bob.session(wb.id), 'NOT_FOUND');
    expectError(
      await h.call({ method: 'GET', url: '/v1/me', headers: chatHeaders({ api_key: sb.api_key, token: bobA.token }) }),
      'UNAUTHORIZED',
    );
  });

  it('workspace tokens are not account sessions, and account cookies are not chat credentials', async () => {
    const a = await buildAccount(h, 'Separate');
    const ws = await buildWorkspace(a, 'Sep');
    const s = ok(await a.session(ws.id));
    // A chat token does not sign in to the account API…
    expectError(await send(h, { method: 'GET', url: '/v1/auth/me', headers: chatHeaders(s) }), 'UNAUTHORIZED');
    // …and the cookie alone does not reach the chat API.
    expectError(
      await send(h, { method: 'GET', url: '/v1/me', headers: { cookie: a.cookie as string, 'x-api-key': s.api_key } }),
      'UNAUTHORIZED',
    );
  });
});

describe('settings', () => {
  it('owners and admins rename and change the join policy; members cannot', async () => {
    const owner = await buildAccount(h, 'Boss');
    const admin = await buildAccount(h, 'Deputy');
    const member = await buildAccount(h, 'Staff');
    const ws = await buildWorkspace(owner, 'Old name');
    await join(owner, ws.id, admin);
    await join(owner, ws.id, member);
    ok(await owner.setRole(ws.id, admin.account.id, 'admin'));

    const renamed = ok(await owner.patch(`/v1/workspaces/${ws.id}`, { name: 'New name' })).workspace;
    expect(renamed).toMatchObject({ id: ws.id, name: 'New name', join_policy: 'invite_only', role: 'owner' });
    const linked = ok(await admin.patch(`/v1/workspaces/${ws.id}`, { join_policy: 'link' })).workspace;
    expect(linked).toMatchObject({ name: 'New name', join_policy: 'link', role: 'admin' });
    expect(ok(await member.get(`/v1/workspaces/${ws.id}`)).workspace).toMatchObject({
      name: 'New name',
      join_policy: 'link',
      role: 'member',
    });

    expectError(await member.patch(`/v1/workspaces/${ws.id}`, { name: 'Mine' }), 'FORBIDDEN');
    expectError(await admin.patch(`/v1/workspaces/${ws.id}`, { join_policy: 'open' }), 'VALIDATION_ERROR');
    expectError(await admin.patch(`/v1/workspaces/${ws.id}`, {}), 'VALIDATION_ERROR');
    const outsider = await buildAccount(h, 'Nosy');
    expectError(await outsider.patch(`/v1/workspaces/${ws.id}`, { name: 'Mine' }), 'NOT_FOUND');
    expect(ok(await owner.get(`/v1/workspaces/${ws.id}`)).workspace.name).toBe('New name');
  });
});
