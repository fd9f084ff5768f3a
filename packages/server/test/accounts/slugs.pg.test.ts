/**
 * A workspace's URL slug and logo: owners set the slug (`PATCH /v1/workspaces/{id}`), it is
 * validated, reserved words and id-shaped slugs are refused, it is unique in the deployment, and
 * `GET /v1/workspaces/by-slug/{slug}` finds it for members only, while `/v1/workspaces/{id}` keeps
 * working. Owners and admins upload the logo through the chat API; members may not.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, pngWithGps } from '../files/helpers.js';
import { type Harness, startHarness, TestSocket } from '../harness.js';
import { buildAccount, buildWorkspace, chatHeaders, expectError, join, ok } from './helpers.js';

let h: Harness;
let base: string;
beforeAll(async () => {
  h = await startHarness();
  base = await h.listen();
});
afterAll(async () => {
  await h?.close();
});

describe('slugs', () => {
  it('are set by owners, found by members, and leave the id path working', async () => {
    const owner = await buildAccount(h, 'Owner');
    const admin = await buildAccount(h, 'Admin');
    const member = await buildAccount(h, 'Member');
    const stranger = await buildAccount(h, 'Stranger');
    const ws = await buildWorkspace(owner, 'Acme Corp');
    await join(owner, ws.id, admin);
    await join(owner, ws.id, member);
    const adminId = ok(await owner.members(ws.id)).members.find((m: any) => m.name === 'Admin').account_id;
    ok(await owner.setRole(ws.id, adminId, 'admin'));

    const set = ok(await owner.patch(`/v1/workspaces/${ws.id}`, { slug: '  Acme-Corp ' }));
    expect(set.workspace).toMatchObject({ id: ws.id, slug: 'acme-corp' });

    // Members find it by slug (any case), and by id as before; others get 404.
    expect(ok(await member.get('/v1/workspaces/by-slug/acme-corp')).workspace).toMatchObject({
      id: ws.id,
      role: 'member',
    });
    expect(ok(await member.get('/v1/workspaces/by-slug/ACME-CORP')).workspace.id).toBe(ws.id);
    expect(ok(await member.get(`/v1/workspaces/${ws.id}`)).workspace.slug).toBe('acme-corp');
    expect(ok(await member.workspaces()).workspaces[0]).toMatchObject({ slug: 'acme-corp' });
    expectError(await stranger.get('/v1/workspaces/by-slug/acme-corp'), 'NOT_FOUND');
    expectError(await member.get('/v1/workspaces/by-slug/nothing-here'), 'NOT_FOUND');

    // Only owners change it; admins may still rename the workspace.
    expectError(await admin.patch(`/v1/workspaces/${ws.id}`, { slug: 'mine' }), 'FORBIDDEN');
    expectError(await member.patch(`/v1/workspaces/${ws.id}`, { slug: 'mine' }), 'FORBIDDEN');
    ok(await admin.patch(`/v1/workspaces/${ws.id}`, { name: 'Acme Corporation' }));
    // The same slug again is no change (an admin may send it back with a rename).
    ok(await admin.patch(`/v1/workspaces/${ws.id}`, { name: 'Acme', slug: 'acme-corp' }));

    // Changing it frees the old one; clearing it leaves the id.
    ok(await owner.patch(`/v1/workspaces/${ws.id}`, { slug: 'acme' }));
    expectError(await member.get('/v1/workspaces/by-slug/acme-corp'), 'NOT_FOUND');
    expect(ok(await member.get('/v1/workspaces/by-slug/acme')).workspace.id).toBe(ws.id);
    expect(ok(await owner.patch(`/v1/workspaces/${ws.id}`, { slug: null })).workspace.slug).toBeNull();
    expectError(await member.get('/v1/workspaces/by-slug/acme'), 'NOT_FOUND');
  });

  it('are validated: letters, digits and dashes, 3–40, no reserved word or id shape', async () => {
    const owner = await buildAccount(h, 'Rules');
    const ws = await buildWorkspace(owner, 'Rules');
    const bad = async (slug: unknown, reason?: string) => {
      const r = await owner.patch(`/v1/workspaces/${ws.id}`, { slug });
      expectError(r, 'VALIDATION_ERROR');
      if (reason) expect(r.body.error.details).toMatchObject({ field: 'slug', reason });
    };
    for (const s of [
      'ab',
      'a'.repeat(41),
      'acme corp',
      'acme_corp',
      '-acme',
      'acme-',
      'ac--me',
      'açme',
      'acme/x',
      '..',
    ])
      await bad(s, 'invalid');
    for (const s of ['admin', 'api', 'signin', 'join', 'invite', 'www', 'Settings']) await bad(s, 'reserved');
    // Shaped like a workspace id: /w/<id> must keep meaning the id.
    await bad('01234567-89ab-cdef-0123-456789abcdef', 'reserved');
    await bad('');
    await bad(42);
    // Nothing changed through all of that.
    expect(ok(await owner.get(`/v1/workspaces/${ws.id}`)).workspace.slug).toBeNull();
    expect(ok(await owner.patch(`/v1/workspaces/${ws.id}`, { slug: 'r2-d2' })).workspace.slug).toBe('r2-d2');
  });

  it('are unique across the deployment: a taken slug is 409 and changes nothing else', async () => {
    const a = await buildAccount(h, 'First');
    const b = await buildAccount(h, 'Second');
    const one = await buildWorkspace(a, 'One');
    const two = await buildWorkspace(b, 'Two');
    ok(await a.patch(`/v1/workspaces/${one.id}`, { slug: 'taken-name' }));
    const r = await b.patch(`/v1/workspaces/${two.id}`, { slug: 'Taken-Name', name: 'Renamed' });
    expectError(r, 'CONFLICT');
    expect(r.body.error.details).toMatchObject({ field: 'slug' });
    // All or nothing: the rename in the same request did not happen.
    expect(ok(await b.get(`/v1/workspaces/${two.id}`)).workspace).toMatchObject({ name: 'Two', slug: null });
    // Two races for one slug: exactly one wins.
    const c = await buildWorkspace(a, 'Three');
    const d = await buildWorkspace(b, 'Four');
    const [x, y] = await Promise.all([
      a.patch(`/v1/workspaces/${c.id}`, { slug: 'contested' }),
      b.patch(`/v1/workspaces/${d.id}`, { slug: 'contested' }),
    ]);
    expect([x.status, y.status].sort()).toEqual([200, 409]);
  });
});

describe('logos', () => {
  it('owners and admins upload one through the chat API; it shows on the workspace; members may not', async () => {
    const owner = await buildAccount(h, 'Lowner');
    const member = await buildAccount(h, 'Lmember');
    const ws = await buildWorkspace(owner, 'Logo Co');
    await join(owner, ws.id, member);
    const ownerChat = chatHeaders(ok(await owner.session(ws.id)));
    const memberChat = chatHeaders(ok(await member.session(ws.id)));
    const put = async (headers: Record<string, string>, bytes: Buffer) => {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'logo.png');
      const r = await fetch(`${base}/v1/workspace/logo`, { method: 'PUT', headers, body: form });
      return { status: r.status, body: await r.json() };
    };

    expectError(await put(memberChat, await pngWithGps(300, 300)), 'FORBIDDEN');
    const up = await put(ownerChat, await pngWithGps(300, 300));
    expect(up.status).toBe(200);
    const url = up.body.image.url as string;
    expect(url).toContain(`/v1/images/${ws.id}/`);
    expect(ok(await member.get(`/v1/workspaces/${ws.id}`)).workspace.logo).toBe(url);
    const pic = await get(base, `${url}?size=48`);
    const meta = await sharp(pic.body).metadata();
    expect([meta.format, meta.width, meta.height, meta.exif]).toEqual(['webp', 48, 48, undefined]);

    // A non-image is refused; the logo stays.
    expectError(await put(ownerChat, Buffer.from('GIF89a is not enough')), 'INVALID_FILE_TYPE');
    expect(ok(await member.get(`/v1/workspaces/${ws.id}`)).workspace.logo).toBe(url);

    // Removing it: members may not; owners may.
    expectError(await h.call({ method: 'DELETE', url: '/v1/workspace/logo', headers: memberChat }), 'FORBIDDEN');
    ok(await h.call({ method: 'DELETE', url: '/v1/workspace/logo', headers: ownerChat }));
    expect(ok(await member.get(`/v1/workspaces/${ws.id}`)).workspace.logo).toBeNull();
    expect((await get(base, url)).status).toBe(404);
  });

  it('a change of logo, name or address reaches every member live (workspace.updated); invites and the join page show the logo', async () => {
    const owner = await buildAccount(h, 'Wowner');
    const member = await buildAccount(h, 'Wmember');
    const stranger = await buildAccount(h, 'Wstranger');
    const ws = await buildWorkspace(owner, 'Live Logo Co');
    await join(owner, ws.id, member);
    const ownerS = ok(await owner.session(ws.id));
    const memberS = ok(await member.session(ws.id));
    const sock = await TestSocket.open(base, memberS.api_key);
    sock.sendRaw(JSON.stringify({ type: 'auth', token: memberS.token }));
    await sock.waitFor((f) => f.type === 'hello');

    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(await pngWithGps(300, 300))], { type: 'image/png' }), 'logo.png');
    const r = await fetch(`${base}/v1/workspace/logo`, { method: 'PUT', headers: chatHeaders(ownerS), body: form });
    expect(r.status).toBe(200);
    const url = ((await r.json()) as { image: { url: string } }).image.url;
    const set = await sock.waitFor((f) => f.type === 'workspace.updated' && f.logo === url);
    expect(set).toMatchObject({ workspace_id: ws.id, name: 'Live Logo Co', slug: null });

    // A rename and a new address: the same event, with the logo kept.
    ok(await owner.patch(`/v1/workspaces/${ws.id}`, { name: 'Renamed Co', slug: 'renamed-co' }));
    const renamed = await sock.waitFor((f) => f.type === 'workspace.updated' && f.name === 'Renamed Co');
    expect(renamed).toMatchObject({ slug: 'renamed-co', logo: url });

    // Invites and the join page show it (before joining: the logo is a public picture).
    const inv = ok(await owner.invite(ws.id));
    const preview = ok(await stranger.get(`/v1/invites/${encodeURIComponent(inv.token)}`));
    expect(preview.invite).toMatchObject({ workspace_name: 'Renamed Co', workspace_logo: url });
    ok(await owner.patch(`/v1/workspaces/${ws.id}`, { join_policy: 'request' }));
    expect(ok(await stranger.get(`/v1/join/${ws.id}`)).join).toMatchObject({ workspace_logo: url });
    expect((await get(base, `${url}?size=128`)).status).toBe(200);

    // Removed: members hear of it; the previews show none.
    ok(await h.call({ method: 'DELETE', url: '/v1/workspace/logo', headers: chatHeaders(ownerS) }));
    await sock.waitFor((f) => f.type === 'workspace.updated' && f.logo === null);
    expect(ok(await stranger.get(`/v1/invites/${encodeURIComponent(inv.token)}`)).invite.workspace_logo).toBeNull();
    sock.ws.close();
  });

  it('an app that is no workspace has no logo to set (404)', async () => {
    const app = await h.createApp('embedder');
    await h.users(app, [{ id: 'root', role: 'admin' }]);
    expectError(
      await h.call({ method: 'DELETE', url: '/v1/workspace/logo', headers: await app.user('root') }),
      'NOT_FOUND',
    );
  });
});
